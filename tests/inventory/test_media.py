"""The inventory's ``network.media.wan_port``: the shipped lab's value, and a mistake in it a
``FILE:LINE: network.media.wan_port.…: problem`` line."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import InventoryError
from harness.inventory import load
from tests.conftest import make_test_lab
from tests.inventory.test_loader import edit, line_at

WAN_LINE = ("    wan_port: {switch: sw1, port: GigabitEthernet1/0/48}  # toward the WAN router: NET-BANDWIDTH reads "
            "its IF-MIB octets")


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(InventoryError) as e:
        load(make_test_lab(tmp_path, text))
    return [str(p) for p in e.value.problems]


def test_the_shipped_lab_names_the_wan_routers_switch_port(loaded):
    media = loaded.lab.network.media
    assert media is not None and media.wan_port is not None
    assert (media.wan_port.switch, media.wan_port.port) == ("sw1", "GigabitEthernet1/0/48")


@pytest.mark.parametrize(("new", "where", "says"), [
    ("    wan_port: {switch: phone1, port: GigabitEthernet1/0/48}", "network.media.wan_port.switch",
     "switch 'phone1' is not a switch in devices"),
    ("    wan_port: {switch: sw1, port: GigabitEthernet1/0/1}", "network.media.wan_port.port",
     "switch port sw1 GigabitEthernet1/0/1 is already used by phone1"),
])
def test_mistakes_name_file_line_and_key(tmp_path, new, where, says):
    text = edit(WAN_LINE, new)
    found = problems(tmp_path, text)
    line = line_at(text, new, "wan_port:")
    assert any(f":{line}: {where}: {says}" in p for p in found), (found, line)


def test_the_wan_port_s_switch_must_answer_snmp(tmp_path):
    text = edit("""    snmp:
      version: "2c"
      community: file:twin_secrets/snmp_community
    facts:
      model: WS-C3850-48P""", """    snmp: null
    facts:
      model: WS-C3850-48P""")
    found = problems(tmp_path, text)
    line = line_at(text, WAN_LINE, "wan_port:")
    assert any(f":{line}: network.media.wan_port.switch: switch 'sw1' declares no snmp" in p for p in found), found
