"""Is a TLS leaf issued by a pinned CA (or its chain rooted at a pinned root)? The judgement
INET-QUALITY makes of the Genesys API host's certificate: a TLS-inspecting firewall's leaf
validates on a managed PC (its CA is in the trust store), so chain validation alone cannot see it.
The leaf's authorityKeyIdentifier names the CA key that signed it (RFC 5280 4.2.1.1), which an
inspection proxy cannot forge into a pinned CA's. A root pinned by its key (``spki_sha256``) is
checked by validating the chain against that root alone (:func:`pinned_roots` finds its
certificate in the trust store).
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import NameOID

from ..inventory.models import IssuerPin


@dataclass(frozen=True)
class LeafIssuer:
    """The leaf's ``subject`` (RFC 4514 text) and ``issuer`` (its common name, else RFC 4514 text),
    the ``aki`` it names (hex; ``None``: the leaf has no authorityKeyIdentifier) and the ``sha256``
    of the leaf (hex)."""

    subject: str
    issuer: str
    aki: str | None
    sha256: str


def leaf_issuer(der: bytes) -> LeafIssuer:
    """Read the issuer of the DER certificate ``der``. Raises ValueError for a certificate
    ``cryptography`` cannot parse."""
    cert = x509.load_der_x509_certificate(der)
    try:
        aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    except x509.ExtensionNotFound:
        aki = None
    cn = cert.issuer.get_attributes_for_oid(NameOID.COMMON_NAME)
    issuer = str(cn[0].value) if cn else cert.issuer.rfc4514_string()
    return LeafIssuer(cert.subject.rfc4514_string(), issuer, aki.hex() if aki else None,
                      hashlib.sha256(der).hexdigest())


def pinned(leaf: LeafIssuer, pins: Sequence[IssuerPin]) -> IssuerPin | None:
    """The ``ski`` pin whose key identifier the leaf's authorityKeyIdentifier equals, or ``None``."""
    return next((p for p in pins if leaf.aki is not None and p.ski is not None and p.ski == leaf.aki), None)


def spki_sha256(cert: x509.Certificate) -> str:
    """SHA-256 of the certificate's DER SubjectPublicKeyInfo, lower-case hex (the hash Amazon Trust
    Services and RFC 7469 publish for a key)."""
    return hashlib.sha256(cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)).hexdigest()


def pinned_roots(pins: Sequence[IssuerPin], trusted_pem: str) -> list[tuple[IssuerPin, str]]:
    """For each ``spki_sha256`` pin, the certificates of ``trusted_pem`` (the trust store's PEM
    text) that carry its key, as PEM text; pins with no certificate there are left out (a
    certificate the store lacks could not validate anything)."""
    by_key: dict[str, list[str]] = {}
    with warnings.catch_warnings():  # a system store may hold an old root with a non-positive serial
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        certs = x509.load_pem_x509_certificates(trusted_pem.encode()) if trusted_pem.strip() else []
    for cert in certs:
        by_key.setdefault(spki_sha256(cert), []).append(cert.public_bytes(Encoding.PEM).decode())
    return [(p, "".join(by_key[p.spki_sha256])) for p in pins if p.spki_sha256 and p.spki_sha256 in by_key]
