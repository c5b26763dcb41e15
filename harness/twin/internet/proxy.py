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
from ..servers.tcp import TcpListener

HEAD_LIMIT_BYTES = 8192  # project choice: the most of a request head the twin's proxy reads
READ_TIMEOUT_S = 5.0  # project choice: a client silent longer is dropped
_FORBIDDEN = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


class HttpProxy(TcpListener):
    """The proxy on (``host``, ``port``)."""

    name = "http-proxy"

    def __init__(self, twin: Twin, unit: str, host: str, port: int) -> None:
        super().__init__(host, port)
        self.twin, self.unit = twin, unit

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_TIMEOUT_S)
            writer.write(_FORBIDDEN)
            await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()
