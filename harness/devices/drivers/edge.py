"""Genesys Cloud Edge driver: identity and firmware over SSH and over the serial console.

The Edge's trunks (service, OPTIONS state, calls in progress) and the phones registered with it are
read through Genesys Cloud (:mod:`.edge_api`: :meth:`~.edge_api.EdgeCloud.trunk_status`,
:meth:`~.edge_api.EdgeCloud.registered_phones`). The Edge CLI's ``show version`` (format in
``docs/twin-cli.md``) is parsed with the TextFSM template ``templates/genesys_edge_show_version.textfsm``,
``show software`` and the ``software …`` update commands (docs/edge-update.md) in :mod:`.edge_software`.
Sessions are opened on first use and reused; transports reconnect by themselves after the device came back.
"""

from __future__ import annotations

from dataclasses import dataclass

import textfsm

from ...errors import LabProtocolError, LabUnreachable
from ...inventory.models import EdgeDevice
from ...transports.serial import SerialConsole
from ..capabilities import ConsoleDevice
from ..driver import Driver
from ..facts.templates import parse_template
from ..registry import register
from .edge_api import EdgeCloud
from .edge_logs_cli import EdgeLogs
from .edge_software_cli import EdgeSoftware
from .sip_access import SipFacts
from .snmp_access import SnmpFacts
from .ssh_access import SshFacts


@dataclass(frozen=True)
class EdgeVersion:
    """What ``show version`` reports. ``firmware`` is the running Edge software version."""

    hostname: str
    model: str
    serial: str
    firmware: str
    uptime_s: int


@register("edge", "genesys_edge")
class Edge(EdgeCloud, EdgeSoftware, EdgeLogs, SnmpFacts, SipFacts, SshFacts, Driver, ConsoleDevice):
    """A Genesys Cloud Edge (``role: edge``, ``platform: genesys_edge``): an
    :class:`~harness.devices.capabilities.SshHost`, :class:`~harness.devices.capabilities.SnmpAgent`,
    :class:`~harness.devices.capabilities.SipEndpoint` (its trunk) and
    :class:`~harness.devices.capabilities.ConsoleDevice`. Other Edge platforms subclass it."""

    device: EdgeDevice

    def console(self) -> SerialConsole:
        """The serial console session (opened on first use). Raises LabUnreachable without one."""
        con = self.device.console
        if con is None:
            raise LabUnreachable(self.name, "serial", self.device.host, "the inventory declares no console")
        return self.session("console", lambda: SerialConsole(self.name, con, self.loaded.resolve,
                                                             self.transcript("serial", con.url)))

    def _version(self, text: str, transport: str, address: str) -> EdgeVersion:
        try:
            rows = parse_template("genesys_edge_show_version", text)
        except textfsm.TextFSMError as e:
            raise LabProtocolError(self.name, transport, address,
                                   f"'show version' does not parse: {e}") from None
        if len(rows) != 1:
            raise LabProtocolError(self.name, transport, address,
                                   f"'show version' gave {len(rows)} records, expected 1")
        r = rows[0]
        return EdgeVersion(hostname=r["hostname"], model=r["model"], serial=r["serial"],
                           firmware=r["firmware"], uptime_s=int(r["uptime_s"] or 0))

    def version(self) -> EdgeVersion:
        """The Edge's record in Genesys Cloud (``GET …/edges/{edgeId}``): its name, model, serial and
        ``softwareVersion``; ``uptime_s`` from its metrics (0 while it is OFFLINE: none reported).
        Raises LabError (transport ``api``)."""
        rec = self.record()
        uptime_ms = self.metrics().up_time_msec if rec.online else 0
        return EdgeVersion(hostname=rec.name, model=rec.model or "", serial=rec.serial_number or "",
                           firmware=rec.software_version or "", uptime_s=int((uptime_ms or 0) / 1000))

    def cli_version(self) -> EdgeVersion:
        """``show version`` over SSH (the twin's own command line, not a customer's). Raises LabError
        (transport ``ssh``)."""
        s = self.ssh_session()
        return self._version(s.run("show version"), "ssh", s.address)

    def console_version(self) -> EdgeVersion:
        """``show version`` on the serial console (logs in as needed). Raises LabError (``serial``)."""
        c = self.console()
        return self._version(c.command("show version"), "serial", c.address)

    def probe_ssh(self) -> str:
        """``"edge1 Genesys Edge (virtual) serial VE-000001 firmware 2026.11.1"`` over SSH."""
        return self._identity(self.cli_version())

    def probe_console(self) -> str:
        """The same identity line, read on the serial console."""
        return self._identity(self.console_version())

    @staticmethod
    def _identity(v: EdgeVersion) -> str:
        return f"{v.hostname} {v.model} serial {v.serial} firmware {v.firmware}"
