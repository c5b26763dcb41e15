"""Genesys Cloud Edge driver: identity and firmware over SSH and over the serial console, and the
external SIP trunk's status over SSH.

The Edge CLI's ``show version`` (format in ``docs/twin-cli.md``) is parsed with the TextFSM
template ``templates/genesys_edge_show_version.textfsm``, ``show trunk`` (format in
``docs/twin-edge-sip.md``) with ``templates/genesys_edge_show_trunk.textfsm``, ``show registrations``
(docs/firmware.md) with ``templates/genesys_edge_show_registrations.textfsm``, ``show software`` and the
``software …`` update commands (docs/edge-update.md) in :mod:`.edge_software`. Sessions are opened on first use and
reused; transports reconnect by themselves after the device came back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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


@dataclass(frozen=True)
class RouteStatus:
    """One outbound route of the trunk: the PSTN device's ``name``, its ``address`` (``host:port``),
    the ``transport`` the Edge uses (``udp``/``tcp``/``tls``) and the status code of the last OPTIONS
    the Edge sent it (``None``: unanswered, or not sent yet)."""

    name: str
    address: str
    transport: str
    options_status: int | None


@dataclass(frozen=True)
class TrunkStatus:
    """What ``show trunk`` reports.

    Attributes:
        max_calls: the trunk's Max Calls (0: unlimited). max_calls_code: the SIP code beyond it.
        inbound_calls / outbound_calls: active trunk calls now (carrier → Edge / Edge → carrier).
        calls_total: trunk call attempts since boot. calls_refused: those the Edge refused itself
            (Max Calls, blocked prefix, unknown DID, unregistered extension, no codec, no route).
        routes: the outbound routes, in the order they are tried.
        state: ``in-service`` or ``out-of-service`` (no route answered its last OPTIONS).
    """

    max_calls: int
    max_calls_code: int
    inbound_calls: int
    outbound_calls: int
    calls_total: int
    calls_refused: int
    routes: tuple[RouteStatus, ...]
    state: str = "in-service"


@dataclass(frozen=True)
class Registration:
    """One phone registered with the Edge: ``extension``, its contact ``host``:``port`` and the
    seconds left of the binding (``expires_s``)."""

    extension: str
    host: str
    port: int
    expires_s: int




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

    def _show(self, command: str, template: str) -> tuple[str, list[dict[str, Any]]]:
        """Run ``command`` over SSH; its text and its records by ``templates/<template>.textfsm``.
        Raises LabProtocolError (transport ``ssh``) when the output does not parse."""
        s = self.ssh_session()
        text = s.run(command)
        try:
            return text, parse_template(template, text)
        except textfsm.TextFSMError as e:
            raise LabProtocolError(self.name, "ssh", s.address, f"'{command}' does not parse: {e}") from None

    def trunk_status(self) -> TrunkStatus:
        """``show trunk`` over SSH.

        Raises:
            LabProtocolError: the output does not parse (transport ``ssh``).
            LabError: the SSH session failed.
        """
        _, rows = self._show("show trunk", "genesys_edge_show_trunk")
        head = rows[0] if rows else {}
        if not head.get("max_calls") or not head.get("calls_refused"):
            raise LabProtocolError(self.name, "ssh", self.ssh_session().address, "'show trunk' has no trunk header")
        routes = tuple(RouteStatus(r["route"], r["address"], r["transport"],
                                   int(r["options"]) if r["options"].isdigit() else None)
                       for r in rows if r["route"])
        return TrunkStatus(int(head["max_calls"]), int(head["max_calls_code"]), int(head["inbound_calls"]),
                           int(head["outbound_calls"]), int(head["calls_total"]), int(head["calls_refused"]),
                           routes, head["state"])

    def registrations(self) -> dict[str, Registration]:
        """``show registrations`` over SSH (format in docs/firmware.md): extension -> binding.

        Raises:
            LabProtocolError: the output does not parse (transport ``ssh``).
            LabError: the SSH session failed.
        """
        text, rows = self._show("show registrations", "genesys_edge_show_registrations")
        if not text.startswith("Registrations:"):
            raise LabProtocolError(self.name, "ssh", self.ssh_session().address, "'show registrations' has no header")
        return {r["extension"]: Registration(r["extension"], r["contact_ip"], int(r["contact_port"]),
                                             int(r["expires"])) for r in rows if r["extension"]}


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
