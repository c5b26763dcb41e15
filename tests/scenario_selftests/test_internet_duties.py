"""NET-NAT, INET-ACCESS and INET-QUALITY on the twin's emulated internet: PASS on the healthy twin,
FAIL under each fault that breaks the duty (naming the vantage, the measured value and the limit),
BROKEN when the internet unit is dead."""

from __future__ import annotations

import pytest

from harness.inventory import load
from tests.scenario_runner import run_scenarios

NAT = "test_nat_mapping_is_endpoint_independent"
ACCESS = "test_edge_wan_reaches_genesys_cloud"
EDGE_VIEW = "test_edge_is_online_and_traces_to_genesys[edge1]"
TLS = "test_tls_to_genesys_is_not_intercepted"
SRFLX = "test_stun_returns_a_server_reflexive_address"
MEDIA = "test_media_udp_source_ports_pass"
PROXY = "test_edge_proxy_accepts_tcp[edge1]"
K = "internet"  # -k: the scenarios of scenarios/network/test_internet.py


def _run(lab_path, out, *duties):
    return run_scenarios(lab_path, out, *(f"--duty={d}" for d in duties), "-k", "internet or nat or stun or tls")


def _measured(t, prefix):
    return next(m for m in t["measurements"] if m["what"].startswith(prefix))


def test_all_three_pass_on_the_healthy_twin(healthy_run):
    # the session's one full run on the healthy twin (tests/conftest.py), on the network of the worker that ran it
    r, loaded = healthy_run.run, load(healthy_run.lab_path)
    tests = r.tests()
    for name in (NAT, ACCESS, EDGE_VIEW, TLS, SRFLX, MEDIA, PROXY):
        assert tests[name]["verdict"] == "PASS", (name, tests[name], r.output[-2000:])
    media = [m["what"].split(" to ")[0] for m in tests[MEDIA]["measurements"]]
    assert media == [f"UDP from source port {p}" for p in (16384, 28672, 40960, 53247, 65535)], media
    assert _measured(tests[NAT], "NAT mapping")["measured"] == "endpoint-independent"
    assert _measured(tests[NAT], "NAT filtering")["measured"] == "endpoint-independent"
    assert _measured(tests[TLS], "issuer of api.mypurecloud.com")["measured"] == "HIL Emulated Public Root CA"
    public = loaded.lab.network.internet.public_address
    assert _measured(tests[SRFLX], "server-reflexive address (the NAT")["measured"] == public
    ports = [m["what"] for m in tests[ACCESS]["measurements"]]
    assert [w.split(" to ")[0] for w in ports] == ["TCP 443 + TLS", "STUN UDP 3478", "STUN TCP 3478", "DNS UDP 53",
                                                   "DNS TCP 53"], ports
    assert _measured(tests[EDGE_VIEW], "online_status")["measured"] == "ONLINE"
    for duty in ("NET-NAT", "INET-ACCESS"):
        assert r.verdict(duty) == "PASS"


@pytest.mark.parametrize("fault", ["nat-symmetric", "nat-address-dependent"])
def test_nat_fails_without_endpoint_independent_mapping(twin, lab_path, out, fault):
    twin.fault("internet", fault)
    t = _run(lab_path, out, "NET-NAT").tests()[NAT]
    want = {"nat-symmetric": "address-and-port-dependent", "nat-address-dependent": "address-dependent"}[fault]
    assert t["verdict"] == "FAIL", t
    assert t["message"].startswith(f"[NET-NAT] Edge WAN {lab_path.read_text().split('edge_wan: ')[1].split()[0]}: "
                                   f"NAT mapping toward "), t["message"]
    assert f"(RFC 5780) = {want}; limit == endpoint-independent (STD-RFC4787)" in t["message"], t["message"]


def test_nat_passes_a_port_restricted_cone_and_reports_its_filtering(twin, lab_path, out):
    twin.fault("internet", "nat-port-restricted")
    t = _run(lab_path, out, "NET-NAT").tests()[NAT]
    assert t["verdict"] == "PASS", t
    assert _measured(t, "NAT filtering")["measured"] == "address-and-port-dependent"


def test_udp_blocked_fails_nat_access_and_srflx(twin, lab_path, out):
    twin.fault("internet", "udp-blocked")
    tests = _run(lab_path, out, "NET-NAT", "INET-ACCESS", "INET-QUALITY").tests()
    assert tests[NAT]["verdict"] == "FAIL" and "= no answer over UDP; limit == endpoint-independent" in \
        tests[NAT]["message"] and "STUN over TCP answered" in tests[NAT]["message"], tests[NAT]
    assert tests[ACCESS]["verdict"] == "FAIL", tests[ACCESS]
    assert "STUN UDP 3478 to " in tests[ACCESS]["message"] and "= no answer within 2 x 500 ms; limit == open " \
        "(G-FW-FAQ)" in tests[ACCESS]["message"], tests[ACCESS]["message"]
    assert tests[SRFLX]["verdict"] == "FAIL" and "= no answer over UDP; limit == returned (G-NAT)" in \
        tests[SRFLX]["message"], tests[SRFLX]
    assert tests[TLS]["verdict"] == "PASS"
    assert tests[MEDIA]["verdict"] == "FAIL" and "STUN over TCP answered" not in tests[MEDIA]["message"], tests[MEDIA]


def test_access_fails_when_a_media_source_port_band_is_dropped(twin, lab_path, out):
    twin.fault("internet", "udp-src-drop", "40000-41000")
    t = _run(lab_path, out, "INET-ACCESS").tests()[MEDIA]
    wan = lab_path.read_text().split("edge_wan: ")[1].split()[0]
    stun = lab_path.read_text().split("stun:\n    server: ")[1].split()[0]
    assert t["verdict"] == "FAIL" and t["message"] == (
        f"[INET-ACCESS] Edge WAN {wan}: UDP from source port 40960 to STUN {stun}:3478 (WebRTC media) = no answer "
        "within 2 x 500 ms; limit == open (G-CLIENTPORTS); media_udp_source_ports 16384-65535; no STUN answer"), t
    seen = {m["what"].split(" to ")[0]: m["measured"] for m in t["measurements"]}
    assert seen["UDP from source port 16384"] == "open" and seen["UDP from source port 65535"] == "open", seen


def test_access_fails_when_the_edge_proxy_refuses(twin, lab_path, out):
    twin.fault("internet", "port-refuse", "3128")
    t = _run(lab_path, out, "INET-ACCESS").tests()[PROXY]
    wan = lab_path.read_text().split("edge_wan: ")[1].split()[0]
    proxy = lab_path.read_text().split("proxy: ")[1].split()[0]
    assert t["verdict"] == "FAIL" and t["message"] == (
        f"[INET-ACCESS] edge1: TCP from the Edge WAN ({wan}) to its proxy {proxy} (Edge.proxy) = refused; "
        "limit == open (G-LCD); TCP reset"), t


@pytest.mark.parametrize(("fault", "seen"), [("port-refuse", "refused"), ("port-drop", "no answer within 2000 ms")])
def test_access_fails_on_a_blocked_443(twin, lab_path, out, fault, seen):
    twin.fault("internet", fault, "443")
    t = _run(lab_path, out, "INET-ACCESS").tests()[ACCESS]
    assert t["verdict"] == "FAIL", t
    assert "TCP 443 + TLS to api.mypurecloud.com (" in t["message"] and f"= {seen}; limit == open (G-LCD)" in \
        t["message"], t["message"]


def test_access_fails_on_a_refused_stun_port(twin, lab_path, out):
    twin.fault("internet", "port-refuse", "3478")
    t = _run(lab_path, out, "INET-ACCESS").tests()[ACCESS]
    assert t["verdict"] == "FAIL" and "STUN UDP 3478 to " in t["message"] and "= refused; limit == open" in \
        t["message"], t
    assert _measured(t, "STUN TCP 3478")["measured"] == "refused"


def test_access_fails_on_a_dropped_dns_port(twin, lab_path, out):
    twin.fault("internet", "port-drop", "53")
    t = _run(lab_path, out, "INET-ACCESS").tests()[ACCESS]
    assert t["verdict"] == "FAIL" and "DNS 53 over UDP and TCP to " in t["message"] and \
        "= no answer within 2000 ms" in t["message"], t


def test_access_reads_a_refused_dns_port_as_refused(twin, lab_path, out):
    twin.fault("internet", "port-refuse", "53")
    t = _run(lab_path, out, "INET-ACCESS").tests()[ACCESS]
    dns = lab_path.read_text().split("dns_server: ")[1].split()[0]
    assert t["verdict"] == "FAIL" and t["message"] == (
        f"[INET-ACCESS] Edge WAN {lab_path.read_text().split('edge_wan: ')[1].split()[0]}: DNS 53 over UDP and TCP "
        f"to {dns} = refused; limit == open (G-LCD); ICMP port unreachable, TCP reset"), t


def test_quality_fails_on_tls_interception(twin, lab_path, out):
    twin.fault("internet", "tls-intercept")
    tests = _run(lab_path, out, "INET-QUALITY", "INET-ACCESS").tests()
    t = tests[TLS]
    assert t["verdict"] == "FAIL", t
    msg = t["message"]
    assert "issuer of api.mypurecloud.com's certificate = HIL Corp TLS Inspection CA (key " in msg, msg
    assert "limit in [HIL Emulated Public Root CA] (project choice)" in t["message"], t["message"]
    assert tests[ACCESS]["verdict"] == "PASS", "the port is open: interception is INET-QUALITY's finding"


def test_dead_internet_is_broken_not_fail(twin, lab_path, out):
    twin.fault("internet", "internet-down")
    tests = _run(lab_path, out, "NET-NAT", "INET-ACCESS", "INET-QUALITY").tests()
    for name in (NAT, ACCESS, TLS, SRFLX, MEDIA, PROXY):
        assert tests[name]["verdict"] == "BROKEN", (name, tests[name])
    assert "no port on the internet side was open" in tests[ACCESS]["message"]
    assert "STUN over TCP failed too" in tests[NAT]["message"]
