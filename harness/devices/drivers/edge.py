"""Genesys Cloud Edge driver: the Edge as its customer reaches it.

A Genesys Edge is cloud-managed: its customer has no SSH command line or serial console on it
(GENESYS-API.md, "How a customer reaches an Edge"), and the inventory refuses ``ssh:``/``console:``
on a ``genesys_edge`` device. Everything about the Edge but its SIP side is read through Genesys
Cloud (:mod:`.edge_api`): its record and version, software update, metrics, log jobs, diagnostics,
trunks (:meth:`~.edge_api.EdgeCloud.trunk_status`) and the phones registered with it
(:meth:`~.edge_api.EdgeCloud.registered_phones`). Its SIP side stays on the wire (the trunk port and
the phone port, :mod:`.sip_access`); its SNMP agent, where the inventory gives one, answers the MIB-II
identity (:mod:`.snmp_access`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ...inventory.models import EdgeDevice
from ..driver import Driver
from ..registry import register
from .edge_api import EdgeCloud
from .sip_access import SipFacts
from .snmp_access import SnmpFacts


@dataclass(frozen=True)
class EdgeVersion:
    """The Edge's identity and software as Genesys Cloud reports them. ``firmware`` is the running
    Edge software version (``softwareVersion``), ``uptime_s`` seconds since its last boot (0: not
    reported, as while it is OFFLINE)."""

    hostname: str
    model: str
    serial: str
    firmware: str
    uptime_s: int


@register("edge", "genesys_edge")
class Edge(EdgeCloud, SnmpFacts, SipFacts, Driver):
    """A Genesys Cloud Edge (``role: edge``, ``platform: genesys_edge``): managed through the org
    (:class:`~.edge_api.EdgeCloud`), a :class:`~harness.devices.capabilities.SnmpAgent` and a
    :class:`~harness.devices.capabilities.SipEndpoint` (its trunk)."""

    device: EdgeDevice

    def version(self) -> EdgeVersion:
        """The Edge's record in Genesys Cloud (``GET …/edges/{edgeId}``): its name, model, serial and
        ``softwareVersion``; ``uptime_s`` from its metrics (0 while it is OFFLINE: none reported).
        Raises LabError (transport ``api``)."""
        rec = self.record()
        uptime_ms = self.metrics().up_time_msec if rec.online else 0
        return EdgeVersion(hostname=rec.name, model=rec.model or "", serial=rec.serial_number or "",
                           firmware=rec.software_version or "", uptime_s=int((uptime_ms or 0) / 1000))
