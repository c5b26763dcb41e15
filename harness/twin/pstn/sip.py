"""The PSTN simulator (the carrier), on the harness's own SIP stack, with its call log.

One service per PSTN simulator: ``sip``, a :class:`~harness.twin.servers.sip_ua.TwinUserAgent` on
``host:port`` over UDP and TCP, configured by :class:`~harness.twin.pstn.settings.CarrierSettings`
alone (no twin): the twin runs it for each PSTN device with ``sip`` (:func:`pstn_sip_services`, the
settings from the inventory), ``hil carrier serve`` on a lab's Linux host (:mod:`harness.carrier`,
the settings from its YAML file). What it answers:

* **INVITE** (a new call): 100 Trying (the stack), then ``183 Session Progress`` with the SDP answer
  and early media (the probe's 1004 Hz tone) for :data:`EARLY_MEDIA_S`, then 200 OK with the same
  SDP; after the answer the media is an echo (audio and RFC 4733 digits come back on the negotiated
  payload types). An INVITE without SDP gets 180 and an offer in the 200 (the answer comes in the ACK).
  Refused with ``503 Service Unavailable`` (and ``Warning: 399 <device> "…"``): every INVITE under
  the ``trunk-503`` fault; numbers in ``unavailable_numbers``; calls beyond ``max_calls`` (when set:
  calls ringing or answered). With ``echo_numbers`` set, any other number gets ``404 Not Found``
  (RFC 3261 21.4.5). No common G.711 → 488.
* re-INVITE (hold ``sendonly`` → ``recvonly``, ``inactive``, ``c=0.0.0.0``), BYE 200, CANCEL before
  the answer 200 + 487, ACK; OPTIONS 200 with Allow (the ``options-silent`` fault drops them — they
  are still counted and logged); unknown methods 501, known-not-allowed 405, malformed 400.
* **OPTIONS pings**: every peer of the settings (the twin: each Edge whose ``trunk.routes`` names
  this simulator) gets an OPTIONS on its ``host:port`` at start and every :data:`PING_INTERVAL_S`;
  the last answer per Edge is in ``PstnState.edge_options`` (status code, ``None`` when unanswered).
* **Counters** in :class:`~harness.twin.pstn.state.PstnState` (``invites_received``, ``calls_answered``,
  ``calls_completed`` = answered calls ended by the caller's BYE, ``calls_refused`` by code …).

Every request received outside a dialog is a row of the simulator's call log (:mod:`.call_log`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from sipmessage import Request, Response

from ...devices.facts.dialplan import normalize
from ...errors import LabError
from ...inventory.models import PstnDevice
from ...transports.sip.call import CONFIRMED, EARLY, ENDED, FINAL_STATES, PROCEEDING, Call
from ...transports.sip.message import SipParseError, new_tag, tag_of
from ...transports.sip.stack import TIMER_64T1_S, Peer, ServerTransaction
from ..core.shared_faults import OPTIONS_SILENT
from ..core.twin import Service, Twin
from ..servers.sip_ua import TwinUserAgent, UaService
from .call_log import CallLog, call_log_for
from .call_log_http import CallLogHttpService
from .faults import TRUNK_503
from .settings import CarrierSettings, settings_from_lab
from .state import PstnState

log = logging.getLogger("hil.twin.sip")

EARLY_MEDIA_S = 0.3  # project choice: 183 with early media this long before the 200
PING_INTERVAL_S = 30.0  # project choice: OPTIONS to each Edge of the trunk this often


class PstnUserAgent(TwinUserAgent):
    """The simulator's UA: refusals, early media then echo, counters and the call log."""

    def __init__(self, settings: CarrierSettings, state: PstnState, call_log: CallLog) -> None:
        self.settings, self.pstn, self.call_log = settings, state, call_log
        super().__init__(settings.name, settings.host, settings.port, "pstn", lambda: settings.server,
                         echo=False, on_ended=self._ended)
        self.stack.observers.append(self._log)
        self.on_malformed = self._malformed
        self.country = settings.country
        self.unavailable = settings.unavailable_numbers

    # -- bookkeeping -------------------------------------------------------------------------------

    def _log(self, direction: str, msg: Request | Response, peer: Peer, again: bool) -> None:
        if again:
            return
        if isinstance(msg, Response):
            if direction == ">" and msg.code >= 200:
                self.call_log.response(msg)
            return
        if direction != "<" or msg.method == "ACK":
            return
        if msg.method == "CANCEL":
            self.pstn.cancels_received += 1
        if tag_of(msg.headers.get("To")):
            call = self.calls.get(msg.call_id)
            if call is not None and call.dialog is not None and call.dialog.matches(msg):
                return  # inside a dialog
        self.call_log.request(msg, peer)

    def _malformed(self, err: SipParseError, peer: Peer, data: bytes) -> None:
        self.pstn.malformed_received += 1
        self.call_log.malformed(err, peer, data)

    def _ended(self, call: Call) -> None:
        self.call_log.ended(call)
        answered = self.pstn.active_calls.pop(call.call_id, None) is not None
        if answered and call.state == ENDED and call.ended_by == "remote":
            self.pstn.calls_completed += 1

    def on_ack(self, req: Request, peer: Peer) -> None:
        self.pstn.acks_received += 1
        super().on_ack(req, peer)

    # -- requests ----------------------------------------------------------------------------------

    def on_request(self, txn: ServerTransaction) -> None:
        req = txn.req
        if req.method == "OPTIONS":
            self.pstn.options_received += 1
            if OPTIONS_SILENT.on(self.pstn):
                # no answer; the transaction stays to absorb retransmissions, then goes
                asyncio.get_running_loop().call_later(TIMER_64T1_S, self.stack.forget, txn)
                return
        if req.method == "INVITE" and not tag_of(req.headers.get("To")) and req.call_id not in self.calls:
            self.pstn.invites_received += 1
            why = self._refusal(req)
            if why is not None:
                code, text = why
                self.pstn.calls_refused[code] = self.pstn.calls_refused.get(code, 0) + 1
                txn.reply(code, to_tag=new_tag(), extra=[("Warning", f'399 {self.device} "{text}"')])
                return
        super().on_request(txn)

    def _refusal(self, req: Request) -> tuple[int, str] | None:
        """``(code, reason)`` when the INVITE is refused before any call exists, else ``None``."""
        if TRUNK_503.on(self.pstn):
            return 503, "trunk out of service"
        user = req.uri.user or ""
        e164 = user if user.startswith("+") else normalize(user, self.country)
        if user in self.unavailable or (e164 is not None and e164 in self.unavailable):
            return 503, f"number {user} unavailable"
        echo = self.settings.echo_numbers
        if echo and user not in echo and (e164 is None or e164 not in echo):
            return 404, f"number {user} not in service"
        limit = self.settings.max_calls
        if limit:
            live = sum(1 for c in self.calls.values() if c.role == "uas" and c.state not in FINAL_STATES)
            if live >= limit:
                return 503, f"max calls {limit} reached"
        return None

    async def run_call(self, call: Call) -> None:
        """183 with SDP and the tone, :data:`EARLY_MEDIA_S`, 200 with the same SDP, then echo."""
        row = self.call_log.invite(call.call_id)
        if row is not None:
            row.call = call
        call.ring(early_media=True)
        await call.wait({CONFIRMED}, EARLY_MEDIA_S)
        if call.state in (PROCEEDING, EARLY):
            call.answer()
            call.rtp.set_echo(True)
            self.pstn.calls_answered += 1
            assert call.invite is not None
            self.pstn.active_calls[call.call_id] = call.invite.uri.user or ""


class PstnService(UaService):
    """``sip`` of one PSTN simulator: the :class:`PstnUserAgent` and the OPTIONS pings to its Edges."""

    name = "sip"

    def __init__(self, settings: CarrierSettings, state: PstnState, call_log: CallLog) -> None:
        self.settings, self.state, self.call_log = settings, state, call_log
        self.device, self.host, self.port = settings.name, settings.host, settings.port

    def _new_ua(self) -> PstnUserAgent:
        return PstnUserAgent(self.settings, self.state, self.call_log)

    def _background(self) -> Coroutine[Any, Any, None] | None:
        return self._ping() if self.settings.peers else None

    async def _ping(self) -> None:
        transport = self.settings.transport
        while (ua := self.ua) is not None:
            for peer in self.settings.peers:
                self.state.options_sent += 1
                try:
                    resp = await ua.options(f"sip:{peer.host}:{peer.port}", peer=Peer(transport, peer.host, peer.port),
                                            timeout_s=self.settings.timeout_s)
                except LabError as e:
                    log.info("%s: OPTIONS to %s failed: %s", self.device, peer.name, e)
                    resp = None
                self.state.edge_options[peer.name] = resp.code if resp is not None else None
            await asyncio.sleep(PING_INTERVAL_S)


def pstn_sip_services(twin: Twin, device: str) -> list[Service]:
    """``sip`` for a PSTN simulator with ``sip`` in the inventory, and ``call-log-http``
    (:mod:`.call_log_http`) for one with ``http`` and its ``token``; nothing for other devices."""
    dev = twin.lab.devices[device]
    out: list[Service] = []
    if not isinstance(dev, PstnDevice):
        return out
    st = twin.states[device]
    assert isinstance(st, PstnState)
    if dev.sip is not None:
        out.append(PstnService(settings_from_lab(twin.lab, device), st, call_log_for(twin, device)))
    if dev.http is not None and dev.http.token:
        out.append(CallLogHttpService(device, dev.host, dev.http.port, call_log_for(twin, device),
                                      twin.secret(dev.http.token) or ""))
    return out
