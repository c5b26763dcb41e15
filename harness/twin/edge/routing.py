"""The twin Edge's routing decisions and SDP rewriting, without I/O (used by :mod:`.sip`).

Routing reads the inventory through :mod:`harness.devices.facts.dialplan`, the same functions the
scenarios use, so both agree on what the dial plan means:

* **Inbound** (a carrier INVITE): the Request-URI user normalised to E.164 with the plan's country
  → ``dial_plan.dids`` → the extension.
* **Outbound** (a phone INVITE): the caller is the From user, an extension (or ``sip.username``) of
  a phone in the inventory; a Request-URI user that is an extension is a station-to-station call;
  anything else is normalised to E.164 (``None`` → 484), judged by :meth:`EdgeRouting.refusal` and
  sent to the trunk's routes in order.

What an outbound number may reach follows the org, as Genesys Cloud pushes its configuration to its
Edges (:class:`~harness.twin.edge.state.OrgOutbound` on the Edge's state, written by the emulated org
from the functions its API renders, so the API and the Edge cannot disagree unless a fault says so):

1. **The org's number plans** classify the number as dialled (``classify`` of
   :mod:`harness.devices.facts.cloud_dialplan`, the classification the API's number plans describe);
   a classification no outbound route of the Edge's trunk carries, or a number no plan classifies, is
   refused **404** (project choice: no public source gives the code a Genesys Edge answers without a
   route; 404 is RFC 3261's "not found" for a Request-URI the server cannot route).
2. **The org's prefix Block List** (org-wide, G-PREFIX): a number that starts with one of its
   prefixes is refused **403**, emergency numbers included (an org that blocks 911 blocks it).
3. **The inventory's station classes** (``dial_plan.station_classes``, not an org setting): the
   prefix classes a caller's class bars, except those barred for every class
   (``dialplan.org_wide_blocked``: the org's Block List holds those), are refused 403; an
   ``Emergency`` call is never barred by a station class.

The ``allow-prefix`` fault exempts numbers starting with its value from 2 and 3 (an Edge that lets an
org-blocked prefix through); ``config-stale`` keeps the Edge on the configuration it had when the fault
was set. Without an emulated org (no ``cloud:`` with a ``base_url``) the Edge routes by the inventory
alone: every number is routed and the station classes bar every prefix class they list.

SDP (RFC 4566, parsed and written with sdp-transform) is rewritten leg to leg by
:func:`rewrite_sdp`: ``c=``/``m=``/``o=`` name the Edge's relay socket, except that a ``0.0.0.0``
connection (the RFC 2543 hold form) stays ``0.0.0.0``; codec list and payload numbers pass
unchanged, except that an offer loses every codec other than PCMU, PCMA (8 kHz) and
telephone-event, and telephone-event goes when the ``no-telephone-event`` fault is on. Only the
first audio stream with a port is relayed; other streams are refused (port 0).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import sdp_transform

from ...devices.facts import dialplan
from ...devices.facts.cloud_dialplan import NumberPlan, OutboundRoute, classify
from ...inventory.models import DialPlan, EdgeDevice, Lab, PhoneDevice, PstnDevice, Trunk
from ...transports.sdp import HOLD_ADDRESS, TELEPHONE_EVENT
from ..core.state import DeviceState
from .faults import ALLOW_PREFIX, MAX_CALLS, TRANSPORT_MISMATCH
from .state import EdgeState, OrgOutbound

G711_NAMES = frozenset({"PCMU", "PCMA"})
STATIC_NAMES = {0: "PCMU", 8: "PCMA", 18: "G729", 9: "G722", 3: "GSM", 4: "G723"}  # RFC 3551 table 4
G729_PT = 18
NO_ROUTE_CODE = 404  # project choice (module docstring): no public source gives a Genesys Edge's code
BLOCKED_CODE = 403  # G-PREFIX: a blocked prefix is rejected, never sent on
EMERGENCY = "Emergency"  # the number plan classification of emergency numbers (G-NUMPLAN)
_MIRROR = {"sendonly": "recvonly", "recvonly": "sendonly", "inactive": "inactive", "sendrecv": "sendrecv"}


@dataclass(frozen=True)
class Refusal:
    """A final answer the Edge gives itself: ``code`` and the ``Warning: 399`` text (``""``: none)."""

    code: int
    warning: str = ""


@dataclass(frozen=True)
class Station:
    """A phone of the inventory: device name, its user (extension or ``sip.username``), station
    class, host and SIP transport."""

    device: str
    user: str
    station_class: str
    host: str
    transport: str


@dataclass(frozen=True)
class RouteTarget:
    """One trunk route: the PSTN device's name, SIP host, port, transport (``udp``/``tcp``) and
    ``sip.timeout_s`` (seconds without any answer before the next route is tried)."""

    name: str
    host: str
    port: int
    transport: str
    timeout_s: float

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


class EdgeRouting:
    """Routing tables of one Edge, built from the inventory once (the Edge's state, for its faults,
    is passed per call)."""

    def __init__(self, lab: Lab, device: str) -> None:
        dev = lab.devices[device]
        assert isinstance(dev, EdgeDevice)
        self.device, self.dev = device, dev
        self.plan: DialPlan = dev.facts.dial_plan or DialPlan()
        self.trunk: Trunk = dev.facts.trunk or Trunk()
        self.stations: dict[str, Station] = {}
        for name, d in lab.devices.items():
            if isinstance(d, PhoneDevice):
                user = d.sip.username if d.sip and d.sip.username else d.facts.extension
                transport = d.sip.transport if d.sip and d.sip.transport == "tcp" else "udp"
                st = Station(name, user, d.facts.station_class, d.host, transport)
                self.stations.setdefault(d.facts.extension, st)
                self.stations.setdefault(user, st)
        self.routes: list[RouteTarget] = []
        for name in self.trunk.routes:
            p = lab.devices.get(name)
            if isinstance(p, PstnDevice):
                sip = p.sip
                transport = sip.transport if sip and sip.transport == "tcp" else "udp"
                self.routes.append(RouteTarget(name, p.host, sip.port if sip else 5060, transport,
                                               sip.timeout_s if sip else 2.0))

    def extension_for(self, number: str) -> str | None:
        """Extension an inbound call to ``number`` (R-URI user, any dialable form) rings, or ``None``."""
        e164 = dialplan.normalize(number, self.plan.country)
        return self.plan.dids.get(e164) if e164 else None

    def max_calls(self, st: DeviceState) -> int:
        """The trunk's Max Calls (0: unlimited); the ``max-calls`` fault's value wins."""
        v = MAX_CALLS.value(st)
        return v if v is not None else self.trunk.max_calls

    def refusal(self, station_class: str, dialled: str, e164: str, st: EdgeState) -> Refusal | None:
        """Why the Edge refuses an outbound call to ``dialled`` (``e164`` its E.164 form) from a caller of
        ``station_class``, or ``None`` when it goes to the trunk (module docstring: the org's number
        plans and outbound routes 404, the org's Block List 403, the inventory's station classes 403)."""
        allow = ALLOW_PREFIX.value(st)
        exempt = bool(allow) and e164.startswith(allow or "")
        org = st.org_outbound
        if org is None:
            return None if exempt else self._station_block(station_class, e164, ())
        classification = self.classification(org, dialled)
        if classification is None or not any(OutboundRoute.model_validate(r).carries(classification)
                                             for r in org.outbound_routes):
            what = classification or "a number no number plan classifies"
            return Refusal(NO_ROUTE_CODE, f"no outbound route carries {what}")
        if exempt:
            return None
        hits = [p for p in org.blocked_prefixes if e164.startswith(p)]
        if hits:
            return Refusal(BLOCKED_CODE, f"blocked prefix {max(hits, key=len)} (the org's Block List)")
        if classification.lower() == EMERGENCY.lower():
            return None
        return self._station_block(station_class, e164, dialplan.org_wide_blocked(self.plan))

    @staticmethod
    def classification(org: OrgOutbound, dialled: str) -> str | None:
        """The classification the org's number plans give ``dialled`` (the first plan by priority that
        matches), or ``None``."""
        plan = classify([NumberPlan.model_validate(p) for p in org.number_plans], dialled, org.country)
        return plan.classification if plan else None

    def _station_block(self, station_class: str, e164: str, skip: list[str] | tuple[str, ...]) -> Refusal | None:
        blk = dialplan.blocked(self.plan, station_class, e164, skip)
        if blk is None:
            return None
        return Refusal(BLOCKED_CODE, f"blocked prefix class {blk.prefix_class} ({blk.prefix})")

    def ani(self, extension: str) -> str:
        """Caller ID sent to the carrier for ``extension``: its DID, else the site's, else the extension."""
        return dialplan.caller_id(self.plan, extension) or extension

    def trunk_routes(self, st: DeviceState) -> list[RouteTarget]:
        """The routes in order, with the transport the Edge uses toward each (``transport-mismatch``
        flips UDP and TCP)."""
        if not TRANSPORT_MISMATCH.on(st):
            return list(self.routes)
        return [RouteTarget(r.name, r.host, r.port, "tcp" if r.transport == "udp" else "udp", r.timeout_s)
                for r in self.routes]


# -- SDP ---------------------------------------------------------------------------------------------

def _names(m: dict[str, Any]) -> dict[int, tuple[str, int]]:
    """Payload number -> (encoding name, clock rate) of one parsed m-line (static types filled in)."""
    out = {int(r["payload"]): (str(r["codec"]), int(r.get("rate") or 8000)) for r in m.get("rtp", [])}
    for pt in _payloads(m):
        out.setdefault(pt, (STATIC_NAMES.get(pt, f"pt{pt}"), 8000))
    return out


def _payloads(m: dict[str, Any]) -> list[int]:
    return [int(t) for t in str(m.get("payloads", "")).split() if t.isdigit()]


def _keep(m: dict[str, Any], pts: list[int]) -> None:
    keep = set(pts)
    m["payloads"] = " ".join(str(p) for p in pts)
    for key in ("rtp", "fmtp", "rtcpFb"):
        if key in m:
            m[key] = [r for r in m[key] if int(r.get("payload", -1)) in keep]


def _parse(body: bytes) -> dict[str, Any] | None:
    text = body.decode("utf-8", "replace")
    if not text.lstrip().startswith("v="):
        return None
    try:
        d: dict[str, Any] = sdp_transform.parse(text)
    except Exception:  # sdp-transform raises bare errors on junk
        return None
    return d if d.get("media") else None


def has_g711(body: bytes) -> bool:
    """The SDP offers PCMU or PCMA at 8 kHz on its first audio stream with a port."""
    d = _parse(body)
    m = _audio(d) if d else None
    return m is not None and any(n.upper() in G711_NAMES and r == 8000 for n, r in _names(m).values())


def _audio(d: dict[str, Any]) -> dict[str, Any] | None:
    return next((m for m in d["media"] if m.get("type") == "audio" and int(m.get("port") or 0)), None)


def rewrite_sdp(body: bytes, host: str, port: int, *, offer: bool, strip_te: bool,
                only_g729: bool = False, mirror: bool = False, new_origin: bool = False) -> bytes | None:
    """``body`` as the Edge passes it on, media at ``host:port`` (its relay socket for that leg).

    Args:
        offer: an offer: codecs other than G.711 and telephone-event are dropped; ``None`` comes
            back when no G.711 is left (answer 488).
        strip_te: drop telephone-event (the ``no-telephone-event`` fault).
        only_g729: replace the codec list with G.729 alone, payload 18 (the ``codec-reject`` fault).
        mirror: turn an offer into the matching answer (directions mirrored: the Edge answering a
            caller before the callee has, inbound early media).
        new_origin: write the Edge's own ``o=`` session id instead of passing the sender's.

    Returns ``None`` for a body that is no SDP or (offers) has no G.711.
    """
    d = _parse(body)
    if d is None:
        return None
    audio = _audio(d)
    if audio is None:
        return None
    session_ip = (d.get("connection") or {}).get("ip", "")
    for m in d["media"]:
        if m is not audio:
            m["port"] = 0
    names = _names(audio)
    conn = (audio.get("connection") or {}).get("ip") or session_ip
    if only_g729:
        audio["rtp"] = [{"payload": G729_PT, "codec": "G729", "rate": 8000}]
        audio["fmtp"] = [{"payload": G729_PT, "config": "annexb=no"}]
        audio["payloads"] = str(G729_PT)
    else:
        pts = [pt for pt in _payloads(audio)
               if (names[pt][0].upper() in G711_NAMES and names[pt][1] == 8000)
               or (names[pt][0].lower() == TELEPHONE_EVENT and not strip_te)]
        if offer and not any(names[pt][0].upper() in G711_NAMES for pt in pts):
            return None
        if pts:
            _keep(audio, pts)
    ip = HOLD_ADDRESS if conn == HOLD_ADDRESS else host
    audio["port"] = port
    audio.pop("rtcp", None)
    if "connection" in audio:
        audio["connection"] = {"version": 4, "ip": ip}
    d["connection"] = {"version": 4, "ip": ip}
    if mirror:
        audio["direction"] = _MIRROR.get(str(audio.get("direction") or "sendrecv"), "sendrecv")
    origin = d.get("origin") or {}
    origin.update({"address": host, "netType": "IN", "ipVer": 4})
    if new_origin:
        origin.update({"sessionId": secrets.randbelow(2**31), "sessionVersion": 1, "username": "-"})
    d["origin"] = origin
    return str(sdp_transform.write(d)).encode()

