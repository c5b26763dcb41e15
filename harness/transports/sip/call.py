"""Calls of the SIP probe: one INVITE dialog each, as UAC or UAS, with its media and its ladder.

A :class:`Call` is driven from the stack's asyncio loop (the sync handle is
:class:`harness.transports.sip.ua.CallHandle`). What it does:

* **UAC** (RFC 3261 §13.2): INVITE with an SDP offer (:mod:`harness.transports.sdp`); 1xx move it
  to ``proceeding``, a 1xx with a To tag creates the early dialog (``early``), a 183/18x with SDP
  starts early media; the 2xx confirms the dialog (route set recomputed, §13.2.2.4), is ACKed
  through the route set with a new branch, and every retransmission of it is ACKed again. A
  non-2xx final answer ends it ``failed`` (``cancelled`` for the 487 after our CANCEL).
  :meth:`Call.cancel` (§9.1) waits for a provisional response first, as the RFC asks; a 2xx that
  crosses the CANCEL is ACKed and the call hung up with BYE. Session timers (RFC 4028): an INVITE
  may carry ``Session-Expires`` (``session_expires_s``); a ``422 Session Interval Too Small`` is
  retried (§7.3) with ``Session-Expires`` and ``Min-SE`` set to the 422's ``Min-SE`` (at most
  :data:`MAX_422_RETRIES` times), same Call-ID and From tag, CSeq one higher. The timings stay
  measured from the first INVITE. The probe does not offer to refresh (no ``Supported: timer``),
  so the far end is the refresher (RFC 4028 §9).
* **UAS** (§13.3): the INVITE's offer is answered (488 when nothing is usable); :meth:`Call.ring`
  sends 180 (or 183 with SDP for early media), :meth:`Call.answer` the 200 with SDP, and
  :meth:`Call.reject` a final failure. A CANCEL before the answer gets 200 and the INVITE 487.
  A 2xx without ACK within 64·T1 ends the call with BYE.
* **Both**: re-INVITE (:meth:`Call.reinvite`, :meth:`Call.hold` — ``sendonly`` or the
  ``c=0.0.0.0`` form — and :meth:`Call.resume`), answering the peer's re-INVITE (491 while ours
  is pending), BYE either way, DTMF (:meth:`Call.send_dtmf`, RFC 4733 on the negotiated type).

Measurements (:class:`CallResult`): post-dial delay = INVITE → first 18x, setup time = INVITE →
2xx, both in milliseconds from the first transmission of the INVITE (for a UAS: from its arrival
to this side's 18x/2xx); RTP sent and received; DTMF digits received.
"""

from __future__ import annotations

import asyncio
import contextlib

from sipmessage import Request, Response

from ...errors import LabError
from ..sdp import SdpError, parse_sdp
from .call_base import (
    CALLING,
    CANCELLED,
    CONFIRMED,
    EARLY,
    ENDED,
    FAILED,
    FINAL_STATES,
    PROCEEDING,
    SDP,
    CallBase,
    CallResult,
    UasPolicy,
    media_both_ways,
)
from .dialog import Dialog
from .message import build_request, in_invite_transaction, new_branch, tag_of
from .stack import ClientTransaction, ServerTransaction

MAX_422_RETRIES = 2  # project choice: a peer that keeps raising Min-SE is not followed further

__all__ = ["CALLING", "CANCELLED", "CONFIRMED", "EARLY", "ENDED", "FAILED", "FINAL_STATES", "PROCEEDING", "Call",
           "CallResult", "UasPolicy", "media_both_ways"]


class Call(CallBase):
    """One INVITE dialog of a :class:`~harness.transports.sip.ua.UserAgentCore` (loop-side API)."""

    # -- UAC -------------------------------------------------------------------------------------

    async def start_uac(self, uri: str, from_header: str, to_header: str, timeout_s: float,
                        extra: tuple[tuple[str, str], ...] = (), session_expires_s: int | None = None) -> None:
        """Send the INVITE (raises LabUnreachable when it cannot be sent). ``session_expires_s``
        adds ``Session-Expires`` (RFC 4028 §4, seconds)."""
        if session_expires_s is not None:
            extra = (*extra, ("Session-Expires", str(session_expires_s)))
        self._uac_args = (uri, from_header, to_header, timeout_s, extra)
        await self._send_invite(1, self.sdp.offer(), extra)
        assert isinstance(self.invite_txn, ClientTransaction)
        self.t_invite = self.invite_txn.started

    async def _send_invite(self, cseq: int, body: bytes, extra: tuple[tuple[str, str], ...]) -> None:
        uri, from_header, to_header, timeout_s, _ = self._uac_args
        stack = self.core.stack
        self.invite = build_request(
            "INVITE", uri, via=stack.via(self.transport, new_branch()), from_=from_header, to=to_header,
            call_id=self.call_id, cseq=cseq, contact=self.core.contact(self.transport), extra=extra,
            body=body, content_type=SDP, user_agent=stack.user_agent)
        txn = await stack.request(self.invite, self.peer, timeout_s, on_response=self._on_invite_response)
        self.invite_txn = txn
        self._spawn(self._await_invite_final(txn))

    _uac_args: tuple[str, str, str, float, tuple[tuple[str, str], ...]]
    retries_422 = 0

    def _retry_422(self, resp: Response) -> bool:
        """RFC 4028 §7.3: retry the INVITE a 422 refused with Session-Expires = Min-SE; ``False``
        when it is not retried (no readable Min-SE, retries used up, a CANCEL asked)."""
        raw = resp.headers.get("Min-SE")
        if raw is None or self.retries_422 >= MAX_422_RETRIES or self._cancel_requested or self.invite is None:
            return False
        try:
            min_se = int(raw.split(";", 1)[0].strip())
        except ValueError:
            return False
        self.retries_422 += 1
        uri, from_header, to_header, timeout_s, extra = self._uac_args
        kept = tuple((k, v) for k, v in extra if k.lower() not in ("session-expires", "min-se"))
        extra = (*kept, ("Session-Expires", str(min_se)), ("Min-SE", str(min_se)))
        self._uac_args = (uri, from_header, to_header, timeout_s, extra)
        self.core.transcript.event(f"call {self.call_id}: 422 with Min-SE {min_se}: INVITE again with "
                                   f"Session-Expires {min_se} (RFC 4028 §7.3)")
        body, cseq = self.invite.body, self.invite.cseq.sequence + 1

        async def again() -> None:
            try:
                await self._send_invite(cseq, body, extra)
            except LabError as e:
                self.error = e
                self._end(FAILED, str(e))

        self._spawn(again())
        return True

    async def _await_invite_final(self, txn: ClientTransaction) -> None:
        try:
            final = await txn.wait_final()
        except LabError as e:
            if txn is self.invite_txn:
                self.error = e
                self._end(FAILED, str(e))
            return
        if txn is not self.invite_txn:
            return  # a 422 retried: the new INVITE's transaction decides
        if final is None:
            self._end(CANCELLED if self._cancel_requested else FAILED,
                      f"no final response to INVITE within {txn.timeout_s:g} s")

    def _on_invite_response(self, resp: Response) -> None:
        assert self.invite is not None
        now = asyncio.get_running_loop().time()
        code = resp.code
        if code < 200:
            if 180 <= code < 190 and self.t_18x is None:
                self.t_18x = now
            if code > 100 and tag_of(resp.headers.get("To")) and self.dialog is None:
                with contextlib.suppress(ValueError):
                    self.dialog = Dialog.as_uac(self.invite, resp, self.transport)
            if code > 100 and resp.body and self.state in (CALLING, PROCEEDING, EARLY):
                self.early_sdp = True
                self._accept_answer(resp.body, str(code))  # early media
            self._set(EARLY if self.dialog is not None else PROCEEDING)
            return
        if code >= 300:
            if code == 422 and resp.cseq.sequence == self.invite.cseq.sequence and self._retry_422(resp):
                return
            self.final_code, self.final_reason = code, resp.phrase
            self.final_warning = resp.headers.get("Warning") or ""
            self._end(CANCELLED if code == 487 and self._cancel_requested else FAILED)
            return
        cseq = resp.cseq.sequence
        if cseq in self._acks:  # a retransmitted 2xx: ACK again (§13.2.2.4)
            self._spawn(self._send_ack(cseq))
            return
        if self.state in FINAL_STATES:
            return
        self.final_code, self.final_reason = code, resp.phrase
        self.t_answer = now
        try:
            if self.dialog is None:
                self.dialog = Dialog.as_uac(self.invite, resp, self.transport)
            else:
                self.dialog.refresh(resp, recompute_routes=True)
            self.dialog.confirmed = True
        except ValueError as e:
            self.media_error = f"2xx unusable: {e}"
            return
        if resp.body:
            self._accept_answer(resp.body, str(code))
        elif self.negotiated is None:
            self.media_error = "the 2xx carried no SDP answer"
        self._queue_ack(cseq)
        self._set(CONFIRMED)
        if self._cancel_requested:  # the 2xx crossed our CANCEL (§9.1): hang up
            self._spawn(self.bye(self.core.timeout_s))


    async def cancel(self, timeout_s: float) -> int | None:
        """CANCEL the pending INVITE (§9.1); returns the CANCEL's final status (``None``: none).

        Waits for a provisional response first (a CANCEL may not be sent before one). The call
        ends ``cancelled`` when the 487 comes.

        Raises:
            ValueError: not a UAC call still waiting for its answer.
            LabUnreachable: the CANCEL could not be sent.
        """
        if self.role != "uac" or self.state in FINAL_STATES or self.state == CONFIRMED:
            raise ValueError(f"cannot CANCEL a {self.role} call in state {self.state}")
        self._cancel_requested = True
        assert isinstance(self.invite_txn, ClientTransaction) and self.invite is not None
        if not self.invite_txn.responses:
            await self.wait({PROCEEDING, EARLY, CONFIRMED}, timeout_s)
        if self.state in FINAL_STATES or self.state == CONFIRMED:
            return None
        inv = self.invite
        cancel = in_invite_transaction(inv, "CANCEL", inv.headers["To"])
        txn = await self.core.stack.request(cancel, self.peer, timeout_s)
        resp = await txn.wait_final()
        await self.wait(FINAL_STATES, timeout_s)
        return resp.code if resp is not None else None


    # -- UAS -------------------------------------------------------------------------------------

    def start_uas(self, txn: ServerTransaction) -> bool:
        """Take a new INVITE; ``False`` when it was refused at once (488/400)."""
        req = txn.req
        self.invite, self.invite_txn = req, txn
        self.t_invite = asyncio.get_running_loop().time()
        txn.on_cancel = self._on_cancel
        txn.on_no_ack = self._on_no_ack
        try:
            self.dialog = Dialog.as_uas(req, self.local_tag, self.transport)
        except ValueError as e:
            self._reply(400, extra=(("Warning", f'399 hil "{e}"'),))
            self._end(FAILED, str(e))
            return False
        if not req.body:
            self._offer_pending = True
            return True
        try:
            answer = self.sdp.answer(parse_sdp(req.body))
        except SdpError as e:
            answer = None
            self.media_error = str(e)
        if answer is None:
            self._reply(488, extra=(("Warning", '304 hil "no common G.711 codec"'),))
            self._end(FAILED, "no usable media in the offer")
            return False
        self._answer_sdp, neg = answer
        self.negotiated = neg
        return True

    _answer_sdp: bytes = b""


    def _sdp_out(self) -> bytes:
        return self.sdp.offer() if self._offer_pending else self._answer_sdp

    def ring(self, early_media: bool = False) -> None:
        """180 Ringing, or 183 Session Progress with the SDP answer and media (early media)."""
        if self.role != "uas" or self.state not in (PROCEEDING, EARLY):
            raise ValueError(f"cannot ring a {self.role} call in state {self.state}")
        if self.t_18x is None:
            self.t_18x = asyncio.get_running_loop().time()
        if early_media and not self._offer_pending:
            self._reply(183, self._answer_sdp)
            if self.negotiated is not None:
                self._apply(self.negotiated)
        else:
            self._reply(180)
        self._set(EARLY)

    def answer(self) -> None:
        """200 OK with the SDP answer (or an offer, for an INVITE without SDP); media starts."""
        if self.role != "uas" or self.state not in (PROCEEDING, EARLY):
            raise ValueError(f"cannot answer a {self.role} call in state {self.state}")
        self.t_answer = asyncio.get_running_loop().time()
        self._reply(200, self._sdp_out())
        assert self.dialog is not None
        self.dialog.confirmed = True
        if self.negotiated is not None:
            self._apply(self.negotiated)
        self._set(CONFIRMED)

    def reject(self, code: int = 486) -> None:
        """Answer the INVITE with a final failure ``code`` (4xx-6xx)."""
        if self.role != "uas" or self.state not in (PROCEEDING, EARLY) or not 300 <= code <= 699:
            raise ValueError(f"cannot reject a {self.role} call in state {self.state} with {code}")
        self._reply(code)
        self._end(FAILED)

    async def run_policy(self, policy: UasPolicy) -> None:
        """What an auto-answering UAS does: ring, wait ``ring_s``, answer (or reject)."""
        if policy.reject_code is not None:
            self.reject(policy.reject_code)
            return
        self.ring(policy.early_media)
        if policy.ring_s > 0:
            await self.wait({CONFIRMED}, policy.ring_s)
        if self.state in (PROCEEDING, EARLY):
            self.answer()

    def _on_cancel(self) -> None:
        self._reply(487)
        self.ended_by = "remote"
        self._end(CANCELLED, "CANCEL received")

    def _on_no_ack(self) -> None:
        self.core.transcript.event(f"call {self.call_id}: no ACK for the 2xx within 32 s, hanging up")
        if self.state == CONFIRMED:
            self._spawn(self.bye(self.core.timeout_s))

    def on_ack(self, req: Request) -> None:
        if self._offer_pending and req.body:
            self._offer_pending = False
            self._accept_answer(req.body)
