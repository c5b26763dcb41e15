"""The inventory's Edge WAN port facts (``facts.wan_addressing``, ``facts.wan_address``): the shipped
lab's value and a static address without ``static`` as a ``FILE:LINE: devices.…: problem`` line."""

from __future__ import annotations

from harness.inventory import load
from tests.conftest import TEST_NET, make_test_lab
from tests.inventory.test_internet import problems
from tests.inventory.test_loader import edit, line_at

LINE = "      wan_addressing: dhcp       # its WAN port takes its address by DHCP (set on the LCD; NET-DHCP-DNS)\n"


def test_the_shipped_edge_takes_its_wan_address_by_dhcp(loaded):
    facts = loaded.lab.devices["edge1"].facts
    assert (facts.wan_addressing, facts.wan_address) == ("dhcp", None)  # type: ignore[union-attr]


def test_a_static_wan_address(tmp_path):
    text = edit(LINE, "      wan_addressing: static\n      wan_address: 127.0.1.1\n")
    facts = load(make_test_lab(tmp_path, text)).lab.devices["edge1"].facts
    assert (facts.wan_addressing, facts.wan_address) == ("static", f"{TEST_NET}.1.1")  # type: ignore[union-attr]


def test_a_wan_address_needs_static(tmp_path):
    text = edit(LINE, LINE + "      wan_address: 127.0.1.1\n")  # reported on its facts: line, 3 above
    found = problems(tmp_path, text)
    assert len(found) == 1 and f":{line_at(text, LINE) - 3}: devices.edge1.facts: wan_address names the WAN port's " \
        "static address: set wan_addressing: static with it" in found[0], found


def test_a_wan_mode_is_dhcp_or_static(tmp_path):
    text = edit(LINE, "      wan_addressing: pppoe\n")
    found = problems(tmp_path, text)
    line = line_at(text, "wan_addressing: pppoe")
    assert len(found) == 1 and f":{line}: devices.edge1.facts.wan_addressing:" in found[0], found
