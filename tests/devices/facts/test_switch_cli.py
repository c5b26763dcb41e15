"""The switch's CLI fact functions (harness.devices.facts.switch_cli) on small samples written from
the ntc-templates templates' own formats (NX-OS and EOS LLDP, MAC tables, ``show interfaces``, a
running-config with LLDP-MED profiles), and on the twin's IOS output for a populated switch: what the
twin prints, the functions read back as the twin's state. Real captures: test_switch_cli_captures.py."""

from __future__ import annotations

import pytest
from ntc_templates.parse import parse_output

from harness.devices.facts.switch_cli import (
    SwitchConfig,
    cli_port_views,
    config_facts,
    error_counters,
    lldp_facts,
    mac_table,
    poe_facts,
    speed_mbps,
    status_facts,
    stp_portfast,
    switchport_facts,
)
from harness.devices.facts.switch_ports import NetworkPolicy, disagreements
from harness.inventory import LoadedLab
from harness.twin.switch.ios import IosSession
from harness.twin.switch.state import SwitchState, initial_state, populate_switch

NXOS_LLDP = """Capability codes:
  (R) Router, (B) Bridge, (T) Telephone, (C) DOCSIS Cable Device
  (W) WLAN Access Point, (P) Repeater, (S) Station, (O) Other
Device ID            Local Intf      Hold-time  Capability  Port ID

Chassis id: 0004.f2aa.0001
Port id: 0004f2aa0001
Local Port id: Eth1/1
Port Description: SW PORT
System Name: phone1
System Description: Polycom VVX 450
Time remaining: 105 seconds
System Capabilities: B, T
Enabled Capabilities: B, T
Management Address: 10.0.0.21
Management Address IPV6: not advertised
Vlan ID: 100


Total entries displayed: 1
"""

EOS_LLDP = """Interface Ethernet1 detected 1 LLDP neighbors:

  Neighbor 0004.f2aa.0002/"0004.f2aa.0002", age 6 seconds
  Discovered 1 day, 2:03:04 ago; Last changed 1 day, 2:03:04 ago
  - Chassis ID type: MAC address (4)
    Chassis ID     : 0004.f2aa.0002
  - Port ID type: MAC address (3)
    Port ID     : 0004.f2aa.0002
  - Time To Live: 120 seconds
  - Port Description: "SW PORT"
  - System Name: "phone2"
  - System Description: "Polycom VVX 450"
  - Management Address Subtype: IPv4 (1)
    Management Address       : 10.0.0.22

"""

NXOS_STATUS = """
--------------------------------------------------------------------------------
Port          Name               Status    Vlan      Duplex  Speed   Type
--------------------------------------------------------------------------------
mgmt0         --                 connected routed    full    1000    --
Eth1/1        phone1             connected 10        full    1000    10Gbase-SR
Eth1/2        --                 notconnec 1         auto    auto    10Gbase-SR
Eth1/3        uplink             connected trunk     full    10G     10Gbase-SR
"""

IOS_MAC = """          Mac Address Table
-------------------------------------------

Vlan    Mac Address       Type        Ports
----    -----------       --------    -----
 All    0100.0ccc.cccc    STATIC      CPU
  10    0004.f2aa.0001    DYNAMIC     Gi1/0/1
 100    0004.f2aa.0001    DYNAMIC     Gi1/0/1
  10    0004.f2aa.0002    DYNAMIC     Gi1/0/2
Total Mac Addresses for this criterion: 4
"""

NXOS_MAC = """Legend:
        * - primary entry, G - Gateway MAC, (R) - Routed MAC, O - Overlay MAC
        age - seconds since last seen,+ - primary entry using vPC Peer-Link,
        (T) - True, (F) - False, C - ControlPlane MAC, ~ - vsan
   VLAN     MAC Address      Type      age     Secure NTFY Ports
---------+-----------------+--------+---------+------+----+------------------
*   10     0004.f2aa.0001   dynamic  0         F      F    Eth1/1
G    -     001b.0c00.0000   static   -         F      F    sup-eth1(R)
"""

EOS_MAC = """          Mac Address Table
------------------------------------------------------------------

Vlan    Mac Address       Type        Ports      Moves   Last Move
----    -----------       ----        -----      -----   ---------
  10    0004.f2aa.0002    DYNAMIC     Et1        1       0:00:12 ago
Total Mac Addresses for this criterion: 1
"""

IOS_INTERFACES = """GigabitEthernet1/0/1 is up, line protocol is up (connected)
  Hardware is Gigabit Ethernet, address is 001b.0c00.0101 (bia 001b.0c00.0101)
  Description: phone1
  MTU 1500 bytes, BW 1000000 Kbit/sec, DLY 10 usec,
     reliability 255/255, txload 1/255, rxload 1/255
  Encapsulation ARPA, loopback not set
  Keepalive set (10 sec)
  Full-duplex, 1000Mb/s, media type is 10/100/1000BaseTX
  input flow-control is off, output flow-control is unsupported
  ARP type: ARPA, ARP Timeout 04:00:00
  Last input 00:00:01, output 00:00:00, output hang never
  Last clearing of "show interface" counters never
  Input queue: 0/2000/0/0 (size/max/drops/flushes); Total output drops: 0
  Queueing strategy: fifo
  Output queue: 0/40 (size/max)
  5 minute input rate 2000 bits/sec, 3 packets/sec
  5 minute output rate 4000 bits/sec, 5 packets/sec
     123456 packets input, 9876543 bytes, 0 no buffer
     Received 1234 broadcasts (1000 multicasts)
     0 runts, 0 giants, 0 throttles
     17 input errors, 17 CRC, 0 frame, 0 overrun, 0 ignored
     0 watchdog, 1000 multicast, 0 pause input
     0 input packets with dribble condition detected
     234567 packets output, 12345678 bytes, 0 underruns
     0 output errors, 0 collisions, 1 interface resets
     0 unknown protocol drops
     0 babbles, 0 late collision, 0 deferred
     0 lost carrier, 0 no carrier, 0 pause output
     0 output buffer failures, 0 output buffers swapped out
"""

RUNNING_CONFIG = """Building configuration...

Current configuration : 900 bytes
!
hostname sw1
!
network-policy profile 1
 voice vlan 100 cos 5
 voice vlan 100 dscp 46
!
network-policy profile 2
 voice vlan dot1p cos 4
 voice-signaling vlan 200 cos 3 dscp 24
!
interface GigabitEthernet1/0/1
 description phone1
 switchport access vlan 10
 switchport mode access
 switchport voice vlan 100
 network-policy 1
 mls qos trust dscp
 spanning-tree portfast
!
interface GigabitEthernet1/0/2
 switchport mode access
 mls qos trust device cisco-phone
 power inline never
 spanning-tree portfast disable
!
interface GigabitEthernet1/0/3
 mls qos trust device cisco-phone
 mls qos trust cos
 spanning-tree portfast edge
!
interface GigabitEthernet1/0/4
!
end
"""


def _parse(platform: str, command: str, text: str) -> list[dict]:
    return parse_output(platform=platform, command=command, data=text)


def test_speed_words():
    assert [speed_mbps(s) for s in ("a-1000", "100", "a-40G", "10G", "auto", "unconf", "")] == [
        1000, 100, 40000, 10000, None, None, None]


def test_nxos_status_and_lldp():
    st = status_facts(_parse("cisco_nxos", "show interface status", NXOS_STATUS))
    e1 = st["Ethernet1/1"]
    assert (e1.oper_up, e1.access_vlan, e1.duplex, e1.speed_mbps, e1.description) == (True, 10, "full", 1000, "phone1")
    assert (st["Ethernet1/2"].oper_up, st["Ethernet1/2"].speed_mbps, st["Ethernet1/2"].description) == (False, None, "")
    assert (st["Ethernet1/3"].vlan, st["Ethernet1/3"].speed_mbps) == ("trunk", 10000)
    n = lldp_facts(NXOS_LLDP, "cisco_nxos")["Ethernet1/1"]
    assert (n.chassis_mac, n.system_name, n.port_id, n.policies) == ("00:04:f2:aa:00:01", "phone1", "0004f2aa0001", {})


def test_eos_lldp():
    n = lldp_facts(EOS_LLDP, "arista_eos")["Ethernet1"]
    assert (n.chassis_id, n.chassis_mac, n.system_name) == ("0004.f2aa.0002", "00:04:f2:aa:00:02", "phone2")


def test_mac_tables_on_three_platforms():
    ios = mac_table(_parse("cisco_ios", "show mac address-table", IOS_MAC))
    assert ios == {"GigabitEthernet1/0/1": ("00:04:f2:aa:00:01",), "GigabitEthernet1/0/2": ("00:04:f2:aa:00:02",)}
    nxos = mac_table(_parse("cisco_nxos", "show mac address-table", NXOS_MAC))
    assert nxos == {"Ethernet1/1": ("00:04:f2:aa:00:01",)}  # the supervisor's own MAC is not a port's
    eos = mac_table(_parse("arista_eos", "show mac address-table", EOS_MAC))
    assert eos == {"Ethernet1": ("00:04:f2:aa:00:02",)}


def test_error_counters_from_show_interfaces():
    assert error_counters(_parse("cisco_ios", "show interfaces", IOS_INTERFACES)) == {"GigabitEthernet1/0/1": 17}


def test_config_facts_ports_and_network_policies():
    cfg = config_facts(RUNNING_CONFIG)
    p1, p2, p3, p4 = (cfg.ports[f"GigabitEthernet1/0/{n}"] for n in range(1, 5))
    assert (p1.description, p1.trust, p1.portfast, p1.poe_admin, p1.network_policy) == ("phone1", "dscp", True,
                                                                                        "auto", 1)
    assert (p2.trust, p2.portfast, p2.poe_admin, p2.network_policy) == ("device cisco-phone", False, "never", None)
    assert (p3.trust, p3.portfast) == ("cos", True)  # the trusted field wins over the condition
    assert (p4.trust, p4.portfast, p4.poe_admin) == ("none", False, "auto")
    assert cfg.network_policies[1] == {"voice": NetworkPolicy("voice", vlan=100, tagged=True, cos=5, dscp=46)}
    assert cfg.network_policies[2] == {
        "voice": NetworkPolicy("voice", vlan=0, tagged=True, cos=4, dscp=None),
        "voice-signaling": NetworkPolicy("voice-signaling", vlan=200, tagged=True, cos=3, dscp=24)}


def test_cli_port_views_combine_sources():
    status = status_facts(_parse("cisco_nxos", "show interface status", NXOS_STATUS))
    views = cli_port_views({}, status, in_errors={"Ethernet1/1": 3},
                           macs=mac_table(_parse("cisco_nxos", "show mac address-table", NXOS_MAC)),
                           lldp=lldp_facts(NXOS_LLDP, "cisco_nxos"), config=SwitchConfig())
    e1 = views["Ethernet1/1"]
    assert (e1.mode, e1.access_vlan, e1.in_errors, e1.macs, e1.trust) == ("access", 10, 3, ("00:04:f2:aa:00:01",),
                                                                          None)
    assert e1.lldp is not None and e1.lldp.system_name == "phone1"
    assert (views["Ethernet1/3"].mode, views["Ethernet1/3"].access_vlan) == ("trunk", None)
    assert views["mgmt0"].mode == "routed"


# --- the twin's IOS output read back --------------------------------------------------------------

TWIN_COMMANDS = ("show interfaces switchport", "show interfaces status", "show interfaces", "show power inline",
                 "show lldp neighbors detail", "show spanning-tree", "show mac address-table",
                 "show running-config")


def _bend(st: SwitchState) -> None:
    """Phone 2's port in a wrong state (what the twin's faults do to the state)."""
    p = st.ports["GigabitEthernet1/0/2"]
    p.duplex, p.speed_mbps, p.trust, p.portfast, p.poe_admin, p.in_errors = "half", 100, None, False, "never", 42
    p.voice_vlan, p.network_policy = None, None
    st.ports["GigabitEthernet1/0/3"].access_vlan = 20
    neighbor = st.ports["GigabitEthernet1/0/4"].neighbor
    assert neighbor is not None
    neighbor.lldp = False


@pytest.fixture(params=["healthy", "bent"])
def twin_switch(loaded: LoadedLab, request: pytest.FixtureRequest) -> tuple[SwitchState, dict[str, str]]:
    """sw1 as the twin boots it (populate_switch), healthy or with phone ports bent (:func:`_bend`),
    and what its IOS CLI prints for each command (commands the twin's CLI does not know yet are left out)."""
    st = initial_state("sw1", loaded.lab.devices["sw1"])
    assert isinstance(st, SwitchState)
    populate_switch(st, "sw1", loaded.lab)
    if request.param == "bent":
        _bend(st)
    session = IosSession(st)
    session.mode = "exec"
    outputs = {}
    for command in TWIN_COMMANDS:
        out, _ = session.handle(command)
        if not (out.lstrip().startswith("^") or out.startswith("% ")):
            outputs[command] = out
    return st, outputs


def _need(outputs: dict[str, str], *commands: str) -> None:
    missing = [c for c in commands if c not in outputs]
    if missing:
        pytest.skip(f"the twin's IOS CLI does not render {', '.join(missing)} yet")


def test_twin_status_and_switchport_read_back(twin_switch):
    st, out = twin_switch
    _need(out, "show interfaces status", "show interfaces switchport")
    views = cli_port_views(switchport_facts(_parse("cisco_ios", "show interfaces switchport",
                                                   out["show interfaces switchport"])),
                           status_facts(_parse("cisco_ios", "show interfaces status", out["show interfaces status"])))
    assert set(views) == set(st.ports)
    for name, p in st.ports.items():
        v = views[name]
        assert (v.oper_up, v.access_vlan, v.voice_vlan) == (p.oper_up and p.admin_up, p.access_vlan, p.voice_vlan)
        if v.oper_up:
            assert (v.speed_mbps, v.duplex) == (p.speed_mbps, p.duplex)


def test_twin_errors_read_back(twin_switch):
    st, out = twin_switch
    _need(out, "show interfaces")
    errors = error_counters(_parse("cisco_ios", "show interfaces", out["show interfaces"]))
    assert errors == {name: p.errors_now() for name, p in st.ports.items()}


def test_twin_poe_read_back(twin_switch):
    st, out = twin_switch
    _need(out, "show power inline")
    poe = poe_facts(_parse("cisco_ios", "show power inline", out["show power inline"]))
    for name, p in st.ports.items():
        assert (poe[name].oper == "on") == p.poe_delivering(), name
        if p.poe_delivering() and p.neighbor is not None:
            assert poe[name].power_class == p.neighbor.poe_class


def test_twin_lldp_read_back(twin_switch):
    st, out = twin_switch
    _need(out, "show lldp neighbors detail")
    lldp = lldp_facts(out["show lldp neighbors detail"])
    phones = {name: p for name, p in st.ports.items() if p.neighbor is not None and p.neighbor.lldp}
    assert set(lldp) == set(phones) and len(phones) >= 3
    for name, p in phones.items():
        assert p.neighbor is not None
        n = lldp[name]
        assert n.system_name and (n.chassis_mac == p.neighbor.mac or p.neighbor.mac.replace(":", "") in
                                  n.port_id.lower().replace(".", "").replace(":", ""))
        if p.network_policy is None:
            assert "voice" not in n.policies, name
            continue
        want = st.network_policies[p.network_policy]
        voice = n.policies["voice"]
        assert (voice.vlan, voice.cos, voice.dscp, voice.tagged) == (want.vlan, want.cos, want.dscp, want.tagged)


def test_twin_portfast_macs_and_config_read_back(twin_switch):
    st, out = twin_switch
    _need(out, "show running-config")
    if "network-policy profile" not in out["show running-config"]:
        pytest.skip("the twin's running-config does not print network-policy / QoS / portfast lines yet")
    cfg = config_facts(out["show running-config"])
    for name, p in st.ports.items():
        c = cfg.ports[name]
        assert (c.trust, c.portfast, c.poe_admin, c.network_policy) == (p.trust or "none", p.portfast, p.poe_admin,
                                                                       p.network_policy), name
    for number, pol in st.network_policies.items():
        voice = cfg.network_policies[number]["voice"]
        assert (voice.vlan, voice.cos, voice.dscp) == (pol.vlan, pol.cos, pol.dscp)
    if "show spanning-tree" in out:
        stp = stp_portfast(_parse("cisco_ios", "show spanning-tree", out["show spanning-tree"]))
        assert all(stp[n] == st.ports[n].portfast for n in stp) and stp
    if "show mac address-table" in out:
        macs = mac_table(_parse("cisco_ios", "show mac address-table", out["show mac address-table"]))
        for name, p in st.ports.items():
            if p.neighbor is not None and p.oper_up:
                assert p.neighbor.mac in macs.get(name, ()), name


def test_twin_full_cli_view_agrees_with_itself(twin_switch):
    """All views folded: every phone port is an access port in the data VLAN with the voice VLAN."""
    st, out = twin_switch
    _need(out, *TWIN_COMMANDS)
    views = cli_port_views(
        switchport_facts(_parse("cisco_ios", "show interfaces switchport", out["show interfaces switchport"])),
        status_facts(_parse("cisco_ios", "show interfaces status", out["show interfaces status"])),
        in_errors=error_counters(_parse("cisco_ios", "show interfaces", out["show interfaces"])),
        poe=poe_facts(_parse("cisco_ios", "show power inline", out["show power inline"])),
        lldp=lldp_facts(out["show lldp neighbors detail"]),
        portfast=stp_portfast(_parse("cisco_ios", "show spanning-tree", out["show spanning-tree"])),
        macs=mac_table(_parse("cisco_ios", "show mac address-table", out["show mac address-table"])),
        config=config_facts(out["show running-config"]))
    phone = views["GigabitEthernet1/0/1"]
    assert (phone.mode, phone.access_vlan, phone.voice_vlan, phone.trust, phone.portfast) == ("access", 10, 100,
                                                                                            "dscp", True)
    assert phone.poe is not None and phone.lldp is not None and phone.macs
    assert disagreements(views, views) == []
    if st.ports["GigabitEthernet1/0/2"].duplex == "half":
        bent = views["GigabitEthernet1/0/2"]
        assert (bent.duplex, bent.speed_mbps, bent.trust, bent.portfast, bent.in_errors, bent.voice_vlan) == (
            "half", 100, "none", False, 42, None)
        assert bent.poe is not None and bent.poe.oper == "off"
        assert views["GigabitEthernet1/0/3"].access_vlan == 20 and views["GigabitEthernet1/0/4"].lldp is None
