"""What every SNMP agent reports about itself: the SNMPv2-MIB system group and IF-MIB interface rows.

Models only; :class:`harness.devices.drivers.snmp_access.SnmpFacts` reads them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SystemInfo:
    """SNMPv2-MIB system group. ``uptime_s`` is sysUpTime (hundredths of a second) in seconds."""

    sys_descr: str
    sys_name: str
    sys_object_id: str
    uptime_s: float


@dataclass(frozen=True)
class InterfaceRow:
    """One IF-MIB interface (ifTable + ifXTable). ``speed_mbps`` is ifHighSpeed, else ifSpeed/10^6;
    ``mac`` is ifPhysAddress (``None`` if empty); ``in_errors`` is the ifInErrors counter."""

    if_index: int
    name: str
    descr: str
    alias: str
    mac: str | None
    speed_mbps: int
    admin_up: bool
    oper_up: bool
    in_errors: int
