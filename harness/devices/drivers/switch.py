"""Access switch drivers: two independent views of every port, CLI (netmiko + ntc-templates) and SNMP.

``cisco_ios`` is the platform the twin emulates; ``cisco_xe``, ``cisco_nxos`` and ``arista_eos`` share
the code with their own netmiko device type and command spellings. There is one driver per entry of
:data:`~harness.transports.cli_text.CLI_PLATFORMS`, the one list of CLI platforms. Interface names are
returned in the long form (``Gi1/0/1`` -> ``GigabitEthernet1/0/1``). Sessions are opened on first use and reused.

:meth:`Switch.audit` reads both views at once (the CLI commands over the one SSH session while the
SNMP walks run on the SNMP loop) and lists where they disagree; :func:`audit_switches` audits many
switches at the same time. Provisioning (the write side) is :mod:`harness.devices.procedures.switch_provisioning`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from ...errors import LabError, LabProtocolError, LabUnreachable
from ...inventory.models import SwitchDevice
from ...transports.cli_text import CliParseError, parse_output
from ..capabilities import CliDevice
from ..driver import Driver
from ..facts.clocks import CNTP_SYS_CLOCK, HR_SYSTEM_DATE, ClockReading, ios_clock
from ..facts.switch_cli import (  # noqa: F401  (re-exported for existing callers)
    IF_PREFIXES,
    CdpNeighbor,
    Switchport,
    SwitchVersion,
    Vlan,
    cdp_facts,
    cli_port_views,
    config_facts,
    error_counters,
    lldp_facts,
    long_interface,
    mac_table,
    poe_facts,
    status_facts,
    stp_portfast,
    switchport_facts,
    uptime_seconds,
    version_facts,
    vlan_facts,
)
from ..facts.switch_ports import Disagreement, PortView, disagreements
from ..facts.switch_snmp import read_port_views_sync
from ..registry import register
from .snmp_access import SnmpFacts

if TYPE_CHECKING:
    from ...transports.cli import SwitchCli

T = TypeVar("T")
IF_HC_IN_OCTETS = "1.3.6.1.2.1.31.1.1.1.6"  # IF-MIB ifHCInOctets (RFC 2863), Counter64
IF_HC_OUT_OCTETS = "1.3.6.1.2.1.31.1.1.1.10"  # IF-MIB ifHCOutOctets

#: fact of the CLI view (a :class:`PortView` field, or ``vlans``) -> the :class:`Switch` attributes
#: naming the commands it comes from; a fact is unread when one of them did not parse
CLI_FACT_COMMANDS: dict[str, tuple[str, ...]] = {
    "vlans": ("SHOW_VLANS",),
    "mode": ("SHOW_SWITCHPORT",), "access_vlan": ("SHOW_SWITCHPORT",), "voice_vlan": ("SHOW_SWITCHPORT",),
    "oper_up": ("SHOW_STATUS",), "speed_mbps": ("SHOW_STATUS",), "duplex": ("SHOW_STATUS",),
    "in_errors": ("SHOW_INTERFACES",), "poe": ("SHOW_POE",), "lldp": ("SHOW_LLDP",),
    "portfast": ("SHOW_STP", "SHOW_RUN"), "macs": ("SHOW_MACS",), "trust": ("SHOW_RUN",),
}


@dataclass(frozen=True)
class CliRead:
    """The CLI view of one switch: ``vlans``, ``ports`` (long interface name -> :class:`PortView`) and
    ``unread``: fact (a key of :data:`CLI_FACT_COMMANDS`) -> the :class:`CliParseError` of the command
    it comes from. An unread fact is ``None`` (``macs`` empty, ``vlans`` empty) in every port."""

    vlans: dict[int, Vlan]
    ports: dict[str, PortView]
    unread: dict[str, CliParseError] = field(default_factory=dict)


@dataclass(frozen=True)
class SwitchAudit:
    """Both views of one switch, read at ``read_at`` (epoch s) in ``seconds``.

    ``cli``/``snmp``: long interface name -> :class:`PortView`; ``snmp`` is None when the inventory
    declares no SNMP for the switch. ``disagreements``: where the two views differ (empty without SNMP;
    facts the CLI could not read are not compared). ``cli_unread``: CLI fact -> the parse error of the
    command it comes from (see :class:`CliRead`; :meth:`cli_error` reads it).
    """

    switch: str
    vlans: dict[int, Vlan]
    cli: dict[str, PortView]
    snmp: dict[str, PortView] | None
    disagreements: list[Disagreement]
    read_at: float
    seconds: float
    cli_unread: dict[str, CliParseError] = field(default_factory=dict)

    def cli_error(self, *facts: str) -> CliParseError | None:
        """The parse error that left one of ``facts`` (default: any fact) unread in the CLI view, or None."""
        for fact in facts or tuple(self.cli_unread):
            if fact in self.cli_unread:
                return self.cli_unread[fact]
        return None

    def find_mac(self, mac: str) -> list[str]:
        """Interfaces where ``mac`` is seen, as LLDP chassis or learned address, in either view."""
        hits = []
        for views in (self.cli, self.snmp or {}):
            for name, v in views.items():
                if (v.lldp is not None and v.lldp.chassis_mac == mac) or mac in v.macs:
                    hits.append(name)
        return sorted(set(hits))


@register("switch", "cisco_ios")
class Switch(SnmpFacts, Driver, CliDevice):
    """A Cisco IOS / IOS-XE access switch (``role: switch``): a :class:`~harness.devices.capabilities.CliDevice`
    and an :class:`~harness.devices.capabilities.SnmpAgent`. Other switch platforms subclass it."""

    device: SwitchDevice

    SHOW_VERSION: ClassVar[str] = "show version"
    SHOW_VLANS: ClassVar[str] = "show vlan brief"
    SHOW_SWITCHPORT: ClassVar[str] = "show interfaces switchport"
    SHOW_STATUS: ClassVar[str] = "show interfaces status"
    SHOW_INTERFACES: ClassVar[str] = "show interfaces"
    SHOW_POE: ClassVar[str | None] = "show power inline"
    SHOW_LLDP: ClassVar[str] = "show lldp neighbors detail"
    SHOW_STP: ClassVar[str | None] = "show spanning-tree"
    SHOW_MACS: ClassVar[str] = "show mac address-table"
    SHOW_RUN: ClassVar[str] = "show running-config"
    SHOW_CDP: ClassVar[str] = "show cdp neighbors detail"
    SHOW_CLOCK: ClassVar[str | None] = "show clock"  # None: a platform whose clock the CLI facts do not read
    SNMP_CLOCK: ClassVar[str] = CNTP_SYS_CLOCK  # Cisco IOS serves its clock in CISCO-NTP-MIB, not HOST-RESOURCES

    def cli(self) -> SwitchCli:
        """The open CLI session (privileged when the inventory has an enable secret)."""
        ssh = self.device.ssh
        if ssh is None:
            raise LabUnreachable(self.name, "cli", self.device.host, "the inventory declares no ssh access")
        address = f"{self.device.host}:{ssh.port}"
        # The session module is imported here, where a session is opened, not with the driver: netmiko
        # and paramiko cost about 0.2 s of CPU to import, and every `pytest scenarios` and `hil` process
        # imports the switch driver (the registry loads all drivers) while few of them open a switch CLI.
        from ...transports.cli import SwitchCli

        return self.session("ssh", lambda: SwitchCli(self.name, self.device.host, self.device.platform, ssh,
                                                     self.loaded.resolve, self.known_hosts,
                                                     self.transcript("cli", address)))

    def send(self, command: str) -> str:
        return self.cli().send(command)

    def parse(self, command: str) -> list[dict[str, Any]]:
        return self.cli().parse(command)

    def configure(self, lines: list[str]) -> str:
        """Apply config lines (a destructive step: callers gate it behind ``--allow-destructive``)."""
        return self.cli().config(lines)

    def save(self) -> str:
        return self.cli().save()

    def cli_clock(self) -> ClockReading:
        """The switch's clock by ``show clock`` (ntc-templates ``cisco_ios_show_clock``; UTC only).

        Raises:
            LabError; LabProtocolError: no record, or a clock in a local zone (its offset is not shown).
            NotImplementedError: the platform's ``show clock`` is not read (``SHOW_CLOCK`` None).
        """
        if self.SHOW_CLOCK is None:
            raise NotImplementedError(f"{type(self).__name__} does not read its clock over the CLI")
        c = self.cli()  # the session is open before the clock starts: its login is no part of the read
        t0 = time.time()
        out = c.send(self.SHOW_CLOCK)
        t1 = time.time()
        try:
            rows = parse_output(platform=c.templates, command=self.SHOW_CLOCK, data=out)
        except Exception as e:  # TextFSMError, or ntc-templates' "no template" error
            raise c.parse_error(self.SHOW_CLOCK, out, f"does not parse ({c.templates}): {e}") from None
        if not rows:
            raise LabProtocolError(self.name, c.transport, c.address, f"{self.SHOW_CLOCK!r} gave no record")
        try:
            device_time = ios_clock(rows[0])
        except ValueError as e:
            raise LabProtocolError(self.name, c.transport, c.address, str(e)) from None
        return ClockReading(device_time, (t0 + t1) / 2, (t1 - t0) / 2 + 0.001, f"cli {self.SHOW_CLOCK}")

    def version(self) -> SwitchVersion:
        """Raises LabError; LabProtocolError when the output has no record."""
        rows = self.parse(self.SHOW_VERSION)
        if not rows:
            c = self.cli()
            raise LabProtocolError(self.name, c.transport, c.address, f"{self.SHOW_VERSION!r} gave no record")
        return version_facts(rows[0])

    def vlans(self) -> dict[int, Vlan]:
        """VLAN id -> :class:`Vlan`, every VLAN the switch lists (reserved 1002–1005 included)."""
        return vlan_facts(self.parse(self.SHOW_VLANS))

    def switchports(self) -> dict[str, Switchport]:
        """Long interface name -> :class:`Switchport`."""
        return switchport_facts(self.parse(self.SHOW_SWITCHPORT))

    def cdp_neighbors(self) -> dict[str, CdpNeighbor]:
        """Long local interface -> :class:`CdpNeighbor` (``show cdp neighbors detail``). Raises LabError
        (:class:`CliParseError` when the output does not parse, LabProtocolError when CDP is off)."""
        return cdp_facts(self.parse(self.SHOW_CDP))

    def cli_views(self) -> tuple[dict[int, Vlan], dict[str, PortView]]:
        """The VLAN table and every port as the CLI shows it (nine show commands, one session).

        Raises LabError (:class:`CliParseError` when an output does not parse); :meth:`cli_read`
        keeps what did parse instead.
        """
        got = self.cli_read()
        if got.unread:
            raise next(iter(got.unread.values()))
        return got.vlans, got.ports

    def _read(self, failed: dict[str, CliParseError], attr: str, read: Callable[[str], T]) -> T | None:
        """``read(command)`` for the command in class attribute ``attr``; None when it is unset, or
        when the output does not parse (the error is kept in ``failed[attr]``)."""
        command: str | None = getattr(self, attr)
        if command is None:
            return None
        try:
            return read(command)
        except CliParseError as e:
            failed[attr] = e
        return None

    def _parse_text(self, command: str, parse: Callable[[str], T]) -> T:
        """``parse`` of the raw output of ``command``; raises :class:`CliParseError` when it cannot."""
        text = self.send(command)
        try:
            return parse(text)
        except Exception as e:  # TextFSM, ntc-templates or hier_config on text they cannot read
            raise self.cli().parse_error(command, text, f"does not parse: {e}") from None

    def cli_read(self) -> CliRead:
        """The CLI view, one command at a time: an output that does not parse leaves only the facts it
        gives unread (:class:`CliRead`); the others stand. Raises LabError when the session fails,
        and the parse error when neither ``show interfaces switchport`` nor ``… status`` parses (no
        port list at all)."""
        platform = self.cli().templates
        failed: dict[str, CliParseError] = {}
        vlans = self._read(failed, "SHOW_VLANS", lambda c: vlan_facts(self.parse(c)))
        ports = self._read(failed, "SHOW_SWITCHPORT", lambda c: switchport_facts(self.parse(c)))
        status = self._read(failed, "SHOW_STATUS", lambda c: status_facts(self.parse(c)))
        if ports is None and status is None:
            raise failed.get("SHOW_SWITCHPORT") or failed["SHOW_STATUS"]
        errors = self._read(failed, "SHOW_INTERFACES", lambda c: error_counters(self.parse(c)))
        poe = self._read(failed, "SHOW_POE", lambda c: poe_facts(self.parse(c)))
        lldp = self._read(failed, "SHOW_LLDP", lambda c: self._parse_text(c, lambda t: lldp_facts(t, platform)))
        fast = self._read(failed, "SHOW_STP", lambda c: stp_portfast(self.parse(c)))
        macs = self._read(failed, "SHOW_MACS", lambda c: mac_table(self.parse(c)))
        config = self._read(failed, "SHOW_RUN", lambda c: self._parse_text(c, lambda t: config_facts(t, platform)))
        views = cli_port_views(ports or {}, status, in_errors=errors, poe=poe, lldp=lldp,
                               portfast=fast, macs=macs, config=config)
        unread = {fact: failed[attr] for fact, attrs in CLI_FACT_COMMANDS.items() for attr in attrs if attr in failed}
        blank: dict[str, Any] = {f: () if f == "macs" else None for f in unread if f != "vlans"}
        if blank:  # a fact from a command that did not parse is not half read from another one
            views = {n: replace(v, **blank) for n, v in views.items()}
        return CliRead(vlans or {}, views, unread)

    def snmp_views(self) -> dict[str, PortView]:
        """Every port as the SNMP agent shows it (IF-MIB, Q-BRIDGE, LLDP, PoE, VLAN membership)."""
        return read_port_views_sync(self.snmp).ports

    def audit(self) -> SwitchAudit:
        """Both views, read concurrently; see :class:`SwitchAudit`. An output that does not parse leaves
        its facts in ``cli_unread`` (the other facts stand). Raises LabError."""
        t0, at = time.monotonic(), time.time()
        with ThreadPoolExecutor(1) as pool:
            snmp_future = pool.submit(self.snmp_views) if self.device.snmp is not None else None
            try:
                got = self.cli_read()
            finally:
                snmp = snmp_future.result() if snmp_future is not None else None
        cli = got.ports
        gaps = disagreements(cli, snmp, sorted(set(cli) & set(snmp))) if snmp is not None else []
        gaps = [g for g in gaps if g.field not in got.unread]
        return SwitchAudit(self.name, got.vlans, cli, snmp, gaps, at, time.monotonic() - t0, got.unread)

    def input_errors(self, interface: str) -> tuple[int | None, int | None]:
        """The input error counter of one port now: (CLI ``show interfaces IF``, SNMP ifInErrors)."""
        cli = error_counters(self.parse(f"{self.SHOW_INTERFACES} {interface}")).get(interface)
        snmp = None
        if self.device.snmp is not None:
            for row in self.interfaces():
                if long_interface(row.descr or row.name) == interface:
                    snmp = row.in_errors
        return cli, snmp

    def octet_counters(self, interface: str) -> OctetCounters:
        """IF-MIB ifHCInOctets / ifHCOutOctets (RFC 2863, Counter64) of ``interface`` (long or short name,
        matched to ifName/ifDescr) in one GET; the ifIndex is found once per driver by walking IF-MIB.

        Raises:
            LabProtocolError: the switch has no such interface in IF-MIB. LabError: as every SNMP read.
        """
        want = long_interface(interface)
        known: dict[str, int] = self.__dict__.setdefault("_if_indexes", {})  # name -> ifIndex, read once
        idx = known.get(want)
        if idx is None:
            rows = self.interfaces()
            known.update({long_interface(r.descr or r.name): r.if_index for r in rows})
            idx = known.get(want)
            if idx is None:
                raise LabProtocolError(self.name, "snmp", self.device.host,
                                       f"IF-MIB has no interface {interface} ({len(rows)} interfaces)")
        v = self.snmp.get_sync(f"{IF_HC_IN_OCTETS}.{idx}", f"{IF_HC_OUT_OCTETS}.{idx}")
        at = time.monotonic()

        def n(x: object) -> int | None:
            return x if isinstance(x, int) and not isinstance(x, bool) else None

        return OctetCounters(want, idx, n(v[f"{IF_HC_IN_OCTETS}.{idx}"]), n(v[f"{IF_HC_OUT_OCTETS}.{idx}"]), at)

    def probe_ssh(self) -> str:
        """Log in, enable, ``show version`` -> ``"sw1 WS-C3850-48P 16.12.4 serial FOC…"``."""
        v = self.version()
        return f"{v.hostname} {v.model} {v.version} serial {v.serial}"


@dataclass(frozen=True)
class OctetCounters:
    """A port's IF-MIB octet counters at one moment: ``in_octets`` (ifHCInOctets) and ``out_octets``
    (ifHCOutOctets), ``None`` when the agent does not serve them; ``at_s``: ``time.monotonic()`` of the read."""

    interface: str
    if_index: int
    in_octets: int | None
    out_octets: int | None
    at_s: float


def audit_switches(switches: Iterable[Switch], max_workers: int = 16) -> dict[str, SwitchAudit | LabError]:
    """Audit many switches at the same time (one thread each, up to ``max_workers``).

    Returns name -> :class:`SwitchAudit`, or the LabError that switch raised (a dead switch costs
    one timeout, in parallel with the others).
    """
    todo = list(switches)

    def one(sw: Switch) -> SwitchAudit | LabError:
        try:
            return sw.audit()
        except LabError as e:
            return e

    with ThreadPoolExecutor(max(1, min(max_workers, len(todo)))) as pool:
        return dict(zip((s.name for s in todo), pool.map(one, todo), strict=True))


@register("switch", "cisco_nxos")
class NxosSwitch(Switch):
    """Cisco NX-OS: singular ``show interface …``; no ``show power inline`` on the Nexus access line."""

    SHOW_SWITCHPORT: ClassVar[str] = "show interface switchport"
    SHOW_STATUS: ClassVar[str] = "show interface status"
    SHOW_INTERFACES: ClassVar[str] = "show interface"
    SHOW_POE: ClassVar[str | None] = None
    SHOW_STP: ClassVar[str | None] = None
    SHOW_CLOCK: ClassVar[str | None] = None
    SNMP_CLOCK: ClassVar[str] = HR_SYSTEM_DATE


@register("switch", "cisco_xe")
class IosXeSwitch(Switch):
    """Cisco IOS-XE under its own netmiko device type (``cisco_xe``); the outputs are IOS's."""


@register("switch", "arista_eos")
class EosSwitch(Switch):
    """Arista EOS (ntc-templates has no EOS switchport template yet: ``switchports`` raises)."""

    SHOW_CLOCK: ClassVar[str | None] = None
    SNMP_CLOCK: ClassVar[str] = HR_SYSTEM_DATE
