"""Test calls through an Edge, placed by the harness's SIP probe (:mod:`harness.transports.sip.ua`).

The probe plays the two neighbours of the Edge a carrier test needs:

* **as the carrier** (:meth:`TrunkProbe.inbound`): an INVITE to a DID on the Edge's trunk port
  (``sip.port``, 5060), optionally through a record-routing proxy
  (:class:`~harness.transports.sip.proxy.LooseProxy`), as a carrier's SBC would send it;
* **as a station** (:meth:`TrunkProbe.outbound`): an INVITE from a phone's extension on the Edge's
  phone trunk port (``sip.phone_port``, 8060) to a number the Edge must route (or refuse).

:meth:`TrunkProbe.exercise` then sends G.711 audio and RFC 4733 digits on the answered call, waits
for what the far end sends back and hangs up; the far ends of the lab (the phones, the carrier's
test numbers) are echo lines, so what comes back proves both directions.

Shapes: :class:`TestCall` (a :class:`~harness.transports.sip.call_base.CallResult` plus the
audio and digits seen after answer). Times in ms, counts in packets. Every call keeps its ladder.

Errors: LabUnreachable when the probe cannot bind its address; LabTimeout when the probe's own
loop does not answer. A call that the Edge refuses or never answers is not an error: it is in the
result (``final_code``), for the scenario to judge.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from ...errors import LabUnreachable
from ...inventory.models import EdgeDevice
from ...transports.rtp import FRAME_S, TONE_HZ, RtpStats
from ...transports.sip.call import CONFIRMED
from ...transports.sip.call_base import CallResult
from ...transports.sip.transport import local_address_toward
from ...transports.sip.ua import CallHandle, SipUserAgent
from ...transports.transcript import Transcript

DEFAULT_ANI = "+13175557777"  # the carrier-side caller of inbound test calls (project choice)
ANONYMOUS = "sip:anonymous@anonymous.invalid"  # RFC 3323 §4.1.1.3
AUDIO_S = 0.4  # project choice: audio sent before looking at what came back (20 frames of 20 ms)
ECHO_WAIT_S = 0.6  # project choice: time the echo of the last digit or frame has to come back
ECHO_POLL_S = 0.02  # one frame: how often the echo is looked at while waiting for it


@dataclass(frozen=True)
class TestCall:
    """One test call and what it showed.

    Attributes:
        label: ``"inbound +13175550100"`` / ``"outbound 1001 -> +13175559000"`` (for messages).
        result: the probe's view after hang-up (codec, telephone-event PT, 18x/2xx times …).
        audio_back: audio packets received after the answer (the far end's echo of ours).
        audio_exact: of those, the ones byte for byte equal to a frame the probe sends (the path
            carried G.711 untouched, as fax pass-through needs).
        digits_sent / digits_back: RFC 4733 digits sent by the probe and received back, in order.
        unexpected_pts: packets per payload type received that the SDP did not negotiate (a
            telephone-event on the wrong payload type shows here).
        ladder: the call's SIP ladder, for the report.
        dialled: the number an outbound call dialled (as the station dialled it), ``""`` inbound.
    """

    label: str
    result: CallResult
    audio_back: int
    digits_sent: str
    digits_back: str
    unexpected_pts: dict[int, int]
    ladder: str
    audio_exact: int = 0
    dialled: str = ""

    @property
    def answered(self) -> bool:
        return self.result.final_code is not None and 200 <= self.result.final_code < 300


QOS_SETTLE_S = 0.2  # project choice: audio before the measuring window (the path's first packets)
QOS_AUDIO_S = 2.0  # project choice: the measuring window, 100 frames of 20 ms (1 lost frame = 1 %)


@dataclass(frozen=True)
class MediaSample:
    """What the probe saw of one call measured for QoS (:meth:`TrunkProbe.measure`).

    Attributes:
        label, result: as for :class:`TestCall`.
        rtp: the probe receiver's figures at the end (ToS per packet, echoes, jitter, loss).
        sent_s: send times of the probe's tone frames (loop clock, seconds).
        window: ``(start, end)`` of the measuring window on that clock.
        sip_tos: packets per ToS byte of the SIP datagrams that came from the Edge's port the call
            used (UDP; empty over TCP).
        local: the probe's SIP address (``"UDP host:port"``); sip_raw / rtp_raw: what passed its
            sockets for this call, for an evidence pcap (:mod:`harness.evidence.pcap`).
        dialled: as for :class:`TestCall`.
    """

    label: str
    result: CallResult
    rtp: RtpStats
    sent_s: tuple[float, ...]
    window: tuple[float, float]
    sip_tos: dict[int, int]
    local: str = ""
    sip_raw: tuple[tuple[float, str, str, bytes], ...] = ()
    rtp_raw: tuple[tuple[float, str, tuple[str, int], tuple[str, int], int, bytes], ...] = ()
    dialled: str = ""

    @property
    def answered(self) -> bool:
        return self.result.final_code is not None and 200 <= self.result.final_code < 300


class TrunkProbe:
    """The probe for one Edge (``name``, inventory entry ``edge``), bound on ``local_host`` (default:
    the address the harness reaches the Edge from) with one UDP socket and one TCP listener.

    Raises:
        LabUnreachable: the Edge has no SIP settings, or the probe cannot bind.
    """

    def __init__(self, name: str, edge: EdgeDevice, transcript: Transcript, local_host: str | None = None) -> None:
        if edge.sip is None:
            raise LabUnreachable(name, "sip", edge.host, "the inventory gives this Edge no sip settings")
        self.name, self.edge, self.sip = name, edge, edge.sip
        self.local_host = local_host or local_address_toward(edge.host, edge.sip.port)
        self.ua = SipUserAgent(name, transcript, self.local_host, user="hil-probe")
        self._dialled: dict[str, str] = {}  # Call-ID of an outbound call -> the number it dialled

    @property
    def trunk(self) -> tuple[str, int]:
        return self.edge.host, self.sip.port

    @property
    def phone_trunk(self) -> tuple[str, int]:
        return self.edge.host, self.sip.phone_port or self.sip.port

    def inbound(self, did: str, *, caller: str | None = DEFAULT_ANI, transport: str = "udp",
                via: tuple[str, int] | None = None, timeout_s: float = 8.0,
                codecs: tuple[str, ...] = ("PCMU", "PCMA"), tone_hz: float = TONE_HZ) -> CallHandle:
        """Call ``did`` (E.164) on the Edge's trunk as the carrier; returns once it is answered or
        has failed. ``caller``: the ANI (E.164) in From and P-Asserted-Identity; ``None`` sends an
        anonymous From with ``Privacy: id`` (RFC 3323/3325). ``via``: send through this proxy.
        ``tone_hz``: the tone the probe sends (2100 Hz: a fax answer tone)."""
        host, port = self.trunk
        uri = f"sip:{did}@{host}:{port};user=phone"
        if caller:
            from_uri = f"sip:{caller}@{self.local_host};user=phone"
            extra: tuple[tuple[str, str], ...] = (("P-Asserted-Identity", f"<{from_uri}>"),)
            display = None
        else:
            from_uri, extra, display = ANONYMOUS, (("Privacy", "id"),), "Anonymous"
        return self.ua.dial(uri, peer=via or (host, port), transport=transport, from_uri=from_uri,
                            display_name=display, extra=extra, timeout_s=timeout_s, codecs=codecs,
                            tone_hz=tone_hz)

    def outbound(self, extension: str, number: str, *, transport: str = "udp", timeout_s: float = 8.0,
                 codecs: tuple[str, ...] = ("PCMU", "PCMA"), tone_hz: float = TONE_HZ) -> CallHandle:
        """Dial ``number`` (as a station would dial it) from ``extension`` on the Edge's phone trunk;
        returns once it is answered or has failed (``tone_hz`` as for :meth:`inbound`)."""
        host, port = self.phone_trunk
        call = self.ua.dial(f"sip:{number}@{host}:{port}", peer=(host, port), transport=transport,
                            from_uri=f"sip:{extension}@{host}", timeout_s=timeout_s, codecs=codecs,
                            tone_hz=tone_hz)
        self._dialled[call.call_id] = number
        return call

    def dialled(self, call: CallHandle) -> str:
        """The number :meth:`outbound` dialled on ``call``, ``""`` for a call it did not place."""
        return self._dialled.get(call.call_id, "")

    def exercise(self, call: CallHandle, label: str, *, digits: str = "", audio_s: float = AUDIO_S,
                 hang_up: bool = True) -> TestCall:
        """On an answered ``call``: let audio flow ``audio_s`` seconds, send ``digits`` as RFC 4733
        events, wait for the echo (every digit back, and as many audio frames back as ``audio_s``
        sent; at most :data:`ECHO_WAIT_S`), then hang up (BYE) unless ``hang_up`` is false. A call that was
        not answered is only summarised; digits are not sent when the SDP negotiated no
        telephone-event (``digits_sent`` is then ``""``)."""
        before = exact_before = 0
        if call.state == CONFIRMED:
            first = call.rtp_stats()
            before, exact_before = first.audio_packets, first.audio_exact
            time.sleep(audio_s)
            if digits and call.result().telephone_event_pt is None:
                digits = ""
            if digits:
                call.send_dtmf(digits)
            frames = round(audio_s / FRAME_S)
            _wait_until(lambda: _echoed(call.rtp_stats(), before, frames, digits), ECHO_WAIT_S)
        stats = call.rtp_stats()
        if hang_up and call.state == CONFIRMED:
            call.bye()
        result = call.result()
        return TestCall(label, result, stats.audio_packets - before, digits, stats.digits,
                        dict(stats.unexpected_pt), result.ladder, stats.audio_exact - exact_before,
                        self.dialled(call))

    def measure(self, call: CallHandle, label: str, *, inbound: bool, audio_s: float = QOS_AUDIO_S) -> MediaSample:
        """On an answered ``call``: send the tone for :data:`QOS_SETTLE_S` + ``audio_s`` seconds, wait
        :data:`ECHO_WAIT_S` for the echo of the last frames, hang up, and return what the probe saw
        (frames sent in the ``audio_s`` window, their echoes, the ToS of the RTP and of the SIP that
        came from the Edge's trunk port when ``inbound``, else from its phone port). A call that was
        not answered gives an empty sample."""
        return self.measure_many([(call, label)], inbound=inbound, audio_s=audio_s)[0]

    def measure_many(self, calls: list[tuple[CallHandle, str]], *, inbound: bool,
                     audio_s: float = QOS_AUDIO_S) -> list[MediaSample]:
        """:meth:`measure` on several calls at once, over one window (the load NET-BANDWIDTH offers)."""
        window = (0.0, 0.0)
        up = [c for c, _ in calls if c.state == CONFIRMED]
        if up:
            time.sleep(QOS_SETTLE_S)
            t0 = up[0].loop_time()
            time.sleep(audio_s)
            window = (t0, up[0].loop_time())
            time.sleep(ECHO_WAIT_S)
        host, port = self.trunk if inbound else self.phone_trunk
        samples = []
        for call, label in calls:
            stats = call.rtp_stats()
            sent = call.audio_sent_times()
            if call.state == CONFIRMED:
                call.bye()
            result = call.result()
            sip_raw, rtp_raw = call.capture()
            samples.append(MediaSample(label, result, stats, tuple(sent), window if call in up else (0.0, 0.0),
                                       self.ua.sip_tos_from(host, port), f"UDP {self.ua.address}",
                                       tuple(sip_raw), tuple(rtp_raw), self.dialled(call)))
        return samples

    def close(self) -> None:
        self.ua.close()


def _echoed(stats: RtpStats, audio_before: int, frames: int, digits: str) -> bool:
    """Everything :meth:`TrunkProbe.exercise` sent has come back: ``frames`` audio packets since
    ``audio_before``, and every digit of ``digits`` (the far ends echo what they receive)."""
    return stats.audio_packets - audio_before >= frames and (not digits or stats.digits.endswith(digits))


def _wait_until(done: Callable[[], bool], timeout_s: float) -> None:
    """Poll ``done`` every :data:`ECHO_POLL_S` until it is true or ``timeout_s`` has passed."""
    deadline = time.monotonic() + timeout_s
    while not done() and time.monotonic() < deadline:
        time.sleep(ECHO_POLL_S)
