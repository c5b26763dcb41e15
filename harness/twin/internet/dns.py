"""A public DNS resolver as the internet offers it, on port 53 (UDP and TCP) of
``network.internet.dns_server``: it answers A queries for the Genesys API host (with
``api_address``) and NXDOMAIN for every other name (it knows no others). Messages are dnspython's.
"""

from __future__ import annotations

import asyncio
from typing import Any

import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from ..core.twin import Twin
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


class _Proto(asyncio.DatagramProtocol):
    def __init__(self, svc: DnsUdp) -> None:
        self.svc = svc
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: Any) -> None:
        st = self.svc.state()
        if dropped(st, DNS_PORT, udp=True, source_port=addr[1]) or self.transport is None:
            return
        out = _reply(st, data)
        if out is not None:
            self.transport.sendto(out, addr)


class DnsUdp:
    name = "dns-udp"

    def __init__(self, twin: Twin, unit: str, host: str) -> None:
        self.twin, self.unit, self.host, self.port = twin, unit, host, DNS_PORT
        self._t: asyncio.DatagramTransport | None = None

    def state(self) -> InternetState:
        st = self.twin.states[self.unit]
        assert isinstance(st, InternetState)
        return st

    async def start(self) -> None:
        self._t, _ = await asyncio.get_running_loop().create_datagram_endpoint(
            lambda: _Proto(self), local_addr=(self.host, self.port))

    async def stop(self) -> None:
        if self._t is not None:
            self._t.close()
            self._t = None


class DnsTcp:
    name = "dns-tcp"

    def __init__(self, twin: Twin, unit: str, host: str) -> None:
        self.twin, self.unit, self.host, self.port = twin, unit, host, DNS_PORT
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        st = self.twin.states[self.unit]
        assert isinstance(st, InternetState)
        try:
            while True:
                size = int.from_bytes(await reader.readexactly(2), "big")
                wire = await reader.readexactly(size)
                if dropped(st, DNS_PORT, udp=False):
                    await reader.read()
                    return
                out = _reply(st, wire)
                if out is None:
                    return
                writer.write(len(out).to_bytes(2, "big") + out)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
