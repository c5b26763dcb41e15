"""SIP transports of a :class:`~harness.transports.sip.stack.SipStack` (RFC 3261 §18): the UDP
socket's protocol and TCP connections framed by Content-Length.

A TCP connection hands each complete message to the stack; a framing error gets the stack's 400
(when the message is a readable request) and, when fatal, closes the connection; a partial message
still incomplete after ``stack.message_deadline_s`` seconds gets a 400 and a close.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ...errors import LabUnreachable
from .message import SipParseError, StreamFramer, bad_request, lenient_headers, looks_like_request

if TYPE_CHECKING:
    from .stack import SipStack

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


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, stack: SipStack) -> None:
        self.stack = stack

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.stack._received(data, Peer("udp", addr[0], addr[1]), None, framed=False)

    def error_received(self, exc: Exception) -> None:
        log.debug("%s: UDP error: %s", self.stack.device, exc)  # ICMP after sending to a closed port


class _TcpConnection(asyncio.Protocol):
    """One TCP connection (accepted or opened), framed by Content-Length."""

    def __init__(self, stack: SipStack) -> None:
        self.stack = stack
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
        self.stack._conns[(host, port)] = self

    def data_received(self, data: bytes) -> None:
        for item in self.framer.feed(data):
            if isinstance(item, bytes):
                self.stack._received(item, self.peer, self, framed=True)
            else:
                self.stack.malformed(item, self.peer, self, bytes(self.framer.buf))
                if item.fatal:
                    self.close()
                    return
        self._arm_partial()

    def _arm_partial(self) -> None:
        if self.framer.pending and self._partial is None:
            loop = asyncio.get_running_loop()
            self._partial = loop.call_later(self.stack.message_deadline_s, self._partial_expired)
        elif not self.framer.pending and self._partial is not None:
            self._partial.cancel()
            self._partial = None

    def _partial_expired(self) -> None:
        self._partial = None
        if not self.framer.pending or self.closed:
            return
        data = bytes(self.framer.buf)
        reason = (f"incomplete message: {len(data)} bytes, nothing more within "
                  f"{self.stack.message_deadline_s:g} s")
        first, hdrs = lenient_headers(data)
        readable = looks_like_request(first)
        reply = bad_request(hdrs, reason, self.stack.user_agent) if readable else None
        self.stack.malformed(SipParseError(reason, first, reply, fatal=True), self.peer, self, data)
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
        if self.stack._conns.get((self.peer.host, self.peer.port)) is self:
            del self.stack._conns[(self.peer.host, self.peer.port)]


def local_address_toward(host: str, port: int = 5060) -> str:
    """The local IP address the OS would use to reach ``host`` (a connected UDP socket; nothing is
    sent). Raises LabUnreachable when there is no route."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect((host, port))
        except OSError as e:
            raise LabUnreachable("harness", "sip", f"{host}:{port}", f"no route from the harness: {e}") from None
        return str(s.getsockname()[0])
