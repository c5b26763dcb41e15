"""``show`` renderers of the twin's IOS switch: text laid out like real Catalyst captures.

Each function takes the live :class:`~harness.twin.switch.state.SwitchState` and returns the command's
output with ``\\n`` line ends. Layouts follow the captures in ``shared/realworld/cli/ntc-templates``
(``cisco_ios__show_*.raw``: interfaces status, LLDP neighbors detail, power inline, spanning-tree,
version, vlan, switchport) and the ntc-templates ``cisco_ios`` templates for ``show interfaces`` and
``show mac address-table`` (IOS 15 ``Vlan Mac Address Type Ports`` form), so those templates parse
every output with no ``Error`` and the parsed values equal the state.

Work per call is linear in the number of ports (one pass, no per-port search over ports).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable

from .faults import switch_clock
from .state import N_PORTS, PortState, SwitchState, port_order

RESERVED_VLANS = {1002: "fddi-default", 1003: "token-ring-default", 1004: "fddinet-default",
                  1005: "trnet-default"}
PORTS_WIDTH = 62  # the capture wraps the Ports column of `show vlan` after about 62 characters
MEDIA = "10/100/1000BaseTX"
#: vendor by MAC OUI, for the LLDP-MED Manufacturer field
OUI_VENDORS = {"00:04:f2": "Polycom", "64:16:7f": "Polycom", "80:5e:c0": "Yealink", "00:15:65": "Yealink",
               "24:9a:d8": "Yealink", "00:1b:0c": "Cisco Systems, Inc."}


def short_name(port: str) -> str:
    """``GigabitEthernet1/0/1`` -> ``Gi1/0/1`` (the form IOS prints in tables)."""
    return re.sub(r"^GigabitEthernet", "Gi", port)


def sorted_ports(st: SwitchState) -> list[PortState]:
    return sorted(st.ports.values(), key=lambda p: port_order(p.name))


def dotted(mac: str) -> str:
    """``00:04:f2:aa:00:01`` -> ``0004.f2aa.0001`` (Cisco's dotted form)."""
    h = re.sub(r"[^0-9a-f]", "", mac.lower())
    return f"{h[0:4]}.{h[4:8]}.{h[8:12]}"


def port_mac(st: SwitchState, p: PortState) -> str:
    """A port's own MAC: the switch's base MAC plus its ifIndex, dotted."""
    n = int(re.sub(r"[^0-9a-f]", "", st.base_mac.lower()), 16) + p.if_index
    return dotted(f"{n:012x}")


def is_up(p: PortState) -> bool:
    return p.admin_up and p.oper_up


def _uptime(seconds: float) -> str:
    """IOS uptime text: ``1 year, 22 weeks, 6 days, 9 hours, 38 minutes`` (zero parts left out)."""
    s = int(seconds)
    parts = []
    for unit, size in (("year", 365 * 86400), ("week", 7 * 86400), ("day", 86400), ("hour", 3600)):
        n, s = divmod(s, size)
        if n:
            parts.append(f"{n} {unit}{'s' if n != 1 else ''}")
    m = s // 60
    parts.append(f"{m} minute{'s' if m != 1 else ''}")
    return ", ".join(parts)


def ios_time(t: float) -> str:
    """``12:04:05 UTC Mon Mar 4 2024`` (IOS's clock format)."""
    g = time.gmtime(t)
    return time.strftime(f"%H:%M:%S UTC %a %b {g.tm_mday} %Y", g)


def show_clock(st: SwitchState) -> str:
    """IOS ``show clock`` of a switch whose clock is set by NTP (no ``*``: the time is authoritative), in
    UTC with milliseconds: ``12:04:05.123 UTC Mon Mar 4 2024``."""
    t = switch_clock(st)
    return f"{ios_time(t).replace(' UTC', f'.{int(t % 1 * 1000):03d} UTC', 1)}\n"


def show_version(st: SwitchState) -> str:
    """IOS-XE ``show version`` of a single Catalyst, after the C9500 capture in ntc-templates."""
    padded = ".".join(p.zfill(2) if i else p for i, p in enumerate(st.version.split(".")))
    up = _uptime(st.uptime_s())
    return f"""Cisco IOS XE Software, Version {padded}
Cisco IOS Software [Gibraltar], Catalyst L3 Switch Software (CAT3K_CAA-UNIVERSALK9-M), \
Version {st.version}, RELEASE SOFTWARE (fc5)
Technical Support: http://www.cisco.com/techsupport
Copyright (c) 1986-2020 by Cisco Systems, Inc.
Compiled Thu 09-Jul-20 21:49 by mcpre


Cisco IOS-XE software, Copyright (c) 2005-2020 by cisco Systems, Inc.
All rights reserved.  Certain components of Cisco IOS-XE software are
licensed under the GNU General Public License ("GPL") Version 2.0.


ROM: IOS-XE ROMMON
BOOTLDR: CAT3K_CAA Boot Loader (CAT3K_CAA-HBOOT-M) Version 4.68, RELEASE SOFTWARE (P)

{st.hostname} uptime is {up}
Uptime for this control processor is {up}
System returned to ROM by Power Failure or Unknown
System restarted at {ios_time(st.boot_time)}
System image file is "flash:packages.conf"
Last reload reason: Power Failure or Unknown


cisco {st.model} (MIPS) processor (revision AB0) with 795688K/6147K bytes of memory.
Processor board ID {st.serial}
1 Virtual Ethernet interface
{N_PORTS + 4} Gigabit Ethernet interfaces
4 Ten Gigabit Ethernet interfaces
2048K bytes of non-volatile configuration memory.
4194304K bytes of physical memory.
1611414K bytes of Crash Files at crashinfo:.
1611414K bytes of Flash at flash:.

Base Ethernet MAC Address          : {st.base_mac}
Motherboard Assembly Number        : 73-15800-08
Motherboard Serial Number          : {st.serial}
Model Revision Number              : AB0
Motherboard Revision Number        : A0
Model Number                       : {st.model}
System Serial Number               : {st.serial}


Switch Ports Model              SW Version        SW Image              Mode
------ ----- -----              ----------        ----------            ----
*    1 {N_PORTS + 8:<5} {st.model:<18} {st.version:<17} CAT3K_CAA-UNIVERSALK9 INSTALL


Configuration register is 0x102
"""


# --- VLANs and switchports ------------------------------------------------------------------------


def _vlan_rows(st: SwitchState) -> list[tuple[int, str, str, list[str]]]:
    members: dict[int, list[str]] = {}
    for p in sorted_ports(st):  # access ports in their access and voice VLAN; trunks are not listed
        if p.mode == "trunk":
            continue
        for vid in {p.access_vlan, p.voice_vlan} - {None}:
            members.setdefault(vid, []).append(short_name(p.name))  # type: ignore[arg-type]
    rows = [(vid, name, "active", members.get(vid, [])) for vid, name in sorted(st.vlans.items())]
    return rows + [(vid, name, "act/unsup", []) for vid, name in RESERVED_VLANS.items()]


def show_vlan_brief(st: SwitchState) -> str:
    """``show vlan brief``: ports wrapped onto continuation lines at column 48, as IOS does."""
    out = ["", "VLAN Name                             Status    Ports",
           "---- -------------------------------- --------- -------------------------------"]
    for vid, name, status, ports in _vlan_rows(st):
        lines: list[str] = []
        cur = ""
        for p in ports:
            if cur and len(cur) + 2 + len(p) > PORTS_WIDTH:
                lines.append(cur)
                cur = p
            else:
                cur = f"{cur}, {p}" if cur else p
        lines.append(cur)
        out.append(f"{vid:<4} {name[:32]:<32} {status:<9} {lines[0]}".rstrip() + (" " if not ports else ""))
        out += [" " * 48 + cont for cont in lines[1:]]
    return "\n".join(out) + "\n"


def show_vlan(st: SwitchState) -> str:
    """``show vlan``: the brief table plus the VLAN type table."""
    out = [show_vlan_brief(st).rstrip("\n"), "",
           "VLAN Type  SAID       MTU   Parent RingNo BridgeNo Stp  BrdgMode Trans1 Trans2",
           "---- ----- ---------- ----- ------ ------ -------- ---- -------- ------ ------"]
    for vid, _, _, _ in _vlan_rows(st):
        out.append(f"{vid:<4} enet  {100000 + vid:<10} 1500  -      -      -        -    -        0      0")
    out += ["", "Remote SPAN VLANs", "-" * 78, "", "",
            "Primary Secondary Type              Ports",
            "------- --------- ----------------- ------------------------------------------"]
    return "\n".join(out) + "\n"


def _vlan_ref(st: SwitchState, vid: int) -> str:
    return f"{vid} ({st.vlans.get(vid, 'default' if vid == 1 else 'Inactive')})"


def _switchport_block(st: SwitchState, p: PortState) -> str:
    trunk = p.mode == "trunk"
    admin = {"trunk": "trunk", "access": "static access"}.get(p.mode, p.mode)
    oper = ("trunk" if trunk else "static access") if is_up(p) else "down"
    voice = _vlan_ref(st, p.voice_vlan) if p.voice_vlan else "none"
    return f"""Name: {short_name(p.name)}
Switchport: Enabled
Administrative Mode: {admin}
Operational Mode: {oper}
Administrative Trunking Encapsulation: dot1q
Operational Trunking Encapsulation: {"dot1q" if trunk else "native"}
Negotiation of Trunking: {"Off" if p.mode == "access" else "On"}
Access Mode VLAN: {_vlan_ref(st, p.access_vlan)}
Trunking Native Mode VLAN: 1 (default)
Administrative Native VLAN tagging: enabled
Voice VLAN: {voice}
Administrative private-vlan host-association: none
Administrative private-vlan mapping: none
Administrative private-vlan trunk native VLAN: none
Administrative private-vlan trunk Native VLAN tagging: enabled
Administrative private-vlan trunk encapsulation: dot1q
Administrative private-vlan trunk normal VLANs: none
Administrative private-vlan trunk associations: none
Administrative private-vlan trunk mappings: none
Operational private-vlan: none
Trunking VLANs Enabled: ALL
Pruning VLANs Enabled: 2-1001
Capture Mode Disabled
Capture VLANs Allowed: ALL

Protected: false
Unknown unicast blocked: disabled
Unknown multicast blocked: disabled
Appliance trust: none
"""


def _ports(st: SwitchState, port: str | None) -> list[PortState]:
    return [st.ports[port]] if port else sorted_ports(st)


def show_interfaces_switchport(st: SwitchState, port: str | None = None) -> str:
    """``show interfaces [IF] switchport``: one block per port, blank line between blocks."""
    return "\n" + "\n".join(_switchport_block(st, p) for p in _ports(st, port))


# --- interfaces -------------------------------------------------------------------------------------


def _status(p: PortState) -> str:
    return "disabled" if not p.admin_up else "connected" if p.oper_up else "notconnect"


def show_interfaces_status(st: SwitchState, port: str | None = None) -> str:
    """``show interfaces [IF] status`` (Catalyst 15/16 layout: auto-negotiated ``a-full a-1000``)."""
    out = ["", "Port      Name               Status       Vlan       Duplex  Speed Type"]
    for p in _ports(st, port):
        vlan = "trunk" if p.mode == "trunk" else str(p.access_vlan)
        duplex, speed = (f"a-{p.duplex}", f"a-{p.speed_mbps}") if is_up(p) else ("auto", "auto")
        out.append(f"{short_name(p.name):<9} {p.description[:18]:<18} {_status(p):<12} {vlan:<10} "
                   f"{duplex:>6} {speed:>6} {MEDIA}")
    return "\n".join(out) + "\n"


def _interface_block(st: SwitchState, p: PortState, now: float) -> str:
    up = is_up(p)
    state = "up" if up else "down" if p.admin_up else "administratively down"
    line = f"{'up' if up else 'down'} ({_status(p)})"
    mac = port_mac(st, p)
    desc = f"  Description: {p.description}\n" if p.description else ""
    speed_kbit = p.speed_mbps * 1000 if up else 1000000
    phy = (f"{p.duplex.capitalize()}-duplex, {p.speed_mbps}Mb/s" if up else "Auto-duplex, Auto-speed")
    alive = 1 + int(max(0.0, now - st.boot_time)) if up and p.neighbor else 0  # seconds with traffic
    rx_pk, tx_pk = alive * 3, alive * 4
    errors = p.errors_now(now)
    return f"""{p.name} is {state}, line protocol is {line}
  Hardware is Gigabit Ethernet, address is {mac} (bia {mac})
{desc}  MTU 1500 bytes, BW {speed_kbit} Kbit/sec, DLY 10 usec,
     reliability 255/255, txload 1/255, rxload 1/255
  Encapsulation ARPA, loopback not set
  Keepalive set (10 sec)
  {phy}, media type is {MEDIA}
  input flow-control is off, output flow-control is unsupported
  ARP type: ARPA, ARP Timeout 04:00:00
  Last input {"00:00:01" if alive else "never"}, output {"00:00:00" if alive else "never"}, output hang never
  Last clearing of "show interface" counters never
  Input queue: 0/2000/0/0 (size/max/drops/flushes); Total output drops: 0
  Queueing strategy: fifo
  Output queue: 0/40 (size/max)
  5 minute input rate {2000 if alive else 0} bits/sec, {3 if alive else 0} packets/sec
  5 minute output rate {4000 if alive else 0} bits/sec, {4 if alive else 0} packets/sec
     {rx_pk} packets input, {rx_pk * 90} bytes, 0 no buffer
     Received {alive // 10} broadcasts ({alive // 20} multicasts)
     0 runts, 0 giants, 0 throttles
     {errors} input errors, {errors} CRC, 0 frame, 0 overrun, 0 ignored
     0 watchdog, {alive // 20} multicast, 0 pause input
     0 input packets with dribble condition detected
     {tx_pk} packets output, {tx_pk * 90} bytes, 0 underruns
     0 output errors, 0 collisions, {1 if up else 0} interface resets
     0 unknown protocol drops
     0 babbles, 0 late collision, 0 deferred
     0 lost carrier, 0 no carrier, 0 pause output
     0 output buffer failures, 0 output buffers swapped out
"""


def show_interfaces(st: SwitchState, port: str | None = None) -> str:
    """``show interfaces [IF]``: the full per-interface block (input errors from ``errors_now``)."""
    now = time.time()
    return "".join(_interface_block(st, p, now) for p in _ports(st, port))


# --- LLDP, PoE, STP, MAC table, QoS ------------------------------------------------------------------


def _lldp_block(st: SwitchState, p: PortState) -> str:
    n = p.neighbor
    assert n is not None
    vendor = OUI_VENDORS.get(n.mac.lower()[:8], "Generic")
    pol = st.voice_policy(p)
    policy = (f"    Network Policy(Voice): VLAN {pol.vlan}, {'tagged' if pol.tagged else 'untagged'}, "
              f"Layer-2 priority: {pol.cos}, DSCP: {pol.dscp}\n") if pol else ""
    hexmac = n.mac.replace(":", "").lower()
    return f"""------------------------------------------------
Local Intf: {short_name(p.name)}
Chassis id: {dotted(n.mac)}
Port id: {hexmac}:P1
Port Description: SW PORT
System Name: {n.name}

System Description:
{vendor} {n.model}, firmware {n.firmware}

Time remaining: {91 + int(time.time()) % 30} seconds
System Capabilities: B,T
Enabled Capabilities: B,T
Management Addresses:
    IP: {n.mgmt_ip}
Auto Negotiation - supported, enabled
Physical media capabilities:
    1000baseT(FD)
    100base-TX(FD)
    100base-TX(HD)
    10base-T(FD)
    10base-T(HD)
Media Attachment Unit type: {30 if p.speed_mbps >= 1000 else 16}
Vlan ID: - not advertised
Peer Source MAC: {dotted(n.mac)}
Power via MDI:
    Power Pair: Signal
    Power Class: {n.poe_class}
    Power Device Type: PD
    Power Source: PSE
    Power Priority: high
    Power Requested: {int(n.poe_draw_w * 1000)} mW

MED Information:

    MED Codes:
          (NP) Network Policy, (LI) Location Identification
          (PS) Power Source Entity, (PD) Power Device
          (IN) Inventory

    H/W revision: 1.0
    F/W revision: {n.firmware}
    S/W revision: {n.firmware}
    Serial number: {n.serial}
    Manufacturer: {vendor}
    Model: {n.model}
    Capabilities: NP, PD, IN
    Device type: Endpoint Class III
{policy}    PD device, Power source: PSE, Power Priority: High, Wattage: {n.poe_draw_w:.1f}
    Location - not advertised

"""


def lldp_ports(st: SwitchState) -> list[PortState]:
    """Ports with an LLDP neighbour: link up and a neighbour that sends LLDP."""
    return [p for p in sorted_ports(st) if is_up(p) and p.neighbor is not None and p.neighbor.lldp]


def show_lldp_neighbors_detail(st: SwitchState) -> str:
    """``show lldp neighbors detail``: one block per LLDP neighbour, LLDP-MED section included."""
    ports = lldp_ports(st)
    return "\n" + "".join(_lldp_block(st, p) for p in ports) + f"\nTotal entries displayed: {len(ports)}\n"


def _poe_row(p: PortState) -> tuple[str, float]:
    admin = "off" if p.poe_admin == "never" else "auto"
    n = p.neighbor
    if p.poe_delivering() and n is not None:
        device = (n.model if n.lldp else "Ieee PD")[:19]
        watts = n.poe_draw_w
        oper, cls = "on", str(n.poe_class)
    else:
        watts, device, cls = 0.0, "n/a", "n/a"
        oper = "faulty" if p.poe_fault and p.poe_admin == "auto" else "off"
    return (f"{short_name(p.name):<9} {admin:<6} {oper:<10} {watts:<7.1f} {device:<19} {cls:<5} "
            f"{p.poe_max_w:.1f} "), watts


def show_power_inline(st: SwitchState) -> str:
    """``show power inline`` (IOS 15/16 layout with the per-module budget header).

    With ``st.poe_stack_layout`` (fault ``poe-stack-layout``) the module and interface header block
    is printed again after the first half of the rows with no blank line before it, as issue 13 reports a
    real 5-switch stack printing it; ntc-templates' template stops on that layout.
    """
    rows = [_poe_row(p) for p in sorted_ports(st)]
    used = sum(w for _, w in rows)
    head = ["Module   Available     Used     Remaining",
            "          (Watts)     (Watts)    (Watts) ",
            "------   ---------   --------   ---------",
            f"1        {st.poe_budget_w:>8.1f}   {used:>8.1f}   {st.poe_budget_w - used:>9.1f}",
            "Interface Admin  Oper       Power   Device              Class Max",
            "                            (Watts)                            ",
            "--------- ------ ---------- ------- ------------------- ----- ----"]
    lines = [r for r, _ in rows]
    if st.poe_stack_layout:
        half = len(lines) // 2
        lines = lines[:half] + head + lines[half:]
    return "\n".join(head + lines) + "\n"


def _stp_type(p: PortState) -> str:
    return ("Shr" if p.duplex == "half" else "P2p") + (" Edge" if p.portfast else "")


def show_spanning_tree(st: SwitchState) -> str:
    """``show spanning-tree``: one rapid-PVST instance per VLAN with an up port; this switch is root.

    Type is ``P2p Edge`` for portfast ports, ``P2p`` otherwise (``Shr`` on half duplex).
    """
    members: dict[int, list[PortState]] = {}
    for p in sorted_ports(st):
        if not is_up(p):
            continue
        vids: Iterable[int] = st.vlans if p.mode == "trunk" else {p.access_vlan, p.voice_vlan} - {None}  # type: ignore[assignment]
        for vid in vids:
            members.setdefault(vid, []).append(p)
    if not members:
        return "No spanning tree instance exists.\n"
    mac = dotted(st.base_mac)
    blocks = []
    for vid in sorted(members):
        prio = 32768 + vid
        rows = [f"{short_name(p.name):<19} Desg FWD {4 if p.speed_mbps >= 1000 else 19:<9} "
                f"{'128.' + str(p.if_index):<8} {_stp_type(p)}" for p in members[vid]]
        blocks.append(f"""
VLAN{vid:04d}
  Spanning tree enabled protocol rstp
  Root ID    Priority    {prio}
             Address     {mac}
             This bridge is the root
             Hello Time   2 sec  Max Age 20 sec  Forward Delay 15 sec

  Bridge ID  Priority    {prio}  (priority 32768 sys-id-ext {vid})
             Address     {mac}
             Hello Time   2 sec  Max Age 20 sec  Forward Delay 15 sec
             Aging Time  300 sec

Interface           Role Sts Cost      Prio.Nbr Type
------------------- ---- --- --------- -------- --------------------------------
""" + "\n".join(rows) + "\n")
    return "\n\n".join(blocks)


def mac_entries(st: SwitchState) -> list[tuple[int, str, str]]:
    """Learned MACs ``(vlan, dotted mac, short port)``: each up port's neighbour in its data VLAN
    and in its voice VLAN, sorted by VLAN then MAC."""
    out = []
    for p in st.ports.values():
        if is_up(p) and p.neighbor is not None:
            for vid in {p.access_vlan, p.voice_vlan} - {None}:
                out.append((vid, dotted(p.neighbor.mac), short_name(p.name)))
    return sorted(out, key=lambda e: (e[0], e[1]))  # type: ignore[arg-type]


def show_mac_address_table(st: SwitchState, port: str | None = None, vlan: int | None = None) -> str:
    """``show mac address-table [interface IF | vlan N]`` (IOS 15 layout, entries DYNAMIC)."""
    rows = [e for e in mac_entries(st) if (port is None or e[2] == short_name(port)) and
            (vlan is None or e[0] == vlan)]
    out = ["          Mac Address Table", "-------------------------------------------", "",
           "Vlan    Mac Address       Type        Ports", "----    -----------       --------    -----"]
    out += [f"{vid:>4}    {mac:<17} {'DYNAMIC':<11} {p}" for vid, mac, p in rows]
    out.append(f"Total Mac Addresses for this criterion: {len(rows)}")
    return "\n".join(out) + "\n"


def show_mls_qos_interface(st: SwitchState, port: str | None = None) -> str:
    """``show mls qos interface [IF]``: trust state per port (``trust dscp``, ``not trusted`` …)."""
    out = []
    for p in _ports(st, port):
        trust = p.trust if p.trust in ("dscp", "cos") else None
        state = f"trust {trust}" if trust else "not trusted"
        device = "cisco-phone" if p.trust == "device cisco-phone" else "none"
        out += [p.name, f"trust state: {state}", f"trust mode: {state}",
                f"trust enabled flag: {'ena' if trust else 'dis'}", "COS override: dis", "default COS: 0",
                "DSCP Mutation Map: Default DSCP Mutation Map", f"Trust device: {device}",
                "qos mode: port-based", ""]
    return "\n".join(out)
