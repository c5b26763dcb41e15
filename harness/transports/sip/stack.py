"""The SIP stack (RFC 3261 §17, §18) on asyncio: a :class:`~harness.transports.sip.transport.SipTransport`
with its client and server transactions, the dispatcher between them and the transaction user.

What a :class:`SipStack` does:

* **Transport** (§18, :mod:`harness.transports.sip.transport`): one UDP socket on
  ``local_host:udp_port`` and, when ``tcp_port`` is given, one TCP listener; outgoing TCP
  connections are opened on demand and reused per peer. UDP responses go back to the request's
  source address (as with ``rport``, RFC 3581), TCP responses on the connection the request came
  on (§18.2.2). TCP is framed by Content-Length
  (:class:`~harness.transports.sip.message.StreamFramer`); an incomplete message still incomplete
  after ``message_deadline_s`` gets a 400 and the connection is closed. A stack whose UDP socket
  is connected to one peer (``udp_peer``) hears that peer's ICMP errors: port unreachable ends the
  client transactions toward it at once without an answer (``refused``), another ICMP error fails
  them with :class:`~harness.errors.LabUnreachable` (§18.4).
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
  transactions it can belong to (by branch, else by peer address) with
  :class:`~harness.errors.LabProtocolError` naming device and address, and so does input that is
  no SIP at all from a peer a client transaction waits on (a device that answers with something
  else). Nothing raises out of a protocol callback.

Every message sent or received is recorded in the ``transcript`` and shown to the ``observers``
(direction ``">"``/``"<"``, message, peer, retransmission flag): that is how calls keep ladders.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from sipmessage import Request, Response

from ...errors import LabError, LabProtocolError, LabUnreachable
from ..transcript import Transcript
from ..udp_tos import Mark
from .message import SipParseError, branch_of, encode, lenient_headers, parse_message, via_value
from .transaction import TIMER_64T1_S, ClientTransaction, ServerTransaction
from .transport import MESSAGE_DEADLINE_S, Peer, SipTransport, TcpConnection

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
        udp_peer: ``(host, port)`` the UDP socket is connected to (``None``: unconnected): only
            that peer is heard, and its ICMP port unreachable ends the transactions toward it.
        user_agent: Server/User-Agent header value.
        message_deadline_s: how long a partial TCP message may wait for its rest.
        mark: gives the ToS byte SIP is sent with (:class:`~.transport.SipTransport`).
    """

    def __init__(self, device: str, transcript: Transcript, local_host: str, handler: SipHandler | None = None, *,
                 udp_port: int | None = 0, tcp_port: int | None = None, udp_peer: tuple[str, int] | None = None,
                 user_agent: str = "hil SIP probe", message_deadline_s: float = MESSAGE_DEADLINE_S,
                 mark: Mark | None = None) -> None:
        self.device, self.transcript, self.local_host, self.handler = device, transcript, local_host, handler
        self.user_agent = user_agent
        self.stats = StackStats()
        self.observers: list[Observer] = []
        self.sockets = SipTransport(device, local_host, self, udp_port=udp_port, tcp_port=tcp_port,
                                    udp_peer=udp_peer, message_deadline_s=message_deadline_s, mark=mark)
        self._clients: dict[tuple[str, str], ClientTransaction] = {}
        self._servers: dict[tuple[str, ...], ServerTransaction] = {}
        self._awaiting_ack: dict[tuple[str, int], ServerTransaction] = {}

    # -- life cycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind the sockets. Raises LabUnreachable when the local address cannot be bound (or the
        ``udp_peer`` cannot be reached from it)."""
        await self.sockets.open()

    async def stop(self) -> None:
        for txn in list(self._clients.values()):
            txn.stop()
        for srv in list(self._servers.values()):
            srv.stop()
        self._clients.clear()
        self._servers.clear()
        self._awaiting_ack.clear()
        await self.sockets.close()

    @property
    def udp_port(self) -> int:
        """Local UDP port (0 before :meth:`start` or without UDP)."""
        return self.sockets.udp_port

    @property
    def tcp_port(self) -> int:
        """Local TCP listener port (0 before :meth:`start` or without a listener)."""
        return self.sockets.tcp_port

    @property
    def message_deadline_s(self) -> float:
        return self.sockets.message_deadline_s

    def port(self, transport: str) -> int:
        """Local port of ``transport`` (Via sent-by and Contact)."""
        return self.sockets.port(transport)

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
            await txn.start()
        except LabError:
            self.forget(txn)
            raise
        return txn

    async def send(self, msg: Request | Response, peer: Peer) -> None:
        """Send a message outside any transaction (the ACK of a 2xx). Raises LabUnreachable."""
        await self.transmit(encode(msg), peer, msg, retransmission=False)

    async def transmit(self, data: bytes, peer: Peer, msg: Request | Response | None, *,
                       retransmission: bool) -> None:
        """Send ``data`` (``msg`` encoded; ``None`` keeps it from the observers), opening a TCP
        connection when needed; recorded in the transcript and the stats. Raises LabUnreachable."""
        await self.sockets.send(data, peer)
        self._sent(data, peer, msg, retransmission)

    def transmit_now(self, data: bytes, peer: Peer, msg: Request | Response | None, *, retransmission: bool,
                     conn: TcpConnection | None = None) -> None:
        """:meth:`transmit` without waiting: over UDP, or on ``conn`` / the open connection to
        ``peer``. Raises LabUnreachable."""
        self.sockets.send_now(data, peer, conn)
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

    def _observe(self, direction: str, msg: Request | Response, peer: Peer, retransmission: bool) -> None:
        for obs in list(self.observers):
            try:
                obs(direction, msg, peer, retransmission)
            except Exception:  # an observer bug must not break the stack
                log.exception("SIP observer failed")

    # -- transactions' bookkeeping -----------------------------------------------------------------

    def expect_ack(self, txn: ServerTransaction) -> None:
        """``txn`` answered an INVITE with a 2xx: the ACK with its Call-ID and CSeq ends it."""
        self._awaiting_ack[txn.ack_key] = txn

    def forget(self, txn: ClientTransaction | ServerTransaction) -> None:
        """Take ``txn`` out of the tables (it has ended, or its owner gives it up): messages that
        come later for it are matched to nothing (a request: a new transaction)."""
        if isinstance(txn, ClientTransaction):
            if self._clients.get(txn.key) is txn:
                del self._clients[txn.key]
            return
        if self._servers.get(txn.key) is txn:
            del self._servers[txn.key]
        if self._awaiting_ack.get(txn.ack_key) is txn:
            del self._awaiting_ack[txn.ack_key]

    # -- receiving (the transport's MessageSink) ----------------------------------------------------

    def deliver(self, data: bytes, peer: Peer, conn: TcpConnection | None, *, framed: bool) -> None:
        """One message from the transport (see :class:`~harness.transports.sip.transport.MessageSink`)."""
        try:
            self._receive(data, peer, conn, framed)
        except Exception:  # nothing raises out of a protocol callback
            log.exception("%s: error handling a message from %s", self.device, peer)

    def _receive(self, data: bytes, peer: Peer, conn: TcpConnection | None, framed: bool) -> None:
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

    def malformed(self, err: SipParseError, peer: Peer, conn: TcpConnection | None, data: bytes = b"") -> None:
        """A message that did not parse or frame: 400 for a request, LabProtocolError for the client
        transactions a broken response (or input that is no SIP at all) can be the answer of."""
        self.stats.malformed_received += 1
        self.transcript.event(f"malformed message from {peer}: {err.reason}")
        if err.reply is not None:
            self.stats.bad_requests_sent += 1
            with contextlib.suppress(LabError):
                self.transmit_now(encode(err.reply), peer, err.reply, retransmission=False, conn=conn)
            return
        if not err.first_line.startswith("SIP/2.0 "):
            # neither request nor response: the answer of whatever waits on this peer
            for txn in self._waiting_on(peer):
                txn.fail(LabProtocolError(self.device, "sip", peer.address,
                                          f"answer to {txn.method} is not SIP: {err.reason}: "
                                          f"{err.first_line[:60]!r}"))
            return
        _, hdrs = lenient_headers(data)
        branch = ""
        via = hdrs.get("Via") or ""
        if ";branch=" in via:
            branch = via.split(";branch=", 1)[1].split(";")[0].strip()
        error = LabProtocolError(self.device, "sip", peer.address,
                                 f"malformed response {err.first_line[:60]!r}: {err.reason}")
        for txn in [t for t in self._clients.values() if t.branch == branch] if branch else self._waiting_on(peer):
            txn.fail(error)

    def _waiting_on(self, peer: Peer) -> list[ClientTransaction]:
        return [t for t in self._clients.values() if t.peer.host == peer.host and t.peer.port == peer.port]

    def unreachable(self, peer: Peer, error: OSError) -> None:
        """An ICMP error from ``peer`` (a connected UDP socket): its UDP client transactions end,
        refused (port unreachable) or failed with LabUnreachable (any other error)."""
        waiting = [t for t in self._waiting_on(peer) if t.peer.transport == "udp"]
        if not waiting:
            self.transcript.event(f"ICMP error from {peer}: {error.strerror or error}")
        for txn in waiting:
            if isinstance(error, ConnectionRefusedError):
                txn.refuse()
            else:
                txn.fail(LabUnreachable(self.device, "sip", peer.address, f"ICMP error: {error.strerror or error}"))

    def _response(self, resp: Response, peer: Peer) -> None:
        self._observe("<", resp, peer, False)
        txn = self._clients.get((branch_of(resp), resp.cseq.method))
        if txn is not None:
            txn.receive(resp)
        elif self.handler is not None:
            self.handler.on_stray_response(resp, peer)

    def _request(self, req: Request, peer: Peer, conn: TcpConnection | None) -> None:
        top = req.via[0]
        method = "INVITE" if req.method == "ACK" else req.method
        branch = top.parameters.get("branch") or f"{req.call_id}|{req.cseq.sequence}"
        key = (branch, top.host, str(top.port or 5060), method)
        existing = self._servers.get(key)
        if req.method == "ACK":
            self._observe("<", req, peer, False)
            if existing is not None:  # ACK of a non-2xx final answer: absorbed (Confirmed state)
                existing.receive_ack()
                return
            waiting = self._awaiting_ack.pop((req.call_id, req.cseq.sequence), None)
            if waiting is not None:
                waiting.receive_ack()
            if self.handler is not None:
                self.handler.on_ack(req, peer)
            return
        if existing is not None:  # a retransmission: the same answer, not handled twice
            self._observe("<", req, peer, True)
            existing.receive_retransmission()
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
            invite.receive_cancel()
