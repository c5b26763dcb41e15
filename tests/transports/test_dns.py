"""The DNS lookup against the twin's resolver: split views by source address, UDP and TCP, and what
each fault does to the answers (the resolver is the unit ``dns`` of the test lab)."""

from __future__ import annotations

import socket

import pytest

from harness.inventory import LoadedLab
from harness.transports.dns import TRANSPORTS, lookup
from harness.twin.manager import TwinControl
from tests.conftest import TEST_NET

API = "api.mypurecloud.com"


@pytest.fixture
def resolver(loaded: LoadedLab) -> str:
    assert loaded.lab.network.dns is not None
    return loaded.lab.network.dns.servers[0]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_genesys_names_resolve_from_both_vantage_points(twin: TwinControl, loaded: LoadedLab, resolver: str,
                                                        transport: str) -> None:
    v = loaded.lab.network.vantage
    for source in (v.voice_vlan, v.edge_wan):
        a = lookup(API, resolver, transport=transport, source=source)  # type: ignore[arg-type]
        assert a.resolved and a.addresses == (f"{TEST_NET}.6.1",), a  # the emulated org's API address
        assert a.outcome() == f"{TEST_NET}.6.1" and a.elapsed_ms < 1000


def test_views_split_by_source(twin: TwinControl, loaded: LoadedLab, resolver: str) -> None:
    v = loaded.lab.network.vantage
    inside = "edge1.lab-a.example"
    assert lookup(inside, resolver, source=v.voice_vlan).addresses == (f"{TEST_NET}.1.1",)
    assert lookup(inside, resolver, source=v.edge_wan).rcode == "NXDOMAIN"  # the WAN view has no site names
    stranger = lookup(API, resolver, source=f"{TEST_NET}.99.9")
    assert stranger.rcode == "REFUSED" and not stranger.resolved and stranger.outcome() == "REFUSED"


def test_faults_break_tcp_one_name_or_everything(twin: TwinControl, loaded: LoadedLab, resolver: str) -> None:
    src = loaded.lab.network.vantage.voice_vlan
    twin.fault("dns", "dns-tcp-off")
    assert lookup(API, resolver, source=src).resolved
    tcp = lookup(API, resolver, transport="tcp", source=src)
    assert tcp.rcode is None and tcp.error == "connection refused" and not tcp.answered
    twin.heal("dns")
    twin.fault("dns", "dns-nxdomain", API.upper())
    assert {lookup(API, resolver, transport=t, source=src).rcode for t in TRANSPORTS} == {"NXDOMAIN"}
    assert lookup("login.mypurecloud.com", resolver, source=src).resolved
    twin.heal("dns")
    twin.fault("dns", "dns-down")
    gone = lookup(API, resolver, source=src, timeout_s=0.3)  # its sockets closed: the host answers ICMP unreachable
    assert gone.outcome() == "connection refused" and not gone.answered


def test_a_closed_udp_port_reads_as_refused_not_a_timeout() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:  # a port nobody listens on
        s.bind((f"{TEST_NET}.7.99", 0))
        port = s.getsockname()[1]
    a = lookup(API, f"{TEST_NET}.7.99", port=port, source=f"{TEST_NET}.3.250", timeout_s=2.0)
    assert a.rcode is None and a.error == "connection refused" and a.outcome() == "connection refused", a
    assert a.elapsed_ms < 500, a  # the ICMP port unreachable, not the 2 s deadline


def test_a_silent_udp_port_times_out_on_the_deadline() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:  # bound, never answers
        s.bind((f"{TEST_NET}.7.99", 0))
        a = lookup(API, f"{TEST_NET}.7.99", port=s.getsockname()[1], source=f"{TEST_NET}.3.250", timeout_s=0.3)
    assert a.error == "no answer within 0.3 s" and 250 < a.elapsed_ms < 1000, a
