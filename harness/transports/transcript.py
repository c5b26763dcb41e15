"""Per-session transcripts with secrets masked.

Every transport session owns one :class:`Transcript`; entries are ``(time, direction, text)``
where direction is ``">"`` (sent), ``"<"`` (received) or ``"!"`` (event/error). Text is masked
through :data:`harness.inventory.secrets.MASK` when it is recorded, so a transcript never holds a
resolved secret.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from ..inventory.secrets import MASK

MAX_ENTRIES = 5000  # project choice: bounded memory per session over a long nightly run


@dataclass
class Transcript:
    """What one session sent and received. ``name`` is ``"<device> <transport> <address>"``."""

    name: str
    entries: list[tuple[float, str, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    dropped: int = 0

    def record(self, direction: str, text: str) -> None:
        with self._lock:
            self.entries.append((time.time(), direction, MASK(text)))
            if len(self.entries) > MAX_ENTRIES:
                del self.entries[0]
                self.dropped += 1

    def sent(self, text: str) -> None:
        self.record(">", text)

    def received(self, text: str) -> None:
        self.record("<", text)

    def event(self, text: str) -> None:
        self.record("!", text)

    def mark(self) -> int:
        """Position to pass to :meth:`render` to get only what came after."""
        with self._lock:
            return len(self.entries) + self.dropped

    def render(self, since: int = 0, until: int | None = None) -> str:
        """Text form, one block per entry, times as ``HH:MM:SS.mmm``: the entries after mark ``since``
        and up to mark ``until`` (default: all that follow)."""
        with self._lock:
            start = max(0, since - self.dropped)
            end = None if until is None else max(start, until - self.dropped)
            rows = self.entries[start:end]
        out = [f"# {self.name}"]
        for t, d, text in rows:
            stamp = time.strftime("%H:%M:%S", time.localtime(t)) + f".{int(t * 1000) % 1000:03d}"
            out.append(f"{stamp} {d} {text.rstrip()}")
        return MASK("\n".join(out)) + "\n"


@dataclass(frozen=True)
class TranscriptSlice:
    """The entries of transcript ``name`` between two of its marks: after ``start``, up to ``end``
    (what one read consumed, kept to be rendered later with :meth:`TranscriptBook.render`)."""

    name: str
    start: int
    end: int


class TranscriptBook:
    """All transcripts of a run, so the plugin can attach the ones a failing test touched."""

    def __init__(self) -> None:
        self._all: dict[str, Transcript] = {}
        self._lock = threading.Lock()

    def open(self, name: str) -> Transcript:
        with self._lock:
            t = self._all.get(name)
            if t is None:
                t = self._all[name] = Transcript(name)
            return t

    def marks(self) -> dict[str, int]:
        with self._lock:
            return {n: t.mark() for n, t in self._all.items()}

    def grown(self, marks: dict[str, int]) -> list[str]:
        """Names of the transcripts that grew after ``marks`` (from :meth:`marks`), in opening order."""
        with self._lock:
            items = list(self._all.items())
        return [n for n, t in items if t.mark() > marks.get(n, 0)]

    def since(self, marks: dict[str, int]) -> dict[str, str]:
        """Transcripts that grew after ``marks`` (from :meth:`marks`), rendered from there."""
        with self._lock:
            items = list(self._all.items())
        out = {}
        for n, t in items:
            m = marks.get(n, 0)
            if t.mark() > m:
                out[n] = t.render(m)
        return out

    def render(self, part: TranscriptSlice) -> str:
        """The text of ``part`` (``""`` for a transcript this book does not hold)."""
        with self._lock:
            t = self._all.get(part.name)
        return t.render(part.start, part.end) if t is not None else ""


BOOK = TranscriptBook()
