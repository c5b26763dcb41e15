"""The SIP user agent the twin's phones and PSTN simulator share, on the harness's own SIP stack.

:class:`TwinUserAgent` is a :class:`~harness.transports.sip.ua.UserAgentCore` serving one twin
device on ``host:port`` over UDP and TCP: every INVITE gets 100 Trying (the stack), then
:meth:`TwinUserAgent.run_call` answers it (180 Ringing, then after :data:`ANSWER_AFTER_S` 200 OK
with the SDP answer: PCMU/PCMA as offered, telephone-event when offered; 488 when no G.711 is
common) and the media is an echo when ``echo`` is set (:class:`RtpSession` in echo mode: the
caller's audio and RFC 4733 digits come back on the negotiated payload types). Several calls at once
are fine; an ended call is forgotten :data:`LINGER_S` after its end. A re-INVITE is answered as RFC
3264 says (an offered ``sendonly`` hold gets ``recvonly``, ``inactive`` gets ``inactive``,
``c=0.0.0.0`` stops the echo); BYE 200; CANCEL before the answer 200 and 487 to the INVITE; OPTIONS
200 with Allow. On an answered call, the RFC 4733 digit ``D`` makes the device hang up (BYE) 0.2 s
later: a test's way to have the callee clear the call. An out-of-dialog NOTIFY goes to
``on_notify`` when one is set (a phone's check-sync). Everything else (unknown methods 501,
known-not-allowed 405, malformed 400, retransmissions) is the stack's and the UA core's.

:class:`UaService` runs one such agent as a twin service, with one background task while it runs
(a phone's registration, the PSTN simulator's OPTIONS pings). The phone
(:mod:`harness.twin.phone.sip`) and the PSTN simulator (:mod:`harness.twin.pstn.sip`) subclass both.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from ...errors import LabError, LabUnreachable
from ...transports.rtp import HANGUP_DIGIT, RtpSession
from ...transports.sdp import SdpSession
from ...transports.sip.call import CONFIRMED, EARLY, FINAL_STATES, PROCEEDING, Call, UasPolicy
from ...transports.sip.message import SipParseError, tag_of
from ...transports.sip.stack import Peer, ServerTransaction, SipStack
from ...transports.sip.ua import UserAgentCore
from ...transports.transcript import Transcript
from ...transports.udp_tos import Mark

log = logging.getLogger("hil.twin.sip")

ANSWER_AFTER_S = 0.1  # project choice: 180 Ringing, then the 200 this much later
LINGER_S = 5.0  # project choice: an ended call is forgotten this long after its end
CLEAR_AFTER_S = 0.2  # project choice: the far end hangs up this long after the clearing digit


class _TwinStack(SipStack):
    """A stack that also tells its UA about malformed messages (the PSTN counts and logs them)."""

    def __init__(self, owner: TwinUserAgent, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.owner = owner

    def malformed(self, err: SipParseError, peer: Peer, conn: Any, data: bytes = b"") -> None:
        super().malformed(err, peer, conn, data)
        if self.owner.on_malformed is not None:
            self.owner.on_malformed(err, peer, data)


class TwinUserAgent(UserAgentCore):
    """A UA core serving one twin device: new INVITEs go to :meth:`run_call`, ended calls are dropped.

    Args:
        device: inventory name. host / port: bound for UDP and TCP. user: Contact user.
        server: callable giving the Server/User-Agent header (the ``firmware`` fault changes it).
        echo: RTP sessions start in echo mode (phones); the PSTN switches to echo at answer.
        on_ended: called with each call once it has ended (before it is forgotten).
        sip_mark / rtp_mark: give the ToS byte the device's SIP / RTP leaves with (phones: EF/CS3).
    """

    def __init__(self, device: str, host: str, port: int, user: str, server: Callable[[], str], *,
                 echo: bool, on_ended: Callable[[Call], None] | None = None, sip_mark: Mark | None = None,
                 rtp_mark: Mark | None = None) -> None:
        super().__init__(device, Transcript(f"{device} sip {host}:{port}"), host, udp_port=port, tcp_port=port,
                         user=user, policy=UasPolicy(), user_agent=server(), rtp_mark=rtp_mark)
        self.on_malformed: Callable[[SipParseError, Peer, bytes], None] | None = None
        self.stack = _TwinStack(self, device, self.transcript, host, self, udp_port=port, tcp_port=port,
                                user_agent=server(), mark=sip_mark)
        self.stack.observers.append(self._observe)
        self.server = server
        self.echo = echo
        self.on_ended = on_ended
        self.on_notify: Callable[[ServerTransaction], None] | None = None  # phones: check-sync (phone/firmware.py)
        #: a new INVITE's refusal status (403 …), or None to take it (phones: the registrar-only fault)
        self.refuse_invite: Callable[[ServerTransaction], int | None] | None = None

    def on_request(self, txn: ServerTransaction) -> None:
        self.stack.user_agent = self.server()
        if txn.req.method == "NOTIFY" and self.on_notify is not None and not tag_of(txn.req.headers.get("To")):
            self.on_notify(txn)
            return
        if (txn.req.method == "INVITE" and self.refuse_invite is not None and not tag_of(txn.req.headers.get("To"))
                and (code := self.refuse_invite(txn)) is not None):
            txn.reply(code)
            return
        call = self.calls.get(txn.req.call_id)
        if call is not None and call.state in FINAL_STATES and tag_of(txn.req.headers.get("To")):
            txn.reply(481)  # the dialog ended (the call lingers only to absorb late messages)
            return
        super().on_request(txn)

    async def _rtp(self, peer: Peer) -> RtpSession:
        rtp = RtpSession(self.local_host, echo=self.echo, mark=self.rtp_mark)
        try:
            await rtp.open()
        except OSError as e:
            raise LabUnreachable(self.device, "rtp", peer.address,
                                 f"cannot bind RTP on {self.local_host}: {e}") from None
        return rtp

    async def _new_call(self, txn: ServerTransaction) -> None:
        try:
            rtp = await self._rtp(txn.peer)
        except LabError:
            txn.reply(500)
            return
        call = Call(self, "uas", txn.req.call_id, txn.peer, self._sdp(rtp), rtp)
        rtp.receiver.on_digit = lambda digit: self._clear_on(call, digit)
        self.calls[call.call_id] = call
        for direction, msg, peer, again, at in self._unclaimed.pop(call.call_id, []):
            call.ladder.add(direction, msg, peer, again, at)
        self._spawn(self._forget_when_ended(call))
        if call.start_uas(txn):
            await self.run_call(call)

    def _clear_on(self, call: Call, digit: str) -> None:
        """The far end clears the call (BYE) :data:`CLEAR_AFTER_S` after it receives the RFC 4733
        digit :data:`~harness.transports.rtp.HANGUP_DIGIT` on an answered call (the lab's
        echo lines do, so a test can make the callee hang up)."""
        if digit == HANGUP_DIGIT and call.state == CONFIRMED:
            async def clear() -> None:
                await asyncio.sleep(CLEAR_AFTER_S)
                if call.state == CONFIRMED:
                    await call.bye(self.timeout_s)

            self._spawn(clear())

    def _sdp(self, rtp: RtpSession) -> SdpSession:
        return SdpSession(self.local_host, rtp.port, self.policy.codecs, self.policy.telephone_event_pt)

    async def run_call(self, call: Call) -> None:
        """Answer a new call (its offer is accepted): 180, :data:`ANSWER_AFTER_S`, 200."""
        call.ring()
        await call.wait({CONFIRMED}, ANSWER_AFTER_S)
        if call.state in (PROCEEDING, EARLY):
            call.answer()

    async def _forget_when_ended(self, call: Call) -> None:
        while call.state not in FINAL_STATES:
            await call.wait(FINAL_STATES, 3600.0)
        if self.on_ended is not None:
            try:
                self.on_ended(call)
            except Exception:  # a bookkeeping bug must not keep the call alive
                log.exception("%s: on_ended failed for %s", self.device, call.call_id)
        await asyncio.sleep(LINGER_S)
        if self.calls.get(call.call_id) is call:
            del self.calls[call.call_id]

    async def stop(self) -> None:
        await super().stop()
        self.calls.clear()
        self._unclaimed.clear()


class UaService:
    """A twin service running one :class:`TwinUserAgent` and, while it runs, one background task
    (a phone's registration, the PSTN simulator's OPTIONS pings). Subclasses give ``_new_ua`` and
    may give ``_background`` and ``_before_stop``; ``start``/``stop`` may be called many times."""

    name = "sip"
    device = ""
    ua: TwinUserAgent | None = None
    _task: asyncio.Task[None] | None = None

    def _new_ua(self) -> TwinUserAgent:
        raise NotImplementedError

    def _background(self) -> Coroutine[Any, Any, None] | None:
        return None

    async def _before_stop(self, ua: TwinUserAgent) -> None:
        pass

    async def start(self) -> None:
        if self.ua is not None:
            return
        ua = self._new_ua()
        await ua.start()  # raises LabUnreachable (its context: the OSError) when the port is taken
        self.ua = ua
        coro = self._background()
        if coro is not None:
            self._task = asyncio.create_task(coro, name=f"{self.device} {self.name}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        ua, self.ua = self.ua, None
        if ua is not None:
            await self._before_stop(ua)
            await ua.stop()
