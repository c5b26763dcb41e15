"""The DHCP probe's broadcast path (``vantage.interface``): a DISCOVER broadcast on a veth whose
other end sits in a network namespace with dnsmasq serving DHCP on it, as a phone's first packet on
the voice VLAN. The namespace's addresses (10.<second octet of the test net>.7.0/24) exist only
inside it; the harness's end of the veth has no address, as a client's has none before its lease.
The probe alone, then NET-DHCP-DNS's DHCP tests on a lab whose ``vantage.interface`` is that veth."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.transports.dhcp import DhcpProbeError, discover_broadcast
from tests.conftest import REPO, TEST_NET, make_test_lab
from tests.scenario_runner import run_scenarios

pytestmark = [pytest.mark.timeout(60),
              pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("dnsmasq") or not shutil.which("ip"),
                                 reason="needs root, iproute2 and dnsmasq (Debian dnsmasq-base)")]

OCTET = TEST_NET.split(".")[1]
NS, HOST_END, NS_END = f"hil{OCTET}dhcp", f"hil{OCTET}a", f"hil{OCTET}b"
NET = f"10.{OCTET}.7"
BOOT = f"http://{NET}.5/"
#: what the namespace's dnsmasq offers: what the lab below says the site hands out
OPTIONS = {3: f"{NET}.254", 6: f"{NET}.53", 15: "lab-a.example", 42: f"{NET}.123", 66: BOOT, 160: BOOT}


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


@pytest.fixture
def voice_vlan(tmp_path: Path) -> Iterator[str]:
    """A veth (its host end's name) whose far end has dnsmasq serving DHCP, in its own namespace."""
    subprocess.run(["ip", "netns", "del", NS], capture_output=True, timeout=10)  # left by a run that died
    _ip("netns", "add", NS)
    proc = None
    try:
        _ip("link", "add", HOST_END, "type", "veth", "peer", "name", NS_END)
        _ip("link", "set", NS_END, "netns", NS)
        _ip("link", "set", HOST_END, "up")
        _ip("-n", NS, "link", "set", NS_END, "up")
        _ip("-n", NS, "addr", "add", f"{NET}.1/24", "dev", NS_END)
        proc = subprocess.Popen(["ip", "netns", "exec", NS, "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null",
                                 "--user=root", "--group=root", "--no-resolv", "--no-hosts", "--port=0", "--no-ping",
                                 f"--interface={NS_END}", "--bind-interfaces",
                                 f"--dhcp-range={NET}.100,{NET}.199,255.255.255.0,1h",
                                 *(f"--dhcp-option={c},{v}" for c, v in OPTIONS.items()),
                                 f"--dhcp-leasefile={tmp_path}/leases",
                                 f"--pid-file={tmp_path}/pid"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)  # dnsmasq binds its DHCP socket at once; the first DISCOVER's timeout covers the rest
        yield HOST_END
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(5)
        subprocess.run(["ip", "netns", "del", NS], capture_output=True, timeout=10)  # takes the veth pair with it


def test_a_broadcast_discover_gets_the_offer(voice_vlan: str, tmp_path: Path) -> None:
    offer = discover_broadcast(voice_vlan, client_mac="02:68:69:6c:00:03", vendor_class="Polycom-VVX411", timeout_s=5)
    assert offer is not None
    assert offer.server == f"{NET}.1" and offer.your_address.startswith(f"{NET}.") and offer.relay == "0.0.0.0"
    assert offer.addresses(3) == [f"{NET}.254"] and offer.text(160) == f"http://{NET}.5/"
    assert not (tmp_path / "leases").read_text(), "an OFFER only: no lease taken"


def test_an_interface_that_does_not_exist_is_a_probe_error() -> None:
    with pytest.raises(DhcpProbeError, match="nohil0"):
        discover_broadcast("nohil0", client_mac="02:68:69:6c:00:03", timeout_s=1)


def test_the_scenario_asks_by_broadcast_on_the_vantage_interface(voice_vlan: str, tmp_path: Path) -> None:
    text = (REPO / "lab_inventory.yaml").read_text().replace("emulated: true", "emulated: false")
    for old, new in ((  "    voice_vlan: 127.0.3.250", f"    voice_vlan: {NET}.250\n    interface: {voice_vlan}"),
                     ("router: 127.0.3.254", f"router: {NET}.254"), ("boot_server: http://127.0.5.1:8080/",
                                                                       f"boot_server: {BOOT}"),
                     ("ntp_servers: [127.0.8.123]", f"ntp_servers: [{NET}.123]"),
                     ("servers: [127.0.7.53]", f"servers: [{NET}.53]")):
        assert old in text, old
        text = text.replace(old, new)
    lab = make_test_lab(tmp_path / "lab", text)
    r = run_scenarios(lab, tmp_path / "out", "--duty=NET-DHCP-DNS", "-k", "offer")  # the DHCP tests only
    tests = r.tests("NET-DHCP-DNS")
    verdicts = {n: t["verdict"] for n, t in tests.items()}
    assert verdicts == {"test_dhcp_offers_an_address_and_the_required_options": "PASS",
                        "test_dhcp_offer_holds_what_the_site_hands_out": "PASS"}, r.output[-3000:]
    offer = tests["test_dhcp_offers_an_address_and_the_required_options"]["measurements"][0]["measured"]
    assert offer.startswith(f"{NET}.") and f" from {NET}.1 in " in offer, offer
