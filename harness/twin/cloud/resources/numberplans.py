"""The site's number plans (``GET …/sites/{siteId}/numberplans``: a list of the SDK's ``NumberPlan``)
and outbound routes (``GET …/sites/{siteId}/outboundroutes``: ``OutboundRouteBaseEntityListing``),
rendered by :mod:`harness.twin.cloud.outbound`, the functions that also write the configuration the
org pushes to its Edges (what they route by): Genesys' default plans for the site's dial plan country,
one outbound route per Edge trunk carrying ``Emergency``, ``National`` and ``International``
(``numberplan-missing`` and ``outbound-route-drops`` applied).
"""

from __future__ import annotations

from ..faults import outbound_faults
from ..outbound import edges_with_trunk, number_plans, outbound_route
from ..router import ApiError, ApiRequest, Json, listing, route
from .sites import SITES


def _site(req: ApiRequest) -> str:
    site = req.state.site
    assert site is not None
    if req.match["siteId"] != site.id:
        raise ApiError.not_found("site", req.match["siteId"])
    return site.id


def plans(req: ApiRequest) -> list[Json]:
    """The site's number plans as ``NumberPlan`` (``numberplan-missing`` applied)."""
    _site(req)
    return number_plans(req.twin.lab.lab.name, req.state, outbound_faults(req.state))


@route("GET", f"{SITES}/{{siteId}}/numberplans")
async def numberplans(req: ApiRequest) -> Json:
    return plans(req)


@route("GET", f"{SITES}/{{siteId}}/outboundroutes")
async def outboundroutes(req: ApiRequest) -> Json:
    _site(req)
    lab, faults = req.twin.lab.lab.name, outbound_faults(req.state)
    return listing(req, [edge for edge, _ in edges_with_trunk(req.twin, req.state)],
                   lambda edge: outbound_route(lab, req.state, edge, faults))
