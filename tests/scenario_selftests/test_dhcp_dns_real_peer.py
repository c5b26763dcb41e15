"""NET-DHCP-DNS against a server labs really run: dnsmasq (Debian ``dnsmasq-base``, no system
service), started here on loopback addresses of the test network, with the lab's ``network.dhcp``
and ``network.dns`` pointed at it (``emulated: false``: no twin serves them). The scenario PASSes
against it as it stands, and FAILs when its configuration leaves an option out.

Two dnsmasq processes: a resolver bound to one address (``--bind-interfaces``), and a DHCP server
on ``lo`` (dnsmasq answers relayed DHCP only on an interface it serves; ``--no-ping``, since every
loopback address answers ICMP and would look taken). It only offers: the probe never REQUESTs.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from harness.transports.dhcp import discover_relayed
from harness.transports.dns import lookup
from tests.conftest import TEST_NET, make_test_lab, stop_process
from tests.scenario_runner import run_scenarios

pytestmark = [pytest.mark.timeout(120),
              pytest.mark.skipif(shutil.which("dnsmasq") is None,
                                 reason="needs dnsmasq (Debian dnsmasq-base, make setup)")]

DUTY = "NET-DHCP-DNS"
SERVER = f"{TEST_NET}.7.153"  # dnsmasq's DHCP target and resolver (the twin's are .7.67 and .7.53)
VOICE = f"{TEST_NET}.3.250"
NAMES = ("api.mypurecloud.com", "login.mypurecloud.com")
BOOT = f"http://{TEST_NET}.5.1:8080/"
OPTIONS = {3: f"{TEST_NET}.3.254", 6: SERVER, 15: "lab-a.example", 42: f"{TEST_NET}.8.123", 66: BOOT, 160: BOOT}


def _start(args: list[str], ready: Callable[[], bool]) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--user=root", "--group=root",
                             "--no-resolv", "--no-hosts", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            why = proc.stderr.read().decode() if proc.stderr else ""
            raise AssertionError(f"dnsmasq exited {proc.returncode}: {why}")
        if ready():
            return proc
        time.sleep(0.1)
    proc.terminate()
    raise AssertionError("dnsmasq did not answer within 10 s")


@pytest.fixture
def dnsmasq(tmp_path: Path) -> Iterator[Callable[[dict[int, str]], None]]:
    """Start dnsmasq's resolver; ``serve_dhcp(options)`` (re)starts its DHCP server offering ``options``."""
    dns = _start([f"--listen-address={SERVER}", "--bind-interfaces", "--port=53", f"--pid-file={tmp_path}/dns.pid",
                  *(f"--address=/{n}/{TEST_NET}.6.1" for n in NAMES)],
                 lambda: lookup(NAMES[0], SERVER, source=VOICE, timeout_s=0.2).answered)
    dhcp: list[subprocess.Popen[bytes]] = []

    def serve_dhcp(options: dict[int, str]) -> None:
        for p in dhcp:
            stop_process(p)
        dhcp.clear()
        dhcp.append(_start(["--interface=lo", "--bind-dynamic", "--port=0", "--no-ping", "--log-dhcp",
                            f"--dhcp-range={TEST_NET}.3.100,{TEST_NET}.3.199,255.255.255.0,1h",
                            f"--dhcp-leasefile={tmp_path}/leases", f"--pid-file={tmp_path}/dhcp.pid",
                            *(f"--dhcp-option={c},{v}" for c, v in options.items())],
                           lambda: discover_relayed(SERVER, giaddr=VOICE, client_mac="02:68:69:6c:00:02",
                                                    timeout_s=0.3) is not None))

    try:
        yield serve_dhcp
    finally:
        for p in (*dhcp, dns):
            stop_process(p)


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    """The test lab as a real one whose DHCP server and resolver are dnsmasq's address."""
    text = (Path(__file__).resolve().parents[2] / "lab_inventory.yaml").read_text()
    text = (text.replace("emulated: true", "emulated: false").replace("server: 127.0.7.67", "server: 127.0.7.153")
            .replace("servers: [127.0.7.53]", "servers: [127.0.7.153]"))
    return make_test_lab(tmp_path / "lab", text)


def test_the_scenario_passes_against_dnsmasq(dnsmasq, lab, tmp_path):
    dnsmasq(OPTIONS)
    # the Edge's own view (its nslookup, its WAN port) needs the emulated org, which this lab has no twin for
    r = run_scenarios(lab, tmp_path / "out", f"--duty={DUTY}", "-k", "not test_edge_resolves and not wan_port")
    verdicts = {n: t["verdict"] for n, t in r.tests(DUTY).items()}
    assert set(verdicts.values()) == {"PASS"} and len(verdicts) == 6, (verdicts, r.output[-3000:])
    offer = r.tests(DUTY)["test_dhcp_offers_an_address_and_the_required_options"]["measurements"][0]["measured"]
    assert offer.startswith(f"{TEST_NET}.3.") and " options 1, 3, 6, 15, " in offer and offer.endswith(", 160"), offer
    assert not (tmp_path / "leases").read_text(), "an OFFER only: dnsmasq holds no lease"


def test_a_dnsmasq_without_the_dns_option_fails(dnsmasq, lab, tmp_path):
    dnsmasq({c: v for c, v in OPTIONS.items() if c != 6})
    r = run_scenarios(lab, tmp_path / "out", f"--duty={DUTY}", "-k", "test_dhcp_offers")
    t = r.tests(DUTY)["test_dhcp_offers_an_address_and_the_required_options"]
    assert t["verdict"] == "FAIL", t
    assert t["message"].startswith(f"[{DUTY}] dhcp {SERVER}: DHCP option 6 (DNS servers) in the OFFER = absent; "
                                   "limit == present (IND-ACBOOT)"), t
