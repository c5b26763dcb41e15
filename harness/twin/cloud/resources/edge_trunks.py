"""The org's trunks: ``GET …/edges/trunks`` (every Edge's, ``TrunkEntityListing``; filters ``edge.id``,
``trunkType``); an Edge's trunks: ``GET …/edges/{edgeId}/trunks`` (``TrunkEntityListing``; filter ``trunkType``),
``GET …/edges/trunks/{trunkId}/metrics`` (``TrunkMetrics``) and ``GET …/edges/trunks/metrics?trunkIds=…``
(``list[TrunkMetrics]``), rendered from the twin Edge's SIP state.

Each inventory Edge has its external trunk (``trunkType: EXTERNAL``: ``inService`` while one of its
routes answered its last OPTIONS, ``optionsStatus`` per route from those answers) and its phone
trunk (``PHONE``); each names its trunk base settings (``trunkBase``, :mod:`.trunk_bases`: the
Edge's external one, the managed phones' one). Metrics count the calls in progress
(``calls.inboundCallCount`` carrier → Edge, ``outboundCallCount`` Edge → carrier; the phone trunk's
inbound count is the station calls). While the Edge does not run (rebooting, ``down``) its trunks
are out of service with no calls. ``trunk-missing=EDGE`` (a fault of the org) takes that Edge's
external trunk out of every listing while its SIP trunk runs on the wire (DATA-ACCURACY);
``trunk-server=EDGE:HOST:PORT`` makes it list that server (never answering OPTIONS) for its routes.
"""

from __future__ import annotations

import datetime as dt
import time

from ...edge.state import EdgeState
from ..faults import TRUNK_MISSING
from ..router import ApiError, ApiRequest, Json, listing, ref, route
from ..state import entity_id
from .edges import EDGES, find_edge
from .trunk_bases import PHONE_BASE_NAME, TRUNK_BASES, base_id, phone_base_id, servers

TRUNKS = f"{EDGES}/trunks"
KINDS = ("EXTERNAL", "PHONE")


def trunk_id(req: ApiRequest, edge: str, kind: str) -> str:
    return entity_id(req.twin.lab.lab.name, "trunk", f"{edge}/{kind.lower()}")


def _iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def trunk_json(req: ApiRequest, name: str, edge_id: str, st: EdgeState, kind: str) -> Json:
    """Edge ``name``'s trunk of ``kind`` as ``Trunk``."""
    tid, now, running = trunk_id(req, name, kind), _iso(time.time()), req.twin.running(name)
    out: Json = {"id": tid, "name": f"{name} {kind.lower()} trunk", "state": "active", "trunkType": kind,
                 "edge": ref(EDGES, edge_id, name), "enabled": True, "family": 2, "selfUri": f"{TRUNKS}/{tid}"}
    if kind == "EXTERNAL":
        out["trunkBase"] = ref(TRUNK_BASES, base_id(req, name), f"{name} external trunk")
        listed = servers(req, name, st)
        options = [{"proxyAddress": r.address, "optionState": st.trunk_options.get(r.name) is not None
                    and 200 <= (st.trunk_options.get(r.name) or 0) < 300, "optionStateTime": now}
                   for r in st.trunk_routes if r.address in listed]
        options += [{"proxyAddress": a, "optionState": False, "optionStateTime": now}
                    for a in listed if a not in {r.address for r in st.trunk_routes}]
        up = running and any(o["optionState"] for o in options)
        out.update({"inService": up, "optionsStatus": options, "optionsEnabledStatus": "ENABLED",
                    "registersEnabledStatus": "DISABLED", "connectedStatus": {"connected": up,
                                                                              "connectedStateTime": now},
                    "proxyAddressList": listed})
    else:
        out["trunkBase"] = ref(TRUNK_BASES, phone_base_id(req), PHONE_BASE_NAME)
        out.update({"inService": running, "optionsEnabledStatus": "NOT_SUPPORTED",
                    "registersEnabledStatus": "NOT_SUPPORTED",
                    "connectedStatus": {"connected": running, "connectedStateTime": now}})
    return out


def kinds_of(req: ApiRequest, name: str) -> list[str]:
    """The trunk kinds Edge ``name`` has in the org (its external one not under ``trunk-missing``),
    filtered by the request's ``trunkType``."""
    missing = TRUNK_MISSING.value(req.state)
    return [k for k in KINDS if req.query.get("trunkType", k).upper() == k
            and not (k == "EXTERNAL" and missing == name)]


@route("GET", f"{EDGES}/{{edgeId}}/trunks")
async def edge_trunks(req: ApiRequest) -> Json:
    name, edge_id, st = find_edge(req)
    return listing(req, kinds_of(req, name), lambda k: trunk_json(req, name, edge_id, st, k))


@route("GET", TRUNKS)
async def org_trunks(req: ApiRequest) -> Json:
    """Every trunk of the org's inventory Edges, in Edge name order (filters ``edge.id``, ``trunkType``)."""
    wanted = req.query.get("edge.id")
    found = [(name, eid, st, k) for name, eid in sorted(req.state.edge_ids.items())
             if isinstance(st := req.twin.states.get(name), EdgeState) and wanted in (None, eid)
             for k in kinds_of(req, name)]
    return listing(req, found, lambda e: trunk_json(req, *e))


def _find_trunk(req: ApiRequest, tid: str) -> tuple[str, str, EdgeState, str] | None:
    missing = TRUNK_MISSING.value(req.state)
    for name, eid in req.state.edge_ids.items():
        st = req.twin.states[name]
        for kind in KINDS:
            if kind == "EXTERNAL" and missing == name:
                continue
            if isinstance(st, EdgeState) and trunk_id(req, name, kind) == tid:
                return name, eid, st, kind
    return None


def metrics_json(req: ApiRequest, name: str, edge_id: str, st: EdgeState, kind: str) -> Json:
    """Trunk ``kind`` of Edge ``name`` as ``TrunkMetrics``."""
    running = req.twin.running(name)
    inbound = (st.trunk_inbound_calls if kind == "EXTERNAL" else st.station_calls) if running else 0
    outbound = st.trunk_outbound_calls if kind == "EXTERNAL" and running else 0
    tid = trunk_id(req, name, kind)
    return {"eventTime": _iso(time.time()), "trunk": ref(TRUNKS, tid, f"{name} {kind.lower()} trunk"),
            "calls": {"inboundCallCount": inbound, "outboundCallCount": outbound}}


@route("GET", f"{TRUNKS}/{{trunkId}}/metrics")
async def trunk_metrics(req: ApiRequest) -> Json:
    found = _find_trunk(req, req.match["trunkId"])
    if found is None:
        raise ApiError.not_found("trunk", req.match["trunkId"])
    return metrics_json(req, *found)


@route("GET", f"{TRUNKS}/metrics")
async def trunks_metrics(req: ApiRequest) -> Json:
    wanted = [i for i in req.query.get("trunkIds", "").split(",") if i]
    if not wanted:
        raise ApiError(400, "bad.request", "trunkIds is required (comma-separated trunk ids)")
    return [metrics_json(req, *found) for tid in wanted if (found := _find_trunk(req, tid)) is not None]
