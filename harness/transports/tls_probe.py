"""A TLS handshake to a host, as a browser or an Edge makes it: the system's trust store (plus an
optional CA bundle, a managed PC's corporate CAs), SNI and host name checked, the leaf certificate
kept for the caller to judge (:mod:`harness.checks.tls_pin`). Standard library ``ssl`` only.
"""

from __future__ import annotations

import socket
import ssl
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Handshake:
    """A completed handshake: the ``leaf`` certificate (DER), ``version`` (``TLSv1.3``), ``cipher``,
    ``connect_ms`` (TCP) and ``handshake_ms`` (TLS, after the connection)."""

    leaf: bytes
    version: str
    cipher: str
    connect_ms: float
    handshake_ms: float


def trusted_pem(ca_file: Path | None = None) -> str:
    """The PEM text of the system's trust store (OpenSSL's default CA file, when it has one) and of
    ``ca_file``. Raises OSError when ``ca_file`` cannot be read."""
    parts = []
    default = ssl.get_default_verify_paths().cafile
    if default and Path(default).is_file():
        parts.append(Path(default).read_text(errors="replace"))
    if ca_file is not None:
        parts.append(ca_file.read_text(errors="replace"))
    return "\n".join(parts)


def handshake(server_name: str, address: str | None = None, port: int = 443, source: str | None = None,
              ca_file: Path | None = None, timeout_s: float = 2.0, only_roots: str | None = None) -> Handshake:
    """Connect to ``address`` (``None``: ``server_name`` resolved) on ``port`` from ``source`` and
    complete a TLS handshake for ``server_name`` that the trust store validates (with
    ``only_roots``, PEM text: those certificates alone, neither the system's store nor ``ca_file``).

    Raises:
        TimeoutError: no connection or no handshake within ``timeout_s`` each.
        ConnectionRefusedError, OSError: the connection was refused or failed.
        ssl.SSLCertVerificationError: the chain does not validate or names another host.
        ssl.SSLError: the handshake failed otherwise.
    """
    if only_roots is not None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # hostname checked, certificate required
        ctx.load_verify_locations(cadata=only_roots)
    else:
        ctx = ssl.create_default_context()
        if ca_file is not None:
            ctx.load_verify_locations(cafile=str(ca_file))
    t0 = time.monotonic()
    with socket.create_connection((address or server_name, port), timeout=timeout_s,
                                  source_address=(source, 0) if source else None) as raw:
        t1 = time.monotonic()
        with ctx.wrap_socket(raw, server_hostname=server_name) as tls:
            t2 = time.monotonic()
            leaf = tls.getpeercert(binary_form=True)
            cipher = tls.cipher()
            assert leaf is not None  # a verified handshake always has the peer's certificate
            return Handshake(leaf, tls.version() or "", cipher[0] if cipher else "", (t1 - t0) * 1000,
                             (t2 - t1) * 1000)
