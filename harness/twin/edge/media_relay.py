"""The twin Edge's media relay: one UDP socket per call leg on the Edge's host, RTP forwarded both ways.

The Edge anchors media (Genesys Edge media range 16384-32767): each call gets a
:class:`MediaRelay` with two :class:`RelayLeg` sockets, one toward each party. A packet that comes
in on one leg's socket goes out of the other leg's socket to that party's RTP address, learned from
the SDP that party sent (:meth:`MediaRelay.learn`); until a party's SDP is known, the source of its
first packet is used (symmetric RTP, RFC 4961). A party on hold with ``c=0.0.0.0`` gets nothing.

Faults read per packet from the Edge's state (declared in :mod:`.faults`):

* ``no-early-media``: nothing is forwarded before the call is answered (:attr:`MediaRelay.answered`).
* ``one-way-audio``: packets from the phone leg toward the trunk leg are dropped.
* ``no-telephone-event``: RFC 4733 packets (the sender's negotiated telephone-event payload type)
  are dropped.
* ``dtmf-pt=N``: RFC 4733 packets are forwarded with payload type N (marker bit kept).
* ``media-transcode``: G.711 audio (payload types 0 and 8) goes through the other law and back,
  as on an Edge that transcodes between a µ-law and an A-law leg: speech still sounds right, but
  the bytes change, and fax (G.711 pass-through) fails.

Marking: every packet leaves a relay socket with the ToS byte of the Edge's media DSCP
(``EdgeState.media_dscp``, EF 46: the trunk and phone base settings' default, G-DSCP), as a real
Edge marks its own egress whatever the sender marked; the ``no-dscp`` / ``wrong-dscp`` faults
(:mod:`harness.twin.core.shared_faults`) change it per packet.

The carrier leg crosses the site's WAN: with the twin's ``wan`` unit running, every packet between
the trunk leg and a phone leg goes through its link (:mod:`harness.twin.core.uplink`, served by
:mod:`harness.twin.wan.link`: loss, delay, jitter, shaping as its faults say) instead of out at once.

Counters go to :class:`~harness.twin.edge.state.EdgeState` (``media_relays``, ``media_packets_relayed``,
``media_packets_dropped``).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from dataclasses import dataclass, field

from ...transports.rtp import decode_g711, encode_g711
from ...transports.sdp import HOLD_ADDRESS, SdpError, parse_sdp
from ...transports.udp_tos import TosUdpEndpoint, open_udp_tos
from ..core.shared_faults import marked_tos
from ..core.uplink import active as active_wan
from .faults import DTMF_PT, MEDIA_TRANSCODE, NO_EARLY_MEDIA, NO_TELEPHONE_EVENT, ONE_WAY_AUDIO
from .state import EdgeState

MEDIA_PORT_MIN, MEDIA_PORT_MAX = 16384, 32767  # Genesys Edge media port range
BIND_ATTEMPTS = 64  # project choice: ports tried before a relay gives up
_next_port = itertools.cycle(range(MEDIA_PORT_MIN, MEDIA_PORT_MAX, 2))


def _through_other_law(data: bytes, pt: int) -> bytes:
    """The RTP packet ``data`` (G.711, ``pt`` 0 or 8) with its payload taken through the other law and back."""
    start = 12 + 4 * (data[0] & 0x0F)  # fixed header and CSRCs
    if data[0] & 0x10 and len(data) >= start + 4:  # header extension (RFC 3550 5.3.1)
        start += 4 + 4 * int.from_bytes(data[start + 2:start + 4], "big")
    end = len(data) - (data[-1] if data[0] & 0x20 and data[-1] else 0)  # padding
    law, other = ("PCMU", "PCMA") if pt == 0 else ("PCMA", "PCMU")
    there = encode_g711(other, decode_g711(law, data[start:end]))
    return data[:start] + encode_g711(law, decode_g711(other, there)) + data[end:]


@dataclass
class LegStats:
    """Packets that came in on a leg's socket: forwarded to the other leg, or dropped."""

    received: int = 0
    forwarded: int = 0
    dropped: int = 0


@dataclass
class RelayLeg(asyncio.DatagramProtocol):
    """One socket of a relay. ``kind`` is ``trunk`` or ``phones`` (the side the party is on)."""

    relay: MediaRelay
    kind: str
    port: int = 0
    dest: tuple[str, int] | None = None  # where this leg's party receives RTP
    held: bool = False  # its SDP said c=0.0.0.0
    from_sdp: bool = False
    te_pt: int | None = None  # telephone-event payload type this party's SDP gave
    stats: LegStats = field(default_factory=LegStats)
    transport: TosUdpEndpoint | None = None

    def connection_made(self, transport: TosUdpEndpoint) -> None:  # type: ignore[override]
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.relay._forward(self, data, addr)

    def error_received(self, exc: Exception) -> None:
        pass  # ICMP port unreachable after sending to a party that went away

    def send(self, data: bytes) -> bool:
        if self.transport is None or self.dest is None or self.held:
            return False
        self.transport.sendto(data, self.dest)
        return True


class MediaRelay:
    """The two relay sockets of one call. ``a`` faces the caller, ``b`` the callee."""

    def __init__(self, host: str, st: EdgeState, a_kind: str, b_kind: str) -> None:
        self.host, self.st = host, st
        self.a = RelayLeg(self, a_kind)
        self.b = RelayLeg(self, b_kind)
        self.answered = False
        self.closed = False

    async def open(self) -> None:
        """Bind both sockets in the media range. Raises OSError when no port could be bound."""
        try:
            for leg in (self.a, self.b):
                await self._bind(leg)
        except OSError:
            await self.close()
            raise
        self.st.media_relays += 1

    async def _bind(self, leg: RelayLeg) -> None:
        error: OSError | None = None
        for _ in range(BIND_ATTEMPTS):
            port = next(_next_port)
            try:
                transport = await open_udp_tos(leg, self.host, port, mark=self._mark)
            except OSError as e:
                error = e
                continue
            leg.transport, leg.port = transport, port
            return
        raise error or OSError("no free media port")

    def _mark(self) -> int:
        return marked_tos(self.st, self.st.media_dscp)

    def learn(self, leg: RelayLeg, body: bytes) -> None:
        """Take the RTP address and telephone-event type from the SDP ``leg``'s party sent."""
        try:
            m = parse_sdp(body).audio
        except SdpError:
            return
        if m is None:
            return
        leg.held = m.connection == HOLD_ADDRESS
        leg.dest = None if leg.held else (m.connection, m.port)
        leg.from_sdp = True
        leg.te_pt = m.telephone_event_pt(8000)

    def other(self, leg: RelayLeg) -> RelayLeg:
        return self.b if leg is self.a else self.a

    def _forward(self, src: RelayLeg, data: bytes, addr: tuple[str, int]) -> None:
        src.stats.received += 1
        if src.dest is None and not src.from_sdp:
            src.dest = addr  # symmetric RTP until the party's SDP is known
        dst = self.other(src)
        st = self.st
        drop = (NO_EARLY_MEDIA.on(st) and not self.answered) or (
            ONE_WAY_AUDIO.on(st) and src.kind == "phones" and dst.kind == "trunk")
        if not drop and len(data) >= 12 and data[0] >> 6 == 2:
            pt = data[1] & 0x7F
            if pt in (src.te_pt, dst.te_pt) and pt is not None:
                if NO_TELEPHONE_EVENT.on(st):
                    drop = True
                elif (v := DTMF_PT.value(st)) is not None:
                    data = data[:1] + bytes([(data[1] & 0x80) | (v & 0x7F)]) + data[2:]
            elif pt in (0, 8) and MEDIA_TRANSCODE.on(st):
                data = _through_other_law(data, pt)
        link = active_wan() if "trunk" in (src.kind, dst.kind) and src.kind != dst.kind else None
        if not drop and link is not None and dst.dest is not None and not dst.held:
            link.carry("out" if dst.kind == "trunk" else "in", data, dst.send)  # the WAN decides if and when
            src.stats.forwarded += 1
            self.st.media_packets_relayed += 1
        elif not drop and dst.send(data):
            src.stats.forwarded += 1
            self.st.media_packets_relayed += 1
        else:
            src.stats.dropped += 1
            self.st.media_packets_dropped += 1

    async def close(self) -> None:
        if self.closed:
            return
        was_open = self.a.transport is not None and self.b.transport is not None
        self.closed = True
        for leg in (self.a, self.b):
            if leg.transport is not None:
                with contextlib.suppress(Exception):
                    leg.transport.close()
                leg.transport = None
        if was_open:
            self.st.media_relays = max(0, self.st.media_relays - 1)
