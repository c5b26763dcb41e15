"""The emulated site resolver (unit ``dns``): service ``dns-udp`` and ``dns-tcp`` on
``server:53``, answering from the view of the client's source address (:mod:`.state`: the voice
VLAN's view and the Edge WAN's, as a split-horizon resolver does). dnslib parses the queries and
builds the answers; the sockets and framing are :mod:`harness.twin.servers.dns`.

A name of the client's view answers its A record (TTL :data:`TTL_S`); a name it lacks, or the one
``dns-nxdomain`` names, NXDOMAIN (``localhost`` is 127.0.0.1 in every view, RFC 6761 §6.3);
a client in no view is REFUSED (as a resolver with views and no
match does). ``dns-tcp-off`` stops ``dns-tcp`` (TCP refused), ``dns-down`` both.
"""

from __future__ import annotations

import ipaddress
import logging

from dnslib import QTYPE, RCODE, RR, A, DNSRecord

from ..core.twin import Service, Twin
from ..servers.dns import DnsTcpServer, DnsUdpServer
from .faults import DNS_NXDOMAIN
from .state import DnsServerState

log = logging.getLogger("hil.twin.dns")
TTL_S = 300  # project choice: the TTL of the twin's answers


def view_of(st: DnsServerState, client: str) -> dict[str, str] | None:
    """The records the view of ``client`` holds, or ``None`` when it is in no view."""
    try:
        addr = ipaddress.ip_address(client)
    except ValueError:
        return None
    for net, records in st.views.items():
        if addr in ipaddress.ip_network(net):
            return records
    return None


def answer(st: DnsServerState, query: bytes, client: str) -> bytes | None:
    """The answer to ``query`` from ``client``; ``None`` for what is not a DNS query."""
    try:
        q = DNSRecord.parse(query)
    except Exception:  # dnslib raises DNSError and struct errors on garbage: no answer, as a server does
        return None
    if q.header.qr or not q.questions:
        return None
    st.queries += 1
    reply = q.reply()
    view = view_of(st, client)
    if view is None:
        reply.header.rcode = RCODE.REFUSED
        return bytes(reply.pack())
    name = str(q.q.qname).rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):  # RFC 6761 §6.3: resolvers answer loopback
        view = {**view, name: "127.0.0.1"}
    if name == DNS_NXDOMAIN.value(st) or name not in view:
        reply.header.rcode = RCODE.NXDOMAIN
    elif q.q.qtype in (QTYPE.A, QTYPE.ANY):
        reply.add_answer(RR(q.q.qname, QTYPE.A, rdata=A(view[name]), ttl=TTL_S))
    return bytes(reply.pack())  # another type of a known name: NOERROR with no answer (NODATA)


def dns_services(twin: Twin, unit: str) -> list[Service]:
    """The resolver's ``dns-udp`` and ``dns-tcp`` on ``server:53``, answering from the client's view."""
    st = twin.states[unit]
    assert isinstance(st, DnsServerState)
    return [DnsUdpServer(st.host, st.port, lambda q, client: answer(st, q, client)),
            DnsTcpServer(st.host, st.port, lambda q, client: answer(st, q, client))]
