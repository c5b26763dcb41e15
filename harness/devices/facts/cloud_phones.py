"""Genesys Cloud phone records as the harness reads them (``GET /api/v2/telephony/providers/edges/phones``,
``…/phones/{phoneId}``, ``…/phonebasesettings``; the SDK's ``Phone``, ``PhoneStatus``, ``PhoneBase``):
typed models of the fields the duties use, and the endpoints that serve them. Enum values are
Genesys' (GENESYS-API.md): ``operational_status`` OPERATIONAL, DEGRADED, OFFLINE, UNKNOWN;
``edges_status`` IN_SERVICE, MIXED_SERVICE, OUT_OF_SERVICE, NO_EDGES."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ...transports.cloud import CloudModel
from .cloud_sites import EntityRef
from .switch_ports import normal_mac

PHONES = "/api/v2/telephony/providers/edges/phones"
PHONE = "/api/v2/telephony/providers/edges/phones/{phoneId}"
PHONE_BASES = "/api/v2/telephony/providers/edges/phonebasesettings"
LINES = "/api/v2/telephony/providers/edges/lines"
HARDWARE_ID = "phone_hardwareId"  # the phone record's property holding its hardware ID (a MAC for type mac)


def _instance(properties: dict[str, Any], key: str) -> Any:
    """``properties[key].value.instance`` (Genesys' property shape), or None."""
    prop = properties.get(key)
    value = prop.get("value") if isinstance(prop, dict) else None
    return value.get("instance") if isinstance(value, dict) else None


class PhoneStatus(CloudModel):
    """The phone's status as the org sees it (``PhoneStatus``): ``edge`` the Edge it is assigned to
    (``phoneAssignmentToEdgeType`` PRIMARY or SECONDARY)."""

    operational_status: str | None = None
    edges_status: str | None = None
    edge: EntityRef | None = None

    @property
    def registered(self) -> bool:
        """Registered and in service: ``operationalStatus`` OPERATIONAL and ``edgesStatus`` IN_SERVICE."""
        return self.operational_status == "OPERATIONAL" and self.edges_status == "IN_SERVICE"


class PhoneCapabilities(CloudModel):
    """``hardware_id_type``: what ``phone_hardwareId`` holds (``mac`` for a desk phone)."""

    hardware_id_type: str | None = None


class PhoneRecord(CloudModel):
    """A phone of the org (``Phone``): ``properties`` is Genesys' free-form property dict."""

    id: str
    name: str
    site: EntityRef | None = None
    phone_base_settings: EntityRef | None = None
    status: PhoneStatus | None = None
    capabilities: PhoneCapabilities | None = None
    properties: dict[str, Any] = Field(default_factory=dict)

    @property
    def hardware_id(self) -> str | None:
        """The record's hardware ID as written (``0004f2000001``), or None."""
        v = _instance(self.properties, HARDWARE_ID)
        return str(v) if v is not None else None

    @property
    def mac(self) -> str | None:
        """The hardware ID as a MAC ``00:04:f2:00:00:01`` (None when it is not a MAC)."""
        hw = self.hardware_id
        return normal_mac(hw) if hw else None


class PhoneBaseSettings(CloudModel):
    """Phone base settings (``PhoneBase``): the DSCP values the phones of a model are given, under the
    property names of the Genesys Cloud Terraform provider's phone base settings example and schema
    (``phone_media_dscp``, ``phone_sip_dscp``; API-TF-PHONEBASE)."""

    id: str
    name: str
    properties: dict[str, Any] = Field(default_factory=dict)

    @property
    def media_dscp(self) -> int | None:
        """``phone_media_dscp`` (Genesys' default 46, EF)."""
        v = _instance(self.properties, "phone_media_dscp")
        return int(v) if v is not None else None

    @property
    def sip_dscp(self) -> int | None:
        """``phone_sip_dscp`` (Genesys' default 24, CS3)."""
        v = _instance(self.properties, "phone_sip_dscp")
        return int(v) if v is not None else None
