"""The site's number plans (``GET …/sites/{siteId}/numberplans``: a list of the SDK's ``NumberPlan``)
and outbound routes (``GET …/sites/{siteId}/outboundroutes``: ``OutboundRouteBaseEntityListing``).

The plans are Genesys' default kinds for the site's dial plan country (the Edge dial plan's
``country``): ``Emergency`` (``numberList`` of the emergency number: 911 in North America, else 112),
``Extension`` (``digitLength`` 4–6, Genesys' default, G-NUMPLAN), ``National`` (``intraCountryCode``)
and ``International`` (``interCountryCode``), each with the ``priority`` Genesys gives them (lower
first). ``numberplan-missing=CLASSIFICATION`` takes one away. One outbound route per Edge trunk carries
``Emergency``, ``National`` and ``International`` to the Edge's external trunk base settings
(``SEQUENTIAL``: the inventory's routes are tried in order); ``outbound-route-drops=CLASSIFICATION``
leaves one out.
"""

from __future__ import annotations

from ..faults import NUMBERPLAN_MISSING, OUTBOUND_ROUTE_DROPS
from ..router import ApiError, ApiRequest, Json, listing, ref, route
from ..state import entity_id
from .sites import SITES
from .trunk_bases import TRUNK_BASES, base_id, bases

ROUTED = ("Emergency", "National", "International")  # what the site's outbound route carries to the carrier


def _site(req: ApiRequest) -> str:
    site = req.state.site
    assert site is not None
    if req.match["siteId"] != site.id:
        raise ApiError.not_found("site", req.match["siteId"])
    return site.id


def plans(req: ApiRequest) -> list[Json]:
    """The site's number plans as ``NumberPlan`` (``numberplan-missing`` applied)."""
    site_id = _site(req)
    emergency = req.state.telephony.emergency_number
    lab = req.twin.lab.lab.name
    raw: list[Json] = [
        {"name": "Emergency", "classification": "Emergency", "matchType": "numberList", "priority": 1,
         "numbers": [{"start": emergency, "end": emergency}]},
        {"name": "Extension", "classification": "Extension", "matchType": "digitLength", "priority": 2,
         "digitLength": {"start": "4", "end": "6"}},
        {"name": "National", "classification": "National", "matchType": "intraCountryCode", "priority": 3},
        {"name": "International", "classification": "International", "matchType": "interCountryCode", "priority": 4},
    ]
    gone = NUMBERPLAN_MISSING.value(req.state)
    out = []
    for p in raw:
        if gone is not None and p["classification"].lower() == gone.lower():
            continue
        pid = entity_id(lab, "numberplan", f"{site_id}/{p['name']}")
        out.append({"id": pid, "state": "active", "version": 1, **p,
                    "selfUri": f"{SITES}/{site_id}/numberplans/{pid}"})
    return out


@route("GET", f"{SITES}/{{siteId}}/numberplans")
async def numberplans(req: ApiRequest) -> Json:
    return plans(req)


@route("GET", f"{SITES}/{{siteId}}/outboundroutes")
async def outboundroutes(req: ApiRequest) -> Json:
    site_id = _site(req)
    lab = req.twin.lab.lab.name

    def render(edge: str) -> Json:
        rid = entity_id(lab, "outboundroute", f"{site_id}/{edge}")
        dropped = (OUTBOUND_ROUTE_DROPS.value(req.state) or "").lower()
        return {"id": rid, "name": f"{edge} outbound", "state": "active", "version": 1,
                "classificationTypes": [c for c in ROUTED if c.lower() != dropped], "enabled": True,
                "distribution": "SEQUENTIAL",
                "externalTrunkBases": [ref(TRUNK_BASES, base_id(req, edge), f"{edge} external trunk")],
                "selfUri": f"{SITES}/{site_id}/outboundroutes/{rid}"}

    return listing(req, [edge for edge, _ in bases(req)], render)
