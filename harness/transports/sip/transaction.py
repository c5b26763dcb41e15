"""SIP transactions (RFC 3261 §17, RFC 6026): a client transaction per request sent, a server
transaction per request received, with their timers.

A transaction knows its stack only as a :class:`TransactionSender`: it sends through
:meth:`~TransactionSender.transmit` / :meth:`~TransactionSender.transmit_now`, asks to be told
the ACK of its 2xx (:meth:`~TransactionSender.expect_ack`) and leaves the stack's tables through
:meth:`~TransactionSender.forget` when it ends. The stack hands it what arrives through its
public methods (:meth:`ClientTransaction.receive`, :meth:`ServerTransaction.receive_ack`, …).
The timers are told in the docstring of :mod:`harness.transports.sip.stack`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable
from typing import Protocol

from sipmessage import Request, Response

from ...errors import LabError
from ..transcript import Transcript
from .message import T1_S, T2_S, T4_S, branch_of, build_response, encode, in_invite_transaction
from .transport import Peer, TcpConnection

TIMER_64T1_S = 64 * T1_S  # Timers B, F, H, J, M (RFC 3261 §17, RFC 6026)
TIMER_D_S = 32.0  # RFC 3261 §17.1.1.2, UDP


class TransactionSender(Protocol):
    """What a transaction needs of the stack it lives on (:class:`~harness.transports.sip.stack.SipStack`)."""

    @property
    def transcript(self) -> Transcript:
        """Where timeouts and lost ACKs are noted."""
        ...

    @property
    def user_agent(self) -> str:
        """Server header of the responses :meth:`ServerTransaction.reply` builds."""
        ...

    async def transmit(self, data: bytes, peer: Peer, msg: Request | Response | None, *,
                       retransmission: bool) -> None:
        """Send the encoded ``msg`` (opening a TCP connection when needed). Raises LabUnreachable."""
        ...

    def transmit_now(self, data: bytes, peer: Peer, msg: Request | Response | None, *, retransmission: bool,
                     conn: TcpConnection | None = None) -> None:
        """Send without waiting (on ``conn`` for TCP answers). Raises LabUnreachable."""
        ...

    def expect_ack(self, txn: ServerTransaction) -> None:
        """``txn`` sent a 2xx to INVITE: the dialog's ACK (a new transaction, §17.1.1.3) ends it."""
        ...

    def forget(self, txn: ClientTransaction | ServerTransaction) -> None:
        """``txn`` has ended: no more messages are matched to it."""
        ...


class ClientTransaction:
    """One request in flight (RFC 3261 §17.1). Created by :meth:`SipStack.request`.

    Attributes:
        req, peer: what was sent, and where. ``branch``: its top Via branch.
        responses: every response received, retransmissions of the final one excluded.
        final: resolves to the final response, ``None`` when the deadline passed without one (or
            an ICMP port unreachable came back), or raises :class:`~harness.errors.LabError`
            (LabProtocolError for a malformed answer, LabUnreachable for a transport failure).
        attempts: transmissions (1 + retransmissions).
        started: loop time (seconds) of the first transmission; ``final_at``: of the final answer.
        refused: an ICMP port unreachable came back from ``peer`` (nothing listens there).
    """

    def __init__(self, stack: TransactionSender, req: Request, peer: Peer, timeout_s: float,
                 on_response: Callable[[Response], None] | None) -> None:
        loop = asyncio.get_running_loop()
        self.stack, self.req, self.peer, self.timeout_s = stack, req, peer, timeout_s
        self.method = req.method
        self.branch = branch_of(req)
        self.on_response = on_response
        self.responses: list[Response] = []
        self.final: asyncio.Future[Response | None] = loop.create_future()
        self.attempts = 0
        self.started = loop.time()
        self.final_at: float | None = None
        self.refused = False
        self._data = encode(req)
        self._progress = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._ack: bytes | None = None

    @property
    def key(self) -> tuple[str, str]:
        return self.branch, self.method

    async def start(self) -> None:
        """Send the request and start the timers. Raises LabUnreachable when it cannot be sent."""
        await self.stack.transmit(self._data, self.peer, self.req, retransmission=False)
        self.attempts = 1
        self._task = asyncio.create_task(self._timers(), name=f"sip client {self.method} {self.branch}")

    def stop(self) -> None:
        """Stop the timers (the stack is closing)."""
        if self._task is not None:
            self._task.cancel()

    def abandon(self) -> None:
        """Give the transaction up (a route found silent): no more retransmissions, :meth:`wait_final`
        gives None, and responses that come later are no longer matched to it."""
        if not self.final.done():
            self.final.set_result(None)
        self.stop()

    async def _timers(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = self.started + self.timeout_s
        calling_deadline = min(deadline, self.started + TIMER_64T1_S)  # Timer B / F
        interval = T1_S
        try:
            while not self.final.done():
                now = loop.time()
                # Timer B stops at the first 1xx to INVITE (the caller's deadline then caps the ring
                # time); Timer F runs on through Proceeding for the other methods
                limit = deadline if self.method == "INVITE" and self.responses else calling_deadline
                if now >= limit:
                    self.stack.transcript.event(f"{self.method} to {self.peer}: no final response within "
                                                f"{limit - self.started:.1f} s ({self.attempts} sent)")
                    self.final.set_result(None)
                    break
                retransmit = self.peer.transport == "udp" and not (self.method == "INVITE" and self.responses)
                wait = min(interval, limit - now) if retransmit else limit - now
                self._progress.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._progress.wait(), wait)
                    continue
                if retransmit and loop.time() < limit and not self.final.done():
                    with contextlib.suppress(LabError):
                        await self.stack.transmit(self._data, self.peer, self.req, retransmission=True)
                        self.attempts += 1
                    if self.method == "INVITE":
                        interval *= 2  # Timer A doubles without cap
                    else:
                        interval = T2_S if self.responses else min(interval * 2, T2_S)  # Timer E
            await self._linger()
        finally:
            self.stack.forget(self)

    async def _linger(self) -> None:
        """Completed/Accepted states: absorb retransmitted finals (Timers D, K, M)."""
        final = self.final.result() if self.final.done() and not self.final.exception() else None
        if final is None:
            return
        udp = self.peer.transport == "udp"
        if self.method == "INVITE":
            wait = TIMER_64T1_S if final.code < 300 else (TIMER_D_S if udp else 0.0)
        else:
            wait = T4_S if udp else 0.0
        if wait > 0:
            await asyncio.sleep(wait)

    def receive(self, resp: Response) -> None:
        """A response matched to this transaction (§17.1.3)."""
        self._progress.set()
        if not self.final.done():
            self.responses.append(resp)
            if resp.code >= 200:
                self.final_at = asyncio.get_running_loop().time()
                self.final.set_result(resp)
                if self.method == "INVITE" and resp.code >= 300:
                    self._send_ack(resp)
            if self.on_response is not None:
                self.on_response(resp)
            return
        first = self.final.result() if not self.final.exception() else None
        if first is None:
            return
        if self.method == "INVITE" and first.code >= 300 and self._ack is not None:
            self.stack.transmit_now(self._ack, self.peer, None, retransmission=True)
        elif self.method == "INVITE" and 200 <= resp.code < 300 and self.on_response is not None:
            self.on_response(resp)  # a retransmitted (or forked) 2xx: the dialog ACKs it again

    def _send_ack(self, resp: Response) -> None:
        """ACK of a non-2xx final answer (RFC 3261 §17.1.1.3): same branch, To of the response."""
        ack = in_invite_transaction(self.req, "ACK", resp.headers["To"])
        self._ack = encode(ack)
        self.stack.transmit_now(self._ack, self.peer, ack, retransmission=False)

    def fail(self, error: LabError) -> None:
        """End the transaction with ``error`` (a malformed answer, a transport failure)."""
        self._progress.set()
        if not self.final.done():
            self.final.set_exception(error)
            self.final.exception()  # mark retrieved: the caller may never await it

    def refuse(self) -> None:
        """An ICMP port unreachable came back from the peer (RFC 3261 §18.4): nothing listens there,
        so the transaction ends at once without a final response (``refused`` is set)."""
        self._progress.set()
        if not self.final.done():
            self.refused = True
            self.stack.transcript.event(f"{self.method} to {self.peer}: ICMP port unreachable, nothing listens there")
            self.final.set_result(None)

    async def wait_final(self) -> Response | None:
        """The final response; ``None`` on timeout or refusal. Raises LabProtocolError for a
        malformed answer, LabUnreachable for a transport failure."""
        return await asyncio.shield(self.final)


class ServerTransaction:
    """One request received (RFC 3261 §17.2); the handler answers it with :meth:`respond`.

    Attributes:
        req, peer: the request and where it came from. ``final_code``: the final status sent.
        on_cancel: called once when a CANCEL for this pending INVITE arrives; ``None`` → 487.
        on_no_ack: called when a 2xx to INVITE got no ACK within 64·T1.
    """

    def __init__(self, stack: TransactionSender, req: Request, peer: Peer, key: tuple[str, ...],
                 conn: TcpConnection | None) -> None:
        self.stack, self.req, self.peer, self.key, self.conn = stack, req, peer, key, conn
        self.method = req.method
        self.final_code: int | None = None
        self.cancelled = False
        self.on_cancel: Callable[[], None] | None = None
        self.on_no_ack: Callable[[], None] | None = None
        self._last: bytes | None = None
        self._last_msg: Response | None = None
        self._acked = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def ack_key(self) -> tuple[str, int]:
        """Call-ID and CSeq number the ACK of a 2xx carries (§17.1.1.3: the ACK is its own transaction)."""
        return self.req.call_id, self.req.cseq.sequence

    def respond(self, resp: Response) -> None:
        """Send ``resp`` (built with :func:`~harness.transports.sip.message.build_response`)."""
        if self.final_code is not None:
            return  # a transaction has one final answer
        self._last = encode(resp)
        self._last_msg = resp
        self.stack.transmit_now(self._last, self.peer, resp, retransmission=False, conn=self.conn)
        if resp.code < 200:
            return
        self.final_code = resp.code
        if self.method == "INVITE" and resp.code < 300:
            self.stack.expect_ack(self)
        self._task = asyncio.create_task(self._after_final(), name=f"sip server {self.method}")

    def reply(self, code: int, phrase: str | None = None, *, to_tag: str | None = None, contact: str | None = None,
              extra: Iterable[tuple[str, str]] = (), body: bytes = b"", content_type: str | None = None) -> Response:
        """Build (:func:`~harness.transports.sip.message.build_response`) and send a response."""
        resp = build_response(self.req, code, phrase, to_tag=to_tag, contact=contact, server=self.stack.user_agent,
                              extra=extra, body=body, content_type=content_type)
        self.respond(resp)
        return resp

    async def _after_final(self) -> None:
        loop = asyncio.get_running_loop()
        udp = self.peer.transport == "udp"
        start = loop.time()
        try:
            if self.method == "INVITE":
                interval = T1_S
                while not self._acked.is_set() and udp and loop.time() - start < TIMER_64T1_S:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._acked.wait(), interval)
                        break
                    assert self._last is not None
                    self.stack.transmit_now(self._last, self.peer, self._last_msg, retransmission=True,
                                            conn=self.conn)
                    interval = min(interval * 2, T2_S)  # Timer G; 2xx: §13.3.1.4
                if not udp:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._acked.wait(), TIMER_64T1_S)
                if not self._acked.is_set() and self.final_code is not None and self.final_code < 300:
                    self.stack.transcript.event(f"no ACK for {self.final_code} to INVITE from {self.peer}")
                    if self.on_no_ack is not None:
                        self.on_no_ack()
            elif udp:
                await asyncio.sleep(TIMER_64T1_S)  # Timer J: answer retransmissions
        finally:
            self.stack.forget(self)

    def stop(self) -> None:
        """Stop the timers (the stack is closing)."""
        if self._task is not None:
            self._task.cancel()

    def receive_retransmission(self) -> None:
        """The request came again: the last response goes again (nothing when none was sent yet)."""
        if self._last is not None:
            self.stack.transmit_now(self._last, self.peer, self._last_msg, retransmission=True, conn=self.conn)

    def receive_ack(self) -> None:
        """The ACK of the final answer came: retransmissions stop (Confirmed state)."""
        self._acked.set()

    def receive_cancel(self) -> None:
        """A CANCEL matched this pending INVITE (§9.2): ``on_cancel``, or 487 when there is none."""
        self.cancelled = True
        if self.on_cancel is not None:
            self.on_cancel()
        else:
            self.reply(487)
