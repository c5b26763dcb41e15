"""The twin's SIP phones, on the user agent the twin's SIP devices share (:mod:`harness.twin.servers.sip_ua`).

Every phone with ``sip`` in the inventory gets one service, ``sip-ua``: a
:class:`~harness.twin.servers.sip_ua.TwinUserAgent` bound to ``host:sip.port`` over UDP and TCP,
whose media is an echo.

* **Registration** (RFC 3261 §10.2): REGISTER to the registrar Edge's phone trunk
  (``sip.phone_port`` of the Edge named by ``sip.registrar``) over UDP (TCP when ``sip.transport``
  says ``tcp``) with ``Expires: 120`` at start, again every ``min(60 s, granted/2)`` and every
  5 s while it fails; ``PhoneState.registered`` / ``registrar`` / ``last_register_code`` follow the
  last answer. Stopping the service (the ``down`` fault) sends ``Expires: 0`` and unbinds.
* **Calls**: as every twin user agent answers them (180, 200 with the SDP answer, echo media;
  the RFC 4733 digit ``D`` makes the phone hang up); under ``registrar-only`` an INVITE from any
  address but its registrar Edge's gets 403.
* **DSCP**: SIP leaves marked CS3 (24) and RTP EF (46), the phone base settings' defaults (G-DSCP),
  unless the ``no-dscp`` / ``wrong-dscp`` fault says otherwise (:func:`~harness.twin.core.shared_faults.marked_tos`).
* **Firmware**: an out-of-dialog NOTIFY with ``Event: check-sync`` gets 200 and starts the
  phone's firmware state machine (:mod:`.firmware`: fetch config, download, verify, flash,
  reboot); another event package gets 489 Bad Event.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

from sipmessage import Request, Response

from ...errors import LabError
from ...inventory.models import PhoneDevice
from ...transports.sip.message import build_request, new_branch, new_call_id, new_tag
from ...transports.sip.stack import Peer, ServerTransaction
from ..core.shared_faults import marked_tos
from ..core.twin import Service, Twin
from ..servers.sip_ua import TwinUserAgent, UaService
from .faults import REGISTRAR_ONLY
from .firmware import machine
from .state import PhoneState

log = logging.getLogger("hil.twin.sip")

REGISTER_EXPIRES_S = 120  # what phones ask for
REFRESH_MAX_S = 60.0  # phones re-register at least this often (brief of the walking skeleton)
RETRY_S = 5.0  # project choice: a phone whose REGISTER failed tries again this soon


class PhoneService(UaService):
    """``sip-ua`` of one phone: a :class:`TwinUserAgent` (echo media) plus the registration client."""

    name = "sip-ua"

    def __init__(self, twin: Twin, device: str) -> None:
        dev = twin.lab.devices[device]
        assert isinstance(dev, PhoneDevice) and dev.sip is not None
        self.twin, self.device, self.dev, self.sip = twin, device, dev, dev.sip
        self.host, self.port = dev.host, dev.sip.port
        self.user = dev.sip.username or dev.facts.extension
        st = twin.states[device]
        assert isinstance(st, PhoneState)
        self.state = st
        self.firmware = machine(twin, device)
        self.registrar = registrar_peer(twin, dev.sip.registrar, "tcp" if dev.sip.transport == "tcp" else "udp")
        self._call_id, self._cseq, self._from_tag = "", 0, ""

    def server(self) -> str:
        """Server/User-Agent: model and firmware (``VVX 450 6.4.3``; the ``firmware`` fault shows here)."""
        return f"{self.state.model} {self.state.firmware}".strip()

    def _new_ua(self) -> TwinUserAgent:
        st = self.state
        ua = TwinUserAgent(self.device, self.host, self.port, self.user, self.server, echo=True,
                           sip_mark=lambda: marked_tos(st, st.sip_dscp), rtp_mark=lambda: marked_tos(st, st.media_dscp))
        ua.on_notify = self.firmware.on_notify
        ua.refuse_invite = self._refuse
        ua.allow = (*ua.allow, "NOTIFY")  # OPTIONS and 405 list it: the phone takes check-sync
        return ua

    def _refuse(self, txn: ServerTransaction) -> int | None:
        """403 for an INVITE not from the registrar Edge's address while ``registrar-only`` is on."""
        if REGISTRAR_ONLY.on(self.state) and (self.registrar is None or txn.peer.host != self.registrar.host):
            return 403
        return None

    def _background(self) -> Coroutine[Any, Any, None] | None:
        if self.registrar is None:
            return None
        self._call_id, self._cseq, self._from_tag = new_call_id(self.host), 0, new_tag()
        return self._keep_registered()

    async def _before_stop(self, ua: TwinUserAgent) -> None:
        if self.registrar is not None and self.state.registered:
            with contextlib.suppress(LabError):  # un-register, the answer is not awaited
                await ua.stack.send(self._register(ua, 0), self.registrar)

    async def stop(self) -> None:
        await super().stop()
        self.state.registered = False

    def _register(self, ua: TwinUserAgent, expires: int) -> Request:
        assert self.registrar is not None
        r = self.registrar
        self._cseq += 1
        return build_request(
            "REGISTER", f"sip:{r.host}:{r.port}", via=ua.stack.via(r.transport, new_branch()),
            from_=f"<sip:{self.user}@{r.host}>;tag={self._from_tag}", to=f"<sip:{self.user}@{r.host}>",
            call_id=self._call_id, cseq=self._cseq, contact=f"<sip:{self.user}@{self.host}:{self.port}"
            + (";transport=tcp" if r.transport == "tcp" else "") + ">",
            extra=(("Expires", str(expires)),), user_agent=self.server())

    async def _keep_registered(self) -> None:
        st, r = self.state, self.registrar
        assert r is not None
        st.registrar = r.address
        while (ua := self.ua) is not None:
            resp: Response | None = None
            try:
                txn = await ua.stack.request(self._register(ua, REGISTER_EXPIRES_S), r, self.sip.timeout_s)
                resp = await txn.wait_final()
            except LabError as e:
                log.info("%s: REGISTER to %s failed: %s", self.user, r.address, e)
            st.last_register_code = resp.code if resp is not None else None
            st.registered = resp is not None and 200 <= resp.code < 300
            wait = RETRY_S
            if resp is not None and st.registered:
                wait = max(1.0, min(REFRESH_MAX_S, granted_s(resp) / 2))
            elif resp is None:
                log.info("%s: REGISTER to %s unanswered", self.user, r.address)
            await asyncio.sleep(wait)


def granted_s(resp: Response) -> float:
    """Expiry the registrar granted, seconds (Contact ``expires`` param, else Expires header)."""
    try:
        for c in resp.contact:
            if (v := c.parameters.get("expires")) is not None:
                return float(v)
        return float(resp.expires if resp.expires is not None else REGISTER_EXPIRES_S)
    except ValueError:
        return float(REGISTER_EXPIRES_S)


def registrar_peer(twin: Twin, registrar: str | None, transport: str) -> Peer | None:
    """Where a phone registers: the Edge's ``host:phone_port`` (``None`` when no registrar is named)."""
    edge = twin.lab.devices.get(registrar) if registrar else None
    if edge is None or edge.sip is None:
        return None
    return Peer(transport, edge.host, edge.sip.phone_port or edge.sip.port)


def phone_sip_services(twin: Twin, device: str) -> list[Service]:
    """``sip-ua`` for a phone with ``sip`` in the inventory; nothing for other devices."""
    dev = twin.lab.devices[device]
    if isinstance(dev, PhoneDevice) and dev.sip is not None:
        return [PhoneService(twin, device)]
    return []
