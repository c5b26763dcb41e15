"""Edges: ``GET /api/v2/telephony/providers/edges`` (filters ``site.id``, ``name``) and ``GET
…/edges/{edgeId}``, as the SDK's ``Edge`` and ``EdgeEntityListing``.

Rendered from the twin Edge's own state on every request, so the API and the wire agree:
``softwareVersion`` is the firmware the Edge runs (the ``firmware=`` fault included), ``stagedVersion``
the image staged for an update, ``onlineStatus`` ``OFFLINE`` while the Edge is ``down``, rebooting
or ``wan-down`` (its cloud link is its WAN), ``callDrainingState`` ``WAIT`` while it drains,
``conversationCount`` its calls in progress, ``proxy`` the WAN port's HTTP proxy (the inventory's
``facts.proxy``; absent when none); ``edge-record-version=EDGE:VERSION`` (:mod:`..faults`) makes the
record's version another than the one the Edge runs and its SIP shows. Every Edge is
``statusCode: ACTIVE`` (paired) and
``edgeDeploymentType: HARDWARE`` (an Edge on the customer's premises). Synthetic Edges
(``twin.cloud_synthetic_edges``) sit on the lab's site, online, on the first Edge's version.
"""

from __future__ import annotations

from ...edge.faults import EDGE_OFFLINE, WAN_DOWN
from ...edge.state import EdgeState
from ..faults import EDGE_RECORD_VERSION
from ..router import ApiError, ApiRequest, Json, listing, ref, route
from ..state import entity_id
from .sites import SITES

EDGES = "/api/v2/telephony/providers/edges"
SYNTHETIC_VERSION = "2026.11.1"  # a synthetic Edge's version when the lab has no Edge of its own


def online(req: ApiRequest, name: str, st: EdgeState) -> bool:
    """The Edge reaches the cloud: its services run (not ``down``, not rebooting), its WAN is up and
    its cloud link is not cut (``edge-offline``)."""
    return req.twin.running(name) and not WAN_DOWN.on(st) and not EDGE_OFFLINE.on(st)


def find_edge(req: ApiRequest) -> tuple[str, str, EdgeState]:
    """The inventory Edge whose id is the path's ``{edgeId}``: ``(name, id, state)``. Raises ApiError
    404 for any other id (synthetic Edges have no update, metrics, logs or trunks of their own)."""
    edge_id = req.match["edgeId"]
    for name, eid in req.state.edge_ids.items():
        if eid == edge_id:
            st = req.twin.states[name]
            assert isinstance(st, EdgeState)
            return name, eid, st
    raise ApiError.not_found("edge", edge_id)


def require_online(req: ApiRequest, name: str, st: EdgeState, what: str) -> None:
    """Raise ApiError 400 ``edge.offline`` when the Edge does not reach the cloud: Genesys Cloud cannot
    hand it ``what`` (the code is the twin's; the real API's wording was not found)."""
    if not online(req, name, st):
        raise ApiError(400, "edge.offline", f"Edge {name} is offline: cannot {what}", {"edgeId": req.match["edgeId"]})


def edge_json(req: ApiRequest, name: str, edge_id: str) -> Json:
    """Edge ``name`` of the inventory as ``Edge``."""
    site = req.state.site
    assert site is not None
    st = req.twin.states[name]
    assert isinstance(st, EdgeState)
    fake = EDGE_RECORD_VERSION.value(req.state)
    version = fake[1] if fake is not None and fake[0] == name else st.firmware
    out: Json = {"id": edge_id, "name": name, "version": 1, "state": "active", "make": "Genesys", "model": st.model,
                 "serialNumber": st.serial, "softwareVersion": version,
                 "fullSoftwareVersion": f"{version} ({st.platform})", "currentVersion": version,
                 "statusCode": "ACTIVE", "onlineStatus": "ONLINE" if online(req, name, st) else "OFFLINE",
                 "physicalEdge": "virtual" not in st.model.lower(), "managed": False,
                 "edgeDeploymentType": "HARDWARE", "callDrainingState": "WAIT" if st.draining else "NONE",
                 "conversationCount": st.trunk_inbound_calls + st.trunk_outbound_calls + st.station_calls,
                 "offlineConfigCalled": False, "site": ref(SITES, site.id, site.name),
                 "selfUri": f"{EDGES}/{edge_id}"}
    if st.staged_version:
        out["stagedVersion"] = st.staged_version
    if st.proxy:
        out["proxy"] = st.proxy
    return out


def _synthetic_name(i: int) -> str:
    return f"synthetic-edge-{i:05d}"


def _synthetic_json(req: ApiRequest, i: int) -> Json:
    site = req.state.site
    assert site is not None
    name = _synthetic_name(i)
    eid = entity_id(req.twin.lab.lab.name, "edge", name)
    first = next((s for s in req.twin.states.values() if isinstance(s, EdgeState)), None)
    version = first.firmware if first else SYNTHETIC_VERSION
    return {"id": eid, "name": name, "version": 1, "state": "active", "make": "Genesys", "model": "Genesys Edge",
            "softwareVersion": version, "fullSoftwareVersion": version, "currentVersion": version,
            "statusCode": "ACTIVE", "onlineStatus": "ONLINE", "physicalEdge": True, "managed": False,
            "edgeDeploymentType": "HARDWARE", "callDrainingState": "NONE", "conversationCount": 0,
            "offlineConfigCalled": False, "site": ref(SITES, site.id, site.name), "selfUri": f"{EDGES}/{eid}"}


def all_edges(req: ApiRequest) -> list[tuple[str, str | int]]:
    """The org's Edges in name order as ``(name, key)``: the inventory's (key: their id) and the
    synthetic ones (key: their index)."""
    found: list[tuple[str, str | int]] = list(req.state.edge_ids.items())
    found += [(_synthetic_name(i), i) for i in range(req.state.synthetic_edges)]
    return sorted(found, key=lambda e: e[0])


def _render(req: ApiRequest, entry: tuple[str, str | int]) -> Json:
    name, key = entry
    return _synthetic_json(req, key) if isinstance(key, int) else edge_json(req, name, key)


@route("GET", EDGES)
async def edges(req: ApiRequest) -> Json:
    found = all_edges(req)
    site = req.state.site
    assert site is not None
    if (site_id := req.query.get("site.id")) is not None and site_id != site.id:
        found = []  # every Edge of the org is on the lab's site
    if (name := req.query.get("name")) is not None:
        found = [e for e in found if e[0].lower() == name.lower()]
    return listing(req, found, lambda e: _render(req, e))


@route("GET", f"{EDGES}/{{edgeId}}")
async def edge(req: ApiRequest) -> Json:
    edge_id = req.match["edgeId"]
    for name, eid in req.state.edge_ids.items():
        if eid == edge_id:
            return edge_json(req, name, eid)
    for i in range(req.state.synthetic_edges):
        if entity_id(req.twin.lab.lab.name, "edge", _synthetic_name(i)) == edge_id:
            return _synthetic_json(req, i)
    raise ApiError.not_found("edge", edge_id)
