"""The emulated internet's certificate authorities, made at twin start with ``cryptography``.

* The **emulated public root** ("HIL Emulated Public Root CA") stands for the public CA that issues the
  Genesys API hosts' certificates. Its P-256 key is derived from a fixed seed (project choice), so its
  subjectKeyIdentifier and public key hash are the same on every twin and an inventory can pin it
  (:data:`PUBLIC_ROOT_SKI`, :data:`PUBLIC_ROOT_SPKI_SHA256`; the shipped lab's
  ``network.internet.pinned_issuers`` pins the key, as a real lab pins Amazon's roots).
* The **corporate inspection CA** ("HIL Corp TLS Inspection CA") stands for the CA of a TLS-inspecting
  firewall that a managed PC trusts; its key is new at every start.

Both issue leaves directly (no intermediate). :func:`make_pki` writes the two CA certificates to one
PEM bundle (the file the harness host trusts, ``network.internet.ca_file``) and the two leaves with
their keys beside it.
"""

from __future__ import annotations

import datetime
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PUBLIC_ROOT_NAME = "HIL Emulated Public Root CA"
INSPECTION_CA_NAME = "HIL Corp TLS Inspection CA"
_PUBLIC_SEED = b"hil lab twin: emulated public root CA, P-256"
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
VALID_DAYS = 30  # project choice: the twin's certificates are made at every start


def public_root_key() -> ec.EllipticCurvePrivateKey:
    """The emulated public root's key: the same on every twin (derived from a fixed seed)."""
    n = int.from_bytes(hashlib.sha256(_PUBLIC_SEED).digest(), "big") % (_P256_ORDER - 1) + 1
    return ec.derive_private_key(n, ec.SECP256R1())


def ski_of(key: ec.EllipticCurvePublicKey) -> str:
    """The RFC 5280 4.2.1.2 (1) key identifier of ``key`` (SHA-1 of the public key bits), lower-case hex."""
    return x509.SubjectKeyIdentifier.from_public_key(key).digest.hex()


def spki_sha256_of(key: ec.EllipticCurvePublicKey) -> str:
    """SHA-256 of ``key``'s DER SubjectPublicKeyInfo, lower-case hex (what a root is pinned by)."""
    return hashlib.sha256(key.public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)).hexdigest()


PUBLIC_ROOT_SKI = ski_of(public_root_key().public_key())
PUBLIC_ROOT_SPKI_SHA256 = spki_sha256_of(public_root_key().public_key())


@dataclass(frozen=True)
class Pki:
    """Files made by :func:`make_pki`: the CA ``bundle``, and per leaf its certificate and key."""

    bundle: Path
    public_cert: Path
    public_key: Path
    inspection_cert: Path
    inspection_key: Path


def _ca(name: str, key: ec.EllipticCurvePrivateKey, now: datetime.datetime) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))


def _leaf(host: str, ca: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey,
          now: datetime.datetime) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
            .issuer_name(ca.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return cert, key


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _write(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``path`` whole or not at all (a reader never sees half a PEM file)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.chmod(mode)
    os.replace(tmp, path)


def make_pki(host: str, folder: Path, bundle: Path) -> Pki:
    """Make both CAs and a leaf of each for ``host``; write the leaves and keys into ``folder`` and
    the two CA certificates to ``bundle`` (the harness host's extra trust). Each file is replaced
    whole, so a harness reading the bundle while the twin starts never reads half of it."""
    now = datetime.datetime.now(datetime.UTC)
    public_key = public_root_key()
    public = _ca(PUBLIC_ROOT_NAME, public_key, now)
    inspection_key = ec.generate_private_key(ec.SECP256R1())
    inspection = _ca(INSPECTION_CA_NAME, inspection_key, now)
    folder.mkdir(parents=True, exist_ok=True)
    bundle.parent.mkdir(parents=True, exist_ok=True)
    _write(bundle, _pem(public) + _pem(inspection))
    pki = Pki(bundle, folder / "api-public.pem", folder / "api-public.key", folder / "api-inspected.pem",
              folder / "api-inspected.key")
    for (cert_path, key_path), (ca, ca_key) in (((pki.public_cert, pki.public_key), (public, public_key)),
                                                 ((pki.inspection_cert, pki.inspection_key),
                                                  (inspection, inspection_key))):
        leaf, key = _leaf(host, ca, ca_key, now)
        _write(cert_path, _pem(leaf))
        _write(key_path, _key_pem(key), 0o600)
    return pki
