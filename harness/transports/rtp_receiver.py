"""The receiving half of the probe's RTP (RFC 3550, RFC 4733): counts, loss, jitter and DTMF digits.

No I/O: :class:`~harness.transports.rtp.RtpSession` feeds datagrams to an :class:`RtpReceiver`;
a test or a pcap reader can feed it too. RTP headers are parsed by dpkt.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field

import dpkt

CLOCK_RATE = 8000  # G.711 and telephone-event/8000 (RFC 3551 §4.5.14, RFC 4733 §2.3)
DTMF_DIGITS = "0123456789*#ABCD"  # event codes 0-15, RFC 4733 §3.2


def parse_event(payload: bytes) -> tuple[int, bool, int, int]:
    """``(event, end, volume, duration)`` of an RFC 4733 payload. Raises ValueError when short."""
    if len(payload) < 4:
        raise ValueError("telephone-event payload shorter than 4 bytes")
    event, flags, duration = struct.unpack("!BBH", payload[:4])
    return event, bool(flags & 0x80), flags & 0x3F, duration


@dataclass
class DtmfEvent:
    """One RFC 4733 event received: ``digit``, RTP ``timestamp``, last ``duration`` (samples),
    whether an end packet came, and the payload type it came on."""

    digit: str
    timestamp: int
    duration: int
    ended: bool
    pt: int


@dataclass
class RtpStats:
    """What a receiver saw. Counts are packets unless the name says otherwise.

    Attributes:
        packets, octets: every RTP packet (and its payload bytes) received.
        audio_packets: packets on a negotiated audio payload type.
        by_pt: packets per payload type; unexpected_pt: those on a type not negotiated.
        lost: expected − received over the sequence space (RFC 3550 A.3), never negative.
        seq_gaps: forward jumps of the sequence number by more than one.
        duplicates, reordered: packets repeating or going back in sequence.
        jitter_ms: RFC 3550 A.8 interarrival jitter of the audio, milliseconds.
        ssrcs: synchronisation sources seen, in order.
        dtmf: the RFC 4733 events decoded on the negotiated payload type.
        audio_exact: audio packets whose payload is byte for byte one of the receiver's
            ``reference`` frames (what its own session sends): an echo that came back through a
            transparent G.711 path, as fax pass-through needs.
        malformed: datagrams that are no RTP version 2.
        first_s / last_s: loop-clock arrival time of the first and last packet (seconds).
        tos: packets per received IP ToS byte (DSCP in its upper six bits, RFC 2474), when the
            socket reads it (:mod:`harness.transports.udp_tos`); empty when nothing told it.
        echoes: ``(sent_s, arrival_s)`` of each of this side's own audio frames that came back byte
            for byte (an echoing far end, :attr:`RtpReceiver.sent_at`): when it was last sent and
            when it arrived, on the loop clock; :attr:`rtt_ms` gives the round trips.
    """

    packets: int = 0
    octets: int = 0
    audio_packets: int = 0
    by_pt: dict[int, int] = field(default_factory=dict)
    unexpected_pt: dict[int, int] = field(default_factory=dict)
    lost: int = 0
    seq_gaps: int = 0
    duplicates: int = 0
    reordered: int = 0
    jitter_ms: float = 0.0
    ssrcs: list[int] = field(default_factory=list)
    dtmf: list[DtmfEvent] = field(default_factory=list)
    audio_exact: int = 0
    malformed: int = 0
    first_s: float | None = None
    last_s: float | None = None
    tos: dict[int, int] = field(default_factory=dict)
    echoes: list[tuple[float, float]] = field(default_factory=list)

    @property
    def rtt_ms(self) -> list[float]:
        """Round trip of each echoed frame, ms (see ``echoes``)."""
        return [(arrival - sent) * 1000.0 for sent, arrival in self.echoes]

    @property
    def dscp(self) -> dict[int, int]:
        """Packets per received DSCP value (the ToS byte's upper six bits, RFC 2474 §3)."""
        out: dict[int, int] = {}
        for tos, n in self.tos.items():
            out[tos >> 2] = out.get(tos >> 2, 0) + n
        return out

    @property
    def expected(self) -> int:
        """Packets the sequence numbers say were sent (received + lost, RFC 3550 A.3)."""
        return self.packets - self.duplicates + self.lost

    @property
    def loss_pct(self) -> float:
        """``lost`` as a percentage of ``expected`` (0.0 before any packet)."""
        return 100.0 * self.lost / self.expected if self.expected else 0.0

    @property
    def digits(self) -> str:
        """The DTMF digits received, in order."""
        return "".join(e.digit for e in self.dtmf)

    @property
    def media_flowed(self) -> bool:
        """At least one audio packet arrived."""
        return self.audio_packets > 0


class RtpReceiver:
    """Counts and decodes RTP packets fed to it (no I/O; :class:`RtpSession` feeds it).

    ``audio_pts`` are the negotiated audio payload types, ``telephone_event_pt`` the negotiated
    RFC 4733 type (``None``: none negotiated, so no packet is read as DTMF). ``on_digit``, when
    set, is called with each new digit as its first packet arrives. ``reference``: payloads an
    audio packet is compared with (``RtpStats.audio_exact``).
    """

    on_digit: Callable[[str], None] | None = None
    reference: frozenset[bytes] = frozenset()
    sent_at: dict[bytes, float] | None = None  # payload -> when this side last sent it (round trips)

    def __init__(self, audio_pts: tuple[int, ...] = (0, 8), telephone_event_pt: int | None = None) -> None:
        self.audio_pts = audio_pts
        self.telephone_event_pt = telephone_event_pt
        self.stats = RtpStats()
        self._ssrc: int | None = None
        self._base = self._max = self._cycles = self._received = 0
        self._transit: float | None = None
        self._jitter = 0.0
        self._lost_before = 0  # loss counted on earlier SSRCs

    def configure(self, audio_pts: tuple[int, ...], telephone_event_pt: int | None) -> None:
        self.audio_pts = audio_pts
        self.telephone_event_pt = telephone_event_pt

    def feed(self, data: bytes, arrival_s: float, tos: int | None = None) -> None:
        """Account for one datagram that arrived at ``arrival_s`` (seconds, on the clock ``sent_at``
        uses) with the IP ToS byte ``tos`` (``None``: not read)."""
        st = self.stats
        try:
            pkt = dpkt.rtp.RTP(data)
            if pkt.version != 2:
                raise ValueError("RTP version is not 2")
            payload = rtp_payload(pkt)
        except (dpkt.UnpackError, ValueError, struct.error):
            st.malformed += 1
            return
        st.packets += 1
        st.octets += len(payload)
        if tos is not None:
            st.tos[tos] = st.tos.get(tos, 0) + 1
        st.by_pt[pkt.pt] = st.by_pt.get(pkt.pt, 0) + 1
        if st.first_s is None:
            st.first_s = arrival_s
        st.last_s = arrival_s
        self._sequence(pkt.ssrc, pkt.seq)
        if pkt.pt == self.telephone_event_pt and pkt.pt is not None:
            self._event(pkt.ts, pkt.pt, payload)
        elif pkt.pt in self.audio_pts:
            st.audio_packets += 1
            if payload in self.reference:
                st.audio_exact += 1
            if self.sent_at is not None and (sent := self.sent_at.get(payload)) is not None \
                    and arrival_s >= sent:
                st.echoes.append((sent, arrival_s))
            self._jitter_step(pkt.ts, arrival_s)
        else:
            st.unexpected_pt[pkt.pt] = st.unexpected_pt.get(pkt.pt, 0) + 1

    def _sequence(self, ssrc: int, seq: int) -> None:
        st = self.stats
        if ssrc != self._ssrc:
            if self._ssrc is not None:
                self._lost_before = st.lost
            self._ssrc = ssrc
            if ssrc not in st.ssrcs:
                st.ssrcs.append(ssrc)
            self._base = self._max = seq
            self._cycles, self._received = 0, 1
            self._transit, self._jitter = None, 0.0
            return
        self._received += 1
        delta = (seq - self._max) & 0xFFFF
        if delta == 0:
            st.duplicates += 1
            self._received -= 1
        elif delta < 0x8000:
            if seq < self._max:
                self._cycles += 0x10000
            if delta > 1:
                st.seq_gaps += 1
            self._max = seq
        else:
            st.reordered += 1
        expected = self._cycles + self._max - self._base + 1
        st.lost = self._lost_before + max(0, expected - self._received)

    def _jitter_step(self, ts: int, arrival_s: float) -> None:
        transit = arrival_s * CLOCK_RATE - ts
        if self._transit is not None:
            d = abs(transit - self._transit)
            if d < 0x7FFFFFFF:  # a timestamp wrap or jump is no jitter
                self._jitter += (d - self._jitter) / 16.0
        self._transit = transit
        self.stats.jitter_ms = self._jitter * 1000.0 / CLOCK_RATE

    def _event(self, ts: int, pt: int, payload: bytes) -> None:
        try:
            event, end, _, duration = parse_event(payload)
        except ValueError:
            self.stats.malformed += 1
            return
        if event >= len(DTMF_DIGITS):
            return  # not a DTMF event (flash, tones …)
        dtmf = self.stats.dtmf
        if dtmf and dtmf[-1].timestamp == ts:
            last = dtmf[-1]
            last.duration = max(last.duration, duration)
            last.ended = last.ended or end
            return
        dtmf.append(DtmfEvent(DTMF_DIGITS[event], ts, duration, end, pt))
        if self.on_digit is not None:
            self.on_digit(DTMF_DIGITS[event])


def rtp_payload(pkt: dpkt.rtp.RTP) -> bytes:
    """Payload without header extension (RFC 3550 §5.3.1) and padding (§5.1)."""
    data = bytes(pkt.data)
    if pkt.x:
        if len(data) < 4:
            raise ValueError("truncated header extension")
        words = struct.unpack("!H", data[2:4])[0]
        data = data[4 + 4 * words:]
    if pkt.p:
        if not data or data[-1] > len(data):
            raise ValueError("bad padding")
        data = data[:-data[-1]]
    return data
