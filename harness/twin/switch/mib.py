"""The access switch's MIBs in the twin's SNMP agent, computed from the live :class:`SwitchState`.

Every value is a pure function of the same :class:`~harness.twin.switch.state.SwitchState` /
:class:`~harness.twin.switch.state.PortState` objects the IOS CLI reads and writes, so the SNMP view agrees
with ``show`` output at every moment (except where the ``snmp-vlan=PORT:VLAN`` fault makes it lie
on purpose). The content is split into :data:`SECTIONS`, one per MIB subtree; the agent builds only
the sections a request message touches (a GETBULK page of one table builds one table), once per
message, so a walk stays consistent and costs a few hundred microseconds per page.

Layouts follow the real Catalyst recordings in ``../shared/realworld/snmp/librenms/`` (iosxe_c9300,
ios_c3560): integer types, ``dot1dBasePortIfIndex`` bridge-port → ifIndex, vmVlan per access port,
lldpLocPortId as the short interface name. Twin choices (docs/twin-snmp.md): bridge port, PSE port
and lldpLocPortNum numbers: bridge port ``n`` is the n-th port in ``SwitchState.ports`` order, PSE
port ``1.n`` the same port, lldpLocPortNum the port's ifIndex; lldpRemTimeMark 0, lldpRemIndex 1.
"""

from __future__ import annotations

import re
import time
from collections.abc import Hashable

from pysnmp.proto import rfc1902

from ...devices.facts.clocks import ntp_timestamp
from ...devices.facts.switch_ports import POE_CLASS_PSE_W
from ..core.faces import Mib, Section
from ..servers.mib2 import (
    IF_ENTRY,
    IF_NUMBER,
    IFX_ENTRY,
    SYSTEM,
    entity_chassis,
    if_row,
    mac_bytes,
    system_group,
)
from .faults import SNMP_VLAN, switch_clock
from .state import PortState, SwitchState, port_octets

DOT3_STATS_ENTRY = (1, 3, 6, 1, 2, 1, 10, 7, 2, 1)  # EtherLike-MIB dot3StatsTable
DOT1D_BASE = (1, 3, 6, 1, 2, 1, 17, 1)  # BRIDGE-MIB dot1dBase
DOT1Q = (1, 3, 6, 1, 2, 1, 17, 7, 1)  # Q-BRIDGE-MIB qBridgeMIBObjects
DOT1Q_TP_FDB_ENTRY = (*DOT1Q, 2, 2, 1)
DOT1Q_VLAN_STATIC_ENTRY = (*DOT1Q, 4, 3, 1)
DOT1Q_PORT_VLAN_ENTRY = (*DOT1Q, 4, 5, 1)
PETH = (1, 3, 6, 1, 2, 1, 105, 1)  # POWER-ETHERNET-MIB pethObjects
CNTP_SYSTEM = (1, 3, 6, 1, 4, 1, 9, 9, 168, 1, 1)  # CISCO-NTP-MIB cntpSystem
PETH_PSE_PORT_ENTRY = (*PETH, 1, 1)
PETH_MAIN_PSE_ENTRY = (*PETH, 3, 1)
CISCO_VM = (1, 3, 6, 1, 4, 1, 9, 9, 68, 1)  # CISCO-VLAN-MEMBERSHIP-MIB
VM_MEMBERSHIP_ENTRY = (*CISCO_VM, 2, 2, 1)
VM_VOICE_VLAN_ENTRY = (*CISCO_VM, 5, 1, 1)
CPE_EXT = (1, 3, 6, 1, 4, 1, 9, 9, 402, 1)  # CISCO-POWER-ETHERNET-EXT-MIB
CPE_EXT_PSE_PORT_ENTRY = (*CPE_EXT, 2, 1)
LLDP = (1, 0, 8802, 1, 1, 2, 1)  # LLDP-MIB lldpObjects
LLDP_LOC_PORT_ENTRY = (*LLDP, 3, 7, 1)
LLDP_REM_ENTRY = (*LLDP, 4, 1, 1)
LLDP_XMED_REM_POLICY_ENTRY = (*LLDP, 5, 4795, 1, 3, 2, 1)  # LLDP-EXT-MED-MIB (ANSI/TIA-1057)
LLDP_XMED_REM_INVENTORY_ENTRY = (*LLDP, 5, 4795, 1, 3, 3, 1)
CISCO_CAT38XX_STACK = (1, 3, 6, 1, 4, 1, 9, 1, 1745)  # CISCO-PRODUCTS-MIB cat38xxstack (WS-C3850)

VOICE_VLAN_NONE = 4096  # vmVoiceVlanId: no voice VLAN (0 dot1p, 4095 untagged; CISCO-VLAN-MEMBERSHIP-MIB)
POLICY_APP_VOICE = 1  # LLDP-EXT-MED-MIB PolicyAppType voice(1)
_SHORT_IF = {"GigabitEthernet": "Gi", "TenGigabitEthernet": "Te", "FastEthernet": "Fa",
             "TwentyFiveGigE": "Twe", "FortyGigabitEthernet": "Fo", "Port-channel": "Po", "Vlan": "Vl"}
_LONG_IF = {v.lower(): k for k, v in _SHORT_IF.items()}


def _s(text: str | bytes) -> rfc1902.OctetString:
    return rfc1902.OctetString(text)


def _i(n: int) -> rfc1902.Integer32:
    return rfc1902.Integer32(n)


def short_if(name: str) -> str:
    """``GigabitEthernet1/0/1`` -> ``Gi1/0/1`` (IF-MIB ifName, lldpLocPortId)."""
    m = re.match(r"([A-Za-z-]+)(.*)", name)
    return _SHORT_IF.get(m.group(1), m.group(1)[:2]) + m.group(2) if m else name


def long_if(name: str) -> str:
    """``Gi1/0/1`` -> ``GigabitEthernet1/0/1``; a long or unknown name is returned as it is."""
    m = re.match(r"([A-Za-z-]+)(\d.*)", name.strip())
    if not m:
        return name.strip()
    return _LONG_IF.get(m.group(1).lower(), m.group(1)) + m.group(2)


# --- helpers on the live state ------------------------------------------------------------------

def _ports(st: SwitchState) -> list[tuple[int, PortState]]:
    """(bridge port number, port) for every port, in ``st.ports`` order (1-based)."""
    return list(enumerate(st.ports.values(), 1))


def _link_up(p: PortState) -> bool:
    return p.admin_up and p.oper_up


def snmp_access_vlan(st: SwitchState, p: PortState) -> int:
    """The access VLAN SNMP reports: the real one, or the ``snmp-vlan=PORT:VLAN`` fault's lie."""
    lie = SNMP_VLAN.value(st)
    if lie is not None:
        port, vlan = lie
        if long_if(port).lower() == p.name.lower() and vlan.strip().isdigit():
            return int(vlan)
    return p.access_vlan


def _port_list(members: set[int], size: int) -> rfc1902.OctetString:
    """Q-BRIDGE PortList: one bit per bridge port, port 1 = most significant bit of octet 1."""
    buf = bytearray((size + 7) // 8)
    for n in members:
        buf[(n - 1) // 8] |= 0x80 >> ((n - 1) % 8)
    return rfc1902.OctetString(bytes(buf))


# --- sections -----------------------------------------------------------------------------------

def _sysdescr(st: SwitchState) -> str:
    image = "CAT9K_IOSXE" if st.model.startswith("C9") else "CAT3K_CAA-UNIVERSALK9-M"
    return (f"Cisco IOS Software [Gibraltar], Catalyst L3 Switch Software ({image}), Version {st.version}, "
            "RELEASE SOFTWARE (fc5)\r\nTechnical Support: http://www.cisco.com/techsupport\r\n"
            "Copyright (c) 1986-2020 by Cisco Systems, Inc.\r\nCompiled Thu 09-Apr-20 by mcpre")


def _system(st: SwitchState, location: str) -> Mib:
    return system_group(st, _sysdescr(st), CISCO_CAT38XX_STACK, st.hostname, location, 6)


def _entity(st: SwitchState, location: str) -> Mib:
    return entity_chassis(f"Cisco Catalyst {st.model} Switch", "Switch 1", st.model, st.version, st.serial)


def _interfaces(st: SwitchState, location: str) -> Mib:
    """IF-MIB ifNumber, ifTable and ifXTable (built together: both come from the same rows), with the
    octet counters (RFC 2863 ifInOctets/ifOutOctets, Counter32 wrapping, and ifHCInOctets/ifHCOutOctets,
    Counter64) of :func:`~.state.port_octets`."""
    base = int(re.sub(r"[^0-9a-fA-F]", "", st.base_mac), 16)
    mib: Mib = {IF_NUMBER: _i(len(st.ports))}
    for p in st.ports.values():
        mac = f"{(base + p.if_index) % 2**48:012x}"
        mib |= if_row(p.if_index, p.name, short_if(p.name), p.description, mac, p.speed_mbps, p.admin_up,
                      p.oper_up, p.errors_now())
        in_octets, out_octets = port_octets(p)
        mib |= {(*IF_ENTRY, 10, p.if_index): rfc1902.Counter32(in_octets % 2**32),
                (*IF_ENTRY, 16, p.if_index): rfc1902.Counter32(out_octets % 2**32),
                (*IFX_ENTRY, 6, p.if_index): rfc1902.Counter64(in_octets % 2**64),
                (*IFX_ENTRY, 10, p.if_index): rfc1902.Counter64(out_octets % 2**64)}
    return mib


def _dot3(st: SwitchState, location: str) -> Mib:
    """EtherLike-MIB dot3StatsIndex and dot3StatsDuplexStatus: unknown(1) while the link is down."""
    e = DOT3_STATS_ENTRY
    mib: Mib = {}
    for p in st.ports.values():
        duplex = {"half": 2, "full": 3}.get(p.duplex, 1) if _link_up(p) else 1
        mib[(*e, 1, p.if_index)] = _i(p.if_index)
        mib[(*e, 19, p.if_index)] = _i(duplex)
    return mib


def _bridge(st: SwitchState, location: str) -> Mib:
    """BRIDGE-MIB dot1dBaseBridgeAddress, dot1dBaseNumPorts, dot1dBaseType, dot1dBasePortIfIndex."""
    ports = _ports(st)
    mib: Mib = {(*DOT1D_BASE, 1, 0): mac_bytes(st.base_mac), (*DOT1D_BASE, 2, 0): _i(len(ports)),
                (*DOT1D_BASE, 3, 0): _i(2)}  # transparent-only(2)
    for n, p in ports:
        mib[(*DOT1D_BASE, 4, 1, 1, n)] = _i(n)
        mib[(*DOT1D_BASE, 4, 1, 2, n)] = _i(p.if_index)
    return mib


def _qbridge(st: SwitchState, location: str) -> Mib:
    """Q-BRIDGE-MIB: dot1qTpFdbPort/Status (the neighbour's MAC in its data and voice VLAN, fdb id =
    VLAN id), dot1qVlanStaticName/EgressPorts/UntaggedPorts/RowStatus and dot1qPvid."""
    ports = _ports(st)
    mib: Mib = {}
    egress: dict[int, set[int]] = {v: set() for v in st.vlans}
    untagged: dict[int, set[int]] = {v: set() for v in st.vlans}
    for n, p in ports:
        if p.mode == "trunk":
            pvid = 1
            for v in st.vlans:
                egress[v].add(n)
            untagged.setdefault(1, set()).add(n)
        else:
            pvid = snmp_access_vlan(st, p)
            egress.setdefault(pvid, set()).add(n)
            untagged.setdefault(pvid, set()).add(n)
            if p.voice_vlan is not None and 1 <= p.voice_vlan <= 4094:
                egress.setdefault(p.voice_vlan, set()).add(n)
            if p.neighbor is not None and _link_up(p):
                mac = tuple(bytes.fromhex(re.sub(r"[^0-9a-fA-F]", "", p.neighbor.mac)))
                for fdb in {pvid, p.voice_vlan}:
                    if fdb is not None and 1 <= fdb <= 4094:
                        mib[(*DOT1Q_TP_FDB_ENTRY, 2, fdb, *mac)] = _i(n)
                        mib[(*DOT1Q_TP_FDB_ENTRY, 3, fdb, *mac)] = _i(3)  # learned(3)
        mib[(*DOT1Q_PORT_VLAN_ENTRY, 1, n)] = rfc1902.Unsigned32(pvid)
    size = len(ports)
    for v, name in st.vlans.items():
        e = DOT1Q_VLAN_STATIC_ENTRY
        mib[(*e, 1, v)] = _s(name)
        mib[(*e, 2, v)] = _port_list(egress.get(v, set()), size)
        mib[(*e, 4, v)] = _port_list(untagged.get(v, set()), size)
        mib[(*e, 5, v)] = _i(1)  # rowStatus active(1)
    return mib


def _cisco_vm(st: SwitchState, location: str) -> Mib:
    """CISCO-VLAN-MEMBERSHIP-MIB: vmMembershipTable (vmVlanType static(1), vmVlan, vmPortStatus) for
    every non-trunk port, vmVoiceVlanId for every port (4096 when none)."""
    mib: Mib = {}
    for p in st.ports.values():
        i = p.if_index
        if p.mode != "trunk":
            mib[(*VM_MEMBERSHIP_ENTRY, 1, i)] = _i(1)
            mib[(*VM_MEMBERSHIP_ENTRY, 2, i)] = _i(snmp_access_vlan(st, p))
            mib[(*VM_MEMBERSHIP_ENTRY, 3, i)] = _i(2 if _link_up(p) else 1)  # active(2) / inactive(1)
        voice = p.voice_vlan if p.voice_vlan is not None else VOICE_VLAN_NONE
        mib[(*VM_VOICE_VLAN_ENTRY, 1, i)] = _i(voice)
    return mib


def _detection(p: PortState) -> int:
    """pethPsePortDetectionStatus: disabled(1), searching(2), deliveringPower(3), fault(4)."""
    if p.poe_admin != "auto":
        return 1
    if p.poe_fault:
        return 4
    return 3 if p.poe_delivering() else 2


def _peth(st: SwitchState, location: str) -> Mib:
    """POWER-ETHERNET-MIB pethPsePortTable (group 1, port n) and pethMainPseTable row 1."""
    e = PETH_PSE_PORT_ENTRY
    mib: Mib = {}
    used_w = 0.0
    for n, p in _ports(st):
        delivering = p.poe_delivering()
        cls = p.neighbor.poe_class if delivering and p.neighbor is not None else 0
        used_w += p.neighbor.poe_draw_w if delivering and p.neighbor is not None else 0.0
        mib[(*e, 3, 1, n)] = _i(1 if p.poe_admin == "auto" else 2)  # TruthValue
        mib[(*e, 6, 1, n)] = _i(_detection(p))
        mib[(*e, 7, 1, n)] = _i(3)  # pethPsePortPowerPriority low(3)
        mib[(*e, 10, 1, n)] = _i(min(cls, 4) + 1)  # class0(1) .. class4(5)
    m = PETH_MAIN_PSE_ENTRY
    mib[(*m, 2, 1)] = rfc1902.Gauge32(int(st.poe_budget_w))  # pethMainPsePower, W (the CLI's Available)
    mib[(*m, 3, 1)] = _i(1)  # pethMainPseOperStatus on(1)
    mib[(*m, 4, 1)] = rfc1902.Gauge32(int(used_w))  # pethMainPseConsumptionPower, W
    return mib


def _cpe_ext(st: SwitchState, location: str) -> Mib:
    """CISCO-POWER-ETHERNET-EXT-MIB cpeExtPsePortTable (augments pethPsePortTable): enable mode and
    PwrMax / PwrAllocated / PwrConsumption in milliwatts."""
    e = CPE_EXT_PSE_PORT_ENTRY
    mib: Mib = {}
    for n, p in _ports(st):
        delivering = p.poe_delivering() and p.neighbor is not None
        alloc_w = POE_CLASS_PSE_W.get(p.neighbor.poe_class, 15.4) if delivering and p.neighbor else 0.0
        draw_w = p.neighbor.poe_draw_w if delivering and p.neighbor else 0.0
        mib[(*e, 1, 1, n)] = _i(1 if p.poe_admin == "auto" else 4)  # auto(1) / disable(4)
        mib[(*e, 6, 1, n)] = rfc1902.Unsigned32(int(p.poe_max_w * 1000))
        mib[(*e, 7, 1, n)] = rfc1902.Unsigned32(int(alloc_w * 1000))
        mib[(*e, 9, 1, n)] = rfc1902.Unsigned32(int(draw_w * 1000))
    return mib


def _cntp(st: SwitchState, location: str) -> Mib:
    """CISCO-NTP-MIB cntpSystem: cntpSysClock (the switch's clock, an NTP timestamp)."""
    return {(*CNTP_SYSTEM, 10, 0): rfc1902.OctetString(ntp_timestamp(switch_clock(st)))}


def _lldp(st: SwitchState, location: str) -> Mib:
    """LLDP-MIB lldpLocPortTable and lldpRemTable, LLDP-EXT-MED-MIB lldpXMedRemMediaPolicyTable and
    lldpXMedRemInventoryTable.

    A remote row exists for a neighbour that sends LLDP (``Neighbor.lldp``) on a port whose link is
    up; index ``0.<ifIndex>.1`` (timeMark 0, localPortNum = ifIndex, remIndex 1).
    """
    mib: Mib = {}
    loc, rem, med = LLDP_LOC_PORT_ENTRY, LLDP_REM_ENTRY, LLDP_XMED_REM_POLICY_ENTRY
    for p in st.ports.values():
        i = p.if_index
        mib[(*loc, 2, i)] = _i(5)  # lldpLocPortIdSubtype interfaceName(5)
        mib[(*loc, 3, i)] = _s(short_if(p.name))
        mib[(*loc, 4, i)] = _s(p.description)
        nb = p.neighbor
        if nb is None or not nb.lldp or not _link_up(p):
            continue
        idx = (0, i, 1)
        mib[(*rem, 4, *idx)] = _i(4)  # lldpRemChassisIdSubtype macAddress(4)
        mib[(*rem, 5, *idx)] = mac_bytes(nb.mac)
        mib[(*rem, 6, *idx)] = _i(3)  # lldpRemPortIdSubtype macAddress(3)
        mib[(*rem, 7, *idx)] = mac_bytes(nb.mac)
        mib[(*rem, 8, *idx)] = _s("LAN port")
        mib[(*rem, 9, *idx)] = _s(nb.name)
        mib[(*rem, 10, *idx)] = _s(f"{nb.model}, firmware {nb.firmware}")
        inv = LLDP_XMED_REM_INVENTORY_ENTRY  # FirmwareRev(2), SoftwareRev(3), SerialNum(4), ModelName(6)
        for col, text in ((2, nb.firmware), (3, nb.firmware), (4, nb.serial), (6, nb.model)):
            mib[(*inv, col, *idx)] = _s(text)
        pol = st.voice_policy(p)
        if pol is not None:
            k = (*idx, POLICY_APP_VOICE)
            mib[(*med, 2, *k)] = _i(pol.vlan)
            mib[(*med, 3, *k)] = _i(pol.cos)
            mib[(*med, 4, *k)] = _i(pol.dscp)
            mib[(*med, 5, *k)] = _i(2)  # lldpXMedRemMediaPolicyUnknown false(2)
            mib[(*med, 6, *k)] = _i(1 if pol.tagged else 2)
    return mib


#: (subtree prefix, builder) in OID order, disjoint subtrees. A builder may return OIDs outside its
#: prefix (the IF-MIB builder makes ifTable and ifXTable rows together); users keep only the prefix's.
SECTIONS: list[Section] = sorted([
    (SYSTEM, _system),
    ((1, 3, 6, 1, 2, 1, 2), _interfaces),
    (DOT3_STATS_ENTRY, _dot3),
    (DOT1D_BASE, _bridge),
    (DOT1Q, _qbridge),
    ((1, 3, 6, 1, 2, 1, 31), _interfaces),  # ifXTable rows are built with ifTable (filtered by prefix)
    ((1, 3, 6, 1, 2, 1, 47), _entity),
    (PETH, _peth),
    (CISCO_VM, _cisco_vm),
    (CPE_EXT, _cpe_ext),
    (CNTP_SYSTEM, _cntp),
    (LLDP, _lldp),
])


SNAPSHOT_S = 0.1  # project choice: a switch's counters are at most this old in a walk


def snapshot_key(st: SwitchState) -> Hashable:
    """What shapes the switch's MIB: config change count, faults, the :data:`SNAPSHOT_S` time slot
    (counters such as ifInErrors move with time). The SNMP agent reuses a MIB while this stays equal."""
    return st.config_changes, tuple(sorted(st.faults.items())), int(time.monotonic() / SNAPSHOT_S)


def switch_mib(st: SwitchState, location: str) -> Mib:
    """Every OID the switch serves right now (all sections; tests and tools use this)."""
    mib: Mib = {}
    for _, build in SECTIONS:
        mib |= build(st, location)
    return mib


__all__ = ["SECTIONS", "long_if", "short_if", "snapshot_key", "snmp_access_vlan", "switch_mib"]
