"""Access switch drivers (netmiko CLI + ntc-templates): version, VLANs, switchports.

``cisco_ios`` is the platform the twin emulates; ``cisco_nxos`` and ``arista_eos`` share the code
with their own netmiko device type and command spellings. Interface names are returned in the long
form (``Gi1/0/1`` -> ``GigabitEthernet1/0/1``). Sessions are opened on first use and reused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from ..errors import LabProtocolError, LabUnreachable
from ..transports.cli import SwitchCli
from .base import Driver, register
from .snmp_facts import SnmpFacts

#: abbreviation -> long interface name prefix (IOS, NX-OS and EOS spellings)
IF_PREFIXES = {
    "gi": "GigabitEthernet", "fa": "FastEthernet", "te": "TenGigabitEthernet", "tw": "TwoGigabitEthernet",
    "fi": "FiveGigabitEthernet", "twe": "TwentyFiveGigE", "fo": "FortyGigabitEthernet",
    "hu": "HundredGigE", "eth": "Ethernet", "et": "Ethernet", "po": "Port-channel", "vl": "Vlan",
    "mgmt": "mgmt", "ma": "Management",
}
_UNITS_S = {"year": 365 * 86400, "week": 7 * 86400, "day": 86400, "hour": 3600, "minute": 60, "second": 1}


def long_interface(name: str) -> str:
    """``Gi1/0/1`` -> ``GigabitEthernet1/0/1``; long names and unknown prefixes are kept."""
    m = re.fullmatch(r"([A-Za-z-]+)\s*(\d.*)", name.strip())
    if not m:
        return name.strip()
    prefix, rest = m.groups()
    low = prefix.lower()
    for long in IF_PREFIXES.values():
        if long.lower() == low:
            return long + rest
    for abbr in sorted(IF_PREFIXES, key=len, reverse=True):
        if low.startswith(abbr) and IF_PREFIXES[abbr].lower().startswith(low):
            return IF_PREFIXES[abbr] + rest
    return prefix + rest


def uptime_seconds(text: str) -> int:
    """``1 year, 22 weeks, 6 days, 9 hours, 38 minutes`` -> seconds (unknown words ignored)."""
    total = 0
    for n, unit in re.findall(r"(\d+)\s*(year|week|day|hour|minute|second)", text):
        total += int(n) * _UNITS_S[unit]
    return total


def _vlan_id(v: Any) -> int | None:
    s = str(v or "").strip()
    return int(s) if s.isdigit() else None


def _first(row: dict[str, Any], *keys: str) -> str:
    for k in keys:
        v = row.get(k)
        if isinstance(v, list):
            v = v[0] if v else ""
        if v:
            return str(v)
    return ""


@dataclass(frozen=True)
class SwitchVersion:
    """``show version``: ``version`` is the running OS version, ``uptime_s`` whole seconds."""

    hostname: str
    model: str
    version: str
    serial: str
    uptime_s: int
    image: str


@dataclass(frozen=True)
class Vlan:
    """One VLAN of ``show vlan brief``; ``ports`` are long interface names (access and voice members)."""

    vlan_id: int
    name: str
    status: str
    ports: tuple[str, ...]


@dataclass(frozen=True)
class Switchport:
    """One interface of ``show interfaces switchport``.

    ``mode`` is the administrative mode (``access``, ``trunk``, ``dynamic auto`` …), ``oper_mode``
    the operational one (``static access``, ``trunk``, ``down``). VLANs are ``None`` when unset.
    """

    interface: str
    mode: str
    oper_mode: str
    access_vlan: int | None
    voice_vlan: int | None
    native_vlan: int | None
    trunking_vlans: tuple[str, ...]


def version_facts(r: dict[str, Any]) -> SwitchVersion:
    """A :class:`SwitchVersion` from one ntc-templates ``show version`` record (IOS, NX-OS, EOS keys)."""
    return SwitchVersion(
        hostname=_first(r, "hostname"),
        model=_first(r, "hardware", "platform", "model"),
        version=_first(r, "version", "os", "image"),
        serial=_first(r, "serial", "serial_number"),
        uptime_s=uptime_seconds(_first(r, "uptime")),
        image=_first(r, "running_image", "software_image", "boot_image", "image"))


def vlan_facts(rows: list[dict[str, Any]]) -> dict[int, Vlan]:
    """VLAN id -> :class:`Vlan` from ntc-templates ``show vlan [brief]`` records."""
    out: dict[int, Vlan] = {}
    for r in rows:
        vid = _vlan_id(r.get("vlan_id"))
        if vid is None:
            continue
        ports = r.get("interfaces") or []
        out[vid] = Vlan(vid, _first(r, "vlan_name", "name"), _first(r, "status"),
                        tuple(long_interface(p) for p in ports))
    return out


def switchport_facts(rows: list[dict[str, Any]]) -> dict[str, Switchport]:
    """Long interface name -> :class:`Switchport` from ``show interface(s) switchport`` records.

    ``mode`` is the administrative mode (``access`` for ``static access``; a port left in
    ``dynamic auto`` stays that), ``oper_mode`` what the port runs; ``none`` VLANs are ``None``.
    """
    out: dict[str, Switchport] = {}
    for r in rows:
        name = long_interface(_first(r, "interface"))
        admin = _first(r, "admin_mode", "mode")
        mode = "access" if admin == "static access" else admin
        trunking = r.get("trunking_vlans") or []
        out[name] = Switchport(
            interface=name, mode=mode, oper_mode=_first(r, "mode"),
            access_vlan=_vlan_id(r.get("access_vlan")), voice_vlan=_vlan_id(r.get("voice_vlan")),
            native_vlan=_vlan_id(r.get("native_vlan")),
            trunking_vlans=tuple(trunking) if isinstance(trunking, list) else (str(trunking),))
    return out


@register("switch", "cisco_ios")
class Switch(SnmpFacts, Driver):
    """A Cisco IOS / IOS-XE access switch."""

    SHOW_VERSION: ClassVar[str] = "show version"
    SHOW_VLANS: ClassVar[str] = "show vlan brief"
    SHOW_SWITCHPORT: ClassVar[str] = "show interfaces switchport"

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

    def probe_ssh(self) -> str:
        """Log in, enable, ``show version`` -> ``"sw1 WS-C3850-48P 16.12.4 serial FOC…"``."""
        v = self.version()
        return f"{v.hostname} {v.model} {v.version} serial {v.serial}"


@register("switch", "cisco_nxos")
class NxosSwitch(Switch):
    """Cisco NX-OS: singular ``show interface switchport``."""

    SHOW_SWITCHPORT: ClassVar[str] = "show interface switchport"


@register("switch", "arista_eos")
class EosSwitch(Switch):
    """Arista EOS (ntc-templates has no EOS switchport template yet: ``switchports`` raises)."""
