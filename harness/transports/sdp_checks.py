"""Offer/answer checks (RFC 3264): what an SDP answer does that the RFCs forbid or that changes media, as findings.

Pure functions over :class:`~harness.transports.sdp.SessionDescription` (parsed by sdp-transform);
no I/O. :func:`check_answer` compares an answer with the offer it answers, m-line by m-line (RFC
3264 §6: matched by order); :func:`check_change` compares two answers the same dialog gave to the
same offer (a 183's and the 200's). Each :class:`SdpFinding` names the rule, the payload types or
directions at fault, and whether it breaks a MUST (``violation``) or is allowed but changes what
media does (``warning``):

* ``m-lines``: the answer has another number of m-lines than the offer (§6: exactly as many).
* ``no-offered-format``: an accepted stream whose answer lists none of the offer's formats (§6.1:
  at least one format of the offer). ``format-not-offered``: an answer format the offer lacks — a
  payload type number the offer never used (§6.1 allows extra formats, the offerer never sends
  them; warning) — or an offered codec under another number (§6.1: the same number SHOULD be used;
  warning).
* ``payload-type-remapped``: a payload type number the offer gave one codec or clock rate, given
  another in the answer (RFC 3264 §8.3.2: a payload type number keeps its codec for the whole
  session; violation). The caller decodes media on it as the answer says (see
  :meth:`~harness.transports.sdp.SdpSession.accept`).
* ``telephone-event-rate``: the answer's telephone-event has no entry at the clock rate of the audio
  codec chosen (RFC 4733 §2.1: events sent within an audio stream use that stream's timestamp
  clock; violation) — DTMF is then not negotiated.
* ``direction``: an answer direction the offer's does not allow (§6.1: ``sendonly`` → ``recvonly``
  or ``inactive``, ``recvonly`` → ``sendonly`` or ``inactive``, ``inactive`` → ``inactive``;
  violation), and a ``sendrecv`` offer (a resume) answered other than ``sendrecv`` (allowed; media
  stays one-way or off; warning).
* ``answer-changed``: a later answer to the same offer differs (RFC 3261 §13.2.1: the first one is
  the answer; warning naming what moved — address, port, formats, direction).
"""

from __future__ import annotations

from dataclasses import dataclass

from .sdp import TELEPHONE_EVENT, Codec, MediaDescription, SessionDescription

VIOLATION, WARNING = "violation", "warning"
ALLOWED_ANSWER = {  # RFC 3264 §6.1
    "sendonly": ("recvonly", "inactive"),
    "recvonly": ("sendonly", "inactive"),
    "inactive": ("inactive",),
    "sendrecv": ("sendrecv", "sendonly", "recvonly", "inactive"),
}


@dataclass(frozen=True)
class SdpFinding:
    """One thing an answer does wrong or changes.

    Attributes:
        kind: short name (``payload-type-remapped``, ``direction`` …, see the module docstring).
        severity: ``"violation"`` (breaks a MUST) or ``"warning"`` (allowed, changes media).
        rule: where it is written (``"RFC 3264 §6.1"``).
        text: one line naming the payload types, rates or directions at fault.
    """

    kind: str
    severity: str
    rule: str
    text: str

    def __str__(self) -> str:
        return f"{self.severity} {self.kind}: {self.text} ({self.rule})"


def _label(c: Codec) -> str:
    return f"{c.pt} {c.name}/{c.rate}"


def _same_codec(a: Codec, b: Codec) -> bool:
    return a.name.lower() == b.name.lower() and a.rate == b.rate


def check_answer(offer: SessionDescription, answer: SessionDescription) -> list[SdpFinding]:
    """Findings about ``answer`` as the answer to ``offer`` (empty: nothing to say)."""
    out: list[SdpFinding] = []
    if len(answer.media) != len(offer.media):
        out.append(SdpFinding("m-lines", VIOLATION, "RFC 3264 §6",
                              f"the answer has {len(answer.media)} m-lines, the offer {len(offer.media)}"))
    for i, (o, a) in enumerate(zip(offer.media, answer.media, strict=False)):
        if not a.port or not o.port:
            continue  # refused (or offered disabled): formats are ignored (§6)
        out += _formats(i, o, a)
        out += _direction(i, o, a)
    return out


def _formats(i: int, o: MediaDescription, a: MediaDescription) -> list[SdpFinding]:
    out: list[SdpFinding] = []
    offered = {c.pt: c for c in o.codecs}
    common = 0
    for c in a.codecs:
        was = offered.get(c.pt)
        if was is None:
            under = next((x for x in o.codecs if _same_codec(x, c)), None)
            text = (f"m-line {i}: {c.name}/{c.rate} is payload type {c.pt} in the answer, {under.pt} in the offer"
                    if under else f"m-line {i}: payload type {_label(c)} in the answer is not in the offer")
            out.append(SdpFinding("format-not-offered", WARNING, "RFC 3264 §6.1", text))
        elif not _same_codec(was, c):
            out.append(SdpFinding("payload-type-remapped", VIOLATION, "RFC 3264 §8.3.2",
                                  f"m-line {i}: payload type {c.pt} is {c.name}/{c.rate} in the answer but "
                                  f"{was.name}/{was.rate} in the offer; decoded as the answer maps it"))
        else:
            common += 1
    if not common:
        listed = " ".join(str(p) for p in a.payloads) or "none"
        out.append(SdpFinding("no-offered-format", VIOLATION, "RFC 3264 §6.1",
                              f"m-line {i}: the answer lists none of the offer's formats (payload types {listed})"))
    audio = next((c for c in a.codecs if c.name.lower() != TELEPHONE_EVENT), None)
    events = [c for c in a.codecs if c.name.lower() == TELEPHONE_EVENT]
    if audio is not None and events and not any(e.rate == audio.rate for e in events):
        rates = ", ".join(_label(e) for e in events)
        out.append(SdpFinding("telephone-event-rate", VIOLATION, "RFC 4733 §2.1",
                              f"m-line {i}: telephone-event only as {rates} with audio {_label(audio)}: "
                              f"DTMF not negotiated"))
    return out


def _direction(i: int, o: MediaDescription, a: MediaDescription) -> list[SdpFinding]:
    allowed = ALLOWED_ANSWER.get(o.direction, ALLOWED_ANSWER["sendrecv"])
    if a.direction not in allowed:
        return [SdpFinding("direction", VIOLATION, "RFC 3264 §6.1",
                           f"m-line {i}: a {o.direction} offer answered {a.direction} "
                           f"(allowed: {' or '.join(allowed)})")]
    if o.direction == "sendrecv" and a.direction != "sendrecv":
        return [SdpFinding("direction", WARNING, "RFC 3264 §6.1",
                           f"m-line {i}: a sendrecv offer answered {a.direction}: media does not flow both ways")]
    return []


def check_change(first: SessionDescription, later: SessionDescription, where: str) -> list[SdpFinding]:
    """Findings when ``later`` (another answer to the same offer, in ``where``, e.g. ``"183 → 200"``)
    differs from ``first``: one ``answer-changed`` warning naming what moved, or nothing."""
    moved: list[str] = []
    for i, (f, n) in enumerate(zip(first.media, later.media, strict=False)):
        if (f.connection, f.port) != (n.connection, n.port):
            moved.append(f"m-line {i} address {f.connection}:{f.port} → {n.connection}:{n.port}")
        if f.payloads != n.payloads:
            moved.append(f"m-line {i} payload types {' '.join(map(str, f.payloads))} → "
                         f"{' '.join(map(str, n.payloads))}")
        if f.direction != n.direction:
            moved.append(f"m-line {i} direction {f.direction} → {n.direction}")
    if len(first.media) != len(later.media):
        moved.append(f"{len(first.media)} → {len(later.media)} m-lines")
    if not moved:
        return []
    version = ("o= version unchanged" if later.version == first.version
               else f"o= version {first.version} → {later.version}")
    return [SdpFinding("answer-changed", WARNING, "RFC 3261 §13.2.1",
                       f"the answer changed within the dialog ({where}): {'; '.join(moved)}; {version}; "
                       f"media follows the new one")]
