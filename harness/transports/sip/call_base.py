"""Shared part of a probe call (:class:`CallBase`): state, media, ladder, requests inside the
dialog (re-INVITE, hold/resume, BYE, DTMF) and its :class:`CallResult`.

The UAC and UAS halves are in :class:`harness.transports.sip.call.Call`; the module docstring there
tells the whole behaviour. A call knows the user agent it belongs to only as a :class:`CallOwner`
(the stack to send on, the transcript, its Contact and Allow), so the user agent
(:mod:`harness.transports.sip.ua`) sits above the call and the call never imports it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from sipmessage import Request, Response

from ...errors import LabError
from ..rtp import RtpSession, RtpStats
from ..sdp import Negotiated, SdpError, SdpSession, SessionDescription, parse_sdp
from ..sdp_checks import SdpFinding, check_answer, check_change
from ..transcript import Transcript
from .dialog import Dialog
from .ladder import Ladder
from .message import new_branch, new_tag
from .stack import ClientTransaction, Peer, ServerTransaction, SipStack

log = logging.getLogger("hil.sip")

CALLING, PROCEEDING, EARLY, CONFIRMED = "calling", "proceeding", "early", "confirmed"
ENDED, FAILED, CANCELLED = "ended", "failed", "cancelled"
FINAL_STATES = frozenset({ENDED, FAILED, CANCELLED})
SDP = "application/sdp"


@dataclass
class UasPolicy:
    """How a probe UAS answers new INVITEs.

    Attributes:
        auto_answer: ring then answer by itself; ``False`` leaves calls to the test
            (``SipUserAgent.next_incoming``), which rings/answers/rejects them.
        ring_s: seconds between the 180 (or 183) and the 200.
        early_media: send 183 with the SDP answer (and start media) instead of 180.
        reject_code: answer every INVITE with this final status instead (e.g. 486, 503).
        codecs / telephone_event_pt: what the answer may pick (``None``: no RFC 4733).
        min_se_s: this UAS's smallest session interval (RFC 4028 §5, seconds): an INVITE whose
            ``Session-Expires`` is smaller gets ``422`` with ``Min-SE`` (§9); ``None``: none.
    """

    auto_answer: bool = True
    ring_s: float = 0.0
    early_media: bool = False
    reject_code: int | None = None
    codecs: tuple[str, ...] = ("PCMU", "PCMA")
    telephone_event_pt: int | None = 101
    min_se_s: int | None = None


@dataclass(frozen=True)
class CallResult:
    """Facts about one call (a snapshot).

    Attributes:
        call_id, role (``"uac"``/``"uas"``), state, transport (``"udp"``/``"tcp"``).
        final_code / final_reason: the INVITE's final status (``None``: none came) and phrase or why.
        final_warning: the ``Warning`` header of a final refusal (>= 300; RFC 3261 §20.43), ``""``
            without one (what the refusing server said its reason was).
        post_dial_delay_ms: INVITE → first 18x (``None`` without one); setup_ms: INVITE → 2xx.
        early_sdp: a provisional answer (183) carried SDP (early media, RFC 3261 §13.2.1).
        first_media_ms: INVITE → first RTP packet received (``None``: none); smaller than
            ``setup_ms`` when media flowed before the answer.
        codec: negotiated codec name sent; telephone_event_pt: payload type DTMF is sent on.
        rtp_sent_packets: RTP packets this side sent; rtp: what this side's receiver measured.
        media_received: at least one audio packet arrived here.
        dtmf_sent / dtmf_received: digits.
        ended_by: ``"local"``, ``"remote"`` or ``None``. error: the lab error that ended it.
        media_error: why the SDP answer could not be used, ``""`` when it could.
        sdp_findings: what the answers this side received did wrong or changed
            (:mod:`harness.transports.sdp_checks`), as ``"severity kind: text (rule)"`` lines.
        remote_target / route_set: the dialog's, at the end.
        messages: ``(direction, first line)`` of every message, ``">"`` sent, retransmissions left out.
        ladder: the rendered ladder.
    """

    call_id: str
    role: str
    state: str
    transport: str
    final_code: int | None
    final_reason: str
    post_dial_delay_ms: float | None
    setup_ms: float | None
    early_sdp: bool
    first_media_ms: float | None
    codec: str | None
    telephone_event_pt: int | None
    rtp_sent_packets: int
    rtp: RtpStats
    media_received: bool
    dtmf_sent: str
    dtmf_received: str
    ended_by: str | None
    error: str | None
    media_error: str
    remote_target: str | None
    route_set: tuple[str, ...]
    messages: tuple[tuple[str, str], ...]
    ladder: str
    sdp_findings: tuple[str, ...] = ()
    final_warning: str = ""


def media_both_ways(a: CallResult, b: CallResult) -> bool:
    """Audio arrived at both ends of a call whose two sides are probe calls."""
    return a.media_received and b.media_received


class CallOwner(Protocol):
    """What a call needs of the user agent it belongs to
    (:class:`~harness.transports.sip.ua.UserAgentCore` is one)."""

    @property
    def stack(self) -> SipStack:
        """The stack the call's requests and answers go through."""
        ...

    @property
    def transcript(self) -> Transcript:
        """Where the call's end and ladder are noted."""
        ...

    @property
    def allow(self) -> tuple[str, ...]:
        """Methods answered in ``Allow`` (405 to an in-dialog request not supported)."""
        ...

    @property
    def timeout_s(self) -> float:
        """Deadline of the BYE a call sends by itself (a 2xx that crossed its CANCEL, no ACK), seconds."""
        ...

    def contact(self, transport: str) -> str:
        """The Contact header value for ``transport``."""
        ...


class CallBase:
    """State, media and in-dialog handling of one INVITE dialog (see :class:`~harness.transports.sip.call.Call`)."""

    def __init__(self, core: CallOwner, role: str, call_id: str, peer: Peer, sdp: SdpSession,
                 rtp: RtpSession) -> None:
        self.core, self.role, self.call_id, self.peer = core, role, call_id, peer
        self.transport = peer.transport
        self.sdp, self.rtp = sdp, rtp
        self.ladder = Ladder(call_id, f"{peer.transport.upper()} {core.stack.local_host}:"
                                      f"{core.stack.port(peer.transport)}")
        self.state = CALLING if role == "uac" else PROCEEDING
        self.final_code: int | None = None
        self.final_reason = ""
        self.final_warning = ""
        self.dialog: Dialog | None = None
        self.negotiated: Negotiated | None = None
        self.error: LabError | None = None
        self.media_error = ""
        self.ended_by: str | None = None
        self.invite: Request | None = None
        self.invite_txn: ClientTransaction | ServerTransaction | None = None
        self.t_invite: float | None = None
        self.t_18x: float | None = None
        self.t_answer: float | None = None
        self.early_sdp = False
        self.dtmf_sent = ""
        self.local_tag = new_tag()
        self._changed = asyncio.Event()
        self._acks: dict[int, tuple[Request, Peer]] = {}
        self._hold: str | None = None
        self._reinvite_pending = False
        self._cancel_requested = False
        self._offer_pending: bool = False  # UAS: INVITE without SDP, the answer comes in the ACK
        self.sdp_findings: list[SdpFinding] = []
        self._answered: tuple[bytes, SessionDescription, str] | None = None  # offer, its first answer, where
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- state -----------------------------------------------------------------------------------

    def _set(self, state: str) -> None:
        if self.state in FINAL_STATES:
            return
        self.state = state
        old, self._changed = self._changed, asyncio.Event()
        old.set()

    def _end(self, state: str, reason: str | None = None) -> None:
        if self.state in FINAL_STATES:
            return
        if reason and not self.final_reason:
            self.final_reason = reason
        self._set(state)
        self.core.transcript.event(f"call {self.call_id} {state}: {self.final_reason}")
        self.core.transcript.event("ladder\n" + self.ladder.render())
        self._spawn(self.rtp.close())

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def cancel_tasks(self) -> None:
        """Cancel what the call runs in the background (its ACK sends, a BYE of its own, its policy)."""
        for task in list(self._tasks):
            task.cancel()

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("call %s: %s", self.call_id, task.exception())

    async def wait(self, states: frozenset[str] | set[str], timeout_s: float) -> str:
        """Wait until the state is one of ``states`` (or final); returns the state (which may not be
        one of ``states`` when the deadline passed first — the caller decides)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while self.state not in states and self.state not in FINAL_STATES:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)
        return self.state

    def _peer(self, host: str, port: int, transport: str) -> Peer:
        return Peer(transport, host, port)

    def _apply(self, neg: Negotiated) -> None:
        self.negotiated = neg
        codec = neg.codec
        if codec is None:
            return
        self.rtp.configure((neg.remote_host, neg.remote_port), codec.name, codec.pt, neg.send_telephone_event_pt,
                           neg.send, neg.recv_codec_pts, neg.recv_telephone_event_pt)

    def _accept_answer(self, body: bytes, where: str = "") -> None:
        """Use the SDP answer ``body`` (received in ``where``: ``"183"``, ``"200"`` …) to this side's
        last offer, after noting what it does wrong (:func:`~harness.transports.sdp_checks.check_answer`)
        and, for a second answer to the same offer, what changed (media follows the new one)."""
        try:
            answer = parse_sdp(body)
            self._check_answer(answer, where)
            self._apply(self.sdp.accept(answer))
            self.media_error = ""
        except SdpError as e:
            self.media_error = str(e)
            self.core.transcript.event(f"call {self.call_id}: SDP answer unusable: {e}")

    def _check_answer(self, answer: SessionDescription, where: str) -> None:
        offer_body = self.sdp.last_sent
        if not offer_body:
            return
        found: list[SdpFinding] = []
        if self._answered is not None and self._answered[0] == offer_body:
            _, first, first_where = self._answered
            if first.raw != answer.raw:
                found += check_change(first, answer, f"{first_where} → {where}" if where else first_where)
        else:
            self._answered = (offer_body, answer, where or "answer")
            found += check_answer(parse_sdp(offer_body), answer)
        for f in found:
            if str(f) not in {str(x) for x in self.sdp_findings}:
                self.sdp_findings.append(f)
                self.core.transcript.event(f"call {self.call_id}: SDP {f}")


    def _queue_ack(self, cseq: int) -> None:
        assert self.dialog is not None
        req, target = self.dialog.request("ACK", self.core.stack.via(self.transport, new_branch()), cseq=cseq,
                                          user_agent=self.core.stack.user_agent)
        self._acks[cseq] = (req, self._peer(target.host, target.port, target.transport))
        self._spawn(self._send_ack(cseq))

    async def _send_ack(self, cseq: int) -> None:
        req, peer = self._acks[cseq]
        try:
            await self.core.stack.send(req, peer)
        except LabError as e:
            self.error = e


    def _reply(self, code: int, body: bytes = b"", extra: tuple[tuple[str, str], ...] = ()) -> None:
        assert isinstance(self.invite_txn, ServerTransaction)
        contact = self.core.contact(self.transport) if 100 < code < 300 else None
        resp = self.invite_txn.reply(code, to_tag=self.local_tag, contact=contact, extra=extra, body=body,
                                     content_type=SDP if body else None)
        if code >= 200:
            self.final_code, self.final_reason = code, resp.phrase


    # -- both ------------------------------------------------------------------------------------

    def on_request(self, txn: ServerTransaction) -> None:
        """A request inside this call's dialog."""
        req, dialog = txn.req, self.dialog
        assert dialog is not None
        seq = req.cseq.sequence
        if dialog.remote_seq is not None and seq < dialog.remote_seq and req.method != "CANCEL":
            txn.reply(500, extra=[("Warning", '399 hil "CSeq lower than the last one"')])
            return
        dialog.remote_seq = seq
        if req.method == "BYE":
            txn.reply(200)
            if isinstance(self.invite_txn, ServerTransaction) and self.invite_txn.final_code is None:
                self._reply(487)
            self.ended_by = self.ended_by or "remote"
            self._end(ENDED, "BYE received")
        elif req.method == "INVITE":
            self._on_reinvite(txn)
        elif req.method in ("OPTIONS", "INFO"):
            txn.reply(200)
        elif req.method in ("UPDATE", "PRACK", "REFER", "NOTIFY", "SUBSCRIBE", "MESSAGE"):
            txn.reply(405, extra=[("Allow", ", ".join(self.core.allow))])
        else:
            txn.reply(501)

    def _on_reinvite(self, txn: ServerTransaction) -> None:
        assert self.dialog is not None
        if self._reinvite_pending:
            txn.reply(491)  # glare, §14.1
            return
        if not txn.req.body:
            txn.reply(200, to_tag=self.local_tag, contact=self.core.contact(self.transport),
                      body=self.sdp.offer(self._hold or "sendrecv"), content_type=SDP)
            self._offer_pending = True
            return
        try:
            result = self.sdp.answer(parse_sdp(txn.req.body), hold="sendonly" if self._hold == "sendonly" else None)
        except SdpError:
            result = None
        if result is None:
            txn.reply(488)
            return
        body, neg = result
        self.dialog.refresh(txn.req)
        txn.reply(200, contact=self.core.contact(self.transport), body=body, content_type=SDP)
        self._apply(neg)

    async def reinvite(self, direction: str = "sendrecv", hold_zero: bool = False, timeout_s: float = 8.0
                       ) -> int | None:
        """Send a re-INVITE with a new offer; returns its final status (``None``: none came).

        Raises:
            ValueError: the call is not confirmed, or a re-INVITE is already pending.
            LabUnreachable / LabProtocolError: it could not be sent / the answer was malformed.
        """
        if self.state != CONFIRMED or self.dialog is None:
            raise ValueError(f"cannot re-INVITE a call in state {self.state}")
        if self._reinvite_pending:
            raise ValueError("a re-INVITE is already pending")
        self._reinvite_pending = True
        try:
            req, target = self.dialog.request(
                "INVITE", self.core.stack.via(self.transport, new_branch()), contact=self.core.contact(self.transport),
                body=self.sdp.offer(direction, hold_zero), content_type=SDP, user_agent=self.core.stack.user_agent)
            peer = self._peer(target.host, target.port, target.transport)
            txn = await self.core.stack.request(req, peer, timeout_s, on_response=self._on_reinvite_response)
            final = await txn.wait_final()
        finally:
            self._reinvite_pending = False
        return final.code if final is not None else None

    def _on_reinvite_response(self, resp: Response) -> None:
        if not 200 <= resp.code < 300 or self.dialog is None:
            return
        cseq = resp.cseq.sequence
        if cseq in self._acks:
            self._spawn(self._send_ack(cseq))
            return
        self.dialog.refresh(resp)
        if resp.body:
            self._accept_answer(resp.body, f"{resp.code} to re-INVITE")
        self._queue_ack(cseq)

    async def hold(self, mode: str = "sendonly", timeout_s: float = 8.0) -> int | None:
        """Put the peer on hold: ``"sendonly"`` (RFC 3264 §8.4) or ``"zero"`` (c=0.0.0.0, RFC 2543)."""
        if mode not in ("sendonly", "zero"):
            raise ValueError(f"hold mode {mode!r} is not 'sendonly' or 'zero'")
        code = await (self.reinvite("sendonly", timeout_s=timeout_s) if mode == "sendonly"
                      else self.reinvite("sendrecv", hold_zero=True, timeout_s=timeout_s))
        if code is not None and 200 <= code < 300:
            self._hold = mode
        return code

    async def resume(self, timeout_s: float = 8.0) -> int | None:
        """Take the peer off hold (re-INVITE ``sendrecv`` with the real address)."""
        code = await self.reinvite("sendrecv", timeout_s=timeout_s)
        if code is not None and 200 <= code < 300:
            self._hold = None
        return code

    async def send_dtmf(self, digits: str, duration_ms: int = 100, gap_ms: int = 60) -> None:
        """Send ``digits`` as RFC 4733 events on the negotiated payload type (see RtpSession.send_dtmf).

        A call that ends while the digits go out (the far end hangs up on a digit it has already
        received, before the event's repeated end packets are all sent) returns, with the end noted in
        the transcript; ``dtmf_sent`` then lacks ``digits``.

        Raises:
            asyncio.CancelledError: this coroutine was cancelled, or media stopped (hold) while the
                call goes on.
        """
        try:
            await self.rtp.send_dtmf(digits, duration_ms, gap_ms)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if (task is not None and task.cancelling()) or self.state != ENDED:
                raise
            self.core.transcript.event(f"call {self.call_id} ended while DTMF {digits!r} went out")
            return
        self.dtmf_sent += digits.upper()

    async def bye(self, timeout_s: float) -> int | None:
        """Hang up a confirmed call; returns the BYE's final status (``None``: none came).

        Raises:
            ValueError: the call is not confirmed.
            LabUnreachable: the BYE could not be sent.
        """
        if self.state != CONFIRMED or self.dialog is None:
            raise ValueError(f"cannot BYE a call in state {self.state}")
        self.ended_by = "local"
        req, target = self.dialog.request("BYE", self.core.stack.via(self.transport, new_branch()),
                                          user_agent=self.core.stack.user_agent)
        peer = self._peer(target.host, target.port, target.transport)
        await self.rtp.close()
        try:
            txn = await self.core.stack.request(req, peer, timeout_s)
            final = await txn.wait_final()
        except LabError as e:
            self.error = e
            self._end(ENDED, f"BYE failed: {e}")
            raise
        self._end(ENDED, f"BYE answered {final.code} {final.phrase}" if final else "BYE unanswered")
        return final.code if final is not None else None

    def result(self) -> CallResult:
        def ms(t: float | None) -> float | None:
            return None if t is None or self.t_invite is None else (t - self.t_invite) * 1000.0

        st = self.rtp.stats()
        neg = self.negotiated
        d = self.dialog
        return CallResult(
            self.call_id, self.role, self.state, self.transport, self.final_code, self.final_reason,
            ms(self.t_18x), ms(self.t_answer), self.early_sdp, ms(st.first_s),
            neg.codec.name if neg and neg.codec else None,
            neg.send_telephone_event_pt if neg else None, self.rtp.sent.packets, st, st.media_flowed,
            self.dtmf_sent, st.digits, self.ended_by, str(self.error) if self.error else None, self.media_error,
            d.remote_target if d else None, tuple(d.route_set) if d else (),
            tuple((e.direction, e.first_line) for e in self.ladder.entries() if not e.retransmission),
            self.ladder.render(), tuple(str(f) for f in self.sdp_findings), self.final_warning)
