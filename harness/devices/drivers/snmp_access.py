"""Facts every SNMP-managed device shares: SNMPv2-MIB system group, ENTITY-MIB chassis, IF-MIB rows.

:class:`SnmpFacts` is a driver base (mixin) for any role whose inventory entry has ``snmp``
settings: ``class Switch(SnmpFacts, Driver)``. It opens one :class:`~harness.transports.snmp.SnmpClient`
per driver lazily (``self.session("snmp", …)``), so credentials are resolved at the first request
and the transcript is ``"<device> snmp <host:port>"``. Every method raises
:class:`~harness.errors.LabError` (timeout, auth refused, protocol error) naming device and address.
"""

from __future__ import annotations

import time
from typing import ClassVar

from ...errors import LabProtocolError, LabUnreachable
from ...transports.snmp import SnmpClient
from ..capabilities import SnmpAgent
from ..driver import Driver
from ..facts.clocks import CNTP_SYS_CLOCK, HR_SYSTEM_DATE, ClockReading, from_date_and_time, from_ntp_timestamp, octets
from ..facts.snmp_system import InterfaceRow, SystemInfo

SYS_DESCR = "1.3.6.1.2.1.1.1.0"
SYS_OBJECT_ID = "1.3.6.1.2.1.1.2.0"
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
SYS_NAME = "1.3.6.1.2.1.1.5.0"
ENT_PHYSICAL = "1.3.6.1.2.1.47.1.1.1.1"
ENT_SOFTWARE_REV_1 = f"{ENT_PHYSICAL}.10.1"  # entPhysicalSoftwareRev of the chassis (row 1)
ENT_SERIAL_1 = f"{ENT_PHYSICAL}.11.1"
ENT_MODEL_1 = f"{ENT_PHYSICAL}.13.1"
IF_ENTRY = "1.3.6.1.2.1.2.2.1"
IFX_ENTRY = "1.3.6.1.2.1.31.1.1.1"
IF_PHYS_ADDRESS_1 = f"{IF_ENTRY}.6.1"

_IF_COLUMNS = {"descr": f"{IF_ENTRY}.2", "speed_bps": f"{IF_ENTRY}.5", "mac": f"{IF_ENTRY}.6",
               "admin": f"{IF_ENTRY}.7", "oper": f"{IF_ENTRY}.8", "in_errors": f"{IF_ENTRY}.14",
               "name": f"{IFX_ENTRY}.1", "speed_mbps": f"{IFX_ENTRY}.15", "alias": f"{IFX_ENTRY}.18"}


def _str(v: object) -> str:
    return "" if v is None else str(v)


def _int(v: object) -> int:
    return v if isinstance(v, int) else 0


class SnmpFacts(Driver, SnmpAgent):
    """An :class:`~harness.devices.capabilities.SnmpAgent`; see the module docstring."""

    SNMP_CLOCK: ClassVar[str] = HR_SYSTEM_DATE  # where the device's clock is (CISCO-NTP-MIB on Cisco IOS)

    @property
    def snmp(self) -> SnmpClient:
        """This device's SNMP session (opened on first use, reused for the run).

        Raises:
            LabUnreachable: the inventory entry has no ``snmp`` settings.
        """
        client: SnmpClient = self.session("snmp", self._open_snmp)
        return client

    def _open_snmp(self) -> SnmpClient:
        s = self.device.snmp
        if s is None:
            raise LabUnreachable(self.name, "snmp", self.device.host,
                                 "the inventory declares no snmp settings")
        return SnmpClient(self.name, self.device.host, s, self.loaded.resolve,
                          self.transcript("snmp", f"{self.device.host}:{s.port}"))

    def system(self) -> SystemInfo:
        """The system group in one GET (sysDescr, sysObjectID, sysUpTime, sysName)."""
        v = self.snmp.get_sync(SYS_DESCR, SYS_OBJECT_ID, SYS_UPTIME, SYS_NAME)
        return SystemInfo(sys_descr=_str(v[SYS_DESCR]), sys_name=_str(v[SYS_NAME]),
                          sys_object_id=_str(v[SYS_OBJECT_ID]), uptime_s=_int(v[SYS_UPTIME]) / 100.0)

    def entity_firmware(self) -> str | None:
        """ENTITY-MIB entPhysicalSoftwareRev of the chassis (row 1); ``None`` if not served or empty."""
        v = self.snmp.get_sync(ENT_SOFTWARE_REV_1)[ENT_SOFTWARE_REV_1]
        return str(v) if v not in (None, "") else None

    def interfaces(self) -> list[InterfaceRow]:
        """Every IF-MIB interface, by ifIndex (one GETBULK walk per column)."""
        cols: dict[str, dict[int, object]] = {}
        for key, oid in _IF_COLUMNS.items():
            cols[key] = {int(o.rsplit(".", 1)[1]): val for o, val in self.snmp.bulk_walk_sync(oid)}
        rows = []
        for idx in sorted(set(cols["descr"]) | set(cols["name"])):
            def col(key: str, idx: int = idx) -> object:
                return cols[key].get(idx)

            speed = _int(col("speed_mbps")) or _int(col("speed_bps")) // 1_000_000
            rows.append(InterfaceRow(if_index=idx, name=_str(col("name")) or _str(col("descr")),
                                     descr=_str(col("descr")), alias=_str(col("alias")),
                                     mac=_str(col("mac")) or None, speed_mbps=speed,
                                     admin_up=col("admin") == 1, oper_up=col("oper") == 1,
                                     in_errors=_int(col("in_errors"))))
        return rows

    def snmp_clock(self) -> ClockReading:
        """The device's clock over SNMP: ``SNMP_CLOCK`` of the class, HOST-RESOURCES-MIB hrSystemDate
        (resolution 0.1 s) unless a platform serves CISCO-NTP-MIB cntpSysClock instead.

        Raises:
            LabError: see the module docstring; LabProtocolError: the object is absent or not a date.
        """
        oid = self.SNMP_CLOCK
        name = "cntpSysClock" if oid == CNTP_SYS_CLOCK else "hrSystemDate"
        t0 = time.time()
        v = self.snmp.get_sync(oid)[oid]
        t1 = time.time()
        if v is None:
            raise LabProtocolError(self.name, "snmp", self.device.host, f"{name} ({oid}) is not served")
        try:
            raw = octets(v)
            device_time = from_ntp_timestamp(raw) if oid == CNTP_SYS_CLOCK else from_date_and_time(raw)
        except ValueError as e:
            raise LabProtocolError(self.name, "snmp", self.device.host, f"{name}: {e}") from None
        resolution = 0.0 if oid == CNTP_SYS_CLOCK else 0.1
        return ClockReading(device_time, (t0 + t1) / 2, (t1 - t0) / 2 + resolution, f"snmp {name}")

    def probe_snmp(self) -> str:
        """One-line identity over SNMP: ``"<sysName>: <first line of sysDescr> (sysObjectID …, up N s)"``."""
        s = self.system()
        first = s.sys_descr.splitlines()[0] if s.sys_descr else "(no sysDescr)"
        return f"{s.sys_name}: {first} (sysObjectID {s.sys_object_id}, up {s.uptime_s:.0f} s)"
