"""SIP transport and transaction layers (RFC 3261 §17, §18) on asyncio: one UDP socket and one TCP
listener per stack, client and server transactions, CANCEL matching.

What a :class:`SipStack` does:

* **Transport** (§18): one UDP socket on ``local_host:udp_port`` and, when ``tcp_port`` is given,
  one TCP listener; outgoing TCP connections are opened on demand and reused per peer. UDP
  responses go back to the request's source address (as with ``rport``, RFC 3581), TCP responses
  on the connection the request came on (§18.2.2). TCP is framed by Content-Length
  (:class:`~harness.transports.sip.message.StreamFramer`); an incomplete message still incomplete
  after ``message_deadline_s`` gets a 400 and the connection is closed.
* **Client transactions** (§17.1): :meth:`SipStack.request` sends a request and returns its
  :class:`ClientTransaction`. Over UDP it retransmits: INVITE on Timer A (T1, doubling) until any
  response, other methods on Timer E (T1 doubling to T2, then T2 once a 1xx came) until a final
  one. Timer B/F (64·T1 = 32 s) or the caller's ``timeout_s``, whichever is earlier, ends a silent
  transaction (``final`` resolves to ``None``). A non-2xx final answer to INVITE is ACKed by the
  transaction (§17.1.1.3), and its retransmissions are ACKed again during Timer D (32 s UDP).
  Retransmitted 2xx answers to INVITE are handed to the transaction's ``on_response`` for Timer M
  (RFC 6026) so the dialog can ACK them again. Responses match on top Via branch + CSeq method
  (§17.1.3). Over TCP nothing is retransmitted.
* **Server transactions** (§17.2): a new request reaches the handler once; a retransmission gets
  the last response again. An INVITE is answered ``100 Trying`` at once. A non-2xx final answer
  to INVITE is retransmitted on Timer G until its ACK (Timer H = 64·T1); a 2xx is retransmitted
  (T1 doubling to T2, §13.3.1.4) until the dialog's ACK arrives, else ``on_no_ack`` is called.
  CANCEL (§9.2) matches the INVITE by branch and sent-by: 481 without one, else 200, and a pending
  INVITE is told through its ``on_cancel`` (default: answered 487).
* **Malformed input**: a request that does not parse gets a 400 (``Warning: 399`` names the
  problem) and never reaches the handler; a response that does not parse fails the pending client
  transactions it can belong to with :class:`~harness.errors.LabProtocolError` naming device and
  address. Nothing raises out of a protocol callback.

Every message sent or received is recorded in the ``transcript`` and shown to the ``observers``
(direction ``">"``/``"<"``, message, peer, retransmission flag): that is how calls keep ladders.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from sipmessage import Request, Response

from ...errors import LabError, LabProtocolError, LabUnreachable
from ..transcript import Transcript
from .message import SipParseError, branch_of, encode, lenient_headers, parse_message, via_value
from .transaction import TIMER_64T1_S, ClientTransaction, ServerTransaction
from .transport import CONNECT_TIMEOUT_S, MESSAGE_DEADLINE_S, Peer, _TcpConnection, _UdpProtocol

__all__ = ["MESSAGE_DEADLINE_S", "TIMER_64T1_S", "ClientTransaction", "Peer", "ServerTransaction", "SipHandler",
           "SipStack", "StackStats"]

log = logging.getLogger("hil.sip")


@dataclass
class StackStats:
    """Counters of one stack (messages, not bytes)."""

    sent: int = 0
    received: int = 0
    retransmissions: int = 0
    malformed_received: int = 0
    bad_requests_sent: int = 0


Observer = Callable[[str, Request | Response, Peer, bool], None]


class SipHandler(Protocol):
    """The transaction user (UA core) a stack hands requests to."""

    def on_request(self, txn: ServerTransaction) -> None: ...

    def on_ack(self, req: Request, peer: Peer) -> None: ...

    def on_stray_response(self, resp: Response, peer: Peer) -> None: ...


class SipStack:
    """SIP over one UDP socket (and one TCP listener) on ``local_host``.

    Args:
        device: inventory name used in errors (the device the stack talks to or stands for).
        transcript: where every message is recorded (masked by the transcript).
        local_host: address bound and advertised in Via/Contact.
        handler: the transaction user for incoming requests (``None``: requests get 501).
        udp_port: UDP port to bind (0: any free one; ``None``: no UDP).
        tcp_port: TCP port to listen on (0: any free one; ``None``: no listener, TCP still usable
            for outgoing requests).
        user_agent: Server/User-Agent header value.
        message_deadline_s: how long a partial TCP message may wait for its rest.
    """

    def __init__(self, device: str, transcript: Transcript, local_host: str, handler: SipHandler | None = None, *,
                 udp_port: int | None = 0, tcp_port: int | None = None, user_agent: str = "hil SIP probe",
                 message_deadline_s: float = MESSAGE_DEADLINE_S) -> None:
        self.device, self.transcript, self.local_host, self.handler = device, transcript, local_host, handler
        self.user_agent = user_agent
        self.message_deadline_s = message_deadline_s
        self.stats = StackStats()
        self.observers: list[Observer] = []
        self._want_udp, self._want_tcp = udp_port, tcp_port
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp_server: asyncio.Server | None = None
        self._conns: dict[tuple[str, int], _TcpConnection] = {}
        self._clients: dict[tuple[str, str], ClientTransaction] = {}
        self._servers: dict[tuple[str, ...], ServerTransaction] = {}
        self._awaiting_ack: dict[tuple[str, int], ServerTransaction] = {}
        self.udp_port = 0
        self.tcp_port = 0

    # -- life cycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind the sockets. Raises LabUnreachable when the local address cannot be bound."""
        loop = asyncio.get_running_loop()
        where = f"{self.local_host}:{self._want_udp if self._want_udp is not None else self._want_tcp}"
        try:
            if self._want_udp is not None:
                self._udp, _ = await loop.create_datagram_endpoint(
                    lambda: _UdpProtocol(self), local_addr=(self.local_host, self._want_udp))
                self.udp_port = self._udp.get_extra_info("sockname")[1]
            if self._want_tcp is not None:
                self._tcp_server = await loop.create_server(
                    lambda: _TcpConnection(self), self.local_host, self._want_tcp, reuse_address=True)
                self.tcp_port = self._tcp_server.sockets[0].getsockname()[1]
        except OSError as e:
            await self.stop()
            raise LabUnreachable(self.device, "sip", where, f"cannot bind {self.local_host}: {e}") from None

    async def stop(self) -> None:
        for txn in list(self._clients.values()):
            if txn._task is not None:
                txn._task.cancel()
        for srv in list(self._servers.values()):
            if srv._task is not None:
                srv._task.cancel()
        self._clients.clear()
        self._servers.clear()
        self._awaiting_ack.clear()
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
        """Local port of ``transport`` (Via sent-by and Contact)."""
        return self.udp_port if transport == "udp" else self.tcp_port

    def via(self, transport: str, branch: str) -> str:
        return via_value(transport, self.local_host, self.port(transport), branch)

    # -- sending ---------------------------------------------------------------------------------

    async def request(self, req: Request, peer: Peer, timeout_s: float,
                      on_response: Callable[[Response], None] | None = None) -> ClientTransaction:
        """Start a client transaction for ``req`` (its top Via carries a fresh branch) to ``peer``.

        ``timeout_s`` caps the wait for a final response (seconds). ACK is not a transaction: use
        :meth:`send` for the ACK of a 2xx.

        Raises:
            LabUnreachable: the request could not be sent (TCP connection refused, no route).
        """
        txn = ClientTransaction(self, req, peer, timeout_s, on_response)
        self._clients[txn.key] = txn
        try:
            await txn._start()
        except LabError:
            self._clients.pop(txn.key, None)
            raise
        return txn

    async def send(self, msg: Request | Response, peer: Peer) -> None:
        """Send a message outside any transaction (the ACK of a 2xx). Raises LabUnreachable."""
        await self._send(encode(msg), peer, msg, retransmission=False)

    async def _send(self, data: bytes, peer: Peer, msg: Request | Response | None, *, retransmission: bool) -> None:
        if peer.transport == "tcp":
            conn = self._conns.get((peer.host, peer.port)) or await self._connect(peer)
            conn.write(data)
            self._sent(data, peer, msg, retransmission)
        else:
            self._send_now(data, peer, msg, retransmission=retransmission)

    def _send_now(self, data: bytes, peer: Peer, msg: Request | Response | None, *, retransmission: bool,
                  conn: _TcpConnection | None = None) -> None:
        try:
            if peer.transport == "udp":
                if self._udp is None:
                    raise LabUnreachable(self.device, "sip", peer.address, "the UDP socket is closed")
                self._udp.sendto(data, (peer.host, peer.port))
            else:
                conn = conn if conn is not None and not conn.closed else self._conns.get((peer.host, peer.port))
                if conn is None:
                    raise LabUnreachable(self.device, "sip", peer.address, "no TCP connection to answer on")
                conn.write(data)
        except OSError as e:
            raise LabUnreachable(self.device, "sip", peer.address, f"cannot send: {e}") from None
        self._sent(data, peer, msg, retransmission)

    def _sent(self, data: bytes, peer: Peer, msg: Request | Response | None, retransmission: bool) -> None:
        self.stats.sent += 1
        if retransmission:
            self.stats.retransmissions += 1
            line = data.split(b"\r\n", 1)[0].decode("utf-8", "replace")
            self.transcript.event(f"retransmission to {peer}: {line}")
        else:
            self.transcript.sent(f"to {peer}\n{data.decode('utf-8', 'replace')}")
        if msg is not None:
            self._observe(">", msg, peer, retransmission)

    async def _connect(self, peer: Peer) -> _TcpConnection:
        loop = asyncio.get_running_loop()
        try:
            _, proto = await asyncio.wait_for(loop.create_connection(
                lambda: _TcpConnection(self), peer.host, peer.port, local_addr=(self.local_host, 0)),
                CONNECT_TIMEOUT_S)
        except TimeoutError:
            raise LabUnreachable(self.device, "sip", peer.address,
                                 f"TCP connect timed out after {CONNECT_TIMEOUT_S:g} s") from None
        except OSError as e:
            raise LabUnreachable(self.device, "sip", peer.address, f"TCP connect failed: {e}") from None
        return proto

    def _observe(self, direction: str, msg: Request | Response, peer: Peer, retransmission: bool) -> None:
        for obs in list(self.observers):
            try:
                obs(direction, msg, peer, retransmission)
            except Exception:  # an observer bug must not break the stack
                log.exception("SIP observer failed")

    # -- receiving -------------------------------------------------------------------------------

    def _received(self, data: bytes, peer: Peer, conn: _TcpConnection | None, framed: bool) -> None:
        try:
            self._receive(data, peer, conn, framed)
        except Exception:  # nothing raises out of a protocol callback
            log.exception("%s: error handling a message from %s", self.device, peer)

    def _receive(self, data: bytes, peer: Peer, conn: _TcpConnection | None, framed: bool) -> None:
        if not data.strip():
            return  # CRLF keep-alive (RFC 5626 §4.4.1)
        self.stats.received += 1
        try:
            msg = parse_message(data, framed=framed, server=self.user_agent)
        except SipParseError as e:
            self.transcript.received(f"from {peer}\n{data.decode('utf-8', 'replace')}")
            self.malformed(e, peer, conn, data)
            return
        self.transcript.received(f"from {peer}\n{data.decode('utf-8', 'replace')}")
        if isinstance(msg, Response):
            self._response(msg, peer)
        else:
            self._request(msg, peer, conn)

    def malformed(self, err: SipParseError, peer: Peer, conn: _TcpConnection | None, data: bytes = b"") -> None:
        """A message that did not parse or frame: 400 for a request, LabProtocolError for a response."""
        self.stats.malformed_received += 1
        self.transcript.event(f"malformed message from {peer}: {err.reason}")
        if err.reply is not None:
            self.stats.bad_requests_sent += 1
            with contextlib.suppress(LabError):
                self._send_now(encode(err.reply), peer, err.reply, retransmission=False, conn=conn)
            return
        if not err.first_line.startswith("SIP/2.0 "):
            return  # neither request nor response: nothing to answer, nobody to tell
        _, hdrs = lenient_headers(data)
        branch = ""
        via = hdrs.get("Via") or ""
        if ";branch=" in via:
            branch = via.split(";branch=", 1)[1].split(";")[0].strip()
        error = LabProtocolError(self.device, "sip", peer.address,
                                 f"malformed response {err.first_line[:60]!r}: {err.reason}")
        for txn in list(self._clients.values()):
            if (branch and txn.branch == branch) or (not branch and txn.peer.host == peer.host
                                                     and txn.peer.port == peer.port):
                txn._fail(error)

    def _response(self, resp: Response, peer: Peer) -> None:
        self._observe("<", resp, peer, False)
        txn = self._clients.get((branch_of(resp), resp.cseq.method))
        if txn is not None:
            txn._received(resp)
        elif self.handler is not None:
            self.handler.on_stray_response(resp, peer)

    def _request(self, req: Request, peer: Peer, conn: _TcpConnection | None) -> None:
        top = req.via[0]
        method = "INVITE" if req.method == "ACK" else req.method
        branch = top.parameters.get("branch") or f"{req.call_id}|{req.cseq.sequence}"
        key = (branch, top.host, str(top.port or 5060), method)
        existing = self._servers.get(key)
        if req.method == "ACK":
            self._observe("<", req, peer, False)
            if existing is not None:  # ACK of a non-2xx final answer: absorbed (Confirmed state)
                existing._acked.set()
                return
            waiting = self._awaiting_ack.pop((req.call_id, req.cseq.sequence), None)
            if waiting is not None:
                waiting._acked.set()
            if self.handler is not None:
                self.handler.on_ack(req, peer)
            return
        if existing is not None:  # a retransmission: the same answer, not handled twice
            self._observe("<", req, peer, True)
            existing._retransmitted()
            return
        self._observe("<", req, peer, False)
        txn = ServerTransaction(self, req, peer, key, conn)
        self._servers[key] = txn
        if req.method == "CANCEL":
            self._cancel(txn, (branch, top.host, str(top.port or 5060), "INVITE"))
            return
        if req.method == "INVITE":
            txn.reply(100)
        if self.handler is None:
            txn.reply(501)
            return
        self.handler.on_request(txn)

    def _cancel(self, txn: ServerTransaction, invite_key: tuple[str, ...]) -> None:
        invite = self._servers.get(invite_key)
        if invite is None:
            txn.reply(481)
            return
        txn.reply(200, to_tag=None)
        if invite.final_code is None and not invite.cancelled:
            invite._cancel()
