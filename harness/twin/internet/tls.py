"""The Genesys API host as the internet serves it: TLS on port 443 of ``network.internet.api_address``
with a leaf for ``api_host`` from the emulated public root (:mod:`.ca`), or, under ``tls-intercept``,
from the corporate inspection CA (the SNI callback swaps the context, as an inspection proxy answers
in the real server's place). After the handshake it answers any HTTP request ``404`` and closes.
"""

from __future__ import annotations

import asyncio
import ssl

from ..core.twin import Twin
from .ca import make_pki
from .faults import TLS_INTERCEPT, dropped
from .state import InternetState

HTTPS_PORT = 443
HANDSHAKE_TIMEOUT_S = 10.0  # project choice: a client that stalls its handshake longer is dropped
_NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


class TlsApi:
    """TLS endpoint of ``api_host`` on (``host``, 443); the PKI is made at every start."""

    name = "https"

    def __init__(self, twin: Twin, unit: str, host: str, api_host: str) -> None:
        self.twin, self.unit, self.host, self.port, self.api_host = twin, unit, host, HTTPS_PORT, api_host
        self._server: asyncio.Server | None = None
        self._ctx: ssl.SSLContext | None = None

    def _contexts(self) -> ssl.SSLContext:
        st = self.twin.states[self.unit]
        assert isinstance(st, InternetState)
        bundle = self.twin.loaded.relative(st.ca_file) if st.ca_file else self.twin.data_dir / "internet-cas.pem"
        pki = make_pki(self.api_host, self.twin.data_dir / "internet", bundle)
        public = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        public.load_cert_chain(pki.public_cert, pki.public_key)
        inspected = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        inspected.load_cert_chain(pki.inspection_cert, pki.inspection_key)

        def sni(obj: ssl.SSLObject | ssl.SSLSocket, server_name: str | None, ctx: ssl.SSLContext) -> None:
            if TLS_INTERCEPT.on(st):
                obj.context = inspected

        public.sni_callback = sni
        return public

    async def start(self) -> None:
        if self._ctx is None:
            self._ctx = self._contexts()
        self._server = await asyncio.get_running_loop().create_server(lambda: _Conn(self), self.host, self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None


class _Conn(asyncio.Protocol):
    """One connection: held silent under ``port-drop=443``, else TLS is started before any byte is
    read (``asyncio.StreamWriter.start_tls`` of Python 3.11 can lose a ClientHello that arrives
    first), then any request is answered 404."""

    def __init__(self, svc: TlsApi) -> None:
        self.svc = svc
        self.tls: asyncio.BaseTransport | None = None
        self.task: asyncio.Task[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        if dropped(self.svc.twin.states[self.svc.unit], self.svc.port, udp=False):
            return  # held open, never answered, until the client gives up
        transport.pause_reading()
        self.task = asyncio.ensure_future(self._start_tls(transport))

    async def _start_tls(self, transport: asyncio.Transport) -> None:
        assert self.svc._ctx is not None
        try:
            self.tls = await asyncio.get_running_loop().start_tls(
                transport, self, self.svc._ctx, server_side=True, ssl_handshake_timeout=HANDSHAKE_TIMEOUT_S)
        except (OSError, ssl.SSLError, TimeoutError, ConnectionError):
            transport.close()

    def data_received(self, data: bytes) -> None:
        if isinstance(self.tls, asyncio.WriteTransport) and b"\r\n\r\n" in data:
            self.tls.write(_NOT_FOUND)
            self.tls.close()
