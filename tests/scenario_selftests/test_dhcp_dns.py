"""NET-DHCP-DNS on the twin: PASS on the healthy lab; each fault of the units ``dhcp`` and ``dns``
FAILs the check it exists for (naming the server, the duty, what was measured and the limit); a
server that answers nothing is BROKEN, not FAIL. A name the resolver does not resolve is ONE finding
(the voice VLAN's UDP lookup) with every other check that failed on it listed as its consequences."""

from __future__ import annotations

import pytest

from tests.conftest import TEST_NET, edited
from tests.scenario_runner import run_scenarios

DUTY = "NET-DHCP-DNS"
REQUIRED = "test_dhcp_offers_an_address_and_the_required_options"
SITE = "test_dhcp_offer_holds_what_the_site_hands_out"
DHCP = f"dhcp {TEST_NET}.7.67"
DNS = f"dns {TEST_NET}.7.53"
EDGE = "test_edge_resolves_genesys_names[edge1]"
WAN = "test_edge_wan_port_has_its_address[edge1]"


def names(vantage: str, transport: str) -> str:
    return f"test_genesys_names_resolve[{vantage}-{transport}]"


def _run(lab_path, out, *k: str):
    return run_scenarios(lab_path, out, f"--duty={DUTY}", *(("-k", " or ".join(k)) if k else ()))


def test_passes_on_the_healthy_twin(healthy_run):
    # the session's one full run on the healthy twin (tests/conftest.py), on the network of the worker that ran it
    r, net = healthy_run.run, healthy_run.net
    tests = r.tests(DUTY)
    assert {n: t["verdict"] for n, t in tests.items()} == dict.fromkeys(
        [REQUIRED, SITE, *(names(v, t) for v in ("voice_vlan", "edge_wan") for t in ("udp", "tcp")), EDGE, WAN],
        "PASS"), \
        r.output[-3000:]
    assert r.verdict(DUTY) == "PASS"
    seen = {m["what"]: m for m in tests[SITE]["measurements"]}
    assert seen["DHCP option 160 (boot server (Poly)) in the OFFER"]["measured"] == f"http://{net}.5.1:8080/"
    edge = tests[EDGE]["measurements"][0]
    assert edge["measured"] == 0 and f"api.mypurecloud.com: {net}.6.1 (server {net}.7.53)" in edge["detail"]


@pytest.mark.parametrize("code, test, message", [
    ("6", REQUIRED, f"[{DUTY}] {DHCP}: DHCP option 6 (DNS servers) in the OFFER = absent; limit == present "
                    "(IND-ACBOOT); options offered: 1, 3, 15, 42, 51, 53, 54, 66, 160"),
    ("160", SITE, f"[{DUTY}] {DHCP}: DHCP option 160 (boot server (Poly)) in the OFFER = nothing; limit == "
                  f"http://{TEST_NET}.5.1:8080/ (inventory)"),
])
def test_a_missing_option_fails(twin, lab_path, out, code, test, message):
    twin.fault("dhcp", "dhcp-no-option", code)
    r = _run(lab_path, out, REQUIRED, SITE)
    t = r.tests(DUTY)[test]
    assert t["verdict"] == "FAIL" and t["message"] == message, t
    assert r.verdict(DUTY) == "FAIL"


def test_a_dead_dhcp_server_is_broken(twin, lab_path, out):
    twin.fault("dhcp", "dhcp-down")
    # a dead server answers nothing however long the probe waits: 1 s here instead of the default 5 s
    with edited(lab_path, "    boot_options: [66, 160]\n", "    boot_options: [66, 160]\n    timeout_s: 1\n"):
        r = _run(lab_path, out, REQUIRED)
    t = r.tests(DUTY)[REQUIRED]
    assert t["verdict"] == "BROKEN", t
    assert t["message"].startswith(f"timeout: dhcp {TEST_NET}.7.67:67: no OFFER within 1 s to a DISCOVER relayed "
                                   f"from {TEST_NET}.3.250"), t  # the server named once


def test_dns_over_tcp_refused_fails_tcp_only(twin, lab_path, out):
    twin.fault("dns", "dns-tcp-off")
    r = _run(lab_path, out, "resolve")
    tests = r.tests(DUTY)
    assert tests[names("voice_vlan", "udp")]["verdict"] == "PASS"
    t = tests[names("voice_vlan", "tcp")]
    assert t["verdict"] == "FAIL", t
    assert t["message"].startswith(
        f"[{DUTY}] {DNS}: Genesys names that do not resolve from the voice VLAN ({TEST_NET}.3.250) over TCP = 2 names; "
        "limit <= 0 names (G-PORTS-OLD); api.mypurecloud.com: connection refused"), t
    # a refused port is the path's finding, not a name's: nothing to group it under
    assert [(f["root"]["nodeid"].split("::")[1], f["consequences"]) for f in r.summary["findings"]] == [
        (names("voice_vlan", "tcp"), []), (names("edge_wan", "tcp"), [])], r.summary["findings"]


def test_a_name_that_does_not_resolve_fails_everywhere(twin, lab_path, out):
    twin.fault("dns", "dns-nxdomain", "login.mypurecloud.com")
    r = _run(lab_path, out, "resolve")
    for v in ("voice_vlan", "edge_wan"):
        for tr in ("udp", "tcp"):
            t = r.tests(DUTY)[names(v, tr)]
            assert t["verdict"] == "FAIL", t
            assert f"over {tr.upper()} = 1 names; limit <= 0 names (G-PORTS-OLD); login.mypurecloud.com: NXDOMAIN" \
                in t["message"], t
    edge = r.tests(DUTY)[EDGE]
    assert edge["verdict"] == "FAIL" and edge["message"] == (
        f"[{DUTY}] edge1: Genesys names the Edge's own nslookup does not resolve (Genesys Cloud network diagnostic) "
        f"= 1 names; limit <= 0 names (G-PORTS-OLD); login.mypurecloud.com: NXDOMAIN (server {TEST_NET}.7.53)"), edge
    # one root cause: the resolver's record of the name, judged where a phone asks; the rest its consequences
    assert r.returncode == 1 and r.verdict(DUTY) == "FAIL"
    (f,) = r.summary["findings"]
    node = f"scenarios/network/test_dhcp_dns.py::{names('voice_vlan', 'udp')}"
    assert f["root"]["nodeid"] == node and f["inputs"] == [f"dns name login.mypurecloud.com at {TEST_NET}.7.53"], f
    assert f["root"]["device"] == DNS and f["root"]["measured"] == 1 and f["root"]["limit"] == 0, f
    assert sorted(c["nodeid"].split("::")[1] for c in f["consequences"]) == sorted(
        [names("voice_vlan", "tcp"), names("edge_wan", "udp"), names("edge_wan", "tcp"), EDGE]), f
    assert all(c["because"] == f["inputs"] and c["measured"] == 1 for c in f["consequences"]), f
    md = (out / "summary.md").read_text()
    assert "1 finding, 1 of them the root cause of other failures" in md and "- consequences (4 tests):" in md, md


def test_a_dead_resolver_is_broken(twin, lab_path, out):
    twin.fault("dns", "dns-down")
    # a dead resolver answers nothing however long the probe waits: 0.5 s per query here instead of 2 s
    with edited(lab_path, "    domain: lab-a.example\n", "    domain: lab-a.example\n    timeout_s: 0.5\n"):
        r = _run(lab_path, out, "voice_vlan", "edge")
    for tr in ("udp", "tcp"):
        t = r.tests(DUTY)[names("voice_vlan", tr)]
        assert t["verdict"] == "BROKEN" and f"timeout: dns {TEST_NET}.7.53:53: no answer over UDP" in t["message"], t
    edge = r.tests(DUTY)[EDGE]
    assert edge["verdict"] == "BROKEN" and "the Edge's resolver answered none of its nslookups" in edge["message"], edge


def test_the_edge_wan_port_passes_on_the_healthy_twin(healthy_run):
    # the session's one full run on the healthy twin (tests/conftest.py), on the network of the worker that ran it
    r = healthy_run.run
    t = r.tests(DUTY)[WAN]
    assert t["verdict"] == "PASS", r.output[-3000:]
    seen = {m["what"]: m for m in t["measurements"]}
    how = seen["how the WAN port gets its IPv4 address (ipv4Capabilities.dhcp)"]
    assert (how["measured"], how["limit"], how["detail"]) == ("dhcp", "dhcp", f"{healthy_run.net}.1.1"), how


@pytest.mark.parametrize("fault, value, message", [
    ("wan-no-address", None, f"[{DUTY}] edge1: IPv4 addresses on the WAN port (dhcp) = 0 addresses; limit >= 1 "
                             "addresses (G-LCD); none listed (its DHCP got no lease)"),
    ("wan-addressing", "static", f"[{DUTY}] edge1: how the WAN port gets its IPv4 address "
                                 f"(ipv4Capabilities.dhcp) = static; limit == dhcp (inventory); {TEST_NET}.1.1"),
])
def test_the_edge_wan_port_fails(twin, lab_path, out, fault, value, message):
    twin.fault("edge1", fault, *((value,) if value else ()))
    r = _run(lab_path, out, "wan_port")
    t = r.tests(DUTY)[WAN]
    assert t["verdict"] == "FAIL" and t["message"] == message, t


def test_an_offline_edge_wan_port_is_broken(twin, lab_path, out):
    twin.fault("edge1", "edge-offline")
    r = _run(lab_path, out, "wan_port")
    t = r.tests(DUTY)[WAN]
    assert t["verdict"] == "BROKEN" and "OFFLINE in Genesys Cloud" in t["message"], t
