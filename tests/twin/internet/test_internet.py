"""The emulated internet (twin unit ``internet``): the RFC 5780 STUN server behind each NAT model, the
API host's TLS endpoint with and without interception, the resolver, and the port faults, seen
through the harness's own probes (harness/transports/stun.py, tls_probe.py) from the Edge WAN vantage."""

from __future__ import annotations

import hashlib
import socket
import ssl

import dns.message
import dns.query
import dns.rcode
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from harness.checks.tls_pin import leaf_issuer, pinned, pinned_roots
from harness.inventory.models import IssuerPin
from harness.transports.stun import ADM, APDM, EIM, binding, binding_tcp, discover
from harness.transports.tls_probe import handshake, trusted_pem
from harness.twin.internet.ca import INSPECTION_CA_NAME, PUBLIC_ROOT_NAME, PUBLIC_ROOT_SKI, public_root_key
from harness.twin.manager import TwinError


@pytest.fixture
def net(loaded):
    n = loaded.lab.network
    assert n.stun is not None and n.internet is not None and n.vantage.edge_wan
    return n


def test_nat_models_are_told_apart_by_rfc5780_discovery(twin, net):
    server, wan = (net.stun.server, net.stun.port), net.vantage.edge_wan
    seen = {}
    for fault in (None, "nat-port-restricted", "nat-address-dependent", "nat-symmetric"):
        if fault:
            twin.fault("internet", fault)
        b = discover(wan, server, timeout_s=0.2)
        seen[fault] = (b.mapping, b.filtering)
        assert b.mapped is not None and b.mapped[0] == net.internet.public_address, b
        if fault:
            twin.heal("internet")
    assert seen == {None: (EIM, EIM), "nat-port-restricted": (EIM, APDM), "nat-address-dependent": (ADM, ADM),
                    "nat-symmetric": (APDM, APDM)}


def test_udp_blocked_leaves_stun_over_tcp_answering(twin, net):
    twin.fault("internet", "udp-blocked")
    b = discover(net.vantage.edge_wan, (net.stun.server, net.stun.port), timeout_s=0.2)
    assert b.mapped is None and b.steps == [f"mapping test I to {net.stun.server}:3478: no answer"]
    tcp = binding_tcp(net.vantage.edge_wan, (net.stun.server, net.stun.port))
    assert tcp.mapped[0] == net.internet.public_address and tcp.origin == (net.stun.server, 3478)


def test_port_refuse_and_drop(twin, net):
    server = (net.stun.server, net.stun.port)
    twin.fault("internet", "port-refuse", "3478")
    with pytest.raises(ConnectionRefusedError):
        binding_tcp(None, server, timeout_s=0.5)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(server)
        with pytest.raises(ConnectionRefusedError):
            binding(s, server, timeout_s=0.2)
    twin.heal("internet")
    twin.fault("internet", "port-drop", "443")
    with pytest.raises(TimeoutError):
        handshake(net.internet.api_host, net.internet.api_address, timeout_s=0.3)
    with pytest.raises(TwinError, match="serves ports 53, 443, 3128, 3478, 3479, not 8443"):
        twin.fault("internet", "port-refuse", "8443")


def test_tls_leaf_comes_from_the_pinned_root_unless_intercepted(twin, net, lab_path):
    ca = lab_path.parent / net.internet.ca_file
    h = handshake(net.internet.api_host, net.internet.api_address, source=net.vantage.edge_wan, ca_file=ca)
    leaf = leaf_issuer(h.leaf)
    assert leaf.issuer == PUBLIC_ROOT_NAME and leaf.aki == PUBLIC_ROOT_SKI
    assert pinned(leaf, [IssuerPin(ski=PUBLIC_ROOT_SKI, name="root", source="test")]) is not None
    with pytest.raises(ssl.SSLCertVerificationError):  # without the managed PC's extra trust
        handshake(net.internet.api_host, net.internet.api_address)
    twin.fault("internet", "tls-intercept")
    inspected = leaf_issuer(handshake(net.internet.api_host, net.internet.api_address, ca_file=ca).leaf)
    assert inspected.issuer == INSPECTION_CA_NAME
    assert pinned(inspected, [IssuerPin(ski=PUBLIC_ROOT_SKI, name="root", source="test")]) is None


def test_resolver_answers_the_api_host_over_udp_and_tcp(twin, net):
    q = dns.message.make_query(net.internet.api_host, "A")
    for ask in (dns.query.udp, dns.query.tcp):
        r = ask(q, net.internet.dns_server, timeout=1, source=net.vantage.edge_wan)
        assert [rr.address for rr in r.answer[0]] == [net.internet.api_address]
    assert dns.query.udp(dns.message.make_query("nowhere.invalid", "A"), net.internet.dns_server,
                         timeout=1).rcode() == dns.rcode.NXDOMAIN


def test_internet_down_and_heal(twin, net):
    twin.fault("internet", "internet-down")
    with pytest.raises(ConnectionRefusedError):
        binding_tcp(None, (net.stun.server, net.stun.port), timeout_s=0.5)
    twin.heal("internet")
    assert binding_tcp(None, (net.stun.server, net.stun.port)).mapped[0] == net.internet.public_address
    assert twin.state("internet")["nat"]["public"] == net.internet.public_address


def test_the_public_root_pinned_by_its_key_validates_the_twins_chain_alone(twin, net, lab_path):
    spki = public_root_key().public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    assert [p.spki_sha256 for p in net.internet.pinned_issuers] == [hashlib.sha256(spki).hexdigest()]
    roots = pinned_roots(net.internet.pinned_issuers, trusted_pem(lab_path.parent / net.internet.ca_file))
    assert [p.name for p, _ in roots] == [PUBLIC_ROOT_NAME]
    handshake(net.internet.api_host, net.internet.api_address, only_roots=roots[0][1])
    twin.fault("internet", "tls-intercept")
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(net.internet.api_host, net.internet.api_address, only_roots=roots[0][1])
