"""SDP offer/answer for the twin's PSTN simulator (RFC 3264), parsed and written with sdp-transform.

The simulator speaks G.711 only: PCMU (payload type 0), PCMA (8) and RFC 4733 telephone-event
(101 when it makes the offer, the offerer's number when it answers). The answer keeps the offerer's
order and payload numbers and rejects every other media stream with port 0 (RFC 3264 §6).
"""

from __future__ import annotations

from typing import Any

import sdp_transform

AUDIO_CODECS = {"PCMU": 0, "PCMA": 8}  # static payload types, RFC 3551 table 4
TELEPHONE_EVENT_PT = 101  # common choice of carriers and SIPp's pcaps
TELEPHONE_EVENT_FMTP = "0-16"  # DTMF 0-9, *, #, A-D, flash (RFC 4733 §3.2)
PTIME_MS = 20


def _rtp(pt: int, codec: str) -> dict[str, Any]:
    return {"payload": pt, "codec": codec, "rate": 8000}


def _audio(port: int, chosen: list[tuple[int, str]]) -> dict[str, Any]:
    return {
        "type": "audio", "port": port, "protocol": "RTP/AVP",
        "payloads": " ".join(str(pt) for pt, _ in chosen),
        "rtp": [_rtp(pt, c) for pt, c in chosen],
        "fmtp": [{"payload": pt, "config": TELEPHONE_EVENT_FMTP}
                 for pt, c in chosen if c == "telephone-event"],
        "ptime": PTIME_MS, "direction": "sendrecv",
    }


def _session(host: str, session_id: int, media: list[dict[str, Any]]) -> bytes:
    sdp = {
        "version": 0,
        "origin": {"username": "-", "sessionId": session_id, "sessionVersion": session_id,
                   "netType": "IN", "ipVer": 4, "address": host},
        "name": "hil-twin", "connection": {"version": 4, "ip": host},
        "timing": {"start": 0, "stop": 0}, "media": media,
    }
    return str(sdp_transform.write(sdp)).encode()


def offer(host: str, rtp_port: int, session_id: int) -> bytes:
    """Our own offer (for an INVITE without SDP): PCMU, PCMA, telephone-event/101."""
    chosen = [(0, "PCMU"), (8, "PCMA"), (TELEPHONE_EVENT_PT, "telephone-event")]
    return _session(host, session_id, [_audio(rtp_port, chosen)])


def answer(offer_sdp: bytes, host: str, rtp_port: int, session_id: int) -> bytes | None:
    """The answer to ``offer_sdp``, our offer when it is empty, ``None`` when no G.711 is common."""
    if not offer_sdp.strip():
        return offer(host, rtp_port, session_id)
    try:
        parsed = sdp_transform.parse(offer_sdp.decode("utf-8"))
    except Exception:  # the parser raises bare errors on junk; junk has no common codec
        return None
    media: list[dict[str, Any]] = []
    answered = False
    for m in parsed.get("media", []):
        chosen = [] if answered else _common(m)
        if any(c in AUDIO_CODECS for _, c in chosen):
            media.append(_audio(rtp_port, chosen))
            answered = True
        else:
            media.append({"type": m.get("type", "audio"), "port": 0, "protocol": m.get("protocol", "RTP/AVP"),
                          "payloads": str(m.get("payloads", "0"))})
    return _session(host, session_id, media) if answered else None


def _common(m: dict[str, Any]) -> list[tuple[int, str]]:
    """Payload types of media line ``m`` the simulator speaks, in the offerer's order."""
    if m.get("type") != "audio" or not m.get("port") or m.get("protocol") != "RTP/AVP":
        return []
    names = {int(r["payload"]): str(r["codec"]) for r in m.get("rtp", [])}
    static = {pt: c for c, pt in AUDIO_CODECS.items()}
    out = []
    for tok in str(m.get("payloads", "")).split():
        if not tok.isdigit():
            continue
        pt = int(tok)
        name = names.get(pt) or static.get(pt, "")
        if name.upper() in AUDIO_CODECS:
            out.append((pt, name.upper()))
        elif name.lower() == "telephone-event":
            out.append((pt, "telephone-event"))
    return out
