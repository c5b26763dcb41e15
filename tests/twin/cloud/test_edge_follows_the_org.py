"""The org pushes its outbound configuration to its Edges (harness/twin/cloud/outbound.py): what each Edge
routes by (``EdgeState.org_outbound``) is what the API renders (number plans, the outbound route to the
Edge's trunk, the prefix Block List) on the healthy twin, after a fault that changes the org and after its
heal; ``config-stale`` keeps an Edge on what it had."""

from __future__ import annotations

from typing import Any

from harness.transports.cloud import CloudApi
from harness.twin.manager import TwinControl

PREFIXES = "/api/v2/telephony/prefixes"


def _site_path(api: CloudApi) -> str:
    (site,) = api.get_json("/api/v2/telephony/providers/edges/sites")["entities"]
    return f"/api/v2/telephony/providers/edges/sites/{site['id']}"


def _api_view(api: CloudApi) -> dict[str, Any]:
    site = _site_path(api)
    blocks = api.get_json(PREFIXES, params={"type": "Block", "pageSize": 200})["entities"]
    return {"number_plans": api.get_json(f"{site}/numberplans"),
            "outbound_routes": api.get_json(f"{site}/outboundroutes")["entities"],
            "blocked_prefixes": [f"+{p['countryCode']}{p['number']}" for p in blocks]}


def _edge_view(twin: TwinControl, key: str = "org_outbound") -> dict[str, Any]:
    org = twin.state("edge1")[key]
    return {k: org[k] for k in ("number_plans", "outbound_routes", "blocked_prefixes")}


def test_the_edge_routes_by_what_the_api_shows(twin: TwinControl, api: CloudApi) -> None:
    assert _edge_view(twin) == _api_view(api)
    twin.fault("cloud", "outbound-route-drops", "International")
    twin.fault("cloud", "prefix-block-missing", "+1900")
    twin.fault("cloud", "emergency-blocked")
    twin.fault("cloud", "numberplan-missing", "National")
    changed = _api_view(api)
    assert changed["blocked_prefixes"] == ["+1976", "+1911"]
    assert changed["outbound_routes"][0]["classificationTypes"] == ["Emergency", "National"]
    assert _edge_view(twin) == changed
    twin.heal("cloud")
    healed = _api_view(api)
    assert healed["blocked_prefixes"] == ["+1900", "+1976"]
    assert _edge_view(twin) == healed


def test_a_stale_edge_keeps_what_it_had_and_catches_up_on_heal(twin: TwinControl, api: CloudApi) -> None:
    before = _api_view(api)
    twin.fault("edge1", "config-stale")
    twin.fault("cloud", "prefix-block-missing", "+1976")
    assert _edge_view(twin) == before  # what it routes by
    assert _edge_view(twin, "org_outbound_pushed") == _api_view(api)  # what the org sent meanwhile
    twin.heal("edge1")
    assert _edge_view(twin) == _api_view(api)
