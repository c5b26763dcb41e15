"""The emulated site resolver (unit ``dns``): service ``dns-udp`` and ``dns-tcp`` on
``server:53``, answering from the view of the client's source address (:mod:`.state`: the voice
VLAN's view and the Edge WAN's, as a split-horizon resolver does). dnslib parses the queries and
builds the answers.

A name of the client's view answers its A record (TTL :data:`TTL_S`); a name it lacks, or the one
``dns-nxdomain`` names, NXDOMAIN (``localhost`` is 127.0.0.1 in every view, RFC 6761 §6.3);
a client in no view is REFUSED (as a resolver with views and no
match does). ``dns-tcp-off`` stops ``dns-tcp`` (TCP refused), ``dns-down`` both.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import struct
from typing import cast

from dnslib import QTYPE, RCODE, RR, A, DNSRecord

from ..core.twin import Service, Twin
from .faults import DNS_NXDOMAIN
from .state import DnsServerState

log = logging.getLogger("hil.twin.dns")
TTL_S = 300  # project choice: the TTL of the twin's answers
TCP_IDLE_S = 10.0  # project choice: a TCP client silent this long is closed (RFC 7766 §6.2.3 suggests seconds)


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


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, st: DnsServerState) -> None:
        self.st = st
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        out = answer(self.st, data, addr[0])
        if out is not None and self.transport is not None:
            self.transport.sendto(out, addr)


class DnsUdpService:
    """UDP ``host:port`` of the resolver."""

    name = "dns-udp"

    def __init__(self, twin: Twin, unit: str) -> None:
        st = twin.states[unit]
        assert isinstance(st, DnsServerState)
        self.state, self.host, self.port = st, st.host, st.port
        self._transport: asyncio.DatagramTransport | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._transport, _ = await loop.create_datagram_endpoint(lambda: _Udp(self.state),
                                                                 local_addr=(self.host, self.port),
                                                                 family=socket.AF_INET)

    async def stop(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None


class DnsTcpService:
    """TCP ``host:port`` of the resolver (RFC 1035 §4.2.2: each message after a 2-byte length)."""

    name = "dns-tcp"

    def __init__(self, twin: Twin, unit: str) -> None:
        st = twin.states[unit]
        assert isinstance(st, DnsServerState)
        self.state, self.host, self.port = st, st.host, st.port
        self._server: asyncio.Server | None = None

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        client = str(writer.get_extra_info("peername")[0])
        try:
            while True:
                (n,) = struct.unpack("!H", await asyncio.wait_for(reader.readexactly(2), TCP_IDLE_S))
                out = answer(self.state, await asyncio.wait_for(reader.readexactly(n), TCP_IDLE_S), client)
                if out is None:
                    break
                writer.write(struct.pack("!H", len(out)) + out)
                await writer.drain()
        except (asyncio.IncompleteReadError, TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._client, self.host, self.port, reuse_address=True)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None


def dns_services(twin: Twin, unit: str) -> list[Service]:
    return [DnsUdpService(twin, unit), DnsTcpService(twin, unit)]
