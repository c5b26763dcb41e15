"""The org's outbound configuration, rendered once for both of its readers: the API's resources
(:mod:`.resources.numberplans`, :mod:`.resources.prefixes`) and the Edges, to which Genesys Cloud pushes
its configuration (a Genesys Edge is configured from the cloud; here :func:`push` writes
:class:`~harness.twin.edge.state.OrgOutbound` into each Edge's state). So the API and the Edge's
routing cannot disagree unless a fault says so (``config-stale`` on an Edge, ``allow-prefix``).

What is rendered (the org's faults arrive as :class:`OutboundFaults`, read by :mod:`.faults`):

* **Number plans** of the site: Genesys' default kinds for the site's dial plan country: ``Emergency``
  (``numberList`` of the emergency number: 911 in North America, else 112), ``Extension``
  (``digitLength`` 4–6, Genesys' default, G-NUMPLAN), ``National`` (``intraCountryCode``) and
  ``International`` (``interCountryCode``), each with the ``priority`` Genesys gives them (lower
  first); ``numberplan-missing=CLASSIFICATION`` takes one away.
* **Outbound routes**: one per Edge trunk, carrying ``Emergency``, ``National`` and ``International``
  to the Edge's external trunk base settings (``SEQUENTIAL``: the inventory's routes in order);
  ``outbound-route-drops=CLASSIFICATION`` leaves one out.
* **The prefix Block List** (org-wide, G-PREFIX): :attr:`~.telephony.TelephonyConfig.blocked_prefixes`;
  ``prefix-block-missing=PREFIX`` takes PREFIX off, ``emergency-blocked`` adds the site's emergency
  number (``+1911``).
"""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers

from ..core.twin import Twin
from ..edge.state import EdgeState, OrgOutbound
from .router import Json, ref
from .state import CloudState, entity_id
from .telephony import TelephonyConfig

SITES = "/api/v2/telephony/providers/edges/sites"  # as resources.sites (which imports the faults: no circle)
TRUNK_BASES = "/api/v2/telephony/providers/edges/trunkbasesettings"  # as resources.trunk_bases
ROUTED = ("Emergency", "National", "International")  # what the site's outbound route carries to the carrier


@dataclass(frozen=True)
class OutboundFaults:
    """The org's faults that change its outbound configuration (their values; ``None``: off)."""

    numberplan_missing: str | None = None
    outbound_route_drops: str | None = None
    prefix_block_missing: str | None = None
    emergency_blocked: bool = False


def trunk_base_id(lab: str, edge: str) -> str:
    """The id of Edge ``edge``'s external trunk base settings."""
    return entity_id(lab, "trunkbasesettings", edge)


def number_plans(lab: str, org: CloudState, faults: OutboundFaults) -> list[Json]:
    """The site's number plans as ``NumberPlan`` JSON (``numberplan-missing`` applied)."""
    site = org.site
    assert site is not None
    emergency = org.telephony.emergency_number
    raw: list[Json] = [
        {"name": "Emergency", "classification": "Emergency", "matchType": "numberList", "priority": 1,
         "numbers": [{"start": emergency, "end": emergency}]},
        {"name": "Extension", "classification": "Extension", "matchType": "digitLength", "priority": 2,
         "digitLength": {"start": "4", "end": "6"}},
        {"name": "National", "classification": "National", "matchType": "intraCountryCode", "priority": 3},
        {"name": "International", "classification": "International", "matchType": "interCountryCode", "priority": 4},
    ]
    gone = (faults.numberplan_missing or "").lower()
    out = []
    for p in raw:
        if p["classification"].lower() == gone:
            continue
        pid = entity_id(lab, "numberplan", f"{site.id}/{p['name']}")
        out.append({"id": pid, "state": "active", "version": 1, **p,
                    "selfUri": f"{SITES}/{site.id}/numberplans/{pid}"})
    return out


def outbound_route(lab: str, org: CloudState, edge: str, faults: OutboundFaults) -> Json:
    """The site's outbound route to Edge ``edge``'s external trunk as ``OutboundRouteBase`` JSON
    (``outbound-route-drops`` applied)."""
    site = org.site
    assert site is not None
    rid = entity_id(lab, "outboundroute", f"{site.id}/{edge}")
    dropped = (faults.outbound_route_drops or "").lower()
    return {"id": rid, "name": f"{edge} outbound", "state": "active", "version": 1,
            "classificationTypes": [c for c in ROUTED if c.lower() != dropped], "enabled": True,
            "distribution": "SEQUENTIAL",
            "externalTrunkBases": [ref(TRUNK_BASES, trunk_base_id(lab, edge), f"{edge} external trunk")],
            "selfUri": f"{SITES}/{site.id}/outboundroutes/{rid}"}


def block_list(tel: TelephonyConfig, faults: OutboundFaults) -> list[str]:
    """The org's Block List as E.164 prefixes (``prefix-block-missing`` and ``emergency-blocked`` applied)."""
    out = [p for p in tel.blocked_prefixes if p != faults.prefix_block_missing]
    if faults.emergency_blocked:
        cc = phonenumbers.country_code_for_region(tel.country) or 1
        out.append(f"+{cc}{tel.emergency_number}")
    return list(dict.fromkeys(out))


def edges_with_trunk(twin: Twin, org: CloudState) -> list[tuple[str, EdgeState]]:
    """The org's Edges with a trunk (routes to a carrier), as ``(inventory name, twin state)``."""
    return [(name, st) for name in org.edge_ids if isinstance(st := twin.states.get(name), EdgeState)
            and st.trunk_routes]


def push(twin: Twin, org: CloudState, faults: OutboundFaults) -> None:
    """The org pushes its outbound configuration to each of its Edges (an Edge with a trunk gets its
    own outbound route; the number plans and the Block List are the site's and the org's)."""
    lab = twin.lab.lab.name
    plans = tuple(number_plans(lab, org, faults))
    blocks = tuple(block_list(org.telephony, faults))
    trunked = {name for name, _ in edges_with_trunk(twin, org)}
    for name in org.edge_ids:
        st = twin.states.get(name)
        if isinstance(st, EdgeState):
            routes = (outbound_route(lab, org, name, faults),) if name in trunked else ()
            st.receive_org_outbound(OrgOutbound(plans, routes, blocks, org.telephony.country))
