"""A public DNS resolver as the internet offers it, on port 53 (UDP and TCP) of
``network.internet.dns_server``: it answers A queries for the Genesys API host (with
``api_address``) and NXDOMAIN for every other name (it knows no others). Messages are dnspython's;
the sockets and framing are :mod:`harness.twin.servers.dns`.
"""

from __future__ import annotations

import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from ..core.twin import Service, Twin
from ..servers.dns import DnsTcpServer, DnsUdpServer
from .faults import dropped
from .state import InternetState

DNS_PORT = 53
TTL_S = 60  # project choice


def _reply(st: InternetState, wire: bytes) -> bytes | None:
    try:
        query = dns.message.from_wire(wire)
    except Exception:  # dnspython raises many kinds on garbage; a resolver ignores it
        return None
    resp = dns.message.make_response(query)
    q = query.question[0] if query.question else None
    if q is not None and st.api_host and st.api_address and q.name.to_text().rstrip(".").lower() == st.api_host.lower():
        if q.rdtype == dns.rdatatype.A:
            resp.answer.append(dns.rrset.from_text(q.name, TTL_S, dns.rdataclass.IN, dns.rdatatype.A, st.api_address))
    elif q is not None:
        resp.set_rcode(dns.rcode.NXDOMAIN)
    return bytes(resp.to_wire())


def dns_services(twin: Twin, unit: str, host: str) -> list[Service]:
    """The resolver's ``dns-udp`` and ``dns-tcp`` on ``host:53``; the emulated firewall's port faults
    (:func:`.faults.dropped`) drop their queries."""

    def state() -> InternetState:
        st = twin.states[unit]
        assert isinstance(st, InternetState)
        return st

    def reply(query: bytes, client: str) -> bytes | None:
        return _reply(state(), query)

    def firewall(udp: bool, client_port: int) -> bool:
        return dropped(state(), DNS_PORT, udp=udp, source_port=client_port)

    return [DnsUdpServer(host, DNS_PORT, reply, firewall), DnsTcpServer(host, DNS_PORT, reply, firewall)]
