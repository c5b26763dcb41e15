"""SNMP fact functions for access switches: walked MIB rows -> one :class:`PortView` per port.

Input shape (``Rows``): every walked varbind of the switch merged into one mapping
``{dotted OID: value}``, values as :class:`~harness.transports.snmp.SnmpClient` returns them
(:func:`~harness.transports.snmp.to_python`: integers as ``int``, printable OCTET STRINGs as ``str``,
binary ones as colon hex). :func:`merge` turns ``SnmpClient.bulk_walk`` results
(``[(oid, value), …]``) into that shape. The functions here do no I/O except
:func:`read_port_views` (async, on the caller's loop) and its blocking wrapper
:func:`read_port_views_sync`, which run the walks.

Sources, per :class:`PortView` field (``source="snmp"``; a table the agent does not serve leaves
its fields ``None``, never an error):

* interface name: IF-MIB ifDescr (the long name on Cisco), ethernet ports only (ifType 6, 62, 117);
* ``oper_up`` ifOperStatus up(1); ``speed_mbps`` ifHighSpeed, else ifSpeed / 10^6; ``in_errors``
  ifInErrors; ``duplex`` EtherLike-MIB dot3StatsDuplexStatus (half(2) / full(3); unknown(1) -> None);
* ``access_vlan``: CISCO-VLAN-MEMBERSHIP-MIB vmVlan, else Q-BRIDGE-MIB dot1qPvid of the port's
  bridge port (BRIDGE-MIB dot1dBasePortIfIndex); ``voice_vlan`` vmVoiceVlanId (4096 "none" -> None;
  0 dot1p and 4095 untagged are kept as they are);
* ``mode`` (our rule): ``access`` when the port has a vmVlan row (the MIB lists static and dynamic
  access ports only); ``trunk`` when the switch serves vmVlan rows, the port has none and it is a
  bridge port; otherwise None;
* ``poe``: POWER-ETHERNET-MIB pethPsePortTable (AdminEnable, DetectionStatus, PowerClassifications)
  plus, on Cisco, CISCO-POWER-ETHERNET-EXT-MIB cpeExtPsePortPwrConsumption / PwrMax (mW -> W). PSE
  port ``group.n`` is the n-th ethernet interface (ifIndex order) of module ``group`` (the first
  number of a three-part name, ``Gi1/0/n``); on two-part names (``Fa0/n``) the n-th of all of them;
* ``lldp``: LLDP-MIB lldpRemTable (chassis ID, port ID, system name) with LLDP-EXT-MED-MIB
  lldpXMedRemMediaPolicyTable (application voice(1) / voiceSignaling(2)) and the model from
  lldpXMedRemModelName; the local port from lldpLocPortId matched against ifName / ifDescr, else
  lldpRemLocalPortNum taken as the ifIndex;
* ``macs``: Q-BRIDGE-MIB dot1qTpFdbPort (and BRIDGE-MIB dot1dTpFdbPort) via dot1dBasePortIfIndex.

``trust`` and ``portfast`` are not in these MIBs: always None.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ...transports.snmp import LOOP, SnmpClient
from .switch_ports import LldpNeighbor, NetworkPolicy, PoePort, PortView, normal_mac

Rows = Mapping[str, object]
Index = tuple[int, ...]

IF_DESCR = "1.3.6.1.2.1.2.2.1.2"
IF_TYPE = "1.3.6.1.2.1.2.2.1.3"
IF_SPEED = "1.3.6.1.2.1.2.2.1.5"
IF_OPER_STATUS = "1.3.6.1.2.1.2.2.1.8"
IF_IN_ERRORS = "1.3.6.1.2.1.2.2.1.14"
IF_NAME = "1.3.6.1.2.1.31.1.1.1.1"
IF_HIGH_SPEED = "1.3.6.1.2.1.31.1.1.1.15"
DOT3_DUPLEX = "1.3.6.1.2.1.10.7.2.1.19"
BASE_PORT_IFINDEX = "1.3.6.1.2.1.17.1.4.1.2"
DOT1D_TP_FDB_PORT = "1.3.6.1.2.1.17.4.3.1.2"
DOT1Q_TP_FDB_PORT = "1.3.6.1.2.1.17.7.1.2.2.1.2"
DOT1Q_VLAN_STATIC_NAME = "1.3.6.1.2.1.17.7.1.4.3.1.1"
DOT1Q_PVID = "1.3.6.1.2.1.17.7.1.4.5.1.1"
VM_VLAN = "1.3.6.1.4.1.9.9.68.1.2.2.1.2"
VM_VOICE_VLAN = "1.3.6.1.4.1.9.9.68.1.5.1.1.1"
VTP_VLAN_NAME = "1.3.6.1.4.1.9.9.46.1.3.1.1.4"  # CISCO-VTP-MIB vtpVlanName (index domain.vlan)
PETH_ADMIN = "1.3.6.1.2.1.105.1.1.1.3"
PETH_DETECTION = "1.3.6.1.2.1.105.1.1.1.6"
PETH_CLASS = "1.3.6.1.2.1.105.1.1.1.10"
CPE_PWR_MAX = "1.3.6.1.4.1.9.9.402.1.2.1.6"
CPE_PWR_CONSUMPTION = "1.3.6.1.4.1.9.9.402.1.2.1.9"
LLDP_LOC_PORT_ID = "1.0.8802.1.1.2.1.3.7.1.3"
LLDP_REM = "1.0.8802.1.1.2.1.4.1.1"
LLDP_REM_CHASSIS_SUBTYPE = f"{LLDP_REM}.4"
LLDP_REM_CHASSIS_ID = f"{LLDP_REM}.5"
LLDP_REM_PORT_SUBTYPE = f"{LLDP_REM}.6"
LLDP_REM_PORT_ID = f"{LLDP_REM}.7"
LLDP_REM_SYS_NAME = f"{LLDP_REM}.9"
LLDP_MED_POLICY = "1.0.8802.1.1.2.1.5.4795.1.3.2.1"
LLDP_MED_MODEL = "1.0.8802.1.1.2.1.5.4795.1.3.3.1.6"  # lldpXMedRemModelName

#: every subtree :func:`read_port_views` walks (one GETBULK walk each, :data:`WALKS_IN_FLIGHT` at a time)
#: (only the columns read: the walk of whole LLDP tables cost a fifth more PDUs' worth of varbinds;
#: ifSpeed is walked only when ifHighSpeed is absent)
WALKS: tuple[str, ...] = (
    IF_DESCR, IF_TYPE, IF_OPER_STATUS, IF_IN_ERRORS, IF_NAME, IF_HIGH_SPEED, DOT3_DUPLEX,
    BASE_PORT_IFINDEX, DOT1Q_TP_FDB_PORT, DOT1Q_VLAN_STATIC_NAME, DOT1Q_PVID, VM_VLAN, VM_VOICE_VLAN,
    PETH_ADMIN, PETH_DETECTION, PETH_CLASS, CPE_PWR_MAX, CPE_PWR_CONSUMPTION, LLDP_LOC_PORT_ID,
    LLDP_REM_CHASSIS_SUBTYPE, LLDP_REM_CHASSIS_ID, LLDP_REM_PORT_SUBTYPE, LLDP_REM_PORT_ID, LLDP_REM_SYS_NAME,
    *(f"{LLDP_MED_POLICY}.{c}" for c in (2, 3, 4, 6)), LLDP_MED_MODEL,
)
ETHERNET_IF_TYPES = (6, 62, 117)  # IANAifType ethernetCsmacd, fastEther, gigabitEthernet
VOICE_VLAN_NONE = 4096  # vmVoiceVlanId "no voice VLAN" (CISCO-VLAN-MEMBERSHIP-MIB)
POLICY_APPS = {1: "voice", 2: "voice-signaling"}  # LLDP-EXT-MED-MIB PolicyAppType
_POE_OPER = {1: "off", 2: "off", 3: "on", 4: "faulty", 5: "off", 6: "faulty"}  # pethPsePortDetectionStatus
WALK_GUARD_S = 120.0  # project choice: a whole read that outlives this means the SNMP loop is wedged
MAX_REPETITIONS = 50  # project choice: one GETBULK page holds a 48-port column
#: project choice: GETBULK walks one switch has outstanding at once (an agent answers one request at
#: a time; 30 at once from each of 10 switches' readers made a queue longer than the timeout)
WALKS_IN_FLIGHT = 4


@dataclass(frozen=True)
class SwitchSnmpView:
    """One SNMP read of a switch: ``ports`` by long interface name, ``vlans`` id -> name (None when
    neither Q-BRIDGE-MIB nor CISCO-VTP-MIB names VLANs), ``absent``: walked subtrees that came back
    empty (tables the agent does not serve)."""

    ports: dict[str, PortView]
    vlans: dict[int, str] | None
    absent: tuple[str, ...] = field(default=())


# --- helpers ------------------------------------------------------------------------------------

def merge(walks: Iterable[Iterable[tuple[str, object]]]) -> dict[str, object]:
    """``[[(oid, value), …], …]`` (SnmpClient walk results) -> one ``{oid: value}`` mapping."""
    return {oid.lstrip("."): value for walk in walks for oid, value in walk}


def column(rows: Rows, oid: str) -> dict[Index, object]:
    """The cells of one column: ``{index tuple: value}`` for every OID under ``oid``."""
    prefix = oid + "."
    n = len(prefix)
    out: dict[Index, object] = {}
    for k, v in rows.items():
        if k.startswith(prefix) and v is not None:
            try:
                out[tuple(int(x) for x in k[n:].split("."))] = v
            except ValueError:
                continue
    return out


def _by_ifindex(rows: Rows, oid: str) -> dict[int, object]:
    return {idx[0]: v for idx, v in column(rows, oid).items() if len(idx) == 1}


def _int(v: object) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def octets(v: object) -> bytes | None:
    """An OCTET STRING value back as bytes (colon hex from :func:`to_python`, or printable text)."""
    if isinstance(v, bytes):
        return v
    if not isinstance(v, str):
        return None
    if re.fullmatch(r"[0-9a-fA-F]{2}(:[0-9a-fA-F]{2})*", v):
        return bytes.fromhex(v.replace(":", ""))
    return v.encode("utf-8")


def _mac(v: object) -> str | None:
    raw = octets(v)
    return normal_mac(raw.hex()) if raw is not None and len(raw) == 6 else None


def _numbers(name: str) -> list[int]:
    return [int(x) for x in re.findall(r"\d+", name)]


# --- the views ----------------------------------------------------------------------------------

def vlan_table(rows: Rows) -> dict[int, str] | None:
    """VLAN id -> name from Q-BRIDGE-MIB dot1qVlanStaticName, else CISCO-VTP-MIB vtpVlanName."""
    q = {idx[0]: str(v) for idx, v in column(rows, DOT1Q_VLAN_STATIC_NAME).items() if len(idx) == 1}
    if q:
        return q
    vtp = {idx[1]: str(v) for idx, v in column(rows, VTP_VLAN_NAME).items() if len(idx) == 2}
    return vtp or None


def _interfaces(rows: Rows) -> dict[int, str]:
    """ifIndex -> long name of every ethernet interface (all interfaces when ifType is absent)."""
    descr = {i: str(v) for i, v in _by_ifindex(rows, IF_DESCR).items()}
    if not descr:
        descr = {i: str(v) for i, v in _by_ifindex(rows, IF_NAME).items()}
    types = _by_ifindex(rows, IF_TYPE)
    if types:
        descr = {i: n for i, n in descr.items() if types.get(i) in ETHERNET_IF_TYPES}
    return dict(sorted(descr.items()))


def _pse_ports(names: dict[int, str]) -> dict[tuple[int, int], int]:
    """(PSE group, PSE port) -> ifIndex, by the rule in the module docstring."""
    modules: dict[int | None, list[int]] = {}
    for idx, name in names.items():
        nums = _numbers(name)
        modules.setdefault(nums[0] if len(nums) >= 3 else None, []).append(idx)
    out: dict[tuple[int, int], int] = {}
    for module, idxs in modules.items():
        for n, idx in enumerate(idxs, 1):
            out.setdefault((module if module is not None else 1, n), idx)
    return out


def poe_ports(rows: Rows, names: dict[int, str]) -> dict[int, PoePort]:
    """ifIndex -> :class:`PoePort` from pethPsePortTable (+ cpeExtPsePortTable watts)."""
    detection = column(rows, PETH_DETECTION)
    if not detection:
        return {}
    admin, klass = column(rows, PETH_ADMIN), column(rows, PETH_CLASS)
    pwr_max, pwr_used = column(rows, CPE_PWR_MAX), column(rows, CPE_PWR_CONSUMPTION)
    where = _pse_ports(names)
    out: dict[int, PoePort] = {}
    for idx, status in detection.items():
        if len(idx) != 2 or (idx[0], idx[1]) not in where:
            continue
        if_index = where[(idx[0], idx[1])]
        st = _int(status)
        cls = _int(klass.get(idx))
        used, limit = _int(pwr_used.get(idx)), _int(pwr_max.get(idx))
        out[if_index] = PoePort(
            interface=names[if_index],
            admin="auto" if admin.get(idx, 1) == 1 else "never",
            oper=_POE_OPER.get(st or 0, "off"),
            power_class=cls - 1 if st == 3 and cls else None,
            watts=used / 1000 if used is not None else None,
            max_w=limit / 1000 if limit is not None else None)
    return out


def lldp_local_ports(rows: Rows, names: dict[int, str]) -> dict[int, int]:
    """lldpLocPortNum -> ifIndex, by lldpLocPortId matched to ifName or ifDescr."""
    by_name: dict[str, int] = {}
    for i, v in _by_ifindex(rows, IF_NAME).items():
        by_name[str(v).lower()] = i
    for i, n in names.items():
        by_name[n.lower()] = i
    out = {}
    for num, v in _by_ifindex(rows, LLDP_LOC_PORT_ID).items():
        idx = by_name.get(str(v).lower())
        if idx is not None:
            out[num] = idx
    return out


def lldp_neighbors(rows: Rows, names: dict[int, str]) -> dict[int, LldpNeighbor]:
    """ifIndex -> the first :class:`LldpNeighbor` on that port (lldpRemTable + LLDP-MED policies)."""
    chassis = column(rows, LLDP_REM_CHASSIS_ID)
    if not chassis:
        return {}
    local = lldp_local_ports(rows, names)
    c_sub, p_sub = column(rows, LLDP_REM_CHASSIS_SUBTYPE), column(rows, LLDP_REM_PORT_SUBTYPE)
    p_id, sys_name = column(rows, LLDP_REM_PORT_ID), column(rows, LLDP_REM_SYS_NAME)
    models = column(rows, LLDP_MED_MODEL)
    policies: dict[Index, dict[str, NetworkPolicy]] = {}
    med = {c: column(rows, f"{LLDP_MED_POLICY}.{c}") for c in (2, 3, 4, 6)}
    for idx, vlan in med[2].items():
        rem, app_part = idx[:3], idx[3:]
        # PolicyAppType as an INTEGER index (voice = 1), or BITS encoded as a length-prefixed string
        app = app_part[0] if len(app_part) == 1 else next(
            (b for b in range(1, 9) if len(app_part) >= 2 and app_part[1] & (0x80 >> b)), 0)
        name = POLICY_APPS.get(app)
        if name is None:
            continue
        tagged = _int(med[6].get(idx))
        policies.setdefault(rem, {})[name] = NetworkPolicy(
            app=name, vlan=_int(vlan), tagged=None if tagged is None else tagged == 1,
            cos=_int(med[3].get(idx)), dscp=_int(med[4].get(idx)))
    out: dict[int, LldpNeighbor] = {}
    for idx in sorted(chassis):
        if len(idx) != 3:
            continue
        if_index = local.get(idx[1], idx[1])
        if if_index not in names or if_index in out:
            continue
        raw = chassis[idx]
        mac = _mac(raw) if c_sub.get(idx) == 4 else None
        port = p_id.get(idx)
        port_text = (_mac(port) if p_sub.get(idx) == 3 else None) or ("" if port is None else str(port))
        out[if_index] = LldpNeighbor(
            local_port=names[if_index], chassis_id=mac or str(raw), chassis_mac=mac, port_id=port_text,
            system_name=str(sys_name.get(idx, "")), model=str(models.get(idx, "")),
            policies=policies.get(idx, {}))
    return out


def learned_macs(rows: Rows) -> dict[int, tuple[str, ...]]:
    """ifIndex -> MACs the bridge learned there (dot1qTpFdbPort, dot1dTpFdbPort), sorted."""
    base = {idx[0]: v for idx, v in column(rows, BASE_PORT_IFINDEX).items() if len(idx) == 1}
    found: dict[int, set[str]] = {}
    cells = [(idx[1:], v) for idx, v in column(rows, DOT1Q_TP_FDB_PORT).items() if len(idx) == 7]
    cells += [(idx, v) for idx, v in column(rows, DOT1D_TP_FDB_PORT).items() if len(idx) == 6]
    for mac_idx, port in cells:
        if_index = _int(base.get(port if isinstance(port, int) else -1))
        if if_index is not None:
            found.setdefault(if_index, set()).add(":".join(f"{b:02x}" for b in mac_idx))
    return {i: tuple(sorted(m)) for i, m in found.items()}


def port_views(rows: Rows) -> dict[str, PortView]:
    """Every ethernet port's :class:`PortView` (``source="snmp"``), keyed by long interface name.

    Field sources and rules: see the module docstring.
    """
    names = _interfaces(rows)
    oper, errors = _by_ifindex(rows, IF_OPER_STATUS), _by_ifindex(rows, IF_IN_ERRORS)
    high, speed = _by_ifindex(rows, IF_HIGH_SPEED), _by_ifindex(rows, IF_SPEED)
    duplex = _by_ifindex(rows, DOT3_DUPLEX)
    vm_vlan, vm_voice = _by_ifindex(rows, VM_VLAN), _by_ifindex(rows, VM_VOICE_VLAN)
    base = {idx[0]: v for idx, v in column(rows, BASE_PORT_IFINDEX).items() if len(idx) == 1}
    bridge_port = {v: n for n, v in base.items() if isinstance(v, int)}
    pvid = {idx[0]: v for idx, v in column(rows, DOT1Q_PVID).items() if len(idx) == 1}
    poe, lldp, macs = poe_ports(rows, names), lldp_neighbors(rows, names), learned_macs(rows)
    out: dict[str, PortView] = {}
    for i, name in names.items():
        mbps = _int(high.get(i))
        if not mbps and _int(speed.get(i)) is not None:
            mbps = (_int(speed.get(i)) or 0) // 1_000_000
        mode = "access" if i in vm_vlan else ("trunk" if vm_vlan and i in bridge_port else None)
        access = _int(vm_vlan.get(i))
        if access is None and i in bridge_port and mode != "trunk":  # a trunk's PVID is its native VLAN
            access = _int(pvid.get(bridge_port[i]))
        voice = _int(vm_voice.get(i))
        state = _int(oper.get(i))
        out[name] = PortView(
            interface=name, source="snmp", oper_up=None if state is None else state == 1,
            mode=mode, access_vlan=access, voice_vlan=None if voice == VOICE_VLAN_NONE else voice,
            speed_mbps=mbps, duplex={2: "half", 3: "full"}.get(_int(duplex.get(i)) or 0),
            in_errors=_int(errors.get(i)), poe=poe.get(i), lldp=lldp.get(i), macs=macs.get(i, ()))
    return out


def snmp_view(rows: Rows, absent: tuple[str, ...] = ()) -> SwitchSnmpView:
    """:func:`port_views` and :func:`vlan_table` of one set of rows."""
    return SwitchSnmpView(ports=port_views(rows), vlans=vlan_table(rows), absent=absent)


# --- I/O ----------------------------------------------------------------------------------------

async def read_port_views(client: SnmpClient, walks: tuple[str, ...] = WALKS) -> SwitchSnmpView:
    """Walk ``walks`` (default :data:`WALKS`, plus vtpVlanName when Q-BRIDGE names no VLAN) with
    concurrent GETBULK walks on the caller's loop and return the switch's :class:`SwitchSnmpView`.

    Raises:
        LabTimeout, LabAuthError, LabProtocolError: from :class:`SnmpClient` (a missing table is
            not an error: it walks empty and its fields stay None).
    """
    gate = asyncio.Semaphore(WALKS_IN_FLIGHT)

    async def walk(oid: str) -> list[tuple[str, object]]:
        async with gate:
            return await client.bulk_walk(oid, MAX_REPETITIONS)

    results = await asyncio.gather(*(walk(oid) for oid in walks))
    rows = merge(results)
    absent = tuple(oid for oid, r in zip(walks, results, strict=True) if not r)
    if DOT1Q_VLAN_STATIC_NAME in absent:
        rows |= merge([await client.bulk_walk(VTP_VLAN_NAME, MAX_REPETITIONS)])
    if IF_HIGH_SPEED in absent:
        rows |= merge([await client.bulk_walk(IF_SPEED, MAX_REPETITIONS)])
    return snmp_view(rows, absent)


def read_port_views_sync(client: SnmpClient, walks: tuple[str, ...] = WALKS) -> SwitchSnmpView:
    """:func:`read_port_views` on the shared SNMP loop thread (blocks the caller); same errors."""
    return LOOP.run(read_port_views(client, walks), WALK_GUARD_S)


__all__ = [
    "WALKS",
    "Rows",
    "SwitchSnmpView",
    "column",
    "learned_macs",
    "lldp_local_ports",
    "lldp_neighbors",
    "merge",
    "octets",
    "poe_ports",
    "port_views",
    "read_port_views",
    "read_port_views_sync",
    "snmp_view",
    "vlan_table",
]
