"""Sites: ``GET /api/v2/telephony/providers/edges/sites`` (filters ``name``, ``location.id``) and
``GET …/sites/{siteId}``, as the SDK's ``Site`` and ``SiteEntityListing``.

The lab's site carries the inventory's update window as ``edgeAutoUpdateConfig`` (``rrule``,
``timeZone``, ``start``/``end`` as local date-times: an end before the start is on the next day),
``ntpSettings`` (empty under ``ntp-empty``), ``mediaModel: Premises`` (Edges on site), the Edges of the
inventory as ``primaryEdges``, the caller ID of the first Edge dial plan that has one (``site-caller-id``
replaces it), and its E911 ``location``.
Synthetic sites (``twin.cloud_synthetic_sites``) are bare sites without Edges.
"""

from __future__ import annotations

from ..faults import NTP_EMPTY, SITE_CALLER_ID
from ..router import ApiError, ApiRequest, Json, listing, ref, route
from ..state import CloudState, SiteConfig, entity_id

SITES = "/api/v2/telephony/providers/edges/sites"
EDGES = "/api/v2/telephony/providers/edges"
LOCATIONS = "/api/v2/locations"
WINDOW_DATE = "2026-01-01"  # project choice: the date the window's local times are written on


def _local(date: str, hhmm: str) -> str:
    return f"{date}T{hhmm}:00.000"


def site_json(st: CloudState, site: SiteConfig) -> Json:
    """The lab's site as ``Site``."""
    out: Json = {"id": site.id, "name": site.name, "version": 1, "state": "active", "managed": False,
                 "mediaModel": "Premises", "coreSite": False,
                 "primaryEdges": [ref(EDGES, eid, name) for name, eid in st.edge_ids.items()],
                 "secondaryEdges": [],
                 "ntpSettings": {"servers": [] if NTP_EMPTY.on(st) else list(site.ntp_servers)},
                 "location": ref(LOCATIONS, site.location_id, site.name),
                 "selfUri": f"{SITES}/{site.id}"}
    if site.rrule and site.start and site.end:
        end_date = WINDOW_DATE if site.end > site.start else "2026-01-02"
        out["edgeAutoUpdateConfig"] = {"timeZone": site.time_zone, "rrule": site.rrule,
                                       "start": _local(WINDOW_DATE, site.start), "end": _local(end_date, site.end)}
    caller_id = SITE_CALLER_ID.value(st) or site.caller_id
    if caller_id:
        out["callerId"] = caller_id
    return out


def synthetic_name(i: int) -> str:
    return f"Synthetic Site {i:05d}"


def _synthetic_json(lab: str, i: int) -> Json:
    name = synthetic_name(i)
    sid = entity_id(lab, "site", name)
    return {"id": sid, "name": name, "version": 1, "state": "active", "managed": False, "mediaModel": "Premises",
            "coreSite": False, "primaryEdges": [], "secondaryEdges": [], "ntpSettings": {"servers": []},
            "selfUri": f"{SITES}/{sid}"}


def all_sites(req: ApiRequest) -> list[tuple[str, int]]:
    """The org's sites in name order, as ``(name, i)``: ``i`` -1 for the lab's site, else the index of
    a synthetic one (rendered only when on the page asked for)."""
    assert req.state.site is not None
    found = [(req.state.site.name, -1)] + [(synthetic_name(i), i) for i in range(req.state.synthetic_sites)]
    return sorted(found)


def _render(req: ApiRequest, entry: tuple[str, int]) -> Json:
    st = req.state
    assert st.site is not None
    return site_json(st, st.site) if entry[1] < 0 else _synthetic_json(req.twin.lab.lab.name, entry[1])


@route("GET", SITES, permission=None)  # Genesys publishes none for the listing (permissions.py)
async def sites(req: ApiRequest) -> Json:
    found = all_sites(req)
    if (name := req.query.get("name")) is not None:
        found = [e for e in found if e[0].lower() == name.lower()]
    if (location := req.query.get("location.id")) is not None:
        assert req.state.site is not None
        found = [e for e in found if e[1] < 0 and req.state.site.location_id == location]
    return listing(req, found, lambda e: _render(req, e))


@route("GET", f"{SITES}/{{siteId}}")
async def site(req: ApiRequest) -> Json:
    site_id, st = req.match["siteId"], req.state
    assert st.site is not None
    if site_id == st.site.id:
        return site_json(st, st.site)
    lab = req.twin.lab.lab.name
    for i in range(st.synthetic_sites):
        if entity_id(lab, "site", synthetic_name(i)) == site_id:
            return _synthetic_json(lab, i)
    raise ApiError.not_found("site", site_id)
