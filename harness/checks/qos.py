"""QOS-MEDIA judgement of one call leg: DSCP of its RTP and SIP, one-way delay, jitter, loss, R and MOS.

Pure: the figures come from the harness's probe (:class:`~harness.devices.procedures.trunk_calls.TrunkProbe`
``measure``), which sends a G.711 tone to a far end that echoes it (the lab's phones and the
carrier's test line) and reads what comes back.

* **DSCP**: the ToS byte of every RTP packet and SIP datagram that reached the probe from the
  device under test (``IP_RECVTOS``), as DSCP (RFC 2474). Expected: what the org configures for
  the device (:func:`expected_dscp`): the base settings of the Edge's trunk the leg uses (external
  toward the carrier, phone toward the stations: ``trunk_media_dscpValue`` /
  ``trunk_transport_sipDscpValue``), a phone's phone base settings
  (``phone_media_dscp`` / ``phone_sip_dscp``); where the org gives no value (no ``cloud:`` in the
  inventory, no base, no such property) the requirement profile's, else Genesys' defaults RTP EF 46
  and SIP CS3 24 (G-DSCP), the evidence saying which. An org value other than Genesys' default is
  recorded as an observation (:func:`observe_org_choice`), not a failure.
* **One-way delay**: half the mean round trip of the probe's own frames echoed back byte for byte
  (``RtpStats.echoes``). Chosen over RTCP because the lab's far ends (echo lines) send no RTCP
  and a real site's carrier test line seldom does, while an echo needs nothing of the far end; the
  price is that the two directions are assumed equal (G.114 judges one-way delay, so a path much
  slower one way is under-stated by up to half the difference) and that the far end's own
  turnaround is counted as network delay (conservative). Limit 150 ms (ITU-T G.114).
* **Jitter**: RFC 3550 §6.4.1 interarrival jitter of the echoed stream (A.8), ms. It carries the
  jitter of both directions. Limit 30 ms (IND-QOS-RULES).
* **Loss**: round-trip loss of the probe's frames sent in the measuring window that never came back
  (loss of either direction counts); the return direction alone is also given from its sequence
  numbers (RFC 3550 A.3). Limit 1 % (IND-QOS-RULES).
* **R and MOS**: ITU-T G.107 from the one-way delay and the round-trip loss (:mod:`.emodel`);
  limits MOS >= 3.5 (G-MOS), R >= 70 (project choice).

NET-BANDWIDTH's figures are here too (:func:`load_result`: the rate N concurrent calls carried;
:func:`port_count`: what the WAN router's switch port counted of them, IF-MIB octets, RFC 2863).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from ..devices.capabilities import SipEndpoint
from ..devices.drivers.cloud_telephony import OrgTelephony
from ..devices.procedures.trunk_calls import MediaSample
from ..duties.catalogue import CATALOGUE, Threshold
from ..duties.profile import Profile
from ..evidence.attach import attach, attach_bytes
from ..evidence.check import DutyNotMet, check, intent, observe
from ..evidence.pcap import call_pcap
from .emodel import CODECS, LegRating, rate_leg
from .trunk import TrunkPlan, attach_ladder, call_answer

DUTY = "QOS-MEDIA"

__all__ = ["DUTY", "G711_20MS_L2_BITS", "G711_20MS_L2_OCTETS", "PACING_TOLERANCE_PCT", "Direction", "LegQos",
           "LoadResult", "OrgDscp", "PortCount", "dscp_seen", "edge_org_dscp", "evidence_on_failure", "expected_dscp",
           "judge_answered_leg", "judge_leg", "leg_of", "leg_qos", "load_result", "observe_org_choice",
           "phone_org_dscp", "port_count"]


def dscp_seen(tos_counts: Mapping[int, int]) -> int | tuple[int, ...] | None:
    """The DSCP every packet carried (one value), the DSCP values seen when they differ (sorted), or
    ``None`` when no ToS byte was read."""
    values = sorted({tos >> 2 for tos, n in tos_counts.items() if n})
    if not values:
        return None
    return values[0] if len(values) == 1 else tuple(values)


@dataclass(frozen=True)
class OrgDscp:
    """The DSCP the org configures for a device: ``rtp`` / ``sip`` (``None``: the org gives none),
    ``where``: the base settings read, or why none was (``"the inventory has no cloud: section"``),
    ``rtp_property`` / ``sip_property``: the property names read."""

    rtp: int | None
    sip: int | None
    where: str
    rtp_property: str = ""
    sip_property: str = ""


NO_ORG = "the inventory has no cloud: section"


def edge_org_dscp(tel: OrgTelephony | None, edge: str, kind: str = "EXTERNAL") -> OrgDscp:
    """What the org configures for the Edge ``edge``'s ``kind`` trunk (``EXTERNAL``: toward the carrier,
    ``PHONE``: toward the stations): that trunk's base settings (``trunk_media_dscpValue``,
    ``trunk_transport_sipDscpValue``). ``tel`` None: no org.

    Raises: what :class:`OrgTelephony` raises (a LabError when the API cannot be read: BROKEN)."""
    if tel is None:
        return OrgDscp(None, None, NO_ORG)
    base, where = tel.edge_trunk_base(edge, kind)
    return OrgDscp(base.media_dscp if base else None, base.sip_dscp if base else None, where,
                   "trunk_media_dscpValue", "trunk_transport_sipDscpValue")


def phone_org_dscp(tel: OrgTelephony | None, mac: str) -> OrgDscp:
    """What the org configures for the phone of MAC ``mac``: its phone record's phone base settings
    (``phone_media_dscp``, ``phone_sip_dscp``). Raises as :func:`edge_org_dscp`."""
    if tel is None:
        return OrgDscp(None, None, NO_ORG)
    base, where = tel.phone_base(mac)
    return OrgDscp(base.media_dscp if base else None, base.sip_dscp if base else None, where,
                   "phone_media_dscp", "phone_sip_dscp")


def expected_dscp(profile: Profile, name: str, org: OrgDscp) -> tuple[Threshold, str]:
    """The limit for figure ``name`` (``rtp_dscp`` or ``sip_dscp``) of a device whose org settings are
    ``org``, and a note for the evidence with what the limit does not say already: the org's value
    has its base settings and property as its source (note ``""``); the requirement profile's (the
    catalogue's G-DSCP default when the profile does not override it) comes with why the org gave
    none."""
    value, prop = (org.rtp, org.rtp_property) if name == "rtp_dscp" else (org.sip, org.sip_property)
    if value is None:
        return profile.threshold(DUTY, name), f"the org gives none ({org.where})"
    return Threshold(name, value, "DSCP", "==", f"org: {org.where}, {prop}"), ""


def observe_org_choice(org: OrgDscp, *, device: str) -> None:
    """Record, for each of ``org``'s values that differs from Genesys' default (the catalogue's
    ``rtp_dscp`` 46 / ``sip_dscp`` 24, G-DSCP), that the org chose another marking: evidence, never a
    failure (the org may mark as its network needs; the devices are judged against its value)."""
    duty = CATALOGUE[DUTY]
    for name, value, prop in (("rtp_dscp", org.rtp, org.rtp_property), ("sip_dscp", org.sip, org.sip_property)):
        default = duty.threshold(name).value
        if value is not None and value != default:
            observe(value, duty=DUTY, device=device,
                    what=f"{prop} the org configures, not Genesys' default {default} (G-DSCP)", detail=org.where)


@dataclass(frozen=True)
class Direction:
    """Per-direction RTP statistics of a leg, for the report: packets (sent by the probe, or received
    by it), those lost (``None``: not known for this direction alone), loss in %, RFC 3550 jitter
    (ms, ``None`` for the direction the probe does not receive) and the first packet's time after
    the INVITE (ms)."""

    name: str
    packets: int
    lost: int | None
    loss_pct: float | None
    jitter_ms: float | None
    first_packet_ms: float | None

    def line(self) -> str:
        parts = [f"{self.name}: {self.packets} packets"]
        if self.lost is not None and self.loss_pct is not None:
            parts.append(f"{self.lost} lost ({self.loss_pct:.2f} %)")
        if self.jitter_ms is not None:
            parts.append(f"jitter {self.jitter_ms:.2f} ms")
        if self.first_packet_ms is not None:
            parts.append(f"first packet {self.first_packet_ms:.0f} ms after the INVITE")
        return ", ".join(parts)


@dataclass(frozen=True)
class LegQos:
    """What one leg measured (see the module docstring for each figure).

    Attributes:
        label: the call (``"inbound +1317… -> 1001"``); codec: SDP encoding name.
        rtp_dscp / sip_dscp: :func:`dscp_seen` of the RTP / SIP that reached the probe.
        sent / echoed: the probe's frames sent in the window, and those that came back.
        latency_ms: one-way delay (mean round trip / 2); rtt_max_ms: the largest round trip.
        jitter_ms: RFC 3550 jitter of what came back; loss_pct: round-trip loss in the window.
        rating: G.107 R and MOS (``None`` without a delay figure or for a codec G.113 does not list).
        directions: per-direction statistics.
    """

    label: str
    codec: str
    rtp_dscp: int | tuple[int, ...] | None
    sip_dscp: int | tuple[int, ...] | None
    sent: int
    echoed: int
    latency_ms: float | None
    rtt_max_ms: float | None
    jitter_ms: float
    loss_pct: float | None
    rating: LegRating | None
    directions: tuple[Direction, ...]

    def summary(self) -> str:
        """One paragraph for the report (every figure, with the per-direction lines)."""
        lat = "unknown" if self.latency_ms is None else f"{self.latency_ms:.1f} ms"
        loss = "unknown" if self.loss_pct is None else f"{self.loss_pct:.2f} %"
        rating = "" if self.rating is None else f", R {self.rating.r_factor:.1f}, MOS {self.rating.mos:.2f}"
        head = (f"{self.label}: {self.codec}, RTP DSCP {self.rtp_dscp}, SIP DSCP {self.sip_dscp}, one-way delay {lat}, "
                f"jitter {self.jitter_ms:.2f} ms, round-trip loss {loss} ({self.echoed}/{self.sent} frames back)"
                f"{rating}")
        return head + "; " + "; ".join(d.line() for d in self.directions)


def leg_qos(label: str, codec: str | None, *, rtp_tos: Mapping[int, int], sip_tos: Mapping[int, int],
            sent_s: Iterable[float], echoes: Iterable[tuple[float, float]], window: tuple[float, float],
            received: int, return_lost: int, return_expected: int, jitter_ms: float,
            first_media_ms: float | None) -> LegQos:
    """Compute a leg's figures from what the probe saw.

    ``sent_s``: send times of the probe's frames; ``echoes``: ``(sent_s, arrival_s)`` of those that
    came back; ``window``: ``(start, end)`` of the measuring window on the same clock (frames sent
    in it are counted). ``received`` / ``return_lost`` / ``return_expected``: the probe receiver's
    audio packets, sequence-number loss and expected count (RFC 3550 A.3).
    """
    t0, t1 = window
    sent = sum(1 for t in sent_s if t0 <= t <= t1)
    back = [(s, a) for s, a in echoes if t0 <= s <= t1]
    echoed = len({s for s, _ in back})
    rtts = [(a - s) * 1000.0 for s, a in back]
    latency = sum(rtts) / len(rtts) / 2 if rtts else None
    loss = 100.0 * max(0, sent - echoed) / sent if sent else None
    name = (codec or "").lower()
    rating = rate_leg(name, latency, loss) if latency is not None and loss is not None and name in CODECS else None
    ret_loss = 100.0 * return_lost / return_expected if return_expected else 0.0
    directions = (
        Direction("probe -> far end (echoed back)", sent, max(0, sent - echoed), loss, None, None),
        Direction("far end -> probe", received, return_lost, ret_loss, jitter_ms, first_media_ms),
    )
    return LegQos(label, codec or "none", dscp_seen(rtp_tos), dscp_seen(sip_tos), sent, echoed, latency,
                  max(rtts) if rtts else None, jitter_ms, loss, rating, directions)


def judge_leg(q: LegQos, profile: Profile, *, device: str, item: str, sip: bool = True,
              limits: Mapping[str, tuple[Threshold, str]] | None = None) -> None:
    """Check one leg against the QOS-MEDIA limits of ``profile`` (``limits`` replaces some: figure name
    -> ``(limit, note for the evidence)``, as :func:`expected_dscp` gives them), in the order a voice
    engineer reads them: marking (RTP, then SIP unless ``sip`` is false: SIP over TCP gives no ToS to read), then
    delay, jitter, loss, MOS and R. Every figure is checked and recorded (the report lists each, met
    or not, so a failing leg keeps its other figures); raises DutyNotMet for the first limit not met,
    its message naming ``device``, the leg and the figure, with the others not met after it."""
    what = f"{item} ({q.label})"
    detail = q.summary().removeprefix(f"{q.label}: ")  # the leg is named in ``what``
    mos = q.rating.mos if q.rating else None
    r = q.rating.r_factor if q.rating else None
    figures: list[tuple[object, str, str]] = [(q.rtp_dscp, "rtp_dscp", "DSCP of the RTP it sent")]
    if sip:
        figures.append((q.sip_dscp, "sip_dscp", "DSCP of the SIP it sent"))
    figures += [(q.latency_ms, "latency_ms", "one-way delay (half the echo round trip)"),
                (q.jitter_ms, "jitter_ms", "RFC 3550 jitter"), (q.loss_pct, "loss_pct", "round-trip packet loss"),
                (mos, "mos", "G.107 MOS"), (r, "r_factor", "G.107 R-factor")]
    failed: list[DutyNotMet] = []
    given = limits or {}
    for measured, name, label in figures:
        limit, note = given.get(name, (profile.threshold(DUTY, name), ""))
        try:
            check(measured, limit, duty=DUTY, device=device, what=f"{what}: {label}",
                  detail=f"{note}; {detail}" if note else detail)
        except DutyNotMet as e:
            failed.append(e)
    if failed:
        first = failed[0]
        if len(failed) > 1:
            first.args = (f"{first.args[0]}; also not met: "
                          + "; ".join(f"{e.measurement.what.split(': ', 1)[-1]} = {e.measurement.measured}"
                                      for e in failed[1:]),)
        raise first


def leg_of(sample: MediaSample) -> LegQos:
    """:func:`leg_qos` of what :meth:`~harness.devices.procedures.trunk_calls.TrunkProbe.measure` saw."""
    st = sample.rtp
    return leg_qos(sample.label, sample.result.codec, rtp_tos=st.tos, sip_tos=sample.sip_tos, sent_s=sample.sent_s,
                   echoes=st.echoes, window=sample.window, received=st.audio_packets, return_lost=st.lost,
                   return_expected=st.expected, jitter_ms=st.jitter_ms, first_media_ms=sample.result.first_media_ms)


#: layer-2 bits of one G.711 20 ms packet: (160 payload + 12 RTP + 8 UDP + 20 IP + 18 Ethernet) x 8
#: (DUTIES.md §2.4, after IND-CISCO-BW); 50 of them a second are the 87.2 kbit/s of one call
G711_20MS_L2_BITS = (160 + 40 + 18) * 8


PACING_TOLERANCE_PCT = 3.0  # project choice: the harness's own sending may fall this far below the rate under test


@dataclass(frozen=True)
class LoadResult:
    """NET-BANDWIDTH: what N concurrent calls carried over one window.

    Attributes:
        calls: the legs; window_s: the measuring window, seconds.
        offered_kbps / carried_kbps: layer-2 rate per direction the probe sent, and the rate of
            what came back (the echo crossed the link both ways), kbit/s.
        loss_pct: round-trip loss over all calls' frames in the window.
    """

    calls: tuple[LegQos, ...]
    window_s: float
    offered_kbps: float
    carried_kbps: float
    loss_pct: float | None

    def offer_shortfall(self, needed_kbps: float) -> str | None:
        """Why this load did not test the link at ``needed_kbps`` (kbit/s per direction, N x the
        per-call rate): the probe offered more than :data:`PACING_TOLERANCE_PCT` % less (its own
        sending fell behind), a broken measurement rather than the WAN's finding; ``None`` when it
        offered enough. Ask once every call is known answered (a call not answered offers nothing,
        and that is the Edge's or the carrier's finding)."""
        if self.offered_kbps >= needed_kbps * (1 - PACING_TOLERANCE_PCT / 100.0):
            return None
        return (f"the harness offered only {self.offered_kbps:.1f} kbit/s per direction of the {needed_kbps:.1f} "
                "kbit/s under test (its own sending fell behind): the WAN was not loaded to the rate the duty asks "
                "about")

    def summary(self) -> str:
        loss = "unknown" if self.loss_pct is None else f"{self.loss_pct:.2f} %"
        head = (f"{len(self.calls)} calls over {self.window_s:.2f} s: offered {self.offered_kbps:.1f} kbit/s, "
                f"carried {self.carried_kbps:.1f} kbit/s per direction (layer 2, G.711 20 ms), round-trip loss {loss}")
        return head + "\n" + "\n".join(q.summary() for q in self.calls)


def load_result(legs: list[LegQos], window: tuple[float, float]) -> LoadResult:
    """The load's figures from its legs (each from :func:`leg_qos` over the same ``window``)."""
    window_s = max(window[1] - window[0], 1e-9)
    sent = sum(q.sent for q in legs)
    echoed = sum(q.echoed for q in legs)
    return LoadResult(tuple(legs), window_s, sent * G711_20MS_L2_BITS / window_s / 1000.0,
                      echoed * G711_20MS_L2_BITS / window_s / 1000.0,
                      100.0 * max(0, sent - echoed) / sent if sent else None)


G711_20MS_L2_OCTETS = G711_20MS_L2_BITS // 8  # 218 octets of one G.711 20 ms frame on Ethernet


@dataclass(frozen=True)
class PortCount:
    """What the switch port toward the WAN router counted of a load, one direction.

    Attributes:
        direction: ``"out"`` (toward the WAN: ifHCOutOctets) or ``"in"`` (from it: ifHCInOctets).
        counted: octets the counter rose by between the reads before and after the load (``None``:
            the agent served no counter); expected: layer-2 octets of the load's frames that crossed
            the port that way (frames x 218, G.711 20 ms on Ethernet); counted_pct: counted / expected.
    """

    direction: str
    counted: int | None
    expected: int
    counted_pct: float | None

    def line(self) -> str:
        got = "no counter" if self.counted is None else f"{self.counted} octets"
        pct = "" if self.counted_pct is None else f" ({self.counted_pct:.1f} % of it)"
        return f"{self.direction}: {got} counted, {self.expected} octets of the load{pct}"


def port_count(direction: str, before: int | None, after: int | None, frames: int) -> PortCount:
    """The :class:`PortCount` of ``frames`` G.711 20 ms frames between two Counter64 reads (a wrap
    between them counted modulo 2^64, RFC 2863)."""
    counted = None if before is None or after is None else (after - before) % 2**64
    expected = frames * G711_20MS_L2_OCTETS
    pct = None if counted is None or not expected else 100.0 * counted / expected
    return PortCount(direction, counted, expected, pct)


def judge_answered_leg(sample: MediaSample, edge: SipEndpoint, duty: str, item: str,
                       plan: TrunkPlan | None = None) -> None:
    """The measured call was answered 200 (G-CARRIER: the carrier's test line answers). Attaches the
    ladder first; a call left without any final answer by an Edge that is gone altogether is BROKEN
    (``ensure_alive`` raises LabUnreachable), not FAIL. Given the ``plan``, an outbound call the Edge
    refused as the org's configuration has it names the org's reason and uses its input
    (:func:`~harness.checks.trunk.call_answer`). Raises DutyNotMet otherwise."""
    attach_ladder(sample.label, sample.result.ladder)
    r = sample.result
    if r.final_code is None:
        edge.ensure_alive()
    detail, used = call_answer(r, sample.dialled, plan)
    check(r.final_code, intent("call_status", 200, "SIP status", "==", "G-CARRIER"), duty=duty, device=edge.name,
          what=f"{item}: final answer to {sample.label}", detail=detail, inputs_used=used)


@contextmanager
def evidence_on_failure(samples: Iterable[MediaSample], legs: Iterable[LegQos] = ()) -> Iterator[None]:
    """Run the judgement of ``samples``' calls; when it fails (an AssertionError, DutyNotMet among
    them), attach to the test, for every call, a pcap of its SIP and RTP as the probe saw them
    (``pcap: <label>``) and its per-direction RTP statistics (``RTP statistics: <label>``), then
    re-raise. Nothing is attached to a pass (the figures are, by the scenario)."""
    try:
        yield
    except AssertionError:
        by_label = {q.label: q for q in legs}
        for s in samples:
            attach_bytes(f"pcap: {s.label}", call_pcap(s.local, s.sip_raw, s.rtp_raw))
            q = by_label.get(s.label) or leg_of(s)
            attach(f"RTP statistics: {s.label}", "\n".join(d.line() for d in q.directions))
        raise
