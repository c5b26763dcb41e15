"""RTP media of a probe call (RFC 3550): G.711 test tone, RFC 4733 DTMF, and a receiver that measures.

* **Sending**: :class:`RtpSession` sends one packet every 20 ms (160 samples at 8 kHz) of a
  1004 Hz test tone (the usual digital test tone: 1004 Hz is no sub-multiple of 8 kHz, so every
  code is exercised) encoded as µ-law (PCMU, pt 0) or A-law (PCMA, pt 8) with the stdlib
  ``audioop`` codec (``audioop-lts`` on Python 3.13+). RTP headers are dpkt's.
* **DTMF** (RFC 4733 §2.5): each digit is one event with a fixed RTP timestamp; the first packet
  has the marker bit, packets every 20 ms carry a growing duration, and the end packet (E bit,
  final duration) is sent three times (§2.5.1.4). Audio pauses during the event; the RTP clock
  runs on. Defaults: 100 ms per digit, 60 ms of tone between digits, volume 10 (−10 dBm0).
* **Echo mode** (``RtpSession(..., echo=True)`` or :meth:`RtpSession.set_echo`): no tone; every
  audio packet received on a negotiated audio type is sent back (same payload, transcoded when the
  peer sends the other G.711 law) and every RFC 4733 packet received on the negotiated
  telephone-event type is re-sent on the type this side sends DTMF with, so the far end gets its
  own audio and digits back. Echoed packets carry this session's own SSRC and sequence numbers;
  timestamps are the sender's shifted into this session's own timestamp space (so an event's
  packets keep one timestamp and the far end's jitter figure stays meaningful). Echo follows the
  negotiated direction: nothing goes out while ``sending`` is off (hold, 0.0.0.0).
* **DSCP**: the socket reads the ToS byte of every packet (``IP_RECVTOS``, :mod:`.udp_tos`) into
  ``RtpStats.tos``, and marks what it sends with ``mark()`` when one is given (a twin phone: EF).
* **Round trip**: a session sending the tone remembers when it last sent each frame; a frame that
  comes back byte for byte from an echoing far end gives one round-trip sample (``RtpStats.rtt_ms``).
  The tone repeats every second, so round trips up to 1 s are told apart.
* **Receiving** (:class:`RtpReceiver`): packets and octets per payload type, packets on a payload
  type that was not negotiated, sequence gaps and loss (expected − received, RFC 3550 A.3),
  interarrival jitter (A.8, audio packets only: DTMF packets repeat their timestamp), SSRCs, and
  the RFC 4733 digits received on the negotiated telephone-event payload type (one digit per event
  timestamp, whether or not its end packets arrived).

Timing uses the asyncio loop clock (about 1 ms late at p99 on a busy 2-core box, see
EMULATION-NOTES §9); jitter figures are what the receiver measured, not what was intended.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import math
import secrets
import socket
import struct
import time
import warnings
from array import array
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace

import dpkt

from .rtp_receiver import CLOCK_RATE, DTMF_DIGITS, DtmfEvent, RtpReceiver, RtpStats, parse_event, rtp_payload
from .udp_tos import Mark, TosUdpEndpoint, open_udp_tos

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop  # stdlib up to 3.12; the audioop-lts package provides it from 3.13


__all__ = ["CLOCK_RATE", "DTMF_DIGITS", "DtmfEvent", "RtpReceiver", "RtpSession", "RtpStats", "parse_event",
           "tone_frames"]

FRAME_S = 0.020  # 20 ms packetisation (RFC 3551 §4.5: default ptime of G.711)
SAMPLES_PER_FRAME = 160
TONE_HZ = 1004.0
TONE_AMPLITUDE = 8000  # of 32767: about -12 dBFS
DTMF_VOLUME = 10  # −dBm0, RFC 4733 §2.5.2.2
DTMF_DURATION_MS = 100
DTMF_GAP_MS = 60
HANGUP_DIGIT = "D"  # RFC 4733 event 15: the lab's far ends (phones, carrier echo lines) clear the call on it
END_REPEATS = 3  # RFC 4733 §2.5.1.4: the final packet is sent three times
RESYNC_S = 0.2  # project choice: a sender more than this late restarts its schedule instead of bursting
MAX_PACKET = 2048
CAPTURE_MAX = 6000  # project choice: packets a probe session keeps for its pcap (a minute both ways)
SENT_LOG = 3000  # project choice: send times kept for round-trip loss, one minute of 20 ms frames


async def open_udp(factory: Callable[[], asyncio.DatagramProtocol], host: str, port: int = 0
                   ) -> asyncio.DatagramTransport:
    """A datagram endpoint bound on ``host:port`` (``port`` 0: any free one).

    An IP literal is bound directly: asyncio's ``local_addr=`` resolves it with getaddrinfo on the
    default thread pool first, which costs more than the RTP session itself when calls come at
    100 per second. A host name takes that path. Raises OSError when the address cannot be bound.
    """
    loop = asyncio.get_running_loop()
    try:
        family = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    except ValueError:
        transport, _ = await loop.create_datagram_endpoint(factory, local_addr=(host, port))
        return transport
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.bind((host, port))
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    transport, _ = await loop.create_datagram_endpoint(factory, sock=sock)
    return transport


def tone_frames(codec: str, hz: float = TONE_HZ) -> list[bytes]:
    """One second of the tone as 50 encoded 20 ms frames (``codec``: ``PCMU`` or ``PCMA``; computed
    once per codec and tone, then shared: every call of a load run would otherwise pay for it).

    Raises:
        ValueError: another codec.
    """
    return list(_tone_frames(codec.upper(), hz))


@functools.lru_cache(maxsize=16)
def _tone_frames(codec: str, hz: float) -> tuple[bytes, ...]:
    samples = array("h", (int(TONE_AMPLITUDE * math.sin(2 * math.pi * hz * n / CLOCK_RATE))
                          for n in range(CLOCK_RATE)))
    pcm = samples.tobytes()
    if codec.upper() == "PCMU":
        enc = audioop.lin2ulaw(pcm, 2)
    elif codec.upper() == "PCMA":
        enc = audioop.lin2alaw(pcm, 2)
    else:
        raise ValueError(f"codec {codec!r} is not G.711 (PCMU/PCMA)")
    return tuple(enc[i:i + SAMPLES_PER_FRAME] for i in range(0, len(enc), SAMPLES_PER_FRAME))


def decode_g711(codec: str, payload: bytes) -> bytes:
    """16-bit linear PCM of a G.711 payload (for level checks)."""
    return audioop.ulaw2lin(payload, 2) if codec.upper() == "PCMU" else audioop.alaw2lin(payload, 2)


def encode_g711(codec: str, pcm: bytes) -> bytes:
    """A G.711 payload (``PCMU`` or else ``PCMA``) of 16-bit linear PCM."""
    return audioop.lin2ulaw(pcm, 2) if codec.upper() == "PCMU" else audioop.lin2alaw(pcm, 2)


def event_payload(digit: str, end: bool, duration: int, volume: int = DTMF_VOLUME) -> bytes:
    """RFC 4733 §2.3 payload: event, E bit, volume, duration (in timestamp units)."""
    return struct.pack("!BBH", DTMF_DIGITS.index(digit.upper()), (0x80 if end else 0) | (volume & 0x3F),
                       duration & 0xFFFF)


@dataclass
class _Event:
    """An RFC 4733 event being sent: ``n`` ticks done of ``ticks`` + end repeats + ``gap``."""

    digit: str
    ts: int
    ticks: int
    gap: int
    done: asyncio.Future[None] | None
    n: int = 0


@dataclass
class RtpSent:
    """What a sender sent: packets (audio + DTMF), DTMF packets, digits finished."""

    packets: int = 0
    dtmf_packets: int = 0
    digits: str = ""


class RtpSession(asyncio.DatagramProtocol):
    """One RTP socket of a call: sends the tone and DTMF, feeds what arrives to an :class:`RtpReceiver`.

    Use :meth:`open`, then :meth:`configure` after each offer/answer, :meth:`send_dtmf`, and
    :meth:`close`. Sending runs only while ``send`` is set and the remote address is real.
    ``echo=True`` (or :meth:`set_echo`) replaces the tone by an echo of what arrives (module docstring).
    ``mark``: gives the ToS byte to send with (``None``: the socket's default, 0). ``capture``: keep the
    last :data:`CAPTURE_MAX` packets both ways in ``captured`` (a probe's evidence pcap).
    """

    def __init__(self, local_host: str, port: int = 0, echo: bool = False, mark: Mark | None = None,
                 capture: bool = False) -> None:
        self.local_host = local_host
        self.mark = mark
        #: with ``capture``: ``(epoch, direction, src, dst, tos, datagram)`` of the last packets (pcaps)
        self.captured: deque[tuple[float, str, tuple[str, int], tuple[str, int], int, bytes]] | None = \
            deque(maxlen=CAPTURE_MAX) if capture else None
        self.want_port = port
        self.port = 0
        self.receiver = RtpReceiver()
        self._sent_at: dict[bytes, float] = {}
        self.receiver.sent_at = self._sent_at
        self.audio_sent_s: deque[float] = deque(maxlen=SENT_LOG)  # when each tone frame went out (loop clock)
        self.sent = RtpSent()
        self.remote: tuple[str, int] | None = None
        self.codec = "PCMU"
        self.pt = 0
        self.telephone_event_pt: int | None = None
        self.sending = False
        self._transport: TosUdpEndpoint | None = None
        self._task: asyncio.Task[None] | None = None
        self.tone_hz = TONE_HZ
        self._frames: list[bytes] = []
        self._use_frames(tone_frames("PCMU"))
        self._seq = secrets.randbelow(0x10000)
        self._ts = secrets.randbelow(0x100000000)
        self._ssrc = secrets.randbelow(0x100000000)
        self._marker = True
        self._frame = 0
        self._last_tick: float | None = None
        self._dtmf: list[tuple[str, int, int, asyncio.Future[None] | None]] = []  # digit, ticks, gap, done
        self._event: _Event | None = None
        self.on_packet: Callable[[bytes], None] | None = None
        self.echo = echo
        self._echo_ssrc: int | None = None  # sender whose timestamps are mapped by _echo_offset
        self._echo_offset = 0
        self._echo_event_ts: int | None = None  # timestamp of the last event whose end was counted

    async def open(self) -> None:
        """Bind the socket. Raises OSError when ``local_host`` cannot be bound."""
        self._transport = await open_udp_tos(self, self.local_host, self.want_port, mark=self.mark)
        self.port = self._transport.get_extra_info("sockname")[1]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.datagram_received_tos(data, addr, None)

    def datagram_received_tos(self, data: bytes, addr: tuple[str, int], tos: int | None) -> None:
        if self.captured is not None:
            self.captured.append((time.time(), "<", addr, (self.local_host, self.port), tos or 0, data))
        if len(data) <= MAX_PACKET:
            self.receiver.feed(data, asyncio.get_running_loop().time(), tos)
            if self.echo and self.sending:
                self._echo(data)

    def set_echo(self, on: bool) -> None:
        """Switch between the tone (``False``) and echo (``True``) at any time (early media → answer)."""
        if on == self.echo:
            return
        self.echo = on
        if on:
            self._stop_task()
        elif self.sending and self._task is None:
            self._marker = True
            self._task = asyncio.create_task(self._run(), name=f"rtp {self.local_host}:{self.port}")

    def _echo(self, data: bytes) -> None:
        """Send one received packet back (see the module docstring); anything unreadable is dropped."""
        try:
            pkt = dpkt.rtp.RTP(data)
            if pkt.version != 2:
                return
            payload = rtp_payload(pkt)
        except (dpkt.UnpackError, ValueError, struct.error):
            return
        if pkt.ssrc != self._echo_ssrc:  # a new sender: continue our own clock from where it was
            self._echo_ssrc = pkt.ssrc
            self._echo_offset = (self._ts + SAMPLES_PER_FRAME - pkt.ts) & 0xFFFFFFFF
        ts = (pkt.ts + self._echo_offset) & 0xFFFFFFFF
        recv_te = self.receiver.telephone_event_pt
        if recv_te is not None and pkt.pt == recv_te:
            if self.telephone_event_pt is None or len(payload) < 4:
                return
            self._send(self.telephone_event_pt, ts, payload, marker=bool(pkt.m))
            self.sent.dtmf_packets += 1
            if payload[1] & 0x80 and self._echo_event_ts != ts and payload[0] < len(DTMF_DIGITS):
                self._echo_event_ts = ts
                self.sent.digits += DTMF_DIGITS[payload[0]]
        elif pkt.pt in self.receiver.audio_pts:
            if pkt.pt != self.pt and {pkt.pt, self.pt} == {0, 8}:  # the other G.711 law: transcode
                lin = decode_g711("PCMU" if pkt.pt == 0 else "PCMA", payload)
                payload = encode_g711("PCMU" if self.pt == 0 else "PCMA", lin)
            self._ts = ts
            self._send(self.pt, ts, payload, marker=bool(pkt.m))

    def _use_frames(self, frames: list[bytes]) -> None:
        self._frames = frames
        self.receiver.reference = frozenset(frames)  # an echo of these counts as bit-exact

    def set_tone(self, hz: float) -> None:
        """Send a tone of ``hz`` from now on (2100 Hz: the fax answer tone CED, ITU-T T.30/V.25)."""
        self.tone_hz = hz
        self._use_frames(tone_frames(self.codec, hz))

    def configure(self, remote: tuple[str, int] | None, codec: str, pt: int, telephone_event_pt: int | None,
                  send: bool, recv_pts: tuple[int, ...], recv_telephone_event_pt: int | None) -> None:
        """Apply an offer/answer result: where and how to send, what to expect."""
        if codec.upper() != self.codec:
            self._use_frames(tone_frames(codec, self.tone_hz))
        self.codec, self.pt, self.telephone_event_pt = codec.upper(), pt, telephone_event_pt
        self.remote = remote if remote and remote[0] not in ("", "0.0.0.0") and remote[1] else None
        self.receiver.configure(recv_pts, recv_telephone_event_pt)
        want = send and self.remote is not None
        if want and self._task is None and not self.echo:
            self._marker = True
            self._task = asyncio.create_task(self._run(), name=f"rtp {self.local_host}:{self.port}")
        elif not want and self._task is not None:
            self._stop_task()
        self.sending = want

    def _stop_task(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        for item in self._dtmf:
            if item[3] is not None and not item[3].done():
                item[3].cancel()
        self._dtmf.clear()
        if self._event is not None and self._event.done is not None and not self._event.done.done():
            self._event.done.cancel()
        self._event = None

    async def send_dtmf(self, digits: str, duration_ms: int = DTMF_DURATION_MS, gap_ms: int = DTMF_GAP_MS) -> None:
        """Send ``digits`` as RFC 4733 events and return when the last end packet is out.

        Raises:
            ValueError: no telephone-event payload type was negotiated, media is not being sent,
                or a digit is not one of ``0-9 * # A-D``.
            asyncio.CancelledError: sending stopped (hold, hang-up) before the digits were out.
        """
        if self.telephone_event_pt is None:
            raise ValueError("no telephone-event payload type negotiated: cannot send RFC 4733 DTMF")
        if not self.sending:
            raise ValueError("media is not being sent (on hold, or no remote address)")
        bad = [d for d in digits if d.upper() not in DTMF_DIGITS]
        if bad:
            raise ValueError(f"not DTMF digits: {''.join(bad)!r}")
        if not digits:
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        ticks = max(1, round(duration_ms / 1000 / FRAME_S))
        gap = max(0, round(gap_ms / 1000 / FRAME_S))
        for i, d in enumerate(digits):
            self._dtmf.append((d.upper(), ticks, gap, done if i == len(digits) - 1 else None))
        await done

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        start, k = loop.time(), 0
        if self._last_tick is not None:  # after silence (hold) the RTP clock has run on (RFC 3550 §5.1)
            skipped = round((start - self._last_tick) / FRAME_S) - 1
            self._ts = (self._ts + max(0, skipped) * SAMPLES_PER_FRAME) & 0xFFFFFFFF
        while True:
            k += 1
            delay = start + k * FRAME_S - loop.time()
            if delay < -RESYNC_S:
                start, k = loop.time(), 0
            elif delay > 0:
                await asyncio.sleep(delay)
            self._tick()

    def _tick(self) -> None:
        self._last_tick = asyncio.get_running_loop().time()
        self._ts = (self._ts + SAMPLES_PER_FRAME) & 0xFFFFFFFF
        if self._event is None and self._dtmf and self.telephone_event_pt is not None:
            digit, ticks, gap, done = self._dtmf.pop(0)
            self._event = _Event(digit, self._ts, ticks, gap, done)
        ev = self._event
        if ev is None:
            self._send_audio()
            return
        ev.n += 1
        last_end = ev.ticks + END_REPEATS - 1
        if ev.n <= last_end and self.telephone_event_pt is not None:
            n = min(ev.n, ev.ticks)
            self._send(self.telephone_event_pt, ev.ts, event_payload(ev.digit, ev.n >= ev.ticks,
                                                                       n * SAMPLES_PER_FRAME), marker=ev.n == 1)
            self.sent.dtmf_packets += 1
            if ev.n == last_end:
                self.sent.digits += ev.digit
        else:
            self._send_audio()  # the gap after a digit
        if ev.n >= last_end + ev.gap:
            if ev.done is not None and not ev.done.done():
                ev.done.set_result(None)
            self._event = None

    def _send_audio(self) -> None:
        frame = self._frames[self._frame % len(self._frames)]
        self._frame += 1
        now = asyncio.get_running_loop().time()
        self._sent_at[frame] = now
        self.audio_sent_s.append(now)
        self._send(self.pt, self._ts, frame, marker=self._marker)
        self._marker = False

    def _send(self, pt: int, ts: int, payload: bytes, marker: bool) -> None:
        if self._transport is None or self.remote is None:
            return
        pkt = dpkt.rtp.RTP(pt=pt, seq=self._seq, ts=ts, ssrc=self._ssrc, data=payload)
        pkt.m = 1 if marker else 0
        self._seq = (self._seq + 1) & 0xFFFF
        raw = bytes(pkt)
        self._transport.sendto(raw, self.remote)
        if self.captured is not None:
            self.captured.append((time.time(), ">", (self.local_host, self.port), self.remote,
                                  self._transport.sent_tos or 0, raw))
        self.sent.packets += 1
        if self.on_packet is not None:
            self.on_packet(payload)

    def stats(self) -> RtpStats:
        """A snapshot of the receiver's figures."""
        st = self.receiver.stats
        return replace(st, by_pt=dict(st.by_pt), unexpected_pt=dict(st.unexpected_pt), ssrcs=list(st.ssrcs),
                       dtmf=[replace(e) for e in st.dtmf], tos=dict(st.tos), echoes=list(st.echoes))

    async def close(self) -> None:
        self._stop_task()
        self.sending = False
        if self._transport is not None:
            self._transport.close()
            self._transport = None
