"""The TLS probe and the issuer pin, on throwaway CAs (trustme): a leaf from the pinned CA is pinned,
one from another CA the client also trusts (an inspection proxy's) is not, though both validate."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from cryptography import x509

from harness.checks.tls_pin import leaf_issuer, pinned, pinned_roots, spki_sha256
from harness.inventory.models import IssuerPin
from harness.transports.tls_probe import handshake
from tests.conftest import TEST_NET

HOST = "api.example.test"
ADDRESS = f"{TEST_NET}.250.44"


def _ski(ca: trustme.CA) -> str:
    cert = x509.load_pem_x509_certificate(ca.cert_pem.bytes())
    return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest.hex()


@pytest.fixture
def cas(tmp_path) -> Iterator[tuple[trustme.CA, trustme.CA, str]]:
    public, proxy = trustme.CA(organization_name="Public"), trustme.CA(organization_name="Proxy")
    bundle = tmp_path / "trusted.pem"
    bundle.write_bytes(public.cert_pem.bytes() + proxy.cert_pem.bytes())
    yield public, proxy, str(bundle)


def _serve(ca: trustme.CA) -> tuple[socket.socket, threading.Thread]:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(HOST).configure_cert(ctx)
    srv = socket.create_server((ADDRESS, 0))

    def run() -> None:
        conn, _ = srv.accept()
        try:
            with ctx.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1)
        except (OSError, ssl.SSLError):
            pass

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return srv, t


@pytest.mark.parametrize("issuer", ["public", "proxy"])
def test_only_the_pinned_issuer_passes_though_both_validate(cas, issuer):
    public, proxy, bundle = cas
    pins = [IssuerPin(ski=_ski(public), name="Public CA", source="test")]
    srv, _ = _serve(public if issuer == "public" else proxy)
    try:
        h = handshake(HOST, ADDRESS, srv.getsockname()[1], ca_file=bundle, timeout_s=2)
    finally:
        srv.close()
    leaf = leaf_issuer(h.leaf)
    assert leaf.issuer.endswith("O=Public" if issuer == "public" else "O=Proxy"), leaf  # no CN: the RFC 4514 name
    assert (pinned(leaf, pins) is not None) == (issuer == "public"), leaf
    assert leaf.aki == _ski(public if issuer == "public" else proxy)


def test_an_untrusted_chain_is_refused_before_any_pin(cas):
    public, _, _ = cas
    srv, _ = _serve(public)
    try:
        with pytest.raises(ssl.SSLCertVerificationError):
            handshake(HOST, ADDRESS, srv.getsockname()[1], timeout_s=2)  # the system store alone
    finally:
        srv.close()


def test_pins_take_colons_and_refuse_other_lengths():
    assert IssuerPin(ski="AB:" * 19 + "CD", name="x", source="y").ski == "ab" * 19 + "cd"
    with pytest.raises(ValueError, match="key identifier"):
        IssuerPin(ski="abcd", name="x", source="y")


@pytest.mark.parametrize("issuer", ["public", "proxy"])
def test_a_root_pinned_by_its_key_is_checked_by_validating_to_it_alone(cas, issuer):
    public, proxy, bundle = cas
    intermediate = public.create_child_ca()  # the leaf's AKI names the intermediate, never the root
    root = x509.load_pem_x509_certificate(public.cert_pem.bytes())
    pins = [IssuerPin(spki_sha256=spki_sha256(root), name="Public Root", source="test")]
    roots = pinned_roots(pins, Path(bundle).read_text())
    assert [p.name for p, _ in roots] == ["Public Root"]
    srv, _ = _serve(intermediate if issuer == "public" else proxy)
    srv2, _ = _serve(intermediate if issuer == "public" else proxy)
    try:
        leaf = leaf_issuer(handshake(HOST, ADDRESS, srv.getsockname()[1], ca_file=bundle, timeout_s=2).leaf)
        assert pinned(leaf, pins) is None  # no ski pin
        if issuer == "public":
            handshake(HOST, ADDRESS, srv2.getsockname()[1], timeout_s=2, only_roots=roots[0][1])
        else:
            with pytest.raises(ssl.SSLCertVerificationError):
                handshake(HOST, ADDRESS, srv2.getsockname()[1], timeout_s=2, only_roots=roots[0][1])
    finally:
        srv.close()
        srv2.close()


def test_a_pin_names_exactly_one_key():
    with pytest.raises(ValueError, match="exactly one of ski"):
        IssuerPin(name="x", source="y")
    with pytest.raises(ValueError, match="exactly one of ski"):
        IssuerPin(ski="ab" * 20, spki_sha256="cd" * 32, name="x", source="y")
