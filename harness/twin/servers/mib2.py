"""Rows of the MIBs every emulated device serves, for the roles' MIB builders: SNMPv2-MIB system
group, ENTITY-MIB chassis row, IF-MIB interface rows, and the twin's private enterprise tree.

Each function returns a :data:`~harness.twin.core.faces.Mib` (OID -> pysnmp value) that a role's
builder merges into its own; values follow the real recordings in
``../shared/realworld/snmp/librenms/`` (integer types, OCTET STRING MACs).
"""

from __future__ import annotations

import re
from typing import Protocol

from pysnmp.proto import rfc1902

from ..core.faces import OID, Mib

SYSTEM = (1, 3, 6, 1, 2, 1, 1)
IF_NUMBER = (1, 3, 6, 1, 2, 1, 2, 1, 0)
IF_ENTRY = (1, 3, 6, 1, 2, 1, 2, 2, 1)
IFX_ENTRY = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1)
ENT_PHYSICAL_ENTRY = (1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1)

TWIN_ENTERPRISE = (1, 3, 6, 1, 4, 1, 99999)  # twin-private tree, project choice (docs/twin-snmp.md)
TWIN_PRODUCTS = (*TWIN_ENTERPRISE, 1)  # sysObjectID of twin devices: .1 Edge, .3 phone, .9 any other


class _Booted(Protocol):
    def uptime_s(self) -> float: ...


def octets(text: str | bytes) -> rfc1902.OctetString:
    return rfc1902.OctetString(text)


def integer(n: int) -> rfc1902.Integer32:
    return rfc1902.Integer32(n)


def mac_bytes(mac: str) -> rfc1902.OctetString:
    """``00:04:f2:aa:00:01`` (any separators) as a 6-byte OCTET STRING."""
    return rfc1902.OctetString(bytes.fromhex(re.sub(r"[^0-9a-fA-F]", "", mac)))


def system_group(st: _Booted, descr: str, object_id: OID, name: str, location: str, services: int) -> Mib:
    """SNMPv2-MIB system group of any device (sysUpTime from ``st.uptime_s()``, in 1/100 s)."""
    return {
        (*SYSTEM, 1, 0): octets(descr),
        (*SYSTEM, 2, 0): rfc1902.ObjectIdentifier(object_id),
        (*SYSTEM, 3, 0): rfc1902.TimeTicks(int(st.uptime_s() * 100) % 2**32),
        (*SYSTEM, 4, 0): octets("lab administrator"),
        (*SYSTEM, 5, 0): octets(name),
        (*SYSTEM, 6, 0): octets(location),
        (*SYSTEM, 7, 0): integer(services),
    }


def entity_chassis(descr: str, name: str, model: str, software: str, serial: str) -> Mib:
    """ENTITY-MIB entPhysicalTable row 1, the chassis."""
    e = ENT_PHYSICAL_ENTRY
    return {(*e, 2, 1): octets(descr), (*e, 5, 1): integer(3),  # chassis(3)
            (*e, 7, 1): octets(name), (*e, 10, 1): octets(software), (*e, 11, 1): octets(serial),
            (*e, 13, 1): octets(model)}


def if_row(idx: int, descr: str, name: str, alias: str, mac: str, speed_mbps: int, admin_up: bool,
           oper_up: bool, in_errors: int) -> Mib:
    """One IF-MIB ifTable + ifXTable row (ethernetCsmacd)."""
    i, x = IF_ENTRY, IFX_ENTRY
    return {
        (*i, 1, idx): integer(idx), (*i, 2, idx): octets(descr),
        (*i, 3, idx): integer(6), (*i, 4, idx): integer(1500),
        (*i, 5, idx): rfc1902.Gauge32(min(speed_mbps * 1_000_000, 2**32 - 1)),
        (*i, 6, idx): mac_bytes(mac),
        (*i, 7, idx): integer(1 if admin_up else 2),
        (*i, 8, idx): integer(1 if admin_up and oper_up else 2),
        (*i, 14, idx): rfc1902.Counter32(in_errors % 2**32),
        (*x, 1, idx): octets(name), (*x, 15, idx): rfc1902.Gauge32(speed_mbps), (*x, 18, idx): octets(alias),
    }
