"""The twin's SIP endpoints: the Edge (trunk and phone registrar), the phones, the PSTN simulator.

Every device with ``sip`` in the inventory gets UDP services on its own ``host`` (see
:mod:`harness.twin.sip_core` for framing, 400s and retransmissions):

* **edge** — ``sip-trunk`` on ``sip.port`` (5060) and ``sip-phones`` on ``sip.phone_port`` (8060,
  the Genesys phone trunk). Both answer OPTIONS 200 with Allow; INVITE gets 404 (no routing yet).
  ``sip-phones`` is the registrar: REGISTER of an extension whose phone names this Edge as
  ``registrar`` → 200 with Contact/Expires, recorded in ``EdgeState.registrations[ext] =
  (ip, port, expires at epoch s)``; ``Expires: 0`` removes it; other users → 404.
* **phone** — ``sip-ua`` on ``sip.port``: answers OPTIONS 200 and INVITE 486 Busy Here (auto-answer
  and media come later), and REGISTERs with its registrar Edge at start, every
  ``min(60 s, granted/2)`` after, and every 5 s while that fails. ``PhoneState.registered`` follows
  the last answer. Stopping it un-registers (Expires: 0) and unbinds.
* **pstn** — ``sip`` on ``sip.port``: OPTIONS 200 (Allow, Accept, Supported); INVITE → 100, 180,
  200 with an SDP answer (PCMU/PCMA, telephone-event, see :mod:`harness.twin.sip_sdp`) or 488;
  ACK; BYE 200 (481 outside a call); CANCEL 200 (the call is already answered) or 481. Counters and
  active calls are in ``PstnState``.

Everywhere: the ``options-silent`` fault (edge, pstn) drops OPTIONS and nothing else; methods the
device does not know → 501, known but not allowed there → 405 with Allow; malformed → 400.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar

from sipmessage import URI, Request, Response

from ..inventory.models import EdgeDevice, PhoneDevice, PstnDevice
from . import sip_sdp
from .server import service_factory
from .sip_core import Addr, SipService, new_branch, new_tag, response
from .state import EdgeState, PhoneState, PstnState

if TYPE_CHECKING:
    from .server import Service, Twin

log = logging.getLogger("hil.twin.sip")

KNOWN_METHODS = frozenset({"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "PRACK", "SUBSCRIBE",
                           "NOTIFY", "PUBLISH", "INFO", "REFER", "MESSAGE", "UPDATE"})
REGISTER_EXPIRES_S = 120  # what phones ask for
REFRESH_MAX_S = 60.0  # phones re-register at least this often (brief of the walking skeleton)
RETRY_S = 5.0  # project choice: a phone whose REGISTER failed tries again this soon
MIN_EXPIRES_S = 60  # registrar: shorter bindings get 423 (RFC 3261 §10.3 step 7)
MAX_EXPIRES_S = 3600  # registrar: longer bindings are shortened to this
RTP_BASE_PORT = 40000  # SDP port of the PSTN's media (no RTP socket yet: a later issue)


class SipDevice:
    """Request handler of one device: dispatches ``on_<method>``; subclasses add methods."""

    allow: ClassVar[tuple[str, ...]] = ("INVITE", "ACK", "BYE", "CANCEL", "OPTIONS")

    def __init__(self, twin: Twin, device: str) -> None:
        self.twin = twin
        self.device = device
        self.dev = twin.lab.devices[device]
        self.state = twin.states[device]

    @property
    def server(self) -> str:
        """Server/User-Agent header: model and firmware (the ``firmware`` fault shows here too)."""
        return f"{getattr(self.state, 'model', 'hil twin')} {getattr(self.state, 'firmware', '')}".strip()

    def reply(self, req: Request, code: int, phrase: str, *, to_tag: str | None = None,
              extra: Iterable[tuple[str, str]] = (), body: bytes = b"", content_type: str | None = None
              ) -> Response:
        return response(req.headers, code, phrase, to_tag=to_tag, server=self.server, extra=extra, body=body,
                        content_type=content_type)

    def handle(self, req: Request, addr: Addr) -> list[Response]:
        fn = getattr(self, "on_" + req.method.lower(), None) if req.method.isalpha() else None
        if fn is None:
            if req.method in KNOWN_METHODS:
                return [self.reply(req, 405, "Method Not Allowed", to_tag=new_tag(),
                                   extra=[("Allow", ", ".join(self.allow))])]
            return [self.reply(req, 501, "Not Implemented", to_tag=new_tag())]
        try:
            replies: list[Response] = fn(req, addr)
        except ValueError as e:  # a header the method needs did not parse
            return [self.reply(req, 400, "Bad Request", to_tag=new_tag(),
                               extra=[("Warning", f'399 hil-twin "{str(e)[:100]}"')])]
        return replies

    def malformed(self, reason: str, addr: Addr) -> None:
        pass

    def options_silent(self) -> bool:
        return "options-silent" in self.state.faults

    def on_options(self, req: Request, addr: Addr) -> list[Response]:
        if self.options_silent():
            return []
        return [self.reply(req, 200, "OK", to_tag=new_tag(),
                           extra=[("Allow", ", ".join(self.allow)), ("Accept", "application/sdp"),
                                  ("Supported", "")])]

    def on_ack(self, req: Request, addr: Addr) -> list[Response]:
        return []

    def on_bye(self, req: Request, addr: Addr) -> list[Response]:
        return [self.reply(req, 481, "Call/Transaction Does Not Exist", to_tag=new_tag())]

    on_cancel = on_bye


class EdgeTrunk(SipDevice):
    """The Edge's carrier-facing trunk port."""

    def on_invite(self, req: Request, addr: Addr) -> list[Response]:
        # No routing yet: every number is unknown here (a later issue routes to phones and the PSTN).
        return [self.reply(req, 404, "Not Found", to_tag=new_tag())]


class EdgeRegistrar(EdgeTrunk):
    """The Edge's phone trunk port: EdgeTrunk plus the registrar (RFC 3261 §10.3, no auth yet)."""

    allow = (*EdgeTrunk.allow, "REGISTER")

    def __init__(self, twin: Twin, device: str) -> None:
        super().__init__(twin, device)
        self.extensions = {(d.sip.username if d.sip and d.sip.username else d.facts.extension)
                           for d in twin.lab.devices.values()
                           if isinstance(d, PhoneDevice) and d.sip and d.sip.registrar == device}

    def on_register(self, req: Request, addr: Addr) -> list[Response]:
        st = self.state
        assert isinstance(st, EdgeState)
        now = time.time()
        for ext, (_, _, until) in list(st.registrations.items()):
            if until <= now:
                del st.registrations[ext]
        user = req.to_address.uri.user
        if not user or user not in self.extensions:
            return [self.reply(req, 404, "Not Found", to_tag=new_tag())]
        raw_contact = (req.headers.get("Contact") or "").strip()
        if raw_contact == "*":
            st.registrations.pop(user, None)
            return [self.reply(req, 200, "OK", to_tag=new_tag())]
        contacts = req.contact
        if not contacts:  # a query: the current binding
            extra = []
            if user in st.registrations:
                ip, port, until = st.registrations[user]
                extra.append(("Contact", f"<sip:{user}@{ip}:{port}>;expires={max(0, int(until - now))}"))
            return [self.reply(req, 200, "OK", to_tag=new_tag(), extra=extra)]
        c = contacts[0]
        asked = c.parameters.get("expires")
        if asked is not None:
            expires = int(asked)
        else:
            expires = req.expires if req.expires is not None else MAX_EXPIRES_S
        if expires == 0:
            st.registrations.pop(user, None)
            return [self.reply(req, 200, "OK", to_tag=new_tag())]
        if expires < MIN_EXPIRES_S:
            return [self.reply(req, 423, "Interval Too Brief", to_tag=new_tag(),
                               extra=[("Min-Expires", str(MIN_EXPIRES_S))])]
        expires = min(expires, MAX_EXPIRES_S)
        st.registrations[user] = (c.uri.host, c.uri.port or 5060, now + expires)
        return [self.reply(req, 200, "OK", to_tag=new_tag(),
                           extra=[("Contact", f"<{c.uri}>;expires={expires}"), ("Expires", str(expires))])]


class PhoneSip(SipDevice):
    """Requests to a phone: OPTIONS 200, INVITE 486 (no auto-answer yet)."""

    def on_invite(self, req: Request, addr: Addr) -> list[Response]:
        return [self.reply(req, 486, "Busy Here", to_tag=new_tag())]


class PstnUas(SipDevice):
    """The PSTN simulator's UAS: answers every INVITE at once with SDP."""

    def __init__(self, twin: Twin, device: str) -> None:
        super().__init__(twin, device)
        self._tags: dict[str, str] = {}  # Call-ID -> our To tag, for the calls in PstnState.active_calls
        self._calls = 0

    @property
    def pstn(self) -> PstnState:
        assert isinstance(self.state, PstnState)
        return self.state

    @property
    def server(self) -> str:
        carrier = getattr(self.dev.facts, "carrier", None) or "hil"
        return f"{carrier} PSTN simulator (hil twin)"

    def malformed(self, reason: str, addr: Addr) -> None:
        self.pstn.malformed_received += 1

    def on_options(self, req: Request, addr: Addr) -> list[Response]:
        self.pstn.options_received += 1
        return super().on_options(req, addr)

    def on_invite(self, req: Request, addr: Addr) -> list[Response]:
        st = self.pstn
        st.invites_received += 1
        tag = new_tag()
        self._calls += 1
        rtp_port = RTP_BASE_PORT + 2 * (self._calls % 10000)
        body = sip_sdp.answer(req.body, self.dev.host, rtp_port, secrets.randbelow(2**31))
        if body is None:
            return [self.reply(req, 100, "Trying"),
                    self.reply(req, 488, "Not Acceptable Here", to_tag=tag,
                               extra=[("Warning", '304 hil-twin "no common G.711 codec"')])]
        number = req.uri.user or ""
        st.active_calls[req.call_id] = number
        st.calls_answered += 1
        self._tags[req.call_id] = tag
        sip_port = self.dev.sip.port if self.dev.sip else 5060
        contact = [("Contact", f"<sip:{number}@{self.dev.host}:{sip_port}>")]
        return [self.reply(req, 100, "Trying"),
                self.reply(req, 180, "Ringing", to_tag=tag, extra=contact),
                self.reply(req, 200, "OK", to_tag=tag, extra=[*contact, ("Allow", ", ".join(self.allow))],
                           body=body, content_type="application/sdp")]

    def on_ack(self, req: Request, addr: Addr) -> list[Response]:
        self.pstn.acks_received += 1
        return []

    def on_bye(self, req: Request, addr: Addr) -> list[Response]:
        st = self.pstn
        if st.active_calls.pop(req.call_id, None) is None:
            return super().on_bye(req, addr)
        self._tags.pop(req.call_id, None)
        st.calls_completed += 1
        return [self.reply(req, 200, "OK")]

    def on_cancel(self, req: Request, addr: Addr) -> list[Response]:
        st = self.pstn
        st.cancels_received += 1
        if req.call_id not in st.active_calls:
            return super().on_cancel(req, addr)
        # RFC 3261 §9.2: the INVITE already got its final response, so the CANCEL changes nothing.
        return [self.reply(req, 200, "OK", to_tag=self._tags.get(req.call_id))]


class PhoneUa(SipService):
    """A phone's UA: :class:`PhoneSip` on ``host:sip.port`` plus the registration client."""

    def __init__(self, twin: Twin, device: str) -> None:
        dev = twin.lab.devices[device]
        assert isinstance(dev, PhoneDevice) and dev.sip is not None
        self.handler_ = PhoneSip(twin, device)
        super().__init__("sip-ua", dev.host, dev.sip.port, self.handler_)
        self.dev = dev
        self.sip = dev.sip
        self.user = dev.sip.username or dev.facts.extension
        self.state = twin.states[device]
        assert isinstance(self.state, PhoneState)
        self.registrar = _registrar_address(twin, dev.sip.registrar)
        self._task: asyncio.Task[None] | None = None
        self._call_id = ""
        self._cseq = 0
        self._from_tag = ""

    async def start(self) -> None:
        await super().start()
        if self.registrar and self._task is None:
            self._call_id, self._cseq, self._from_tag = f"{secrets.token_hex(8)}@{self.host}", 0, new_tag()
            self._task = asyncio.create_task(self._keep_registered(), name=f"register {self.user}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        st = self.state
        assert isinstance(st, PhoneState)
        if self.endpoint is not None and self.registrar and st.registered:
            self.endpoint.send(self._register(0), self.registrar)  # un-register, answer not awaited
        st.registered = False
        await super().stop()

    def _register(self, expires: int) -> Request:
        assert self.registrar is not None
        rhost, rport = self.registrar
        self._cseq += 1
        req = Request("REGISTER", URI.parse(f"sip:{rhost}:{rport}"))
        for name, value in (
            ("Via", f"SIP/2.0/UDP {self.host}:{self.port};branch={new_branch()};rport"),
            ("Max-Forwards", "70"),
            ("From", f"<sip:{self.user}@{rhost}>;tag={self._from_tag}"),
            ("To", f"<sip:{self.user}@{rhost}>"),
            ("Call-ID", self._call_id),
            ("CSeq", f"{self._cseq} REGISTER"),
            ("Contact", f"<sip:{self.user}@{self.host}:{self.port}>"),
            ("Expires", str(expires)),
            ("User-Agent", self.handler_.server),
        ):
            req.headers.add(name, value)
        return req

    async def _keep_registered(self) -> None:
        st = self.state
        assert isinstance(st, PhoneState) and self.registrar is not None
        st.registrar = f"{self.registrar[0]}:{self.registrar[1]}"
        while self.endpoint is not None:
            resp = await self.endpoint.request(self._register(REGISTER_EXPIRES_S), self.registrar,
                                               self.sip.timeout_s)
            st.last_register_code = resp.code if resp else None
            st.registered = resp is not None and 200 <= resp.code < 300
            wait = RETRY_S
            if resp is not None and st.registered:
                wait = max(1.0, min(REFRESH_MAX_S, _granted(resp) / 2))
            elif resp is None:
                log.info("%s: REGISTER to %s unanswered", self.user, st.registrar)
            await asyncio.sleep(wait)


def _granted(resp: Response) -> float:
    """Expiry the registrar granted, seconds (Contact expires param, else Expires header)."""
    try:
        for c in resp.contact:
            if (v := c.parameters.get("expires")) is not None:
                return float(v)
        return float(resp.expires if resp.expires is not None else REGISTER_EXPIRES_S)
    except ValueError:
        return float(REGISTER_EXPIRES_S)


def _registrar_address(twin: Twin, registrar: str | None) -> Addr | None:
    """``(host, phone_port)`` of the registrar Edge, ``None`` when the inventory names none."""
    edge = twin.lab.devices.get(registrar) if registrar else None
    if edge is None or edge.sip is None:
        return None
    return edge.host, edge.sip.phone_port or edge.sip.port


@service_factory
def sip_services(twin: Twin, device: str) -> list[Service]:
    """The SIP services of ``device`` (none for a device without ``sip``; UDP whatever ``transport``)."""
    dev = twin.lab.devices[device]
    sip = dev.sip
    if sip is None:
        return []
    if sip.transport != "udp":
        log.warning("%s: the twin serves SIP over UDP only, not %s", device, sip.transport)
    if isinstance(dev, EdgeDevice):
        out: list[Service] = [SipService("sip-trunk", dev.host, sip.port, EdgeTrunk(twin, device))]
        if sip.phone_port:
            out.append(SipService("sip-phones", dev.host, sip.phone_port, EdgeRegistrar(twin, device)))
        return out
    if isinstance(dev, PhoneDevice):
        return [PhoneUa(twin, device)]
    if isinstance(dev, PstnDevice):
        return [SipService("sip", dev.host, sip.port, PstnUas(twin, device))]
    return []

