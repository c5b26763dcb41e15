"""Real device outputs (shared/realworld/cli, from ntc-templates' own tests) through the switch
driver's parsing: the platform's template gives the expected records, and the driver's facts read
them right. Covers cisco_ios, cisco_nxos and arista_eos without a device of those kinds."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ntc_templates.parse import parse_output

from harness.devices.facts.switch_cli import (
    cdp_facts,
    cli_port_views,
    config_facts,
    lldp_facts,
    lldp_table_facts,
    long_interface,
    poe_facts,
    status_facts,
    stp_portfast,
    switchport_facts,
    version_facts,
    vlan_facts,
)
from harness.devices.facts.switch_ports import NetworkPolicy
from harness.transports.cli import CLI_PLATFORMS
from tests.conftest import CAPTURES

REALWORLD = CAPTURES / "cli" / "ntc-templates"
pytestmark = pytest.mark.skipif(not REALWORLD.is_dir(), reason="shared/realworld captures are not available")

#: what the driver sends, per capture command
DRIVER_COMMANDS = {"show version", "show vlan", "show interfaces switchport", "show interface switchport",
                   "show interfaces status", "show power inline", "show lldp neighbors detail",
                   "show spanning-tree", "show running-config interface", "show cdp neighbors detail",
                   "show lldp neighbors"}


def captures() -> list[tuple[str, str, Path]]:
    out = []
    for raw in sorted(REALWORLD.glob("*.raw")) if REALWORLD.is_dir() else []:
        platform, command, _ = raw.name.split("__", 2)
        command = command.replace("_", " ")
        if platform in CLI_PLATFORMS and command in DRIVER_COMMANDS:
            out.append((platform, command, raw))
    return out


@pytest.mark.parametrize(("platform", "command", "raw"), captures(), ids=lambda v: getattr(v, "stem", v))
def test_capture_parses_to_its_expected_records(platform, command, raw):
    expected = yaml.safe_load(Path(str(raw).removesuffix(".raw") + ".expected.yml").read_text())
    rows = parse_output(platform=CLI_PLATFORMS[platform].templates, command=command, data=raw.read_text())
    assert rows == expected["parsed_sample"]


def _raw(name: str, platform: str, command: str) -> str:
    return next(REALWORLD.glob(f"{platform}__{command.replace(' ', '_')}__*{name}*.raw")).read_text()


def _rows(name: str, platform: str, command: str) -> list[dict]:
    return parse_output(platform=platform, command=command, data=_raw(name, platform, command))


def test_version_facts_on_three_platforms():
    ios = version_facts(_rows("show_version4", "cisco_ios", "show version")[0])
    assert ios.version and ios.hostname and ios.uptime_s > 365 * 86400
    nxos = version_facts(_rows("show_version", "cisco_nxos", "show version")[0])
    assert (nxos.hostname, nxos.version, nxos.model, nxos.serial) == ("N9K1", "6.1(2)I3(1)", "C9396PX", "SAL1819S6LU")
    assert nxos.uptime_s == 123 * 86400 + 5 * 3600 + 15 * 60 + 19
    eos = version_facts(_rows("show_version", "arista_eos", "show version")[0])
    assert (eos.version, eos.model) == ("4.14.7M", "vEOS") and eos.uptime_s == 3600 + 5 * 60


def test_vlan_facts_on_a_real_ios_capture():
    vlans = vlan_facts(_rows("show_vlan", "cisco_ios", "show vlan"))
    assert vlans[1].name == "default" and vlans[10].name == "Management"
    assert all(p.startswith(("GigabitEthernet", "FastEthernet", "TenGigabitEthernet")) for p in vlans[1].ports)


def test_switchport_facts_on_real_ios_and_nxos_captures():
    ios = switchport_facts(_rows("voice_vlan", "cisco_ios", "show interfaces switchport"))
    gi = ios["GigabitEthernet0/1"]
    assert gi.voice_vlan is None  # "Voice VLAN: none" is no voice VLAN, not VLAN 0
    assert any(p.mode == "dynamic auto" and p.oper_mode == "static access" for p in ios.values())
    nxos = switchport_facts(_rows("voice_vlan", "cisco_nxos", "show interface switchport"))
    e1 = nxos["Ethernet1/1"]
    assert (e1.mode, e1.access_vlan, e1.voice_vlan) == ("access", 3, None)
    assert nxos["Ethernet1/2"].native_vlan == 5


def test_status_facts_on_real_ios_and_eos_captures():
    ios = status_facts(_rows("show_interfaces_status", "cisco_ios", "show interfaces status"))
    ap = ios["GigabitEthernet1/0/2"]
    assert (ap.oper_up, ap.access_vlan, ap.duplex, ap.speed_mbps, ap.description) == (True, 8, "full", 1000,
                                                                                      "AccessPoint")
    assert (ios["GigabitEthernet1/0/4"].speed_mbps, ios["GigabitEthernet1/0/5"].access_vlan) == (100, 1000)
    idle = ios["GigabitEthernet1/0/1"]
    assert (idle.oper_up, idle.duplex, idle.speed_mbps) == (False, "auto", None)
    assert ios["GigabitEthernet1/0/11"].duplex == "half" and not ios["GigabitEthernet1/0/16"].oper_up
    assert ios["GigabitEthernet1/0/23"].oper_up  # "connected: TDR" is still connected
    assert (ios["Port-channel1"].vlan, ios["Port-channel1"].access_vlan) == ("trunk", None)
    assert ios["FastEthernet1/6"].description == "test"
    eos = status_facts(_rows("show_interfaces_status", "arista_eos", "show interfaces status"))
    e = eos["Ethernet3/1/1"]
    assert (e.oper_up, e.vlan, e.duplex, e.speed_mbps) == (True, "trunk", "full", 40000)
    assert (eos["Ethernet3/2/2"].access_vlan, eos["Ethernet3/2/2"].status) == (10, "errdisabled")
    assert (eos["Ethernet3/1/4"].duplex, eos["Ethernet3/1/4"].speed_mbps) == (None, None)  # "unconf"


def test_poe_facts_on_a_faulty_port_and_an_ios12_phone():
    faulty = poe_facts(_rows("faulty", "cisco_ios", "show power inline"))
    assert len(faulty) == 5
    p = faulty["GigabitEthernet2/0/21"]
    assert (p.admin, p.oper, p.power_class, p.watts, p.max_w) == ("auto", "on", 1, 3.8, 30.0)
    bad = faulty["GigabitEthernet2/0/38"]
    assert (bad.oper, bad.power_class, bad.watts) == ("faulty", None, 0.0)
    ios12 = poe_facts(_rows("ios12", "cisco_ios", "show power inline"))
    phone = ios12["FastEthernet0/2"]
    assert (phone.oper, phone.power_class, phone.watts, phone.max_w) == ("on", 2, 6.3, 15.4)
    assert (ios12["FastEthernet0/21"].power_class, ios12["FastEthernet0/21"].watts) == (4, 15.4)
    assert ios12["FastEthernet0/1"].oper == "off"


def test_lldp_facts_read_lldp_med_policies_of_three_real_phones():
    cisco7962 = lldp_facts(_raw("detail3", "cisco_ios", "show lldp neighbors detail"))["GigabitEthernet0/1/7"]
    assert (cisco7962.system_name, cisco7962.model, cisco7962.port_id) == ("SEPC8F9F9D61BC2", "CP-7962G",
                                                                           "C8F9F9D61BC2:P1")
    assert (cisco7962.chassis_id, cisco7962.chassis_mac) == ("10.10.0.1", None)  # a network-address chassis ID
    assert cisco7962.policies == {
        "voice": NetworkPolicy("voice", vlan=10, tagged=True, cos=5, dscp=46),
        "voice-signaling": NetworkPolicy("voice-signaling", vlan=10, tagged=True, cos=4, dscp=32)}
    cisco6901 = lldp_facts(_raw("detail6", "cisco_ios", "show lldp neighbors detail"))["GigabitEthernet1/0/22"]
    assert cisco6901.model == "CP-6901" and cisco6901.chassis_mac is None
    assert cisco6901.policies["voice"] == NetworkPolicy("voice", vlan=None, tagged=False, cos=5, dscp=46)
    assert cisco6901.policies["voice-signaling"].cos == 3
    both = lldp_facts(_raw("detail_01", "cisco_ios", "show lldp neighbors detail"))
    nec = both["GigabitEthernet1/0/1"]
    assert (nec.system_name, nec.model, nec.port_id) == ("NEC IP Phone", "DT730", "0060.abbc.abbc")
    assert nec.policies == {"voice": NetworkPolicy("voice", vlan=2046, tagged=True, cos=5, dscp=46)}
    switch = both["GigabitEthernet1/1/2"]
    assert (switch.chassis_mac, switch.port_id, switch.policies) == ("24:16:ab:cd:ab:cd", "Gi1/0/16", {})


def test_stp_portfast_and_running_config_on_real_ios_captures():
    stp = stp_portfast(_rows("spanning_tree", "cisco_ios", "show spanning-tree"))
    assert stp == {"GigabitEthernet0/2": False, "GigabitEthernet0/3": False, "GigabitEthernet1/0": False}
    cfg = config_facts(_raw("running-config_interface", "cisco_ios", "show running-config interface"))
    assert len(cfg.ports) == 6 and cfg.network_policies == {}
    sub = cfg.ports["GigabitEthernet2/0/4.223427"]
    assert (sub.description, sub.trust, sub.portfast, sub.poe_admin) == ("PEOPLE | 100M", "none", False, "auto")


def test_cli_port_views_from_real_ios_captures():
    ports = switchport_facts(_rows("voice_vlan", "cisco_ios", "show interfaces switchport"))
    status = status_facts(_rows("show_interfaces_status", "cisco_ios", "show interfaces status"))
    views = cli_port_views(ports, status)
    assert set(ports) | set(status) == set(views)
    ap = views["GigabitEthernet1/0/2"]
    assert (ap.source, ap.oper_up, ap.speed_mbps, ap.duplex, ap.trust, ap.poe) == ("cli", True, 1000, "full",
                                                                                   None, None)


def test_cdp_facts_on_real_ios_and_nxos_captures():
    """``show cdp neighbors detail``: an IOS switch's neighbour, and NX-OS's five (mgmt0 included)."""
    ios = cdp_facts(_rows("cdp_neighbors_detail2", "cisco_ios", "show cdp neighbors detail"))
    nb = ios["GigabitEthernet0/3"]
    assert (nb.device_id, nb.port_id, nb.platform, nb.mgmt_address) == (
        "switchxxxxx", "GigabitEthernet0/8", "cisco WS-C3560X-24P", "1.1.1.1")
    assert nb.capabilities == ("Switch", "IGMP") and "Version 12.2(55)SE10" in nb.software
    rows = _rows("cdp_neighbors_detail", "cisco_nxos", "show cdp neighbors detail")
    nxos = cdp_facts(rows)
    assert set(nxos) == {long_interface(r["local_interface"]) for r in rows}
    assert nxos["mgmt0"].device_id == "PERIMETER" and nxos["mgmt0"].port_id == "FastEthernet1/0/32"
    assert nxos["Ethernet1/1"].device_id == "dc-lf03" and nxos["Ethernet1/1"].platform == "N9K-C9372TX"
    assert nxos["Ethernet1/1"].mgmt_address == "10.1.100.226"


def test_lldp_table_facts_on_a_real_ios_capture():
    """``show lldp neighbors`` (no detail): four neighbours on two stack members, first per port."""
    found = sorted(REALWORLD.glob("cisco_ios__show_lldp_neighbors__*.raw"))
    if not found:
        pytest.skip(f"no cisco_ios__show_lldp_neighbors__*.raw capture in {REALWORLD} (ntc-templates "
                    "tests/cisco_ios/show_lldp_neighbors/cisco_ios_show_lldp_neighbors.raw)")
    rows = parse_output(platform="cisco_ios", command="show lldp neighbors", data=found[0].read_text())
    table = lldp_table_facts(rows)
    assert set(table) == {long_interface(r["local_interface"]) for r in rows}
    nb = table["GigabitEthernet1/0/7"]
    assert (nb.system_name, nb.port_id, nb.chassis_mac, nb.policies) == ("Cisco-switch-1", "Gi0/1", None, {})
    assert table["GigabitEthernet2/0/1"].port_id == "666" and "FastEthernet0/13" in table
