"""The inventory's Edge WAN port facts (``facts.wan_addressing``, ``facts.wan_address``,
``facts.proxy``): the shipped lab's values, and each mistake a ``FILE:LINE: devices.…: problem`` line."""

from __future__ import annotations

import pytest

from harness.inventory import load
from harness.inventory.models import proxy_endpoint
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
    text = edit(LINE, LINE + "      wan_address: 127.0.1.1\n")  # reported at its own line and path
    found = problems(tmp_path, text)
    line = line_at(text, "wan_address: ")
    assert len(found) == 1 and f":{line}: devices.edge1.facts.wan_address: wan_address names the WAN port's " \
        "static address: set wan_addressing: static with it" in found[0], found


def test_a_wan_mode_is_dhcp_or_static(tmp_path):
    text = edit(LINE, "      wan_addressing: pppoe\n")
    found = problems(tmp_path, text)
    line = line_at(text, "wan_addressing: pppoe")
    assert len(found) == 1 and f":{line}: devices.edge1.facts.wan_addressing:" in found[0], found


@pytest.mark.parametrize(("text", "endpoint"), [
    ("proxy.example.net", ("proxy.example.net", 80)), ("192.0.2.8:3128", ("192.0.2.8", 3128)),
    ("2001:db8::8", ("2001:db8::8", 80)), ("[2001:db8::8]:8080", ("2001:db8::8", 8080)),
])
def test_an_edge_proxy_and_its_port(text, endpoint):
    assert proxy_endpoint(text) == endpoint


def test_the_shipped_edge_has_a_proxy_and_a_bad_one_is_named(loaded, tmp_path):
    assert loaded.lab.devices["edge1"].facts.proxy == f"{TEST_NET}.9.80:3128"  # type: ignore[union-attr]
    text = edit("      proxy: 127.0.9.80:3128 ", "      proxy: 127.0.9.80:99999 ")
    found = problems(tmp_path, text)
    assert len(found) == 1 and f":{line_at(text, 'proxy: 127.0.9.80:99999')}: devices.edge1.facts.proxy: must be " \
        "host or host:port with a port 1-65535" in found[0], found


@pytest.mark.parametrize("written", ["http://127.0.9.80:3128", "hil:s3cret@127.0.9.80:3128"])
def test_an_edge_proxy_written_as_a_url_is_told_apart_from_cloud_proxy(tmp_path, written):
    text = edit("      proxy: 127.0.9.80:3128 ", f"      proxy: {written} ")
    found = problems(tmp_path, text)
    assert len(found) == 1 and f":{line_at(text, 'proxy: ' + written)}: devices.edge1.facts.proxy: must be host " \
        "or host:port, without a scheme or credentials" in found[0] and "unlike cloud.proxy" in found[0], found
    assert "s3cret" not in found[0]  # a password written into the wrong field is not echoed
