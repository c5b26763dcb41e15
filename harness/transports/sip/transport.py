"""The SIP transport layer (RFC 3261 §18): one UDP socket, one TCP listener, TCP connections framed
by Content-Length, and the :class:`Peer` at the other end of each message.

:class:`SipTransport` owns the sockets of one stack and knows nothing of the layers above it: it
hands what it receives to a :class:`MessageSink` (the stack, :class:`~harness.transports.sip.stack.SipStack`):

* a complete message to :meth:`MessageSink.deliver`, with its peer and, for TCP, the connection to
  answer on;
* a framing error (:class:`~harness.transports.sip.message.SipParseError`, with the 400 to send
  when the message is a readable request) to :meth:`MessageSink.malformed`; a fatal one also closes
  the connection, and so does a partial message still incomplete after ``message_deadline_s``
  seconds (it gets a 400 first);
* an ICMP error on a UDP socket connected to one peer (``udp_peer``) to
  :meth:`MessageSink.unreachable` (RFC 3261 §18.4). An unconnected UDP socket hears no ICMP error
  on Linux, so only a connected one can tell "port unreachable" from silence.

DSCP: the UDP socket reads the ToS byte of every datagram (``IP_RECVTOS``, :mod:`..udp_tos`) into
:attr:`SipTransport.tos_seen` per peer, and, given ``mark``, marks every message sent (UDP and
TCP) with the ToS byte ``mark()`` gives then. TCP gives no per-segment ToS on receive.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from dataclasses import dataclass
from typing import Protocol

from ...errors import LabUnreachable
from ..udp_tos import Mark, TosUdpEndpoint, mark_socket, open_udp_tos
from .message import SipParseError, StreamFramer, answerable, bad_request, lenient_headers

log = logging.getLogger("hil.sip")

CONNECT_TIMEOUT_S = 3.0  # project choice: TCP connect deadline
MESSAGE_DEADLINE_S = 5.0  # project choice: a partial TCP message older than this gets 400 and a close


@dataclass(frozen=True)
class Peer:
    """The other end of a message: ``transport`` (``"udp"``/``"tcp"``), ``host``, ``port``."""

    transport: str
    host: str
    port: int

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def __str__(self) -> str:
        return f"{self.transport.upper()} {self.host}:{self.port}"


class MessageSink(Protocol):
    """What a :class:`SipTransport` hands its input to (the stack)."""

    @property
    def user_agent(self) -> str:
        """Server header of the 400 a message cut short gets."""
        ...

    def deliver(self, data: bytes, peer: Peer, conn: TcpConnection | None, *, framed: bool) -> None:
        """One message as received: a datagram (``framed=False``) or a stream message cut on its
        Content-Length (``framed=True``, ``conn`` the connection it came on)."""
        ...

    def malformed(self, err: SipParseError, peer: Peer, conn: TcpConnection | None, data: bytes = b"") -> None:
        """A message that could not be framed; ``err.reply`` is the 400 to send, when there is one."""
        ...

    def unreachable(self, peer: Peer, error: OSError) -> None:
        """An ICMP error from ``peer`` (``ConnectionRefusedError``: port unreachable)."""
        ...


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, owner: SipTransport, remote: Peer | None) -> None:
        self.owner, self.remote = owner, remote

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.owner.sink.deliver(data, Peer("udp", addr[0], addr[1]), None, framed=False)

    def datagram_received_tos(self, data: bytes, addr: tuple[str, int], tos: int | None) -> None:
        if tos is not None:
            seen = self.owner.tos_seen.setdefault((addr[0], addr[1]), {})
            seen[tos] = seen.get(tos, 0) + 1
        self.datagram_received(data, addr)

    def error_received(self, exc: Exception) -> None:
        if self.remote is not None and isinstance(exc, OSError):
            self.owner.sink.unreachable(self.remote, exc)
        else:  # an unconnected socket cannot tell whose ICMP it was
            log.debug("%s: UDP error: %s", self.owner.device, exc)


class TcpConnection(asyncio.Protocol):
    """One TCP connection (accepted or opened) of a :class:`SipTransport`, framed by Content-Length."""

    def __init__(self, owner: SipTransport) -> None:
        self.owner = owner
        self.framer = StreamFramer()
        self.transport: asyncio.Transport | None = None
        self.peer = Peer("tcp", "", 0)
        self.closed = False
        self._partial: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        host, port = transport.get_extra_info("peername")[:2]
        self.peer = Peer("tcp", host, port)
        self.owner._attach(self)

    def data_received(self, data: bytes) -> None:
        sink = self.owner.sink
        for item in self.framer.feed(data):
            if isinstance(item, bytes):
                sink.deliver(item, self.peer, self, framed=True)
            else:
                sink.malformed(item, self.peer, self, bytes(self.framer.buf))
                if item.fatal:
                    self.close()
                    return
        self._arm_partial()

    def _arm_partial(self) -> None:
        if self.framer.pending and self._partial is None:
            loop = asyncio.get_running_loop()
            self._partial = loop.call_later(self.owner.message_deadline_s, self._partial_expired)
        elif not self.framer.pending and self._partial is not None:
            self._partial.cancel()
            self._partial = None

    def _partial_expired(self) -> None:
        self._partial = None
        if not self.framer.pending or self.closed:
            return
        data = bytes(self.framer.buf)
        reason = (f"incomplete message: {len(data)} bytes, nothing more within "
                  f"{self.owner.message_deadline_s:g} s")
        first, hdrs = lenient_headers(data)
        sink = self.owner.sink
        reply = bad_request(hdrs, reason, sink.user_agent) if answerable(first) else None
        sink.malformed(SipParseError(reason, first, reply, fatal=True), self.peer, self, data)
        self.close()

    def write(self, data: bytes) -> None:
        if self.transport is None or self.closed:
            raise OSError("connection closed")
        self.transport.write(data)

    def close(self) -> None:
        if not self.closed and self.transport is not None:
            self.transport.close()
        self.closed = True

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._partial is not None:
            self._partial.cancel()
        self.owner._detach(self)


class SipTransport:
    """The sockets of one stack: UDP on ``local_host:udp_port``, a TCP listener on ``tcp_port``,
    and outgoing TCP connections opened on demand and reused per peer (§18.1.1).

    Args:
        device: inventory name used in errors.
        local_host: address bound.
        sink: where received messages, framing errors and ICMP errors go.
        udp_port: UDP port to bind (0: any free one; ``None``: no UDP).
        tcp_port: TCP port to listen on (0: any free one; ``None``: no listener; outgoing TCP works).
        udp_peer: ``(host, port)`` to connect the UDP socket to: only that peer's datagrams are read,
            and its ICMP errors reach :meth:`MessageSink.unreachable` (``None``: unconnected).
        message_deadline_s: how long a partial TCP message may wait for its rest, seconds.
        mark: gives the ToS byte every message is sent with (``None``: the sockets' default, 0).

    Attributes:
        tos_seen: ``(host, port)`` of a UDP peer -> packets per ToS byte received from it.
    """

    def __init__(self, device: str, local_host: str, sink: MessageSink, *, udp_port: int | None = 0,
                 tcp_port: int | None = None, udp_peer: tuple[str, int] | None = None,
                 message_deadline_s: float = MESSAGE_DEADLINE_S, mark: Mark | None = None) -> None:
        self.device, self.local_host, self.sink = device, local_host, sink
        self.mark = mark
        self.tos_seen: dict[tuple[str, int], dict[int, int]] = {}
        self.message_deadline_s = message_deadline_s
        self.udp_peer = udp_peer
        self.udp_port = 0
        self.tcp_port = 0
        self._want_udp, self._want_tcp = udp_port, tcp_port
        self._udp: TosUdpEndpoint | None = None
        self._tcp_server: asyncio.Server | None = None
        self._conns: dict[tuple[str, int], TcpConnection] = {}

    # -- life cycle ------------------------------------------------------------------------------

    async def open(self) -> None:
        """Bind the sockets.

        Raises:
            LabUnreachable: the local address cannot be bound, or ``udp_peer`` cannot be reached
                from it (no route).
        """
        loop = asyncio.get_running_loop()
        where = f"{self.local_host}:{self._want_udp if self._want_udp is not None else self._want_tcp}"
        try:
            if self._want_udp is not None:
                remote = Peer("udp", *self.udp_peer) if self.udp_peer is not None else None
                if remote is None:
                    self._udp = await open_udp_tos(_UdpProtocol(self, None), self.local_host, self._want_udp,
                                                   mark=self.mark)
                else:
                    self._udp = await open_udp_tos(_UdpProtocol(self, remote), self.local_host, mark=self.mark,
                                                   sock=self._connected_udp(self._want_udp, remote))
                self.udp_port = self._udp.get_extra_info("sockname")[1]
            if self._want_tcp is not None:
                self._tcp_server = await loop.create_server(
                    lambda: TcpConnection(self), self.local_host, self._want_tcp, reuse_address=True)
                self.tcp_port = self._tcp_server.sockets[0].getsockname()[1]
        except LabUnreachable:
            await self.close()
            raise
        except OSError as e:
            await self.close()
            raise LabUnreachable(self.device, "sip", where, f"cannot bind {self.local_host}: {e}") from None

    def _connected_udp(self, port: int, remote: Peer) -> socket.socket:
        """A UDP socket bound to ``local_host:port`` and connected to ``remote`` (raises OSError
        for the bind, LabUnreachable when ``remote`` cannot be reached)."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind((self.local_host, port))
        except OSError:
            sock.close()
            raise
        try:
            sock.connect((remote.host, remote.port))
        except OSError as e:
            sock.close()
            raise LabUnreachable(self.device, "sip", remote.address,
                                 f"cannot reach from {self.local_host}: {e}") from None
        return sock

    async def close(self) -> None:
        """Close every connection and socket (the stack can be opened again)."""
        for conn in list(self._conns.values()):
            conn.close()
        self._conns.clear()
        if self._tcp_server is not None:
            self._tcp_server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._tcp_server.wait_closed(), 1.0)
            self._tcp_server = None
        if self._udp is not None:
            self._udp.close()
            self._udp = None

    def port(self, transport: str) -> int:
        """Local port of ``transport`` (``"udp"``/``"tcp"``)."""
        return self.udp_port if transport == "udp" else self.tcp_port

    # -- sending ---------------------------------------------------------------------------------

    async def send(self, data: bytes, peer: Peer) -> None:
        """Send ``data`` to ``peer``, opening a TCP connection when there is none.

        Raises:
            LabUnreachable: no connection could be opened (refused, timed out), or the socket failed.
        """
        conn = None
        if peer.transport == "tcp":
            conn = self._conns.get((peer.host, peer.port)) or await self._connect(peer)
        self.send_now(data, peer, conn)

    def send_now(self, data: bytes, peer: Peer, conn: TcpConnection | None = None) -> None:
        """Send ``data`` to ``peer`` without waiting: over UDP, or on ``conn`` (an answer goes back
        on the connection its request came on, §18.2.2), else on the open connection to ``peer``.

        Raises:
            LabUnreachable: the socket is closed, there is no TCP connection, or sending failed.
        """
        try:
            if peer.transport == "udp":
                if self._udp is None:
                    raise LabUnreachable(self.device, "sip", peer.address, "the UDP socket is closed")
                if self.udp_peer is not None:
                    self._udp.sendto(data)  # a connected socket (sendto with an address would fail on it)
                else:
                    self._udp.sendto(data, (peer.host, peer.port))
            else:
                conn = conn if conn is not None and not conn.closed else self._conns.get((peer.host, peer.port))
                if conn is None:
                    raise LabUnreachable(self.device, "sip", peer.address, "no TCP connection to answer on")
                if self.mark is not None and conn.transport is not None and (tos := self.mark()) is not None:
                    mark_socket(conn.transport.get_extra_info("socket"), tos)
                conn.write(data)
        except OSError as e:
            raise LabUnreachable(self.device, "sip", peer.address, f"cannot send: {e}") from None

    async def _connect(self, peer: Peer) -> TcpConnection:
        loop = asyncio.get_running_loop()
        try:
            _, proto = await asyncio.wait_for(loop.create_connection(
                lambda: TcpConnection(self), peer.host, peer.port, local_addr=(self.local_host, 0)),
                CONNECT_TIMEOUT_S)
        except TimeoutError:
            raise LabUnreachable(self.device, "sip", peer.address,
                                 f"TCP connect timed out after {CONNECT_TIMEOUT_S:g} s") from None
        except OSError as e:
            raise LabUnreachable(self.device, "sip", peer.address, f"TCP connect failed: {e}") from None
        return proto

    # -- connections (called by TcpConnection) ---------------------------------------------------

    def _attach(self, conn: TcpConnection) -> None:
        self._conns[(conn.peer.host, conn.peer.port)] = conn

    def _detach(self, conn: TcpConnection) -> None:
        if self._conns.get((conn.peer.host, conn.peer.port)) is conn:
            del self._conns[(conn.peer.host, conn.peer.port)]


def local_address_toward(host: str, port: int = 5060, device: str = "harness") -> str:
    """The local IP address the OS would use to reach ``host`` (a connected UDP socket; nothing is
    sent).

    Raises:
        LabUnreachable: there is no route (named after ``device``, the device asked for).
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect((host, port))
        except OSError as e:
            raise LabUnreachable(device, "sip", f"{host}:{port}", f"no route from the harness: {e}") from None
        return str(s.getsockname()[0])
