"""The DHCP probe's broadcast path (``vantage.interface``): a DISCOVER broadcast on a veth whose
other end sits in a network namespace with dnsmasq serving DHCP on it, as a phone's first packet on
the voice VLAN. The namespace's addresses (10.<second octet of the test net>.7.0/24) exist only
inside it; the harness's end of the veth has no address, as a client's has none before its lease."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.transports.dhcp import DhcpProbeError, discover_broadcast
from tests.conftest import TEST_NET

pytestmark = [pytest.mark.timeout(60),
              pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("dnsmasq") or not shutil.which("ip"),
                                 reason="needs root, iproute2 and dnsmasq (Debian dnsmasq-base)")]

OCTET = TEST_NET.split(".")[1]
NS, HOST_END, NS_END = f"hil{OCTET}dhcp", f"hil{OCTET}a", f"hil{OCTET}b"
NET = f"10.{OCTET}.7"


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
                                 f"--dhcp-range={NET}.100,{NET}.199,255.255.255.0,1h", f"--dhcp-option=3,{NET}.254",
                                 f"--dhcp-option=160,http://{NET}.5/", f"--dhcp-leasefile={tmp_path}/leases",
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
