"""Trunk base settings: ``GET …/edges/trunkbasesettings[/{trunkBaseSettingsId}]`` (filter ``name``), as
the SDK's ``TrunkBase`` and ``TrunkBaseEntityListing``: one ``EXTERNAL`` trunk base per inventory Edge
with a trunk, rendered from the twin Edge's own trunk configuration (what its SIP uses on the wire).

``properties`` holds Genesys' property names as public Genesys Cloud code writes them (each
``{"value": {"instance": …}}``): ``trunk_type`` ``external.pcv.byoc.carrier`` (a BYOC carrier
trunk), ``trunk_transport_serverProxyList`` (the routes' ``host:port``),
``trunk_transport_protocolVariant`` (the routes' transport), ``trunk_access_acl_allowList`` (each
route's host as a /32: the SIP access list admits the carrier only; ``trunk-acl-allow-all`` makes it
``0.0.0.0/0``), ``trunk_access_acl_denyList`` (empty), ``trunk_media_dtmf_method`` ``RTP Events``
with ``trunk_media_dtmf_payload`` 101 (RFC 4733, as the twin's Edge sends DTMF),
``trunk_media_dscpValue`` and ``trunk_transport_sipDscpValue``: the DSCP the twin Edge was provisioned
with (``EdgeState.media_dscp`` / ``sip_dscp``: Genesys' defaults 46 and 24, G-DSCP, unless the org's
``base-media-dscp`` fault configured another media value, which the Edge applies).
The trunk's *Max Calls* and its reason code are not rendered: no public source names their properties.
"""

from __future__ import annotations

from ...edge.state import EdgeState
from ..faults import TRUNK_ACL_ALLOW_ALL
from ..router import ApiError, ApiRequest, Json, listing, ref, route
from ..state import entity_id
from .edges import EDGES
from .sites import SITES

TRUNK_BASES = f"{EDGES}/trunkbasesettings"
ALLOW_ALL = "0.0.0.0/0"


def _prop(value: object) -> Json:
    return {"value": {"instance": value}}


def bases(req: ApiRequest) -> list[tuple[str, EdgeState]]:
    """The inventory's Edges with a trunk, as ``(name, twin state)``."""
    return [(name, st) for name in req.state.edge_ids if isinstance(st := req.twin.states.get(name), EdgeState)
            and st.trunk_routes]


def base_id(req: ApiRequest, edge: str) -> str:
    return entity_id(req.twin.lab.lab.name, "trunkbasesettings", edge)


def trunk_base_json(req: ApiRequest, edge: str, st: EdgeState) -> Json:
    """Edge ``edge``'s external trunk base settings as ``TrunkBase``."""
    site = req.state.site
    assert site is not None
    bid = base_id(req, edge)
    hosts = [r.address.rsplit(":", 1)[0] for r in st.trunk_routes]
    allow = [ALLOW_ALL] if TRUNK_ACL_ALLOW_ALL.on(req.state) else [f"{h}/32" for h in dict.fromkeys(hosts)]
    name = f"{edge} external trunk"
    return {"id": bid, "name": name, "state": "active", "version": 1, "trunkType": "EXTERNAL", "managed": False,
            "trunkMetabase": {"id": "external_sip_pcv_byoc_carrier.json", "name": "Generic BYOC Carrier"},
            "site": ref(SITES, site.id, site.name), "inboundSite": ref(SITES, site.id, site.name),
            "properties": {"trunk_type": _prop("external.pcv.byoc.carrier"), "trunk_label": _prop(name),
                           "trunk_enabled": _prop(True),
                           "trunk_transport_serverProxyList": _prop([r.address for r in st.trunk_routes]),
                           "trunk_transport_protocolVariant": _prop(st.trunk_routes[0].transport),
                           "trunk_access_acl_allowList": _prop(allow), "trunk_access_acl_denyList": _prop([]),
                           "trunk_media_dtmf_method": _prop("RTP Events"), "trunk_media_dtmf_payload": _prop(101),
                           "trunk_media_dscpValue": _prop(st.media_dscp),
                           "trunk_transport_sipDscpValue": _prop(st.sip_dscp)},
            "selfUri": f"{TRUNK_BASES}/{bid}"}


@route("GET", TRUNK_BASES)
async def trunk_bases(req: ApiRequest) -> Json:
    found = bases(req)
    if (name := req.query.get("name")) is not None:
        found = [b for b in found if f"{b[0]} external trunk".lower() == name.lower()]
    return listing(req, found, lambda b: trunk_base_json(req, *b))


@route("GET", f"{TRUNK_BASES}/{{trunkBaseSettingsId}}")
async def trunk_base(req: ApiRequest) -> Json:
    for edge, st in bases(req):
        if base_id(req, edge) == req.match["trunkBaseSettingsId"]:
            return trunk_base_json(req, edge, st)
    raise ApiError.not_found("trunk base settings", req.match["trunkBaseSettingsId"])
