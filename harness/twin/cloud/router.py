"""How the emulated API's endpoints are declared: a route registry, the request handlers see, Genesys
error bodies and paged listings written once.

A resource group is one module under :mod:`harness.twin.cloud.resources` (found and imported by the
server, no table to edit) whose handlers are registered with :func:`route`::

    @route("GET", "/api/v2/telephony/providers/edges/sites/{siteId}")
    async def site(req: ApiRequest) -> Json:
        found = ...
        if found is None:
            raise ApiError.not_found("site", req.match["siteId"])
        return render(found)

A handler returns the JSON body of a 200 (a dict or list) or raises :class:`ApiError`; a listing
returns :func:`listing` (``pageSize``/``pageNumber`` paging with ``entities``, ``pageCount``,
``total`` and the ``selfUri``/``firstUri``/``lastUri``/``nextUri``/``previousUri`` the real API
writes). Every route needs a bearer token unless declared ``auth=False``, and names the permission
it needs (Genesys' ``telephony:plugin:all`` for most telephony endpoints; ``None`` where Genesys
publishes none), which the ``missing-permission`` fault takes away; a test holds each route the
harness calls to the harness's table of published permissions
(``harness/transports/cloud/permissions.py``).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

from ..core.twin import Twin
from .state import CloudState

Json = Any
T = TypeVar("T")

TELEPHONY = "telephony:plugin:all"  # the permission of the telephony providers endpoints (Genesys API docs)
DEFAULT_PAGE_SIZE = 25  # the API's default page size
MAX_PAGE_SIZE = 500  # project choice: the twin refuses larger pages (400), as the API refuses out-of-range values


@dataclass(frozen=True)
class ApiRequest:
    """What a handler sees: the twin, the org's ``name`` and ``state``, the request's ``method``,
    ``path``, ``query`` (last value of each parameter), ``match`` (the path's ``{names}``), its raw
    ``body`` and, for ``auth=False`` routes, its ``headers``."""

    twin: Twin
    name: str
    state: CloudState
    method: str
    path: str
    query: Mapping[str, str]
    match: Mapping[str, str]
    body: bytes
    headers: Mapping[str, str]

    def int_param(self, key: str, default: int, low: int, high: int) -> int:
        """Query parameter ``key`` as a whole number ``low``..``high`` (``default`` when absent).
        Raises ApiError 400 otherwise."""
        text = self.query.get(key)
        if text is None:
            return default
        if not text.isdigit() or not low <= int(text) <= high:
            raise ApiError(400, "bad.request", f"{key} must be a whole number from {low} to {high}, got {text!r}")
        return int(text)


class ApiError(Exception):
    """An error answer: ``status``, Genesys ``code`` and ``message``, ``params`` (``messageParams``),
    extra ``headers``; ``raw``: a body of another shape to send instead (the OAuth endpoint's)."""

    def __init__(self, status: int, code: str, message: str, params: Mapping[str, str] | None = None,
                 headers: Mapping[str, str] | None = None, raw: Json = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.params, self.headers, self.raw = dict(params or {}), dict(headers or {}), raw

    @classmethod
    def not_found(cls, kind: str, key: str) -> ApiError:
        return cls(404, "not.found", f"Unable to find {kind} with id {key}", {"id": key})

    def body(self) -> Json:
        """Genesys' error body (``ErrorBody``), or ``raw``."""
        if self.raw is not None:
            return self.raw
        return {"message": self.message, "code": self.code, "status": self.status, "messageParams": self.params,
                "contextId": str(uuid.uuid4()), "details": [], "errors": []}


Handler = Callable[[ApiRequest], Awaitable[Json]]


@dataclass(frozen=True)
class Route:
    """One endpoint: ``method``, ``path`` (``{name}`` matches one segment), ``handler``, the
    ``permission`` it needs (``None``: none) and whether it needs a bearer token (``auth``)."""

    method: str
    path: str
    handler: Handler
    permission: str | None
    auth: bool

    def order(self) -> tuple[int, ...]:
        """Sort key: at each segment a literal comes before a ``{name}`` (``…/edges/sites`` is tried
        before ``…/edges/{edgeId}``)."""
        return tuple(1 if seg.startswith("{") else 0 for seg in self.path.split("/"))


ROUTES: list[Route] = []


def route(method: str, path: str, *, permission: str | None = TELEPHONY,
          auth: bool = True) -> Callable[[Handler], Handler]:
    """Register ``handler`` for ``method path`` (decorator). A second handler for the same method and
    path is a ValueError."""

    def deco(fn: Handler) -> Handler:
        if any(r.method == method and r.path == path for r in ROUTES):
            raise ValueError(f"twin API route {method} {path} is registered twice")
        ROUTES.append(Route(method, path, fn, permission, auth))
        return fn

    return deco


def listing(req: ApiRequest, entities: Sequence[T], render: Callable[[T], Json]) -> Json:
    """The page of ``entities`` that ``pageSize`` (default 25, 1..:data:`MAX_PAGE_SIZE`) and
    ``pageNumber`` (from 1) ask for, as an ``…EntityListing``; only that page is rendered. The URIs
    keep the request's other query parameters, as the API's do."""
    size = req.int_param("pageSize", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    number = req.int_param("pageNumber", 1, 1, 10**9)
    total = len(entities)
    count = math.ceil(total / size)
    others = {k: v for k, v in req.query.items() if k not in ("pageSize", "pageNumber")}

    def uri(n: int) -> str:
        return f"{req.path}?{urlencode({**others, 'pageSize': size, 'pageNumber': n})}"

    page: Json = {"entities": [render(e) for e in entities[(number - 1) * size: number * size]],
                  "pageSize": size, "pageNumber": number, "total": total, "firstUri": uri(1), "selfUri": uri(number),
                  "lastUri": uri(max(count, 1)), "pageCount": count}
    if number < count:
        page["nextUri"] = uri(number + 1)
    if number > 1:
        page["previousUri"] = uri(number - 1)
    return page


def ref(kind_path: str, entity_id: str, name: str) -> Json:
    """A reference to another entity (``DomainEntityRef``): ``id``, ``name``, ``selfUri``."""
    return {"id": entity_id, "name": name, "selfUri": f"{kind_path}/{entity_id}"}
