"""The call log over HTTP: ``GET /calls.csv`` with a bearer token (RFC 6750), for a harness that
reads the carrier's log without a shell on its host.

:class:`CallLogHttpService` is an aiohttp server on ``host:port`` serving one
:class:`~harness.twin.pstn.call_log.CallLog` as CSV (format in :mod:`.call_log`; ``text/csv``). A
request without ``Authorization: Bearer <token>`` or with another token gets 401 with
``WWW-Authenticate: Bearer`` (RFC 6750 section 3); the token is compared in constant time and never
logged (aiohttp's access log is off: it would name clients and paths only, but nothing here needs
it). Any other path is 404, another method 405. The twin runs it for a PSTN device with ``http:``
in the inventory (its ``token``); ``hil carrier serve`` when its file has ``call_log.http``.
"""

from __future__ import annotations

import hmac

from aiohttp import web

from ..servers.http import HttpSite
from .call_log import CallLog

CALL_LOG_PATH = "/calls.csv"  # where the log is served


class CallLogHttpService:
    """``call-log-http`` of one PSTN simulator. ``start``/``stop`` may be called many times.

    Args:
        device: the simulator's name (for errors). host / port: bound. call_log: what is served.
        token: the bearer token a client must send (resolved, never logged).
    """

    name = "call-log-http"

    def __init__(self, device: str, host: str, port: int, call_log: CallLog, token: str) -> None:
        if not token:
            raise ValueError(f"{device}: the call log's HTTP server needs a bearer token")
        self.device, self.host, self.port, self.call_log = device, host, port, call_log
        self._token = token.encode()
        self._site = HttpSite(host, port, self._app)

    async def _calls(self, request: web.Request) -> web.Response:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), self._token):
            return web.Response(status=401, text="a bearer token is required (Authorization: Bearer …)\n",
                                headers={"WWW-Authenticate": 'Bearer realm="hil carrier"'})
        return web.Response(text=self.call_log.render(), content_type="text/csv", charset="utf-8")

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_get(CALL_LOG_PATH, self._calls)
        return app

    async def start(self) -> None:
        await self._site.start()

    async def stop(self) -> None:
        await self._site.stop()
