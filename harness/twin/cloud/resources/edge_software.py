"""An Edge's software update through the API, as the SDK's ``DomainEdgeSoftwareUpdateDto`` and
``DomainEdgeSoftwareVersionDtoEntityListing``:

* ``GET …/edges/{edgeId}/softwareversions``: the releases Genesys Cloud offers this Edge
  (:data:`RELEASES`, a project choice for the twin, and the version it runs);
* ``POST …/edges/{edgeId}/softwareupdate`` (body: ``version`` by ``id``, ``name`` or ``edgeVersion``,
  ``callDrainingWaitTimeSeconds``): the Edge downloads and stages the release, drains its SIP (new
  calls refused 503, calls in progress kept until they end or the wait time passes), installs and
  reboots (away from the wire for its boot time) and comes back on the new version: the twin Edge's
  own update machine (:meth:`harness.twin.edge.software.EdgeSoftware.api_update`) with its faults
  (``install-fails``, ``never-returns``, ``slow-boot``, ``down``, ``wan-down``, ``update-fails``,
  ``update-stays-staged``);
* ``GET …/softwareupdate``: where it stands: ``status`` ``NONE`` (no update ordered), ``IN_PROGRESS``
  (downloading, staged, draining, installing, rebooting), ``SUCCEEDED``, ``FAILED`` (download
  failed, or the install rolled back), ``ABORTED``;
* ``DELETE …/softwareupdate``: abort it (not once the install began: 400).

An Edge that does not reach the cloud (offline) cannot be ordered an update: 400 ``edge.offline``.
"""

from __future__ import annotations

import datetime as dt
import json

from ...edge.software import machine
from ...edge.state import EdgeState
from ..router import ApiError, ApiRequest, Json, listing, route
from ..state import entity_id
from .edges import EDGES, find_edge, require_online

#: the releases the twin's Genesys Cloud offers every Edge (project choice: the profile's approved list)
RELEASES = ("2026.10.2", "2026.11.1", "2026.12.0")
DEFAULT_DRAIN_S = 90 * 60  # the drain Genesys allows an Edge update (DUTIES.md MAINT-EDGE-UPDATE: up to 90 min)
_STATUS = {"staging": "IN_PROGRESS", "staged": "IN_PROGRESS", "draining": "IN_PROGRESS", "drained": "IN_PROGRESS",
           "installing": "IN_PROGRESS", "rebooting": "IN_PROGRESS", "installed": "SUCCEEDED",
           "rolled-back": "FAILED", "failed": "FAILED", "aborted": "ABORTED"}


def _iso(t: float | None) -> str | None:
    return None if t is None else dt.datetime.fromtimestamp(t, dt.UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def releases(st: EdgeState) -> list[str]:
    """The versions offered to the Edge, oldest first (the one it runs included)."""
    return sorted({*RELEASES, st.installed_firmware}, key=lambda v: tuple(int(p) if p.isdigit() else 0
                                                                           for p in v.split(".")))


def _version_json(req: ApiRequest, edge_id: str, st: EdgeState, version: str) -> Json:
    vid = entity_id(req.twin.lab.lab.name, "edge-software", version)
    return {"id": vid, "name": version, "edgeVersion": version, "current": version == st.firmware,
            "latestRelease": version == releases(st)[-1], "edgeUri": f"{EDGES}/{edge_id}",
            "selfUri": f"{EDGES}/{edge_id}/softwareversions/{vid}"}


@route("GET", f"{EDGES}/{{edgeId}}/softwareversions", permission=None)
async def software_versions(req: ApiRequest) -> Json:
    _, edge_id, st = find_edge(req)
    return listing(req, releases(st), lambda v: _version_json(req, edge_id, st, v))


def update_json(req: ApiRequest, edge_id: str, st: EdgeState) -> Json:
    """The Edge's update as ``DomainEdgeSoftwareUpdateDto``."""
    out: Json = {"status": "NONE", "edgeUri": f"{EDGES}/{edge_id}", "executeOnIdle": False,
                 "callDrainingWaitTimeSeconds": st.update_drain_s, "current": False}
    if st.update_version is None:
        return out
    out.update({"version": _version_json(req, edge_id, st, st.update_version),
                "status": _STATUS.get(st.software_status, "NONE"), "current": True,
                "downloadStartTime": _iso(st.update_started_at)})
    if st.update_executed_at is not None:
        out["executeStartTime"] = _iso(st.update_executed_at)
    if st.update_ended_at is not None:
        out["executeStopTime"] = _iso(st.update_ended_at)
    return {k: v for k, v in out.items() if v is not None}


@route("GET", f"{EDGES}/{{edgeId}}/softwareupdate", permission=None)
async def software_update(req: ApiRequest) -> Json:
    _, edge_id, st = find_edge(req)
    return update_json(req, edge_id, st)


def _wanted_version(req: ApiRequest, st: EdgeState, body: Json) -> str:
    v = body.get("version") if isinstance(body, dict) else None
    if not isinstance(v, dict):
        raise ApiError(400, "bad.request",
                       "version is required (DomainEdgeSoftwareVersionDto: id, name or edgeVersion)")
    for version in releases(st):
        vid = entity_id(req.twin.lab.lab.name, "edge-software", version)
        if v.get("id") == vid or version in (v.get("name"), v.get("edgeVersion")):
            return version
    raise ApiError(400, "bad.request", f"version {json.dumps(v)} is not offered to this Edge (see softwareversions)")


@route("POST", f"{EDGES}/{{edgeId}}/softwareupdate", permission=None)
async def start_update(req: ApiRequest) -> Json:
    name, edge_id, st = find_edge(req)
    try:
        body = json.loads(req.body or b"{}")
    except ValueError:
        raise ApiError(400, "bad.request", "the body is not JSON") from None
    version = _wanted_version(req, st, body)
    require_online(req, name, st, "start a software update")
    drain = body.get("callDrainingWaitTimeSeconds", DEFAULT_DRAIN_S)
    if not isinstance(drain, int) or isinstance(drain, bool):
        raise ApiError(400, "bad.request", "callDrainingWaitTimeSeconds must be a whole number of seconds")
    refused = machine(req.twin, name).api_update(version, drain)
    if refused:
        raise ApiError(409, "conflict", refused)
    return update_json(req, edge_id, st)


@route("DELETE", f"{EDGES}/{{edgeId}}/softwareupdate", permission=None)
async def abort_update(req: ApiRequest) -> Json:
    name, _, _ = find_edge(req)
    refused = machine(req.twin, name).api_cancel()
    if refused:
        raise ApiError(400, "bad.request", refused)
    return {}
