"""Is a TLS leaf issued by a pinned CA? The judgement INET-QUALITY makes of the Genesys API host's
certificate: a TLS-inspecting firewall's leaf validates on a managed PC (its CA is in the trust
store), so chain validation alone cannot see it; the leaf's authorityKeyIdentifier names the CA key
that signed it (RFC 5280 4.2.1.1), which an inspection proxy cannot forge into a pinned CA's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
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
    """The pin whose key identifier the leaf's authorityKeyIdentifier equals, or ``None``."""
    return next((p for p in pins if leaf.aki is not None and p.ski == leaf.aki), None)
