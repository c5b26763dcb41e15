"""Genesys Cloud trunk base settings as the harness reads them (``GET …/edges/trunkbasesettings``; the
SDK's ``TrunkBase``): the trunk's configuration lives in ``properties`` (Genesys' free-form property
dict, each ``{"value": {"instance": …}}``), under the names public Genesys Cloud code writes:
``trunk_access_acl_allowList``/``denyList`` (the SIP access list), ``trunk_media_dtmf_method``,
``trunk_transport_protocolVariant``, ``trunk_transport_serverProxyList``, and the DSCP the Edge marks
on the trunk: ``trunk_media_dscpValue`` (RTP) and ``trunk_transport_sipDscpValue`` (SIP), the names a
Terraform export of a real org holds (``genesyscloud_telephony_providers_edges_trunkbasesettings``
resources exported by the Genesys Cloud Terraform provider, whose schema maps its snake-case
``trunk_media_dscp_value`` / ``trunk_transport_sip_dscp_value`` to them; defaults 46 and 24, G-DSCP).
No property for the UI's "Allow All" box is known (GENESYS-API.md): an allowlist holding ``0.0.0.0/0``
(or ``::/0``) allows all, as does an empty one for the trunk's behaviour, which only a probe on the wire can tell."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ...transports.cloud import CloudModel

TRUNK_BASES = "/api/v2/telephony/providers/edges/trunkbasesettings"
ALLOW_ALL = ("0.0.0.0/0", "::/0")


def _int(v: Any) -> int | None:
    """A whole number property value (the API gives numbers, sometimes as text), else None."""
    try:
        return int(v) if v is not None and not isinstance(v, bool) else None
    except (TypeError, ValueError):
        return None


class TrunkBaseSettings(CloudModel):
    """A trunk base settings (``TrunkBase``): ``trunk_type`` EXTERNAL, PHONE or EDGE."""

    id: str
    name: str
    trunk_type: str | None = None
    properties: dict[str, Any] = Field(default_factory=dict)

    def prop(self, key: str) -> Any:
        """``properties[key].value.instance``, or None."""
        p = self.properties.get(key)
        v = p.get("value") if isinstance(p, dict) else None
        return v.get("instance") if isinstance(v, dict) else None

    @property
    def acl_allow(self) -> tuple[str, ...]:
        """The SIP access list's allowed networks (CIDR)."""
        return tuple(self.prop("trunk_access_acl_allowList") or ())

    @property
    def allows_all(self) -> bool:
        """The allowlist admits every address (``0.0.0.0/0`` or ``::/0``)."""
        return any(a in ALLOW_ALL for a in self.acl_allow)

    @property
    def dtmf_method(self) -> str | None:
        """``RTP Events`` (RFC 4733), ``In-band`` …"""
        v = self.prop("trunk_media_dtmf_method")
        return str(v) if v is not None else None

    @property
    def media_dscp(self) -> int | None:
        """``trunk_media_dscpValue``: the DSCP of the RTP the Edge sends on this trunk (Genesys' default 46, EF)."""
        return _int(self.prop("trunk_media_dscpValue"))

    @property
    def sip_dscp(self) -> int | None:
        """``trunk_transport_sipDscpValue``: the DSCP of the SIP the Edge sends on this trunk (default 24, CS3)."""
        return _int(self.prop("trunk_transport_sipDscpValue"))

    @property
    def transport(self) -> str | None:
        """The SIP transport toward the trunk's servers (``udp``, ``tcp``, ``tls``)."""
        v = self.prop("trunk_transport_protocolVariant")
        return str(v) if v is not None else None

    @property
    def servers(self) -> tuple[str, ...]:
        """The trunk's SIP servers (``trunk_transport_serverProxyList``: ``host`` or ``host:port``)."""
        return tuple(str(s) for s in self.prop("trunk_transport_serverProxyList") or ())
