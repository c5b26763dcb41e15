"""Access switch drivers: two independent views of every port, CLI (netmiko + ntc-templates) and SNMP.

``cisco_ios`` is the platform the twin emulates; ``cisco_nxos`` and ``arista_eos`` share the code
with their own netmiko device type and command spellings. Interface names are returned in the long
form (``Gi1/0/1`` -> ``GigabitEthernet1/0/1``). Sessions are opened on first use and reused.

:meth:`Switch.audit` reads both views at once (the CLI commands over the one SSH session while the
SNMP walks run on the SNMP loop) and lists where they disagree; :func:`audit_switches` audits many
switches at the same time. Provisioning (the write side) is :mod:`harness.devices.procedures.switch_provisioning`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, ClassVar

from ...errors import LabError, LabProtocolError, LabUnreachable
from ...inventory.models import SwitchDevice
from ...transports.cli import SwitchCli
from ..capabilities import CliDevice
from ..driver import Driver
from ..facts.switch_cli import (  # noqa: F401  (re-exported for existing callers)
    IF_PREFIXES,
    Switchport,
    SwitchVersion,
    Vlan,
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


@dataclass(frozen=True)
class SwitchAudit:
    """Both views of one switch, read at ``read_at`` (epoch s) in ``seconds``.

    ``cli``/``snmp``: long interface name -> :class:`PortView`; ``snmp`` is None when the inventory
    declares no SNMP for the switch. ``disagreements``: where the two views differ (empty without SNMP).
    """

    switch: str
    vlans: dict[int, Vlan]
    cli: dict[str, PortView]
    snmp: dict[str, PortView] | None
    disagreements: list[Disagreement]
    read_at: float
    seconds: float

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

    def cli(self) -> SwitchCli:
        """The open CLI session (privileged when the inventory has an enable secret)."""
        ssh = self.device.ssh
        if ssh is None:
            raise LabUnreachable(self.name, "cli", self.device.host, "the inventory declares no ssh access")
        address = f"{self.device.host}:{ssh.port}"
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

    def cli_views(self) -> tuple[dict[int, Vlan], dict[str, PortView]]:
        """The VLAN table and every port as the CLI shows it (nine show commands, one session).

        Raises LabError (LabProtocolError when an output does not parse).
        """
        platform = self.device.platform
        vlans = self.vlans()
        ports = self.switchports()
        status = status_facts(self.parse(self.SHOW_STATUS))
        errors = error_counters(self.parse(self.SHOW_INTERFACES))
        poe = poe_facts(self.parse(self.SHOW_POE)) if self.SHOW_POE else None
        lldp = lldp_facts(self.send(self.SHOW_LLDP), platform)
        fast = stp_portfast(self.parse(self.SHOW_STP)) if self.SHOW_STP else None
        macs = mac_table(self.parse(self.SHOW_MACS))
        config = config_facts(self.send(self.SHOW_RUN), platform)
        return vlans, cli_port_views(ports, status, in_errors=errors, poe=poe, lldp=lldp, portfast=fast,
                                     macs=macs, config=config)

    def snmp_views(self) -> dict[str, PortView]:
        """Every port as the SNMP agent shows it (IF-MIB, Q-BRIDGE, LLDP, PoE, VLAN membership)."""
        return read_port_views_sync(self.snmp).ports

    def audit(self) -> SwitchAudit:
        """Both views, read concurrently; see :class:`SwitchAudit`. Raises LabError."""
        t0, at = time.monotonic(), time.time()
        with ThreadPoolExecutor(1) as pool:
            snmp_future = pool.submit(self.snmp_views) if self.device.snmp is not None else None
            try:
                vlans, cli = self.cli_views()
            finally:
                snmp = snmp_future.result() if snmp_future is not None else None
        gaps = disagreements(cli, snmp, sorted(set(cli) & set(snmp))) if snmp is not None else []
        return SwitchAudit(self.name, vlans, cli, snmp, gaps, at, time.monotonic() - t0)

    def input_errors(self, interface: str) -> tuple[int | None, int | None]:
        """The input error counter of one port now: (CLI ``show interfaces IF``, SNMP ifInErrors)."""
        cli = error_counters(self.parse(f"{self.SHOW_INTERFACES} {interface}")).get(interface)
        snmp = None
        if self.device.snmp is not None:
            for row in self.interfaces():
                if long_interface(row.descr or row.name) == interface:
                    snmp = row.in_errors
        return cli, snmp

    def probe_ssh(self) -> str:
        """Log in, enable, ``show version`` -> ``"sw1 WS-C3850-48P 16.12.4 serial FOC…"``."""
        v = self.version()
        return f"{v.hostname} {v.model} {v.version} serial {v.serial}"


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


@register("switch", "arista_eos")
class EosSwitch(Switch):
    """Arista EOS (ntc-templates has no EOS switchport template yet: ``switchports`` raises)."""
