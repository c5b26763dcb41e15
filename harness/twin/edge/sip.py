"""The twin Edge's SIP side: a back-to-back user agent that anchors media, on the harness's SIP stack.

Each Edge with ``sip`` gets two :class:`~harness.transports.sip.stack.SipStack` (UDP and TCP each):
``sip-trunk`` on ``host:sip.port`` (5060, toward the carrier) and ``sip-phones`` on
``host:sip.phone_port`` (8060, the phones' registrar, :mod:`.registrar`). The whole
behaviour, formats and faults are in ``docs/twin-edge-sip.md``; in short:

* OPTIONS → 200 with Allow (both ports; ``options-silent`` drops them). Unknown methods 501,
  known but not taken here 405 with Allow, REGISTER only on the phone port, malformed → 400 (stack;
  an unknown Request-URI scheme 416). A request of a method it takes is inspected as RFC 3261
  §8.2.2-§8.2.3 say (:func:`~harness.transports.sip.uas_checks.refusal`): Require 420, body type
  415, Accept without SDP on INVITE 406.
* Every ``trunk.routes`` PSTN gets an OPTIONS at start and every :data:`OPTIONS_INTERVAL_S`; the
  last answer per route is ``EdgeState.trunk_options`` (the API's ``optionsStatus``).
* **Inbound** (INVITE on the trunk port): Max Calls → ``max_calls_code``; R-URI user → DID →
  extension (404) → registered contact (480) → G.711 in the offer (488) → INVITE to the phone.
* **Outbound** (INVITE on the phone port): From user must be a phone's extension (403); R-URI an
  extension → station-to-station; else E.164 (484), the org's routes and Block List and the station's
  class (:meth:`~harness.twin.edge.routing.EdgeRouting.refusal`: 404 or 403 with Warning, nothing sent),
  Max Calls, then ``trunk.routes`` in order, the E.164 number as Request-URI user (``ruri-national``:
  the national number) (a 503, a transport error or silence for the route's ``sip.timeout_s`` → next
  route; none left → 503).
* Media through a :class:`~harness.twin.edge.media_relay.MediaRelay` per call, SDP rewritten by
  :func:`~harness.twin.edge.routing.rewrite_sdp`; early media (183 with SDP), re-INVITE relayed,
  BYE/CANCEL relayed, ACK per leg, Record-Route honoured on the trunk leg (RFC 3261 §12.1).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from sipmessage import Request, Response

from ...devices.facts import dialplan
from ...errors import LabError
from ...inventory.models import EdgeDevice
from ...transports.sip.dialog import Dialog, route_request
from ...transports.sip.message import (
    T1_S,
    build_request,
    build_response,
    in_invite_transaction,
    new_branch,
    new_call_id,
    new_tag,
    tag_of,
)
from ...transports.sip.stack import ClientTransaction, Peer, ServerTransaction, SipStack
from ...transports.sip.ua import KNOWN_METHODS
from ...transports.sip.uas_checks import refusal
from ...transports.transcript import Transcript
from ..core.shared_faults import OPTIONS_SILENT, marked_tos
from ..core.twin import Service, Twin
from .faults import (
    CODEC_REJECT,
    DROP_RECORD_ROUTE,
    NO_EARLY_MEDIA,
    NO_TELEPHONE_EVENT,
    REINVITE_REJECT,
    RURI_NATIONAL,
    STRIP_CALLER_ID,
    SWALLOW_503,
)
from .media_relay import MediaRelay, RelayLeg
from .registrar import Registrar
from .routing import EdgeRouting, RouteTarget, has_g711, rewrite_sdp
from .state import EdgeState, TrunkRouteConfig

log = logging.getLogger("hil.twin.edge")

TRUNK, PHONES = "trunk", "phones"
ALLOW_TRUNK = ("INVITE", "ACK", "BYE", "CANCEL", "OPTIONS")
ALLOW_PHONES = (*ALLOW_TRUNK, "REGISTER")
OPTIONS_INTERVAL_S = 30.0  # project choice: Edge -> carrier OPTIONS ping period
OPTIONS_FIRST_S = 0.2  # project choice: first ping this soon after start (lets the carrier bind first)
RING_TIMEOUT_S = 64 * T1_S  # deadline of a final answer to an INVITE the Edge sends (Timer B/C, 32 s)
REINVITE_TIMEOUT_S = 8.0  # project choice
BYE_TIMEOUT_S = 4.0  # project choice
SDP = "application/sdp"
SETUP, EARLY, CONFIRMED, ENDED = "setup", "early", "confirmed", "ended"
_TAG = re.compile(r";\s*tag=[^;>\s]*", re.IGNORECASE)


class _NullTranscript(Transcript):
    """The twin keeps no transcript of its own SIP traffic (the harness side records it)."""

    def record(self, direction: str, text: str) -> None:
        return None


class _EdgeStack(SipStack):
    """A stack whose Server header follows the Edge's model and (fault-aware) firmware."""

    def __init__(self, core: EdgeSip, side: str, port: int) -> None:
        self._core = core
        st = core.st
        super().__init__(core.device, _NullTranscript(f"{core.device} sip {core.host}:{port}"), core.host,
                         _SideHandler(core, side), udp_port=port, tcp_port=port,
                         mark=lambda: marked_tos(st, st.sip_dscp))

    @property
    def user_agent(self) -> str:
        st = self._core.st
        return f"{st.model} {st.firmware}"

    @user_agent.setter
    def user_agent(self, value: str) -> None:
        pass  # always derived from the Edge's state


class _SideHandler:
    """The transaction user of one of the Edge's stacks."""

    def __init__(self, core: EdgeSip, side: str) -> None:
        self.core, self.side = core, side

    def on_request(self, txn: ServerTransaction) -> None:
        self.core.on_request(self.side, txn)

    def on_ack(self, req: Request, peer: Peer) -> None:
        self.core.on_ack(self.side, req)

    def on_stray_response(self, resp: Response, peer: Peer) -> None:
        return None


@dataclass(eq=False)
class Leg:
    """One side of a B2BUA call: the stack (``side``) it lives on and its dialog with the party."""

    side: str
    call_id: str
    local_tag: str
    peer: Peer
    invite: Request
    stxn: ServerTransaction | None = None  # the caller's INVITE (leg a)
    ctxn: ClientTransaction | None = None  # the INVITE the Edge sent (leg b)
    dialog: Dialog | None = None
    acks: dict[int, tuple[Request, Peer]] = field(default_factory=dict)  # CSeq -> the ACK sent for its 2xx
    last_sdp: bytes = b""  # the last SDP the Edge sent this party
    cancel_pending: bool = False
    cancelled: bool = False
    abandoned: bool = False

    @property
    def transport(self) -> str:
        return self.peer.transport


class B2bCall:
    """One call through the Edge: leg ``a`` toward the caller, leg ``b`` toward the callee."""

    def __init__(self, core: EdgeSip, kind: str, a: Leg, relay: MediaRelay, counted: str | None) -> None:
        self.core, self.kind, self.a, self.relay = core, kind, a, relay
        self.b: Leg | None = None
        self.state = SETUP
        self.counted = counted  # "inbound" / "outbound" / "station": which active counter it holds
        self.routes: list[RouteTarget] = []
        self.reinvite_pending = False
        self.ack_relay: dict[tuple[int, int], tuple[Leg, int]] = {}  # (id(leg), its CSeq) -> (other, CSeq)
        self.a_early_body: bytes | None = None  # the SDP answer sent to the caller in an 18x
        self.sent_180 = False
        self.e164 = ""  # outbound: the number dialled, in E.164
        self.ani = ""  # outbound: the caller ID sent to the carrier
        assert a.stxn is not None
        a.stxn.on_cancel = self._on_a_cancel
        a.stxn.on_no_ack = lambda: self._on_no_ack(self.a)

    # -- helpers -----------------------------------------------------------------------------------

    @property
    def st(self) -> EdgeState:
        return self.core.st

    def relay_of(self, leg: Leg) -> RelayLeg:
        return self.relay.a if leg is self.a else self.relay.b

    def other(self, leg: Leg) -> Leg | None:
        return self.b if leg is self.a else self.a

    def sdp_to(self, side: RelayLeg, body: bytes, *, offer: bool, **kw: Any) -> bytes | None:
        """``body`` rewritten for the party behind relay socket ``side`` (media at that socket)."""
        return rewrite_sdp(body, self.core.host, side.port, offer=offer,
                           strip_te=NO_TELEPHONE_EVENT.on(self.st), **kw)

    def sdp_for(self, leg: Leg, body: bytes, *, offer: bool, **kw: Any) -> bytes | None:
        """``body`` rewritten for ``leg``'s party (media at the relay socket facing it)."""
        return self.sdp_to(self.relay_of(leg), body, offer=offer, **kw)

    def _reply_a(self, code: int, body: bytes = b"", phrase: str | None = None,
                 extra: tuple[tuple[str, str], ...] = ()) -> None:
        txn = self.a.stxn
        assert txn is not None
        if txn.final_code is not None:
            return
        drop_rr = DROP_RECORD_ROUTE.on(self.st) and self.a.side == TRUNK
        contact = self.core.contact(self.a.side, self.a.transport) if 100 < code < 300 else None
        resp = build_response(txn.req.headers if drop_rr else txn.req, code, phrase, to_tag=self.a.local_tag,
                              contact=contact, server=self.core.stacks[self.a.side].user_agent, extra=extra,
                              body=body, content_type=SDP if body else None)
        if body:
            self.a.last_sdp = body
        txn.respond(resp)

    def _request(self, leg: Leg, method: str, *, body: bytes = b"", cseq: int | None = None
                 ) -> tuple[Request, Peer]:
        """A request in ``leg``'s dialog and where it goes (route set honoured, §12.2.1.1)."""
        d = leg.dialog
        assert d is not None
        stack = self.core.stacks[leg.side]
        hop = route_request(d.remote_target, d.route_set, d.transport).next_hop
        contact = self.core.contact(leg.side, hop.transport) if method == "INVITE" else None
        req, target = d.request(method, stack.via(hop.transport, new_branch()), contact=contact, body=body,
                                content_type=SDP if body else None, cseq=cseq, user_agent=stack.user_agent)
        if body:
            leg.last_sdp = body
        return req, Peer(target.transport, target.host, target.port)

    def _send_ack(self, leg: Leg, cseq: int) -> None:
        if leg.dialog is None:
            return
        if cseq not in leg.acks:
            leg.acks[cseq] = self._request(leg, "ACK", cseq=cseq)
        req, peer = leg.acks[cseq]
        self.core.spawn(self.core.stacks[leg.side].send(req, peer))

    def _bye(self, leg: Leg | None) -> None:
        if leg is None or leg.dialog is None:
            return
        req, peer = self._request(leg, "BYE")
        self.core.spawn(self.core.request(leg.side, req, peer, BYE_TIMEOUT_S))

    # -- the callee leg ------------------------------------------------------------------------------

    async def send_invite(self, side: str, peer: Peer, uri: str, from_: str, to: str, body: bytes,
                          extra: tuple[tuple[str, str], ...] = (), first_answer_s: float | None = None) -> None:
        """Send the INVITE of leg ``b``. Raises LabError when it cannot be sent."""
        core = self.core
        stack = core.stacks[side]
        call_id, tag = new_call_id(core.host), new_tag()
        invite = build_request("INVITE", uri, via=stack.via(peer.transport, new_branch()),
                               from_=f"{from_};tag={tag}", to=to, call_id=call_id, cseq=1,
                               contact=core.contact(side, peer.transport), extra=extra, body=body,
                               content_type=SDP, user_agent=stack.user_agent)
        leg = Leg(side, call_id, tag, peer, invite, last_sdp=body)
        self.b = leg
        core.legs[(side, call_id)] = (self, leg)
        try:
            leg.ctxn = await stack.request(invite, peer, RING_TIMEOUT_S,
                                           on_response=lambda r: self.on_b_response(leg, r))
        except LabError:
            core.legs.pop((side, call_id), None)
            leg.abandoned = True
            raise
        core.spawn(self._await_b_final(leg, first_answer_s))

    async def _await_b_final(self, leg: Leg, first_answer_s: float | None) -> None:
        txn = leg.ctxn
        assert txn is not None
        try:
            try:
                final = await asyncio.wait_for(txn.wait_final(), first_answer_s)
            except TimeoutError:
                if not txn.responses:  # the route is silent: give it up and try the next
                    leg.abandoned = True
                    txn.abandon()
                    self._b_failed(leg, None, f"no answer within {first_answer_s:g} s")
                    return
                final = await txn.wait_final()
        except LabError as e:
            final = None
            self.core.st_event(f"INVITE to {leg.peer}: {e}")
        if final is None and not leg.abandoned:
            self._b_failed(leg, None, "no final answer")

    def on_b_response(self, leg: Leg, resp: Response) -> None:
        code = resp.code
        if code < 200 and leg.cancel_pending:
            leg.cancel_pending = False
            self.core.spawn(self._send_cancel(leg))
            return
        if leg is not self.b or leg.abandoned or self.state == ENDED or leg.cancelled:
            if 200 <= code < 300:
                self._ack_and_bye(leg, resp)
            return
        if code < 200:
            if code == 100:
                return
            if tag_of(resp.headers.get("To")) and leg.dialog is None:
                with contextlib.suppress(ValueError):
                    leg.dialog = Dialog.as_uac(leg.invite, resp, leg.transport)
            if resp.body:
                self.relay.learn(self.relay.b, resp.body)
            self.state = EARLY
            self._early(resp)
            return
        if code >= 300:
            self._b_failed(leg, code, resp.phrase)
            return
        cseq = resp.cseq.sequence
        if cseq in leg.acks:  # a retransmitted 2xx: ACK it again (§13.2.2.4)
            self._send_ack(leg, cseq)
            return
        if self.state == CONFIRMED:
            return  # the caller's ACK has not come yet: our 2xx to it is being retransmitted
        try:
            if leg.dialog is None:
                leg.dialog = Dialog.as_uac(leg.invite, resp, leg.transport)
            else:
                leg.dialog.refresh(resp, recompute_routes=True)
        except ValueError:
            self._ack_and_bye(leg, resp)
            self._b_failed(leg, 502, "the answer had no usable Contact")
            return
        leg.dialog.confirmed = True
        if DROP_RECORD_ROUTE.on(self.st) and leg.side == TRUNK:
            leg.dialog.route_set = []
        if resp.body:
            self.relay.learn(self.relay.b, resp.body)
        self._answered(leg, resp)

    def _answered(self, leg: Leg, resp: Response) -> None:
        st = self.core.st
        self.state = CONFIRMED
        self.relay.answered = True
        if self.counted in ("inbound", "outbound"):
            st.trunk_calls_answered += 1
        body = self.a_early_body
        if body is None and resp.body:
            body = self.sdp_for(self.a, resp.body, offer=False)
        if DROP_RECORD_ROUTE.on(self.st) and self.a.side == TRUNK and self.a.dialog is not None:
            self.a.dialog.route_set = []
        if self.a.dialog is not None:
            self.a.dialog.confirmed = True
        assert self.a.stxn is not None
        self.ack_relay[(id(self.a), self.a.invite.cseq.sequence)] = (leg, resp.cseq.sequence)
        self._reply_a(resp.code, body or b"", resp.phrase)

    def _early(self, resp: Response) -> None:
        """A provisional answer of the callee, passed to the caller (rules: module docstring)."""
        if NO_EARLY_MEDIA.on(self.st):
            if not self.sent_180:
                self.sent_180 = True
                self._reply_a(180)
            return
        if resp.body:
            body = self.sdp_for(self.a, resp.body, offer=False)
            if body:
                self.a_early_body = body
                self._reply_a(resp.code, body, resp.phrase)
                return
        if self.kind == "inbound" and resp.code == 180:
            if self.a_early_body is None:  # the Edge answers the carrier itself: 183 with its relay
                body = self.sdp_for(self.a, self.a.invite.body, offer=True, mirror=True, new_origin=True)
                if body:
                    self.a_early_body = body
                    self._reply_a(183, body)
            return
        if self.a_early_body is None:
            self._reply_a(resp.code, phrase=resp.phrase)

    def _b_failed(self, leg: Leg, code: int | None, why: str) -> None:
        """The callee leg failed with ``code`` (``None``: no answer, or not sendable)."""
        if self.state == ENDED or leg is not self.b:
            return
        st = self.core.st
        if self.kind == "outbound" and code in (503, None):
            if code == 503 and SWALLOW_503.on(self.st):
                self.core.st_event(f"call {self.a.call_id}: carrier 503 swallowed (fault)")
                self._end()  # the phone hears nothing more: no retry, no final answer
                return
            if self.routes:
                self.core.spawn(self.next_route())
                return
            st.trunk_calls_refused[503] = st.trunk_calls_refused.get(503, 0) + 1
            self._reply_a(503, extra=(("Warning", f'399 {self.core.device} "no trunk route answered ({why})"'),))
            self._end()
            return
        if code is None:
            code = 408 if self.kind == "outbound" else 480
        self._reply_a(code)
        self._end()

    async def next_route(self) -> None:
        """Offer the call to the next trunk route; 503 to the caller when none is left."""
        a = self.a
        while self.routes and self.state != ENDED:
            route = self.routes.pop(0)
            peer = Peer(route.transport, route.host, route.port)
            user = dialplan.national_form(self.e164) if RURI_NATIONAL.on(self.st) else self.e164
            uri = f"sip:{user}@{route.host}:{route.port};user=phone"
            extra: tuple[tuple[str, str], ...] = ()
            if STRIP_CALLER_ID.on(self.st):
                from_ = '"Anonymous" <sip:anonymous@anonymous.invalid>'
            else:
                ident = f"<sip:{self.ani}@{self.core.host}>"
                from_, extra = ident, (("P-Asserted-Identity", ident),)
            body = self.sdp_to(self.relay.b, a.invite.body, offer=True, only_g729=CODEC_REJECT.on(self.st))
            if body is None:
                break
            try:
                await self.send_invite(TRUNK, peer, uri, from_, f"<{uri}>", body, extra, route.timeout_s)
                return
            except LabError as e:
                self.core.st_event(f"route {route.name}: {e}")
        if self.state != ENDED:
            st = self.core.st
            st.trunk_calls_refused[503] = st.trunk_calls_refused.get(503, 0) + 1
            self._reply_a(503, extra=(("Warning", f'399 {self.core.device} "no trunk route answered"'),))
            self._end()

    def _ack_and_bye(self, leg: Leg, resp: Response) -> None:
        """A 2xx the Edge no longer wants (the call ended, or another attempt won): ACK, then BYE."""
        cseq = resp.cseq.sequence
        if leg.dialog is None or not leg.dialog.confirmed:
            try:
                leg.dialog = Dialog.as_uac(leg.invite, resp, leg.transport)
            except ValueError:
                return
            leg.dialog.confirmed = True
            first = True
        else:
            first = cseq not in leg.acks
        self._send_ack(leg, cseq)
        if first:
            self._bye(leg)

    async def _send_cancel(self, leg: Leg) -> None:
        cancel = in_invite_transaction(leg.invite, "CANCEL", leg.invite.headers["To"])
        await self.core.request(leg.side, cancel, leg.peer, BYE_TIMEOUT_S)

    # -- the caller leg ------------------------------------------------------------------------------

    def _on_a_cancel(self) -> None:
        self._reply_a(487)
        self.routes.clear()
        b = self.b
        if b is not None and not b.abandoned and b.ctxn is not None:
            b.cancelled = True
            if b.ctxn.responses:
                self.core.spawn(self._send_cancel(b))
            else:
                b.cancel_pending = True
        self._end()

    def _on_no_ack(self, leg: Leg) -> None:
        """Our 2xx to ``leg`` got no ACK within 64·T1: ACK the other leg anyway, hang both up."""
        for key, (other, cseq) in list(self.ack_relay.items()):
            if key[0] == id(leg):
                del self.ack_relay[key]
                self._send_ack(other, cseq)
        if self.state == CONFIRMED:
            self._bye(self.a)
            self._bye(self.b)
            self._end()

    def on_ack(self, leg: Leg, req: Request) -> None:
        target = self.ack_relay.pop((id(leg), req.cseq.sequence), None)
        if req.body:
            self.relay.learn(self.relay_of(leg), req.body)
        if target is not None:
            self._send_ack(*target)

    # -- in the dialog -------------------------------------------------------------------------------

    def in_dialog(self, leg: Leg, txn: ServerTransaction) -> None:
        req, d = txn.req, leg.dialog
        assert d is not None
        seq = req.cseq.sequence
        if d.remote_seq is not None and seq < d.remote_seq:
            txn.reply(500, extra=[("Warning", f'399 {self.core.device} "CSeq lower than the last one"')])
            return
        d.remote_seq = seq
        m = req.method
        if m == "BYE":
            txn.reply(200)
            self._hangup(leg)
        elif m == "INVITE":
            self._reinvite(leg, txn)
        elif m in ("OPTIONS", "INFO"):
            txn.reply(200)
        elif m in KNOWN_METHODS:
            txn.reply(405, extra=[("Allow", ", ".join(ALLOW_TRUNK))])
        else:
            txn.reply(501)

    def _hangup(self, leg: Leg) -> None:
        other = self.other(leg)
        if self.state == CONFIRMED:
            self._bye(other)
        elif leg is self.a:  # the caller gave up before the answer (BYE in the early dialog)
            self._on_a_cancel()
            return
        else:
            self._reply_a(480)
        self._end()

    def _reinvite(self, leg: Leg, txn: ServerTransaction) -> None:
        contact = self.core.contact(leg.side, leg.transport)
        if self.state != CONFIRMED or self.reinvite_pending:
            txn.reply(491)  # §14.1: one offer at a time
            return
        if REINVITE_REJECT.on(self.st):
            txn.reply(488, extra=[("Warning", f'399 {self.core.device} "re-INVITE refused"')])
            return
        if not txn.req.body:  # a refresh without offer: the Edge offers what it sent last
            if leg.dialog is not None:
                leg.dialog.refresh(txn.req)
            txn.reply(200, contact=contact, body=leg.last_sdp, content_type=SDP)
            return
        other = self.other(leg)
        if other is None or other.dialog is None:
            txn.reply(500)
            return
        body = self.sdp_for(other, txn.req.body, offer=True)
        if body is None:
            txn.reply(488, extra=[("Warning", f'304 {self.core.device} "no G.711 in the offer"')])
            return
        self.relay.learn(self.relay_of(leg), txn.req.body)
        if leg.dialog is not None:
            leg.dialog.refresh(txn.req)
        self.reinvite_pending = True
        self.core.spawn(self._relay_reinvite(leg, txn, other, body))

    async def _relay_reinvite(self, leg: Leg, txn: ServerTransaction, other: Leg, body: bytes) -> None:
        final: Response | None = None
        req: Request | None = None
        try:
            req, peer = self._request(other, "INVITE", body=body)

            def again(resp: Response) -> None:  # a retransmitted 2xx of the re-INVITE: ACK again
                if 200 <= resp.code < 300 and resp.cseq.sequence in other.acks:
                    self._send_ack(other, resp.cseq.sequence)

            ctxn = await self.core.stacks[other.side].request(req, peer, REINVITE_TIMEOUT_S, on_response=again)
            final = await ctxn.wait_final()
        except LabError as e:
            self.core.st_event(f"re-INVITE to {other.peer}: {e}")
        finally:
            self.reinvite_pending = False
        if final is None or req is None:
            txn.reply(408)
            return
        if final.code >= 300:
            txn.reply(final.code, final.phrase)
            return
        if other.dialog is not None:
            other.dialog.refresh(final)
        answer = b""
        if final.body:
            self.relay.learn(self.relay_of(other), final.body)
            answer = self.sdp_for(leg, final.body, offer=False) or b""
        if answer:
            leg.last_sdp = answer
        self.ack_relay[(id(leg), txn.req.cseq.sequence)] = (other, req.cseq.sequence)
        txn.on_no_ack = lambda: self.on_ack(leg, txn.req)
        txn.reply(final.code, final.phrase, contact=self.core.contact(leg.side, leg.transport), body=answer,
                  content_type=SDP if answer else None)

    # -- the end -------------------------------------------------------------------------------------

    def _end(self) -> None:
        if self.state == ENDED:
            return
        self.state = ENDED
        self._release()
        self.core.spawn(self.relay.close())

    def _release(self) -> None:
        st = self.core.st
        if self.counted == "inbound":
            st.trunk_inbound_calls = max(0, st.trunk_inbound_calls - 1)
        elif self.counted == "outbound":
            st.trunk_outbound_calls = max(0, st.trunk_outbound_calls - 1)
        elif self.counted == "station":
            st.station_calls = max(0, st.station_calls - 1)
        self.counted = None
        for leg in (self.a, self.b):
            if leg is not None and self.core.legs.get((leg.side, leg.call_id), (None,))[0] is self:
                del self.core.legs[(leg.side, leg.call_id)]
        self.core.calls.discard(self)

    async def abort(self) -> None:
        """The Edge goes down: forget the call without signalling (as a powered-off box does)."""
        self.state = ENDED
        self._release()
        await self.relay.close()


class EdgeSip:
    """The SIP side of one Edge: its two stacks, registrar, routing, calls and trunk OPTIONS pings."""

    def __init__(self, twin: Twin, device: str) -> None:
        dev = twin.lab.devices[device]
        st = twin.states[device]
        assert isinstance(dev, EdgeDevice) and dev.sip is not None and isinstance(st, EdgeState)
        self.device, self.dev, self.st, self.host = device, dev, st, dev.host
        self.routing = EdgeRouting(twin.lab, device)
        self.registrar = Registrar(twin, device)
        st.trunk_routes = [TrunkRouteConfig(r.name, r.address, r.transport) for r in self.routing.routes]
        self.stacks: dict[str, SipStack] = {TRUNK: _EdgeStack(self, TRUNK, dev.sip.port)}
        if dev.sip.phone_port:
            self.stacks[PHONES] = _EdgeStack(self, PHONES, dev.sip.phone_port)
        self.legs: dict[tuple[str, str], tuple[B2bCall, Leg]] = {}
        self.calls: set[B2bCall] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._ping: asyncio.Task[None] | None = None

    # -- plumbing ------------------------------------------------------------------------------------

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("%s: %s", self.device, task.exception(), exc_info=task.exception())

    def st_event(self, text: str) -> None:
        log.info("%s: %s", self.device, text)

    def contact(self, side: str, transport: str) -> str:
        port = self.stacks[side].port(transport)
        return f"<sip:{self.host}:{port}{';transport=tcp' if transport == 'tcp' else ''}>"

    async def request(self, side: str, req: Request, peer: Peer, timeout_s: float) -> Response | None:
        """A request whose answer only matters for the log; ``None`` when none came or it failed."""
        try:
            txn = await self.stacks[side].request(req, peer, timeout_s)
            return await txn.wait_final()
        except LabError as e:
            self.st_event(f"{req.method} to {peer}: {e}")
            return None

    def active_trunk_calls(self) -> int:
        return self.st.trunk_inbound_calls + self.st.trunk_outbound_calls

    def end_calls(self) -> int:
        """End every call in progress (a software drain's timeout, :mod:`.software`): BYE to both
        parties of an answered call; 503 to the caller of one not answered yet, whose callee leg is
        cancelled. Returns how many calls were ended."""
        calls = [c for c in self.calls if c.state != ENDED]
        for call in calls:
            if call.state == CONFIRMED:
                call._bye(call.a)
                call._bye(call.b)
                call._end()
            else:
                call._reply_a(503, extra=(("Warning", f'399 {self.device} "draining for a software update"'),))
                call._on_a_cancel()
        return len(calls)

    # -- life cycle ------------------------------------------------------------------------------------

    async def start_side(self, side: str) -> None:
        await self.stacks[side].start()
        if side == TRUNK and self._ping is None:
            self._ping = asyncio.create_task(self._ping_routes(), name=f"{self.device} trunk OPTIONS")

    async def stop_side(self, side: str) -> None:
        if side == TRUNK and self._ping is not None:
            self._ping.cancel()
            self._ping = None
        for call in list(self.calls):
            await call.abort()
        for task in list(self._tasks):
            task.cancel()
        await self.stacks[side].stop()

    async def _ping_routes(self) -> None:
        await asyncio.sleep(OPTIONS_FIRST_S)
        while True:
            await asyncio.gather(*(self._ping_route(r) for r in self.routing.trunk_routes(self.st)))
            await asyncio.sleep(OPTIONS_INTERVAL_S)

    async def _ping_route(self, route: RouteTarget) -> None:
        stack = self.stacks[TRUNK]
        uri = f"sip:{route.host}:{route.port}"
        req = build_request("OPTIONS", uri, via=stack.via(route.transport, new_branch()),
                            from_=f"<sip:{self.device}@{self.host}>;tag={new_tag()}", to=f"<{uri}>",
                            call_id=new_call_id(self.host), cseq=1, contact=self.contact(TRUNK, route.transport),
                            extra=(("Accept", SDP),), user_agent=stack.user_agent)
        resp = await self.request(TRUNK, req, Peer(route.transport, route.host, route.port), route.timeout_s)
        self.st.trunk_options[route.name] = resp.code if resp is not None else None

    # -- requests --------------------------------------------------------------------------------------

    def on_request(self, side: str, txn: ServerTransaction) -> None:
        try:
            self._dispatch(side, txn)
        except ValueError as e:  # a header the method needs did not parse
            text = str(e).replace('"', "'")[:100]
            txn.reply(400, to_tag=new_tag(), extra=[("Warning", f'399 {self.device} "{text}"')])
        except Exception:  # answer, log, keep serving
            log.exception("%s: %s %s", self.device, txn.req.method, txn.req.call_id)
            txn.reply(500, to_tag=new_tag())

    def _dispatch(self, side: str, txn: ServerTransaction) -> None:
        req = txn.req
        method = req.method
        allow = ALLOW_PHONES if side == PHONES else ALLOW_TRUNK
        if method == "OPTIONS" and OPTIONS_SILENT.on(self.st):
            return
        refused = refusal(req, device=self.device) if method in allow else None
        if refused is not None:  # RFC 3261 §8.2.2.3, §8.2.3: 420, 415, 406
            self.st_event(f"{method} {req.call_id} refused {refused.code}: {refused.reason}")
            txn.reply(refused.code, to_tag=new_tag(), extra=refused.extra)
            return
        if tag_of(req.headers.get("To")):
            found = self.legs.get((side, req.call_id))
            if found is not None and found[1].dialog is not None and found[1].dialog.matches(req):
                found[0].in_dialog(found[1], txn)
            elif method == "OPTIONS":
                self._options(txn, allow)
            elif method in KNOWN_METHODS or method == "CANCEL":
                txn.reply(481)
            else:
                txn.reply(501)
            return
        if method == "INVITE":
            if (side, req.call_id) in self.legs:
                txn.reply(482, to_tag=new_tag())  # a second INVITE of a known Call-ID: merged (§8.2.2.2)
            elif self.st.draining:  # a software update drains the Edge (software.py, docs/edge-update.md)
                self.st.trunk_calls_total += side == TRUNK
                self._refuse(txn, 503, "draining for a software update", side == TRUNK)
            elif side == TRUNK:
                self._inbound(txn)
            else:
                self._outbound(txn)
        elif method == "OPTIONS":
            self._options(txn, allow)
        elif method == "REGISTER" and side == PHONES:
            self.registrar.register(txn)
        elif method == "BYE":
            txn.reply(481, to_tag=new_tag())
        elif method in KNOWN_METHODS:
            txn.reply(405, to_tag=new_tag(), extra=[("Allow", ", ".join(allow))])
        else:
            txn.reply(501, to_tag=new_tag())

    def _options(self, txn: ServerTransaction, allow: tuple[str, ...]) -> None:
        txn.reply(200, to_tag=new_tag(), extra=[("Allow", ", ".join(allow)), ("Accept", SDP), ("Supported", "")])

    def on_ack(self, side: str, req: Request) -> None:
        found = self.legs.get((side, req.call_id))
        if found is not None:
            found[0].on_ack(found[1], req)

    def _refuse(self, txn: ServerTransaction, code: int, warning: str, trunk: bool) -> None:
        extra = [("Warning", f'399 {self.device} "{warning}"')] if warning else []
        txn.reply(code, to_tag=new_tag(), extra=extra)
        if trunk:
            self.st.trunk_calls_refused[code] = self.st.trunk_calls_refused.get(code, 0) + 1

    def _over_max_calls(self, txn: ServerTransaction) -> bool:
        limit = self.st.effective_max_calls
        if limit and self.active_trunk_calls() >= limit:
            self._refuse(txn, self.st.trunk_max_calls_code, f"max calls {limit} reached", True)
            return True
        return False

    def _a_leg(self, side: str, txn: ServerTransaction) -> Leg:
        req = txn.req
        leg = Leg(side, req.call_id, new_tag(), txn.peer, req, stxn=txn)
        leg.dialog = Dialog.as_uas(req, leg.local_tag, txn.peer.transport)  # ValueError on an unreadable From: 400
        return leg

    def _inbound(self, txn: ServerTransaction) -> None:
        req, st = txn.req, self.st
        st.trunk_calls_total += 1
        if self._over_max_calls(txn):
            return
        user = req.uri.user or ""
        ext = self.routing.extension_for(user)
        if ext is None:
            self._refuse(txn, 404, f"no DID {user}"[:80], True)
            return
        contact = self.registrar.lookup(ext)
        if contact is None:
            self._refuse(txn, 480, f"extension {ext} not registered", True)
            return
        if not req.body or not has_g711(req.body):
            self._refuse(txn, 488, "no G.711 in the offer", True)
            return
        if CODEC_REJECT.on(st):
            self._refuse(txn, 488, "codec rejected", True)
            return
        a = self._a_leg(TRUNK, txn)
        station = self.routing.stations.get(ext)
        transport = station.transport if station else "udp"
        st.trunk_inbound_calls += 1
        call = B2bCall(self, "inbound", a, MediaRelay(self.host, st, "trunk", "phones"), "inbound")
        self._started(call, a)
        uri = f"sip:{ext}@{contact[0]}:{contact[1]}" + (";transport=tcp" if transport == "tcp" else "")
        extra = tuple((h, v) for h in ("P-Asserted-Identity", "Privacy") for v in req.headers.getlist(h))
        self.spawn(self._call_phone(call, Peer(transport, contact[0], contact[1]), uri,
                                    _TAG.sub("", req.headers["From"]), f"<sip:{ext}@{self.host}>", extra))

    def _outbound(self, txn: ServerTransaction) -> None:
        req, st = txn.req, self.st
        caller = self.routing.stations.get(req.from_address.uri.user or "")
        if caller is None:
            self._refuse(txn, 403, f"unknown station {req.from_address.uri.user or ''}"[:80], False)
            return
        dialled = req.uri.user or ""
        callee = self.routing.stations.get(dialled)
        if callee is not None:
            self._station_call(txn, callee)
            return
        st.trunk_calls_total += 1
        e164 = dialplan.normalize(dialled, self.routing.plan.country)
        if e164 is None:
            self._refuse(txn, 484, f"cannot read {dialled[:40]!r} as a number", True)
            return
        block = self.routing.refusal(caller.station_class, dialled, e164, st)
        if block is not None:
            self._refuse(txn, block.code, block.warning, True)
            return
        if self._over_max_calls(txn):
            return
        routes = self.routing.trunk_routes(st)
        if not routes:
            self._refuse(txn, 503, "no trunk route", True)
            return
        if not req.body or not has_g711(req.body):
            self._refuse(txn, 488, "no G.711 in the offer", True)
            return
        a = self._a_leg(PHONES, txn)
        st.trunk_outbound_calls += 1
        call = B2bCall(self, "outbound", a, MediaRelay(self.host, st, "phones", "trunk"), "outbound")
        call.e164, call.ani, call.routes = e164, self.routing.ani(caller.user), routes
        self._started(call, a)
        self.spawn(self._open_then(call, call.next_route()))

    def _station_call(self, txn: ServerTransaction, callee: Any) -> None:
        req = txn.req
        contact = self.registrar.lookup(callee.user)
        if contact is None:
            self._refuse(txn, 480, f"extension {callee.user} not registered", False)
            return
        if not req.body or not has_g711(req.body):
            self._refuse(txn, 488, "no G.711 in the offer", False)
            return
        a = self._a_leg(PHONES, txn)
        self.st.station_calls += 1
        call = B2bCall(self, "station", a, MediaRelay(self.host, self.st, "phones", "phones"), "station")
        self._started(call, a)
        uri = f"sip:{callee.user}@{contact[0]}:{contact[1]}" + (";transport=tcp" if callee.transport == "tcp" else "")
        self.spawn(self._call_phone(call, Peer(callee.transport, contact[0], contact[1]), uri,
                                    _TAG.sub("", req.headers["From"]), f"<sip:{callee.user}@{self.host}>", ()))

    def _started(self, call: B2bCall, a: Leg) -> None:
        self.calls.add(call)
        self.legs[(a.side, a.call_id)] = (call, a)
        call.relay.learn(call.relay.a, a.invite.body)

    async def _open_relay(self, call: B2bCall) -> bool:
        try:
            await call.relay.open()
        except OSError as e:
            self.st_event(f"call {call.a.call_id}: no media port: {e}")
            call._reply_a(503, extra=(("Warning", f'399 {self.device} "no media port"'),))
            call._end()
            return False
        if call.state == ENDED:  # cancelled meanwhile
            await call.relay.close()
            return False
        return True

    async def _open_then(self, call: B2bCall, then: Coroutine[Any, Any, None]) -> None:
        if await self._open_relay(call):
            await then
        else:
            then.close()

    async def _call_phone(self, call: B2bCall, peer: Peer, uri: str, from_: str, to: str,
                          extra: tuple[tuple[str, str], ...]) -> None:
        if not await self._open_relay(call):
            return
        body = call.sdp_to(call.relay.b, call.a.invite.body, offer=True)
        if body is None:
            call._reply_a(488)
            call._end()
            return
        try:
            await call.send_invite(PHONES, peer, uri, from_, to, body, extra)
        except LabError as e:
            self.st_event(f"call {call.a.call_id}: {e}")
            call._reply_a(480)
            call._end()


class _StackService:
    """``sip-trunk`` / ``sip-phones``: one of the Edge's stacks as a twin service."""

    def __init__(self, core: EdgeSip, side: str, name: str, port: int) -> None:
        self.core, self.side, self.name, self.host, self.port = core, side, name, core.host, port

    async def start(self) -> None:
        await self.core.start_side(self.side)

    async def stop(self) -> None:
        await self.core.stop_side(self.side)


def edge_sip_services(twin: Twin, device: str) -> list[Service]:
    """``sip-trunk`` and ``sip-phones`` of an Edge with ``sip`` (none for other devices)."""
    dev = twin.lab.devices[device]
    if not isinstance(dev, EdgeDevice) or dev.sip is None:
        return []
    core = EdgeSip(twin, device)
    out: list[Service] = [_StackService(core, TRUNK, "sip-trunk", dev.sip.port)]
    if dev.sip.phone_port:
        out.append(_StackService(core, PHONES, "sip-phones", dev.sip.phone_port))
    return out
