"""Real device outputs (shared/realworld/cli, from ntc-templates' own tests) through the switch
driver's parsing: the platform's template gives the expected records, and the driver's facts read
them right. Covers cisco_ios, cisco_nxos and arista_eos without a device of those kinds."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ntc_templates.parse import parse_output

from harness.devices.switch import switchport_facts, version_facts, vlan_facts
from harness.transports.cli import DEVICE_TYPES

REALWORLD = Path(__file__).resolve().parents[2] / "shared" / "realworld" / "cli" / "ntc-templates"
pytestmark = pytest.mark.skipif(not REALWORLD.is_dir(), reason="shared/realworld captures are not available")

#: what the driver sends, per capture command
DRIVER_COMMANDS = {"show version", "show vlan", "show interfaces switchport", "show interface switchport"}


def captures() -> list[tuple[str, str, Path]]:
    out = []
    for raw in sorted(REALWORLD.glob("*.raw")) if REALWORLD.is_dir() else []:
        platform, command, _ = raw.name.split("__", 2)
        command = command.replace("_", " ")
        if platform in DEVICE_TYPES and command in DRIVER_COMMANDS:
            out.append((platform, command, raw))
    return out


@pytest.mark.parametrize(("platform", "command", "raw"), captures(), ids=lambda v: getattr(v, "stem", v))
def test_capture_parses_to_its_expected_records(platform, command, raw):
    expected = yaml.safe_load(Path(str(raw).removesuffix(".raw") + ".expected.yml").read_text())
    rows = parse_output(platform=DEVICE_TYPES[platform], command=command, data=raw.read_text())
    assert rows == expected["parsed_sample"]


def _rows(name: str, platform: str, command: str) -> list[dict]:
    raw = next(REALWORLD.glob(f"{platform}__{command.replace(' ', '_')}__*{name}*.raw"))
    return parse_output(platform=platform, command=command, data=raw.read_text())


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
