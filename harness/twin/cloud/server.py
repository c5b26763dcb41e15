"""The emulated Genesys Cloud Platform API: an aiohttp server in the twin's asyncio loop, on the
``cloud.base_url`` address (login at the same host: the token endpoint is ``POST /oauth/token``).

Every request goes through one middleware, in this order: ``api-silent`` (never answered), the
bearer token (401 ``authentication.required`` without one, 401 ``bad.credentials`` for one the org
did not issue or that expired), ``rate-limit`` (429 with ``Retry-After``), the route's permission
(``missing-permission``: 403 ``missing.permissions``, the permission named in ``message`` and
``messageParams``), then the handler registered for the route (:mod:`.router`; the resource groups
are the modules of :mod:`.resources`, each imported here). ``api-down`` closes the listener
(:mod:`.faults`). Answers are JSON with Genesys' error bodies; an unknown path is 404, a known
path with another method 405.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import pkgutil
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from ..core.twin import Service, Twin
from ..servers.http import HttpSite
from . import oauth, resources
from .faults import API_SILENT, MISSING_PERMISSION, RATE_LIMIT
from .router import ROUTES, ApiError, ApiRequest, Route
from .state import CloudState

log = logging.getLogger("hil.twin.cloud")

BACKLOG = 256  # a burst of harness workers connecting at once
MAX_BODY_BYTES = 1 << 20  # a request body of the API is JSON of a few KiB

for _module in pkgutil.iter_modules(resources.__path__):  # each resource group registers its routes on import
    importlib.import_module(f"{resources.__name__}.{_module.name}")
TOKEN_ENDPOINT = oauth.token  # the token endpoint registers itself on import too


def _json(status: int, body: object, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(body, status=status, headers=headers)


class CloudApiService:
    """The org's API server (service ``api`` of the unit ``cloud``)."""

    name = "api"

    def __init__(self, twin: Twin, unit: str) -> None:
        st = twin.states[unit]
        assert isinstance(st, CloudState)
        self.twin, self.unit, self.state = twin, unit, st
        self.host, self.port = st.host, st.port
        self._site = HttpSite(self.host, self.port, self._app, backlog=BACKLOG)
        self._released = asyncio.Event()  # set when silent requests may end (stop, heal)

    def release_silent(self) -> None:
        """End the requests ``api-silent`` holds (they get no answer: their connection closes)."""
        self._released.set()
        self._released = asyncio.Event()

    async def _hold(self, request: web.Request) -> web.StreamResponse:
        """``api-silent``: hold the request until heal or stop, then drop the connection unanswered
        (the response returned never reaches the client: its transport is gone)."""
        await self._released.wait()
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=204)

    def _app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        for r in sorted(ROUTES, key=Route.order):
            app.router.add_route(r.method, r.path, self._bind(r))
        app.middlewares.append(self._not_found)
        return app

    def _bind(self, r: Route) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handle(request: web.Request) -> web.StreamResponse:
            return await self._serve(request, r)

        return handle

    @web.middleware
    async def _not_found(self, request: web.Request,
                         handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        """Unknown paths and methods answered as the API does (JSON error bodies), faults first."""
        try:
            return await handler(request)
        except web.HTTPException as e:
            if e.status not in (404, 405):
                raise
            if API_SILENT.on(self.state):
                return await self._hold(request)
            code = "not.found" if e.status == 404 else "method.not.allowed"
            err = ApiError(e.status, code, f"No {request.method} {request.path} in this API")
            self.state.note(request.method, request.path_qs, e.status)
            return _json(e.status, err.body())

    async def _serve(self, request: web.Request, r: Route) -> web.StreamResponse:
        st = self.state
        if API_SILENT.on(st):
            return await self._hold(request)
        try:
            body = await request.read()
            req = ApiRequest(self.twin, self.unit, st, request.method, request.path,
                             {k: v for k, v in request.query.items()}, dict(request.match_info), body,
                             dict(request.headers))
            if r.auth:
                token = self._authorize(request)
                self._rate_limit(token)
            perm = MISSING_PERMISSION.value(st)
            if r.permission is not None and perm == r.permission:
                raise ApiError(403, "missing.permissions", "Unable to perform the requested action. You are missing "
                               f"the following permission(s): [{perm}]", {"permissions": perm})
            result = await r.handler(req)
        except ApiError as e:
            st.note(request.method, request.path_qs, e.status)
            return _json(e.status, e.body(), e.headers)
        st.note(request.method, request.path_qs, 200)
        if isinstance(result, web.StreamResponse):  # a file's bytes (a download URL), not JSON
            return result
        return _json(200, result)

    def _authorize(self, request: web.Request) -> str:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise ApiError(401, "authentication.required",
                           "No authentication bearer token specified in authorization header.")
        issued = self.state.tokens.get(token)
        if issued is None or issued.expires_at <= time.time():
            raise ApiError(401, "bad.credentials", "Invalid login credentials.")
        return token

    def _rate_limit(self, token: str) -> None:
        wait_s = RATE_LIMIT.value(self.state)
        if wait_s is None:
            return
        now = time.monotonic()
        refused = self.state.refused_at.get(token)
        if refused is not None and now - refused >= wait_s:
            del self.state.refused_at[token]
            return
        if refused is None:
            self.state.refused_at[token] = refused = now
        left = max(1, round(wait_s - (now - refused)))
        raise ApiError(429, "too.many.requests", f"Rate limit exceeded the maximum. Retry the request in [{left}] "
                       "seconds", {"retryAfterSeconds": str(left)}, {"Retry-After": str(left)})

    async def start(self) -> None:
        await self._site.start()

    async def stop(self) -> None:
        if self._site.running:
            self.release_silent()
        await self._site.stop()


def cloud_services(twin: Twin, unit: str) -> list[Service]:
    """The org's API server."""
    return [CloudApiService(twin, unit)]
