"""The emulated voice-VLAN DHCP server (service ``dhcp`` of the unit ``dhcp``): it answers a
relayed DISCOVER (``giaddr`` set) with an OFFER sent to ``giaddr:67`` (RFC 2131 §4.1), the
address taken from the relay's /24 (:data:`.state.POOL`), the options from :mod:`.state`, less the
one ``dhcp-no-option`` drops. It binds ``server:67`` with SO_REUSEADDR (a real server on the same
host may hold 0.0.0.0:67).

It only ever offers: a REQUEST, a DISCOVER with no relay (a broadcast a loopback address never
sees) and anything else are ignored, so a probe that only asks leaves nothing behind. Packets are
built with scapy.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import zlib
from typing import cast

from scapy.layers.dhcp import BOOTP, DHCP

from ...transports.dhcp import BOOTPS_PORT, parse_options
from ..core.twin import Service, Twin
from .faults import DHCP_NO_OPTION
from .state import LEASE_S, POOL, VLAN_PREFIX, DhcpServerState

log = logging.getLogger("hil.twin.dhcp")


def offer_for(st: DhcpServerState, request: bytes) -> tuple[bytes, str] | None:
    """The OFFER answering ``request`` and the relay address to send it to, or ``None`` when the
    server does not answer it (not a relayed DISCOVER)."""
    try:
        msg = BOOTP(request)
        opts = parse_options(bytes(msg[DHCP])) if DHCP in msg else {}
    except Exception:  # garbage is ignored, as a server does
        return None
    if msg.op != 1 or opts.get(53) != b"\x01" or str(msg.giaddr) == "0.0.0.0":
        return None
    giaddr = str(msg.giaddr)
    net = ipaddress.IPv4Interface(f"{giaddr}/{VLAN_PREFIX}").network
    host = POOL.start + zlib.crc32(bytes(msg.chaddr)[:6]) % len(POOL)  # one client, one address
    yiaddr = str(net.network_address + host)
    dropped = DHCP_NO_OPTION.value(st)
    options: list[object] = [("message-type", "offer"), ("server_id", st.host), ("lease_time", LEASE_S)]
    for code, value in sorted(st.options.items()):
        if code == dropped:
            continue
        if isinstance(value, list):
            options.append((code, b"".join(ipaddress.IPv4Address(a).packed for a in value)))
        else:
            options.append((code, value.encode()))
    options.append("end")
    reply = BOOTP(op=2, htype=1, hlen=6, hops=msg.hops, xid=msg.xid, flags=msg.flags, yiaddr=yiaddr,
                  siaddr=st.host, giaddr=giaddr, chaddr=msg.chaddr) / DHCP(options=options)
    return bytes(reply), giaddr


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, st: DhcpServerState) -> None:
        self.st = st
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        answer = offer_for(self.st, data)
        if answer is None or self.transport is None:
            return
        self.st.offers += 1
        self.transport.sendto(answer[0], (answer[1], BOOTPS_PORT))


class DhcpService:
    """UDP ``host:port`` of the emulated DHCP server."""

    name = "dhcp"

    def __init__(self, twin: Twin, unit: str) -> None:
        st = twin.states[unit]
        assert isinstance(st, DhcpServerState)
        self.state, self.host, self.port = st, st.host, st.port
        self._transport: asyncio.DatagramTransport | None = None

    async def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            raise
        loop = asyncio.get_running_loop()
        self._transport, _ = await loop.create_datagram_endpoint(lambda: _Protocol(self.state), sock=sock)

    async def stop(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None


def dhcp_services(twin: Twin, unit: str) -> list[Service]:
    return [DhcpService(twin, unit)]
