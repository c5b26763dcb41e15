"""What a user agent server checks in a request before acting on it (RFC 3261 §8.2.2, §8.2.3), no I/O.

:func:`refusal` gives the response a request must get instead of being processed, or ``None``. It
is used by every user agent of the project: the probe's :class:`~harness.transports.sip.ua.UserAgentCore`
(and so the twin's phones and carrier, which are made of it) and the twin Edge's B2BUA. The checks,
in the RFC's order (method inspection, §8.2.1, comes before and stays with the caller: 405/501;
the Request-URI scheme, §8.2.2.1, is checked by the parser: 416):

* **Require** (§8.2.2.3): an option tag the UA does not support → ``420 Bad Extension`` with an
  ``Unsupported`` header listing those tags. Not on ACK or CANCEL (§20.32: ignored there).
* **Content-Type / Content-Encoding** (§8.2.3): a body of a type the UA does not read (only
  ``application/sdp``) → ``415 Unsupported Media Type`` with ``Accept``; an encoding other than
  ``identity`` → 415 with ``Accept-Encoding``. ``Content-Disposition`` of ``handling=optional``
  bodies is not looked at (project choice: no UA here ever receives one).
* **Accept** (§8.2.3, §21.4.7): an INVITE whose answer would carry SDP (an offer in it, or none, so
  the offer goes into the 2xx) but whose ``Accept`` lists no type SDP matches → ``406 Not
  Acceptable`` (RFC 4475 §3.3.15 names this answer). An empty ``Accept`` means "no body" (§20.1).

Each refusal carries a ``Warning: 399`` naming what was refused (§20.43).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sipmessage import Request

SDP = "application/sdp"
ACCEPTED_TYPES = (SDP,)  # project choice: the only body type the project's user agents read
NO_REQUIRE_CHECK = ("ACK", "CANCEL")  # RFC 3261 §20.32


@dataclass(frozen=True)
class Refusal:
    """A response a request gets instead of being processed: status code, extra headers, reason."""

    code: int
    extra: tuple[tuple[str, str], ...]
    reason: str


def _tokens(values: Iterable[str]) -> list[str]:
    return [t.strip() for v in values for t in v.split(",") if t.strip()]


def _media_type(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


def accepts_sdp(accept: list[str]) -> bool:
    """``Accept`` values (as on the wire) allow an ``application/sdp`` body (wildcards count)."""
    types = [_media_type(v) for v in _tokens(accept)]
    return any(t in (SDP, "application/*", "*/*") for t in types)


def refusal(req: Request, *, supported: Iterable[str] = (), device: str = "hil",
            accepted_types: Iterable[str] = ACCEPTED_TYPES) -> Refusal | None:
    """The refusal ``req`` gets under RFC 3261 §8.2.2.3 and §8.2.3, ``None`` when it may go on.

    ``supported``: the option tags the UA implements (``Supported``), compared case-insensitively;
    ``device`` names the UA in the Warning header; ``accepted_types``: body types it reads.
    """
    h = req.headers
    if req.method not in NO_REQUIRE_CHECK:
        known = {t.lower() for t in supported}
        unknown = [t for t in _tokens(h.getlist("Require")) if t.lower() not in known]
        if unknown:
            tags = ", ".join(unknown)
            return Refusal(420, (("Unsupported", tags), _warning(device, f"Require {tags} not supported")),
                           f"Require: {tags} not supported (RFC 3261 §8.2.2.3)")
    if req.body:
        types = tuple(t.lower() for t in accepted_types)
        ctype = _media_type(h.get("Content-Type") or "")
        if ctype not in types:
            shown = ctype or "(none)"
            return Refusal(415, (("Accept", ", ".join(types)), _warning(device, f"Content-Type {shown} not read")),
                           f"Content-Type {shown} not supported (RFC 3261 §8.2.3)")
        encodings = [e.lower() for e in _tokens(h.getlist("Content-Encoding"))]
        if any(e != "identity" for e in encodings):
            shown = ", ".join(encodings)
            return Refusal(415, (("Accept-Encoding", "identity"),
                                 _warning(device, f"Content-Encoding {shown} not read")),
                           f"Content-Encoding {shown} not supported (RFC 3261 §8.2.3)")
    if req.method == "INVITE" and h.get("Accept") is not None and not accepts_sdp(h.getlist("Accept")):
        shown = ", ".join(_tokens(h.getlist("Accept"))) or "(empty)"
        return Refusal(406, (("Accept", SDP), _warning(device, f"Accept {shown} excludes {SDP}")),
                       f"Accept: {shown} excludes {SDP}, the answer's body (RFC 3261 §8.2.3, §21.4.7)")
    return None


def _warning(device: str, text: str) -> tuple[str, str]:
    text = text.replace('"', "'").replace("\r", " ").replace("\n", " ")[:100]
    return "Warning", f'399 {device} "{text}"'
