"""The emulated internet's STUN server (RFC 5389 Binding, RFC 5780 behaviour discovery), behind the
NAT model of :mod:`.nat`.

Over UDP it listens on two addresses × two ports (:class:`StunUdp`, one service per socket); a
request's CHANGE-REQUEST picks the socket that answers (change IP: the other address, change port:
the other port), and every answer names OTHER-ADDRESS (the alternate address and port) and
RESPONSE-ORIGIN (the socket it left from). XOR-MAPPED-ADDRESS is the public endpoint the NAT model
gives the request; an answer the NAT's filtering would refuse is not sent. Over TCP it answers
Binding requests on the primary address and port (:class:`StunTcp`; RFC 5780 4.1: no CHANGE-REQUEST
over TCP). The codec is ``aioice.stun``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aioice import stun

from ..core.twin import Twin
from ..servers.tcp import TcpListener
from .faults import dropped, nat_policy
from .state import InternetState

log = logging.getLogger("hil.twin.internet")
CHANGE_IP, CHANGE_PORT = 0x04, 0x02  # RFC 5780 7.2 CHANGE-REQUEST flags
HEADER_BYTES = 20


def _state(twin: Twin, unit: str) -> InternetState:
    st = twin.states[unit]
    assert isinstance(st, InternetState)
    return st


def answer(st: InternetState, request: stun.Message, client: tuple[str, int], local: tuple[str, int],
           origin: tuple[str, int], mapping_tcp: bool = False) -> bytes:
    """The Binding success response to ``request`` from ``client`` received on ``local`` and sent
    from ``origin``, with the NAT's public endpoint as XOR-MAPPED-ADDRESS."""
    mapping, _ = nat_policy(st)
    mapped = st.nat.outbound(mapping, client, local)
    resp = stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.RESPONSE,
                        transaction_id=request.transaction_id)
    resp.attributes["XOR-MAPPED-ADDRESS"] = mapped
    resp.attributes["RESPONSE-ORIGIN"] = origin
    if st.stun_alternate is not None and not mapping_tcp:
        resp.attributes["OTHER-ADDRESS"] = st.stun_alternate
    resp.attributes["SOFTWARE"] = "hil lab twin"
    return bytes(resp)


def _binding_request(data: bytes) -> stun.Message | None:
    try:
        msg = stun.parse_message(data)
    except ValueError:
        return None
    if msg.message_method != stun.Method.BINDING or msg.message_class != stun.Class.REQUEST:
        return None
    return msg


class _Proto(asyncio.DatagramProtocol):
    def __init__(self, svc: StunUdp) -> None:
        self.svc = svc

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.svc.received(data, (addr[0], addr[1]))


class StunUdp:
    """One UDP socket of the STUN server (``host``, ``port``). ``sockets`` is shared by the four:
    (address, port) -> the transport of the socket that is up."""

    name = "stun-udp"

    def __init__(self, twin: Twin, unit: str, host: str, port: int,
                 sockets: dict[tuple[str, int], asyncio.DatagramTransport]) -> None:
        self.twin, self.unit, self.host, self.port, self.sockets = twin, unit, host, port, sockets

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: _Proto(self), local_addr=(self.host, self.port))
        self.sockets[(self.host, self.port)] = transport

    async def stop(self) -> None:
        t = self.sockets.pop((self.host, self.port), None)
        if t is not None:
            t.close()

    def received(self, data: bytes, client: tuple[str, int]) -> None:
        st = _state(self.twin, self.unit)
        request = _binding_request(data)
        if (request is None or dropped(st, self.port, udp=True, source_port=client[1]) or st.stun_primary is None
                or st.stun_alternate is None):
            return
        change = int(request.attributes.get("CHANGE-REQUEST", 0))
        (ip1, p1), (ip2, p2) = st.stun_primary, st.stun_alternate
        ip = (ip2 if self.host == ip1 else ip1) if change & CHANGE_IP else self.host
        port = (p2 if self.port == p1 else p1) if change & CHANGE_PORT else self.port
        sender = self.sockets.get((ip, port))
        _, filtering = nat_policy(st)
        reply = answer(st, request, client, (self.host, self.port), (ip, port))
        if sender is None or not st.nat.admits(filtering, client, (ip, port)):
            return
        sender.sendto(reply, client)


class StunTcp(TcpListener):
    """STUN over TCP on (``host``, ``port``): Binding requests, each answered on the connection."""

    name = "stun-tcp"

    def __init__(self, twin: Twin, unit: str, host: str, port: int) -> None:
        super().__init__(host, port)
        self.twin, self.unit = twin, unit

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        try:
            while True:
                head = await reader.readexactly(HEADER_BYTES)
                body = await reader.readexactly(int.from_bytes(head[2:4], "big"))
                st = _state(self.twin, self.unit)
                if dropped(st, self.port, udp=False):
                    await reader.read()  # held open, never answered, until the client gives up
                    return
                request = _binding_request(head + body)
                if request is None:
                    return
                writer.write(answer(st, request, (peer[0], peer[1]), (self.host, self.port), (self.host, self.port),
                                    mapping_tcp=True))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
