"""SDP offer/answer (RFC 3264) for G.711 calls, parsed and written with sdp-transform.

The probe speaks PCMU (payload type 0) and PCMA (8), RFC 3551 table 4, plus RFC 4733
``telephone-event/8000`` on a dynamic payload type (101 unless told otherwise). Rules applied:

* An answer has as many m-lines as the offer (§6); a stream the probe cannot use (not audio, not
  ``RTP/AVP``, no common G.711) is refused with port 0. Only the first usable audio stream is taken.
* The answer lists the common codecs in the offerer's order, with the offerer's payload numbers
  (§6.1), and telephone-event at the chosen codec's clock rate (8 kHz for G.711, RFC 4733 §2.1) when
  offered; the first codec listed is the one both send.
* Direction (§6.1): an offered ``sendonly`` is answered ``recvonly``, ``recvonly`` → ``sendonly``,
  ``inactive`` → ``inactive``, ``sendrecv`` → the answerer's own (``sendrecv`` unless it holds).
* Hold (§8.4): ``sendonly`` (the RFC 3264 form), or ``c=IN IP4 0.0.0.0`` (the RFC 2543 form, still
  sent by carriers). Nobody sends to 0.0.0.0; a party that offers 0.0.0.0 stops sending too (project
  choice: that is what the legacy form means in practice, both directions stop).
* Each new offer from the same side increments ``o=`` session version (§8).

Each side sends with the payload numbers the *other* side's SDP gave (what that side receives), so
:class:`Negotiated` carries both: ``send_*`` from the peer's SDP, ``recv_*`` from ours.

An answer that maps to ``telephone-event/8000`` a payload type the offer gave another codec or clock
rate (RFC 3264 §8.3.2 forbids it) is decoded as it says: DTMF is received on that type. What an
answer does wrong is reported by :mod:`harness.transports.sdp_checks`.

Errors: :class:`SdpError` (a ``ValueError``) for a body that is no SDP, or an answer with nothing
usable (naming the RFC 3264 §6.1 violation when it lists none of the offer's formats, and saying
whether DTMF was negotiated).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

import sdp_transform

G711 = {"PCMU": 0, "PCMA": 8}  # static payload types, RFC 3551 table 4
TELEPHONE_EVENT = "telephone-event"
DEFAULT_TELEPHONE_EVENT_PT = 101
TELEPHONE_EVENT_FMTP = "0-16"  # DTMF 0-9 * # A-D and flash, RFC 4733 §3.2
PTIME_MS = 20
HOLD_ADDRESS = "0.0.0.0"
DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")
_ANSWER_DIRECTION = {"sendonly": "recvonly", "recvonly": "sendonly", "inactive": "inactive"}


class SdpError(ValueError):
    """SDP that is unreadable, or an offer/answer with nothing the probe can use."""


@dataclass(frozen=True)
class Codec:
    """One ``a=rtpmap`` (or static) payload: ``pt`` number, encoding ``name``, clock ``rate`` in Hz."""

    pt: int
    name: str
    rate: int = 8000


@dataclass(frozen=True)
class MediaDescription:
    """One m-line.

    Attributes:
        type: ``audio``, ``video`` …; port: 0 means refused; protocol: ``RTP/AVP`` …
        payloads: payload numbers in preference order; codecs: their rtpmap (static types filled in).
        direction: ``sendrecv`` (default), ``sendonly``, ``recvonly`` or ``inactive``.
        connection: the address media goes to (media-level c=, else session-level).
        ptime_ms: packetisation time asked, ``None`` when absent.
    """

    type: str
    port: int
    protocol: str
    payloads: tuple[int, ...]
    codecs: tuple[Codec, ...]
    direction: str
    connection: str
    ptime_ms: int | None

    @property
    def g711(self) -> list[Codec]:
        """PCMU/PCMA payloads at 8 kHz, in preference order."""
        return [c for c in self.codecs if c.name.upper() in G711 and c.rate == 8000]

    @property
    def telephone_events(self) -> list[Codec]:
        """Every telephone-event payload (any clock rate)."""
        return [c for c in self.codecs if c.name.lower() == TELEPHONE_EVENT]

    def telephone_event_pt(self, rate: int = 8000) -> int | None:
        """Payload number of telephone-event at ``rate`` Hz, ``None`` when not offered."""
        return next((c.pt for c in self.telephone_events if c.rate == rate), None)

    @property
    def held(self) -> bool:
        """The sender of this description puts the other side on hold (0.0.0.0, sendonly, inactive)."""
        return self.connection == HOLD_ADDRESS or self.direction in ("sendonly", "inactive")


@dataclass(frozen=True)
class SessionDescription:
    """A parsed SDP body (:func:`parse_sdp`): origin, session connection and the m-lines."""

    session_id: int
    version: int
    origin_address: str
    connection: str
    media: tuple[MediaDescription, ...]
    raw: str

    @property
    def audio(self) -> MediaDescription | None:
        """The first audio stream with a non-zero port, ``None`` when there is none."""
        return next((m for m in self.media if m.type == "audio" and m.port), None)


@dataclass(frozen=True)
class Negotiated:
    """Result of one offer/answer exchange, from this side's point of view.

    Attributes:
        codec: the codec this side sends (payload number from the peer's SDP), ``None`` if none.
        send_telephone_event_pt: payload number for the DTMF this side sends (the peer's), or ``None``.
        recv_codec_pts / recv_telephone_event_pt: what this side should receive (its own SDP).
        remote_host, remote_port: where this side sends RTP.
        send, recv: whether media flows out / is expected in.
        local_direction, remote_direction: the ``a=`` directions of the two descriptions.
    """

    codec: Codec | None
    send_telephone_event_pt: int | None
    recv_codec_pts: tuple[int, ...]
    recv_telephone_event_pt: int | None
    remote_host: str
    remote_port: int
    send: bool
    recv: bool
    local_direction: str
    remote_direction: str


def parse_sdp(body: bytes | str) -> SessionDescription:
    """Parse an SDP body. Raises :class:`SdpError` when it is not SDP (no ``v=``/``m=`` structure)."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    if not text.lstrip().startswith("v="):
        raise SdpError("SDP does not start with v=")
    try:
        d = sdp_transform.parse(text)
    except Exception as e:  # sdp-transform raises bare errors on junk
        raise SdpError(f"unreadable SDP: {e}") from None
    origin = d.get("origin") or {}
    session_conn = (d.get("connection") or {}).get("ip", "")
    media = tuple(_media(m, session_conn) for m in d.get("media", []))
    try:
        sid, ver = int(origin.get("sessionId", 0)), int(origin.get("sessionVersion", 0))
    except (TypeError, ValueError):
        sid, ver = 0, 0
    return SessionDescription(sid, ver, str(origin.get("address", "")), session_conn, media, text)


def _media(m: dict[str, Any], session_conn: str) -> MediaDescription:
    payloads = tuple(int(t) for t in str(m.get("payloads", "")).split() if t.isdigit())
    maps = {int(r["payload"]): Codec(int(r["payload"]), str(r["codec"]), int(r.get("rate") or 8000))
            for r in m.get("rtp", [])}
    static = {pt: name for name, pt in G711.items()}
    codecs = tuple(maps.get(pt) or Codec(pt, static.get(pt, f"pt{pt}")) for pt in payloads)
    conn = (m.get("connection") or {}).get("ip") or session_conn
    ptime = m.get("ptime")
    return MediaDescription(str(m.get("type", "")), int(m.get("port") or 0), str(m.get("protocol", "")),
                            payloads, codecs, str(m.get("direction") or "sendrecv"), str(conn),
                            int(ptime) if ptime else None)


@dataclass
class SdpSession:
    """This side's SDP across the offers and answers of one call.

    Args:
        host: address for ``o=`` and ``c=`` (where this side receives RTP).
        rtp_port: the local RTP port.
        codecs: G.711 codec names offered, in preference order.
        telephone_event_pt: payload number offered for telephone-event; ``None`` offers none.
    """

    host: str
    rtp_port: int
    codecs: tuple[str, ...] = ("PCMU", "PCMA")
    telephone_event_pt: int | None = DEFAULT_TELEPHONE_EVENT_PT
    session_id: int = field(default_factory=lambda: secrets.randbelow(2**31))
    version: int = 0
    last_sent: bytes = b""

    def _write(self, media: list[dict[str, Any]], connection: str) -> bytes:
        self.version += 1
        sdp = {
            "version": 0,
            "origin": {"username": "-", "sessionId": self.session_id, "sessionVersion": self.version,
                       "netType": "IN", "ipVer": 4, "address": self.host},
            "name": "hil", "connection": {"version": 4, "ip": connection},
            "timing": {"start": 0, "stop": 0}, "media": media,
        }
        self.last_sent = str(sdp_transform.write(sdp)).encode()
        return self.last_sent

    def _audio(self, chosen: list[Codec], direction: str | None, port: int | None = None) -> dict[str, Any]:
        m: dict[str, Any] = {
            "type": "audio", "port": self.rtp_port if port is None else port, "protocol": "RTP/AVP",
            "payloads": " ".join(str(c.pt) for c in chosen),
            "rtp": [{"payload": c.pt, "codec": c.name, "rate": c.rate} for c in chosen],
            "fmtp": [{"payload": c.pt, "config": TELEPHONE_EVENT_FMTP} for c in chosen if c.name == TELEPHONE_EVENT],
            "ptime": PTIME_MS,
        }
        if direction:
            m["direction"] = direction
        return m

    def offer(self, direction: str = "sendrecv", hold_zero: bool = False) -> bytes:
        """An offer (initial, or a re-INVITE's); ``hold_zero`` writes ``c=IN IP4 0.0.0.0``."""
        if direction not in DIRECTIONS:
            raise ValueError(f"direction {direction!r} is not one of {DIRECTIONS}")
        chosen = [Codec(G711[c.upper()], c.upper()) for c in self.codecs]
        if self.telephone_event_pt is not None:
            chosen.append(Codec(self.telephone_event_pt, TELEPHONE_EVENT))
        return self._write([self._audio(chosen, direction)], HOLD_ADDRESS if hold_zero else self.host)

    def answer(self, offer: SessionDescription, hold: str | None = None) -> tuple[bytes, Negotiated] | None:
        """The answer to ``offer``, or ``None`` when no stream is usable (send 488).

        ``hold`` is this side's own hold (``"sendonly"``) while it answers an offer, else ``None``.
        """
        media: list[dict[str, Any]] = []
        negotiated: Negotiated | None = None
        for m in offer.media:
            usable = (negotiated is None and m.type == "audio" and m.port and m.protocol == "RTP/AVP"
                      and any(c.name.upper() in {n.upper() for n in self.codecs} for c in m.g711))
            if not usable:
                media.append({"type": m.type or "audio", "port": 0, "protocol": m.protocol or "RTP/AVP",
                              "payloads": " ".join(str(p) for p in m.payloads) or "0"})
                continue
            ours = {n.upper() for n in self.codecs}
            chosen = [Codec(c.pt, c.name.upper()) for c in m.g711 if c.name.upper() in ours]
            te = m.telephone_event_pt(chosen[0].rate)  # at the audio codec's clock rate (RFC 4733 §2.1)
            if te is not None and self.telephone_event_pt is not None:
                chosen.append(Codec(te, TELEPHONE_EVENT))
            direction = _ANSWER_DIRECTION.get(m.direction, hold or "sendrecv")
            if hold == "sendonly" and direction == "sendrecv":
                direction = "sendonly"
            media.append(self._audio(chosen, direction))
            held_by_peer = m.connection == HOLD_ADDRESS
            negotiated = Negotiated(
                codec=chosen[0], send_telephone_event_pt=te if self.telephone_event_pt is not None else None,
                recv_codec_pts=tuple(c.pt for c in chosen if c.name != TELEPHONE_EVENT),
                recv_telephone_event_pt=te if self.telephone_event_pt is not None else None,
                remote_host=m.connection, remote_port=m.port,
                send=direction in ("sendrecv", "sendonly") and not held_by_peer,
                recv=direction in ("sendrecv", "recvonly") and not held_by_peer,
                local_direction=direction, remote_direction=m.direction)
        if negotiated is None:
            return None
        return self._write(media, self.host), negotiated

    def accept(self, answer: SessionDescription) -> Negotiated:
        """Read the answer to this side's last offer (:meth:`offer`).

        Raises:
            SdpError: the answer has no usable audio stream or no G.711 codec this side offered.
        """
        mine = parse_sdp(self.last_sent).audio if self.last_sent else None
        m = answer.audio
        if m is None or mine is None:
            raise SdpError("the answer refused the audio stream (no m=audio with a port)")
        offered = {c.name.upper() for c in mine.g711}
        codec = next((c for c in m.g711 if c.name.upper() in offered), None)
        rate = codec.rate if codec is not None else 8000
        te = m.telephone_event_pt(rate)  # at the audio codec's clock rate (RFC 4733 §2.1)
        ours_te = mine.telephone_event_pt(rate)
        if codec is None:
            listed = " ".join(map(str, m.payloads)) or "none"
            if not set(m.payloads) & set(mine.payloads):
                why = f"the answer lists none of the offer's formats (RFC 3264 §6.1; payload types {listed})"
            else:
                why = f"the answer has no offered G.711 codec (payload types {listed})"
            dtmf = f"DTMF would be on payload type {te}" if te is not None else "no DTMF negotiated"
            raise SdpError(f"{why}; {dtmf}")
        # a payload type the offer gave another codec or rate that the answer maps to telephone-event/8000
        # (RFC 3264 §8.3.2 forbids it): the answerer sends DTMF on it, so it is decoded as DTMF here
        remapped = te is not None and te != ours_te and any(c.pt == te for c in mine.codecs)
        recv_te = te if remapped else (ours_te if te is not None else None)
        zero = mine.connection == HOLD_ADDRESS
        return Negotiated(
            codec=Codec(codec.pt, codec.name.upper()), send_telephone_event_pt=te if ours_te is not None else None,
            recv_codec_pts=tuple(c.pt for c in mine.g711), recv_telephone_event_pt=recv_te,
            remote_host=m.connection, remote_port=m.port,
            send=(not zero and mine.direction in ("sendrecv", "sendonly") and m.direction in ("sendrecv", "recvonly")
                  and m.connection != HOLD_ADDRESS),
            recv=(not zero and mine.direction in ("sendrecv", "recvonly") and m.direction in ("sendrecv", "sendonly")),
            local_direction=mine.direction, remote_direction=m.direction)
