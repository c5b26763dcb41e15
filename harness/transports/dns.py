"""DNS lookups as a phone or an Edge makes them: one A query to one resolver, over UDP or TCP, from a
chosen source address (the harness's vantage address on the voice VLAN or the Edge WAN), with
dnspython (``dns.query.udp``/``dns.query.tcp`` and their ``source=``).

:func:`lookup` never raises for what the network does: a timeout, a refused TCP connection or an
error code from the resolver are all in the :class:`DnsAnswer` it returns (a closed UDP port reads
"connection refused", from its ICMP port unreachable, not as a timeout), so a check can tell a
resolver that answers badly (FAIL) from one that answers nothing (BROKEN).
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from typing import Literal

import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

Transport = Literal["udp", "tcp"]
TRANSPORTS: tuple[Transport, ...] = ("udp", "tcp")


@dataclass(frozen=True)
class DnsAnswer:
    """What one query got: ``rcode`` (``"NOERROR"``, ``"NXDOMAIN"``, ``"REFUSED"`` …, ``None`` when
    nothing came back), the IPv4 ``addresses`` of the answer, ``error`` (``"no answer within 2 s"``,
    ``"connection refused"``: why nothing came back) and ``elapsed_ms``."""

    name: str
    server: str
    transport: Transport
    source: str | None
    rcode: str | None
    addresses: tuple[str, ...] = ()
    error: str | None = None
    elapsed_ms: float = 0.0

    @property
    def answered(self) -> bool:
        """The resolver answered at all (whatever the answer)."""
        return self.rcode is not None

    @property
    def resolved(self) -> bool:
        """The name resolved: NOERROR with at least one address."""
        return self.rcode == "NOERROR" and bool(self.addresses)

    def outcome(self) -> str:
        """One line for a report: ``"127.0.6.1"``, ``"NXDOMAIN"``, ``"NOERROR, no address"``, or the error."""
        if self.rcode is None:
            return self.error or "no answer"
        if self.resolved:
            return ", ".join(self.addresses)
        return self.rcode if self.rcode != "NOERROR" else "NOERROR, no address"


def _connected_udp(server: str, port: int, source: str | None) -> socket.socket:
    """A UDP socket bound to ``source`` and connected to ``server:port``: only a connected socket
    hears the ICMP port unreachable of a closed port (``ConnectionRefusedError`` on the next receive;
    an unconnected one waits out its timeout). Raises OSError when ``source`` cannot be bound."""
    family = socket.AF_INET6 if ":" in server else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.bind((source or ("::" if family == socket.AF_INET6 else "0.0.0.0"), 0))
        sock.connect((server, port))
        sock.setblocking(False)  # dnspython waits on its own deadline, and needs a nonblocking socket for it
    except OSError:
        sock.close()
        raise
    return sock


def lookup(name: str, server: str, *, transport: Transport = "udp", source: str | None = None, port: int = 53,
           timeout_s: float = 2.0) -> DnsAnswer:
    """Ask ``server:port`` for the A records of ``name`` over ``transport``, from ``source`` (an
    address of this host; ``None``: the kernel's choice). Raises ValueError for a name that is
    not a DNS name; OSError only when ``source`` cannot be bound (not this host's address)."""
    query = dns.message.make_query(name, dns.rdatatype.A)
    t0 = time.monotonic()

    def took() -> float:
        return (time.monotonic() - t0) * 1000

    try:
        if transport == "udp":
            with _connected_udp(server, port, source) as sock:
                reply = dns.query.udp(query, server, timeout=timeout_s, port=port, sock=sock)
        else:
            reply = dns.query.tcp(query, server, timeout=timeout_s, port=port, source=source)
    except dns.exception.Timeout:
        return DnsAnswer(name, server, transport, source, None, error=f"no answer within {timeout_s:g} s",
                         elapsed_ms=took())
    except ConnectionRefusedError:
        return DnsAnswer(name, server, transport, source, None, error="connection refused", elapsed_ms=took())
    except (ConnectionError, EOFError) as e:  # the resolver closed the TCP connection without an answer
        return DnsAnswer(name, server, transport, source, None, error=f"connection closed ({type(e).__name__})",
                         elapsed_ms=took())
    except dns.exception.FormError as e:
        return DnsAnswer(name, server, transport, source, None, error=f"malformed answer ({e})", elapsed_ms=took())
    addresses = tuple(str(r.address) for rrset in reply.answer if rrset.rdtype == dns.rdatatype.A for r in rrset)
    return DnsAnswer(name, server, transport, source, dns.rcode.to_text(reply.rcode()), addresses, elapsed_ms=took())
