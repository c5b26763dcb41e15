"""A TCP service of the twin on ``host:port``: a listener started and stopped the same way for every
protocol that reads its connections as streams (the resolvers' DNS over TCP, STUN over TCP, the
proxy on the Edge's WAN path); each connection goes to the subclass's :meth:`TcpListener.serve`.
"""

from __future__ import annotations

import asyncio


class TcpListener:
    """Listens on (``host``, ``port``) between :meth:`start` and :meth:`stop` (both may be called many
    times, as ``down`` and heal do). Raises OSError from :meth:`start` when the address cannot be bound."""

    name = "tcp"

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self.serve, self.host, self.port, reuse_address=True)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One connection, until it ends; the subclass's protocol."""
        raise NotImplementedError
