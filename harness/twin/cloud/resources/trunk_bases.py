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

And one ``PHONE`` trunk base for the org's managed phones, ``Genesys Cloud - CDM SIP Phone Trunk``
(``trunk_type`` ``station.cdm``, metabase ``phone_connections_cdm.json``: as a public Terraform
export of a real org holds it), the base every Edge's phone trunk names: its
``trunk_media_dscpValue`` / ``trunk_transport_sipDscpValue`` are the DSCP the twin Edges were
provisioned with (the first inventory Edge's), what they mark toward the stations.
"""

from __future__ import annotations

from ...edge.state import EdgeState
from ..faults import TRUNK_ACL_ALLOW_ALL, TRUNK_SERVER
from ..outbound import TRUNK_BASES, edges_with_trunk, trunk_base_id
from ..router import ApiError, ApiRequest, Json, listing, ref, route
from ..state import entity_id
from .sites import SITES

ALLOW_ALL = "0.0.0.0/0"


def _prop(value: object) -> Json:
    return {"value": {"instance": value}}


def bases(req: ApiRequest) -> list[tuple[str, EdgeState]]:
    """The inventory's Edges with a trunk, as ``(name, twin state)``."""
    return edges_with_trunk(req.twin, req.state)


def base_id(req: ApiRequest, edge: str) -> str:
    return trunk_base_id(req.twin.lab.lab.name, edge)


def servers(req: ApiRequest, edge: str, st: EdgeState) -> list[str]:
    """The ``host:port`` servers the org lists for Edge ``edge``'s external trunk: its carrier routes,
    or the one server ``trunk-server=EDGE:HOST:PORT`` names."""
    fake = TRUNK_SERVER.value(req.state)
    return [fake[1]] if fake is not None and fake[0] == edge else [r.address for r in st.trunk_routes]


def trunk_base_json(req: ApiRequest, edge: str, st: EdgeState) -> Json:
    """Edge ``edge``'s external trunk base settings as ``TrunkBase``."""
    site = req.state.site
    assert site is not None
    bid = base_id(req, edge)
    hosts = [a.rsplit(":", 1)[0] for a in servers(req, edge, st)]
    allow = [ALLOW_ALL] if TRUNK_ACL_ALLOW_ALL.on(req.state) else [f"{h}/32" for h in dict.fromkeys(hosts)]
    name = f"{edge} external trunk"
    return {"id": bid, "name": name, "state": "active", "version": 1, "trunkType": "EXTERNAL", "managed": False,
            "trunkMetabase": {"id": "external_sip_pcv_byoc_carrier.json", "name": "Generic BYOC Carrier"},
            "site": ref(SITES, site.id, site.name), "inboundSite": ref(SITES, site.id, site.name),
            "properties": {"trunk_type": _prop("external.pcv.byoc.carrier"), "trunk_label": _prop(name),
                           "trunk_enabled": _prop(True),
                           "trunk_transport_serverProxyList": _prop(servers(req, edge, st)),
                           "trunk_transport_protocolVariant": _prop(st.trunk_routes[0].transport),
                           "trunk_access_acl_allowList": _prop(allow), "trunk_access_acl_denyList": _prop([]),
                           "trunk_media_dtmf_method": _prop("RTP Events"), "trunk_media_dtmf_payload": _prop(101),
                           "trunk_media_dscpValue": _prop(st.media_dscp),
                           "trunk_transport_sipDscpValue": _prop(st.sip_dscp)},
            "selfUri": f"{TRUNK_BASES}/{bid}"}


PHONE_BASE_NAME = "Genesys Cloud - CDM SIP Phone Trunk"


def phone_base_id(req: ApiRequest) -> str:
    return entity_id(req.twin.lab.lab.name, "trunkbasesettings", "phone")


def phone_edge(req: ApiRequest) -> EdgeState | None:
    """The Edge whose provisioning the phone trunk base shows (the first inventory Edge), or None."""
    return next((st for name in req.state.edge_ids if isinstance(st := req.twin.states.get(name), EdgeState)), None)


def phone_trunk_base_json(req: ApiRequest, st: EdgeState) -> Json:
    """The managed phones' trunk base settings as ``TrunkBase`` (``PHONE``)."""
    bid = phone_base_id(req)
    return {"id": bid, "name": PHONE_BASE_NAME, "state": "active", "version": 1, "trunkType": "PHONE",
            "managed": False, "trunkMetabase": {"id": "phone_connections_cdm.json", "name": "Phone Connections"},
            "properties": {"trunk_type": _prop("station.cdm"), "trunk_label": _prop(PHONE_BASE_NAME),
                           "trunk_enabled": _prop(True), "trunk_media_dtmf_method": _prop("RTP Events"),
                           "trunk_media_dtmf_payload": _prop(101), "trunk_media_dscpValue": _prop(st.media_dscp),
                           "trunk_transport_sipDscpValue": _prop(st.sip_dscp)},
            "selfUri": f"{TRUNK_BASES}/{bid}"}


def _all(req: ApiRequest) -> list[tuple[str, Json]]:
    """Every trunk base as ``(name, its JSON)``: the external ones in Edge order, then the phones'."""
    out = [(f"{edge} external trunk", trunk_base_json(req, edge, st)) for edge, st in bases(req)]
    if (st := phone_edge(req)) is not None:
        out.append((PHONE_BASE_NAME, phone_trunk_base_json(req, st)))
    return out


@route("GET", TRUNK_BASES)
async def trunk_bases(req: ApiRequest) -> Json:
    found = _all(req)
    if (name := req.query.get("name")) is not None:
        found = [b for b in found if b[0].lower() == name.lower()]
    return listing(req, found, lambda b: b[1])


@route("GET", f"{TRUNK_BASES}/{{trunkBaseSettingsId}}")
async def trunk_base(req: ApiRequest) -> Json:
    for _, body in _all(req):
        if body["id"] == req.match["trunkBaseSettingsId"]:
            return body
    raise ApiError.not_found("trunk base settings", req.match["trunkBaseSettingsId"])
