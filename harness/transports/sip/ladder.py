"""The ladder of a call: who sent what, when, as rows and as text (attached to Allure by scenarios).

A :class:`Ladder` row holds the time since the call's first message, the direction (``>`` sent by
the probe, ``<`` received), the peer, the message's first line and a few headers that tell the
story of a call (tags, CSeq, Contact, routing, reasons) plus a one-line SDP summary.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from sipmessage import Request, Response

from .message import encode, first_line

LADDER_HEADERS = ("From", "To", "CSeq", "Contact", "Record-Route", "Route", "Reason", "Warning",
                  "P-Asserted-Identity", "Max-Forwards")
MAX_ROWS = 500  # project choice: a call with more messages than this is itself the finding


@dataclass(frozen=True)
class LadderEntry:
    """One message of a call.

    Attributes:
        t_s: seconds since the ladder's first row (monotonic clock).
        wall: epoch seconds (for the transcript's clock).
        direction: ``">"`` sent, ``"<"`` received.
        peer: ``"UDP 127.0.4.1:5060"``.
        first_line: request or status line.
        headers: the :data:`LADDER_HEADERS` present, as ``(name, value)``, plus ``("SDP", summary)``.
        retransmission: the same message sent or received again.
    """

    t_s: float
    wall: float
    direction: str
    peer: str
    first_line: str
    headers: tuple[tuple[str, str], ...]
    retransmission: bool = False


def sdp_summary(body: bytes) -> str:
    """``c=… m=… a=<direction>`` of an SDP body, one line."""
    keep = []
    for line in body.decode("utf-8", "replace").splitlines():
        if line.startswith(("c=", "m=")) or line in ("a=sendrecv", "a=sendonly", "a=recvonly", "a=inactive"):
            keep.append(line.strip())
    return " | ".join(keep)


class Ladder:
    """The rows of one call (thread-safe: rows are added in the stack's loop, read anywhere)."""

    def __init__(self, call_id: str, local: str) -> None:
        self.call_id = call_id
        self.local = local
        self.rows: list[LadderEntry] = []
        self.raw: list[tuple[float, str, str, bytes]] = []  # (epoch, direction, peer, message bytes) for pcaps
        self._t0: float | None = None
        self._lock = threading.Lock()

    def add(self, direction: str, msg: Request | Response, peer: str, retransmission: bool = False,
            at: tuple[float, float] | None = None) -> None:
        """Add a row; ``at`` is ``(monotonic, epoch)`` when the message was seen earlier than now."""
        now, wall = at or (time.monotonic(), time.time())
        headers = [(h, v) for h in LADDER_HEADERS for v in msg.headers.getlist(h)]
        ctype = msg.headers.get("Content-Type") or ""
        if msg.body and "sdp" in ctype.lower():
            headers.append(("SDP", sdp_summary(msg.body)))
        with self._lock:
            if self._t0 is None:
                self._t0 = now
            if len(self.rows) < MAX_ROWS:
                self.rows.append(LadderEntry(now - self._t0, wall, direction, peer, first_line(msg),
                                             tuple(headers), retransmission))
                self.raw.append((wall, direction, peer, encode(msg)))

    def entries(self) -> list[LadderEntry]:
        with self._lock:
            return list(self.rows)

    def first_lines(self, direction: str | None = None) -> list[str]:
        """First lines in order (only ``direction``'s when given), retransmissions left out."""
        return [e.first_line for e in self.entries()
                if not e.retransmission and (direction is None or e.direction == direction)]

    def render(self) -> str:
        """Text form: one line per message, its headers indented below."""
        out = [f"# call {self.call_id} at {self.local}"]
        for e in self.entries():
            arrow = "-->" if e.direction == ">" else "<--"
            again = " (retransmission)" if e.retransmission else ""
            out.append(f"{e.t_s:8.3f} s {arrow} {e.peer:<24} {e.first_line}{again}")
            if not e.retransmission:
                out.extend(f"{'':14}{name}: {value}" for name, value in e.headers)
        return "\n".join(out) + "\n"
