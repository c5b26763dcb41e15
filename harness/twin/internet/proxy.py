"""The HTTP proxy an Edge's WAN port is set to use (``facts.proxy`` of an inventory Edge; the API's
``Edge.proxy``), as the site runs it on the Edge's WAN path: a TCP listener on its address and port
(80 when the setting names none, as the API's ``Edge.proxy`` says). It reads one request head and
answers ``403 Forbidden`` (the twin's proxy forwards nothing: a project choice, since the check it
serves, INET-ACCESS, judges only that the proxy accepts TCP from the Edge WAN). ``port-refuse=PORT``
stops it; ``internet-down`` too.
"""

from __future__ import annotations

import asyncio

from ..core.twin import Twin

HEAD_LIMIT_BYTES = 8192  # project choice: the most of a request head the twin's proxy reads
READ_TIMEOUT_S = 5.0  # project choice: a client silent longer is dropped
_FORBIDDEN = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


class HttpProxy:
    """The proxy on (``host``, ``port``)."""

    name = "http-proxy"

    def __init__(self, twin: Twin, unit: str, host: str, port: int) -> None:
        self.twin, self.unit, self.host, self.port = twin, unit, host, port
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_TIMEOUT_S)
            writer.write(_FORBIDDEN)
            await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()
