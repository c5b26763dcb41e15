"""One list of CLI platforms (issue 13, item 3): every entry of ``CLI_PLATFORMS`` has a switch driver,
so the inventory check accepts exactly the platforms the CLI layer speaks; IOS-XE (``cisco_xe``) is
one of them, and reads the twin's IOS outputs with the IOS templates."""

from __future__ import annotations

from pathlib import Path

from harness.devices.drivers.switch import Switch
from harness.devices.registry import REGISTRY, load_platforms, platform_problems
from harness.inventory import LoadedLab, load
from harness.transports.cli import CLI_PLATFORMS, parse_output
from harness.twin.manager import TwinControl
from tests.conftest import make_test_lab


def test_switch_drivers_are_the_cli_platforms() -> None:
    load_platforms()
    built_in = {p for (role, p), cls in REGISTRY.items() if role == "switch" and cls.__module__.startswith("harness.")}
    assert built_in == set(CLI_PLATFORMS)


def test_every_cli_platform_has_the_templates_the_driver_reads() -> None:
    for name, platform in CLI_PLATFORMS.items():
        for command in (Switch.SHOW_VERSION, Switch.SHOW_LLDP, Switch.SHOW_MACS):
            parse_output(platform.templates, command, "")  # raises CliTableError without a template
        assert platform.netmiko, name


def test_inventory_accepts_cisco_xe(tmp_path: Path) -> None:
    file = make_test_lab(tmp_path)
    text = file.read_text()
    assert "platform: cisco_ios" in text
    file.write_text(text.replace("platform: cisco_ios", "platform: cisco_xe"))
    loaded = load(file)
    assert loaded.lab.devices["sw1"].platform == "cisco_xe"
    assert platform_problems(loaded) == []


def test_cisco_xe_reads_the_twin_switch(twin: TwinControl, loaded: LoadedLab) -> None:
    load_platforms()
    device = loaded.lab.devices["sw1"].model_copy(update={"platform": "cisco_xe"})
    sw = REGISTRY[("switch", "cisco_xe")]("sw1", device, loaded)
    assert isinstance(sw, Switch)
    try:
        got = sw.cli_read()
        assert sw.cli().device_type == "cisco_xe" and sw.cli().templates == "cisco_ios"
    finally:
        sw.close()
    assert got.unread == {} and got.ports["GigabitEthernet1/0/1"].voice_vlan is not None
