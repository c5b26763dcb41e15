"""UDP sockets on the asyncio loop that mark what they send (``IP_TOS``) and read the ToS byte of
what they receive (``IP_RECVTOS``), for DSCP checks on the wire (QOS-MEDIA).

asyncio's datagram transport reads with ``recvfrom`` and so drops the ancillary data that carries
the received ToS byte; :class:`TosUdpEndpoint` reads with ``recvmsg`` from a ``loop.add_reader``
callback instead (EMULATION-NOTES §9, NETWORK-NOTES E3/E4: on Linux loopback the byte arrives
unchanged, ECN bits included). Sending marks the socket with ``IP_TOS`` (``IPV6_TCLASS`` on IPv6),
re-read from ``mark`` before every datagram so a marking change (a fault, a new base setting)
applies at once.

The ToS byte is DSCP (upper six bits, RFC 2474 §3) and ECN (lower two, RFC 3168 §5):
:func:`dscp_of` / :func:`tos_of_dscp`. Genesys' defaults: RTP EF 46 (ToS 0xB8), SIP CS3 24 (ToS
0x60) (G-DSCP in docs/duties.md).

IPv4 and IPv6 are both read; TCP has no per-segment ToS on receive (a capture is the only way),
so SIP over TCP is marked but not read here.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["DscpProtocol", "Mark", "TosUdpEndpoint", "dscp_of", "mark_socket", "open_udp_tos", "tos_of_dscp"]

MAX_DATAGRAM = 65535
READS_PER_WAKEUP = 64  # project choice: datagrams read per readiness callback before yielding to the loop
_CMSG_SPACE = socket.CMSG_SPACE(4)  # IPv4 gives the ToS as 1 byte, IPv6 the traffic class as an int

Mark = Callable[[], "int | None"]  # the ToS byte to send with now (None: leave the socket as it is)


def dscp_of(tos: int) -> int:
    """The DSCP (0-63) of a ToS / traffic-class byte (RFC 2474 §3: its upper six bits)."""
    return (tos >> 2) & 0x3F


def tos_of_dscp(dscp: int) -> int:
    """The ToS byte carrying ``dscp`` (0-63) with ECN bits 0. Raises ValueError out of range."""
    if not 0 <= dscp <= 63:
        raise ValueError(f"DSCP must be 0-63, got {dscp}")
    return dscp << 2


def mark_socket(sock: Any, tos: int) -> None:
    """Set ``IP_TOS`` (IPv4) or ``IPV6_TCLASS`` (IPv6) of ``sock`` to the byte ``tos``. Raises OSError."""
    if sock.family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_TCLASS, tos)
    else:
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, tos)


class DscpProtocol(Protocol):
    """What a :class:`TosUdpEndpoint` delivers to (an ``asyncio.DatagramProtocol`` with one more method)."""

    def connection_made(self, transport: Any) -> None: ...

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None: ...

    def error_received(self, exc: Exception) -> None: ...


class TosUdpEndpoint:
    """A non-blocking UDP socket read with ``recvmsg`` on the running loop.

    Each datagram goes to ``protocol.datagram_received_tos(data, addr, tos)`` when the protocol has
    that method (``tos``: the received ToS byte, ``None`` when the kernel gave none), else to
    ``protocol.datagram_received(data, addr)``. ICMP errors go to ``protocol.error_received``.
    Offers the part of ``asyncio.DatagramTransport`` the harness uses: :meth:`sendto`,
    :meth:`close`, :meth:`get_extra_info` (``sockname``, ``socket``), :meth:`is_closing`.
    """

    def __init__(self, sock: socket.socket, protocol: DscpProtocol, mark: Mark | None = None) -> None:
        self.sock, self.protocol, self.mark = sock, protocol, mark
        self.sent_tos: int | None = None
        self.send_errors = 0
        self._closed = False
        self._loop = asyncio.get_running_loop()
        self._with_tos = getattr(protocol, "datagram_received_tos", None)
        self._apply_mark()
        self._loop.add_reader(sock.fileno(), self._readable)

    def _apply_mark(self) -> None:
        if self.mark is None:
            return
        tos = self.mark()
        if tos is not None and tos != self.sent_tos:
            mark_socket(self.sock, tos)
            self.sent_tos = tos

    def _readable(self) -> None:
        for _ in range(READS_PER_WAKEUP):
            if self._closed:
                return
            try:
                data, anc, _flags, addr = self.sock.recvmsg(MAX_DATAGRAM, _CMSG_SPACE)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:  # ICMP port unreachable of an earlier send, and the like
                self.protocol.error_received(e)
                continue
            tos = None
            for level, kind, payload in anc:
                if (level, kind) in ((socket.IPPROTO_IP, socket.IP_TOS), (socket.IPPROTO_IPV6, socket.IPV6_TCLASS)) \
                        and payload:
                    tos = payload[0] if len(payload) == 1 else int.from_bytes(payload[:4], "little")
            if self._with_tos is not None:
                self._with_tos(data, addr[:2], tos)
            else:
                self.protocol.datagram_received(data, addr[:2])

    def sendto(self, data: bytes, addr: tuple[str, int] | None = None) -> None:
        """Send one datagram, marked as ``mark`` says now. A full socket buffer drops it (UDP), counted
        in ``send_errors``; other OSErrors go to ``protocol.error_received``."""
        if self._closed:
            return
        try:
            self._apply_mark()
            if addr is None:
                self.sock.send(data)
            else:
                self.sock.sendto(data, addr)
        except (BlockingIOError, InterruptedError):
            self.send_errors += 1
        except OSError as e:
            self.send_errors += 1
            self.protocol.error_received(e)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "sockname":
            return self.sock.getsockname()
        if name == "socket":
            return self.sock
        return default

    def is_closing(self) -> bool:
        return self._closed

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception):
            self._loop.remove_reader(self.sock.fileno())
        self.sock.close()
        with contextlib.suppress(Exception):
            self.protocol.connection_lost(None)  # type: ignore[attr-defined]


def _udp_socket(host: str, port: int) -> socket.socket:
    try:
        family = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    except ValueError:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0][0]
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVTCLASS, 1)
        else:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_RECVTOS, 1)
        sock.bind((host, port))
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


async def open_udp_tos(protocol: DscpProtocol, host: str, port: int = 0, *, mark: Mark | None = None,
                       sock: socket.socket | None = None) -> TosUdpEndpoint:
    """A :class:`TosUdpEndpoint` bound on ``host:port`` (``port`` 0: any free one), or on ``sock`` (an
    already bound, possibly connected, UDP socket: it is switched to non-blocking and ``IP_RECVTOS``);
    ``protocol.connection_made`` is called with it. Raises OSError when the address cannot be bound."""
    if sock is None:
        sock = _udp_socket(host, port)
    else:
        try:
            if sock.family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVTCLASS, 1)
            else:
                sock.setsockopt(socket.IPPROTO_IP, socket.IP_RECVTOS, 1)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
    try:
        endpoint = TosUdpEndpoint(sock, protocol, mark)
    except OSError:
        sock.close()
        raise
    protocol.connection_made(endpoint)
    return endpoint
