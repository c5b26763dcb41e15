"""Evidence of shared reads: a read made once for many tests keeps the transcript slices it consumed,
and every test that judged it carries them when it FAILS or is BROKEN.

A fixture that reads a device once per run and hands the result to many tests (the switch audit,
``fixtures/switch_ports.py``) builds a :class:`SharedRead` naming the slices of the transcripts
that produced the result (or the error), and calls ``USED.use(read)`` each time it hands that result
to a test. The plugin empties :data:`USED` before each test and attaches, to a test that failed or
broke, :func:`judged_transcripts`: what the test's own sessions wrote, plus each slice of each shared
read it used that it did not write itself. :func:`touched_devices` names the devices behind the same
transcripts: the devices a test relied on through its sessions and shared reads.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

from ..transports.transcript import BOOK, TranscriptSlice


@dataclass(frozen=True)
class SharedRead:
    """One read shared by many tests: ``label`` says what was read (``"switch audit of sw1"``),
    ``parts`` the transcript slices it consumed (a failed read's too: they show the failure)."""

    label: str
    parts: tuple[TranscriptSlice, ...]


class UsedReads:
    """The shared reads the running test used, in the order first used (thread-safe)."""

    def __init__(self) -> None:
        self._reads: dict[SharedRead, None] = {}
        self._lock = threading.Lock()

    def use(self, read: SharedRead) -> None:
        with self._lock:
            self._reads.setdefault(read, None)

    def current(self) -> list[SharedRead]:
        """The reads used since the last reset (the list goes on)."""
        with self._lock:
            return list(self._reads)

    def reset(self) -> list[SharedRead]:
        """The reads used since the last reset; starts a new list."""
        with self._lock:
            reads, self._reads = list(self._reads), {}
            return reads


USED = UsedReads()


def judged_transcripts(marks: dict[str, int], reads: Iterable[SharedRead]) -> dict[str, str]:
    """Attachment name -> text of the transcripts behind one test.

    ``transcript <name>``: what each session wrote after ``marks`` (taken when the test started);
    ``transcript <name> (<read label>)``: a slice of a shared read the test used, unless the test
    wrote that slice itself (it triggered the read).
    """
    out = {f"transcript {n}": text for n, text in BOOK.since(marks).items()}
    seen: set[TranscriptSlice] = set()
    for read in reads:
        for part in read.parts:
            if part in seen:
                continue
            seen.add(part)
            if f"transcript {part.name}" in out and part.start >= marks.get(part.name, 0):
                continue  # written during this test: already in its own transcript
            text = BOOK.render(part)
            if text:
                out[f"transcript {part.name} ({read.label})"] = text
    return out



def touched_devices(marks: dict[str, int], reads: Iterable[SharedRead]) -> list[str]:
    """The devices whose sessions a test used: the first word of every transcript (``"<device>
    <transport> <address>"``) that grew after ``marks`` and of every slice of the shared ``reads`` it
    used, in first-seen order. Names that are not devices of the inventory are the caller's to drop."""
    names = BOOK.grown(marks) + [part.name for read in reads for part in read.parts]
    return list(dict.fromkeys(n.split(" ", 1)[0] for n in names if n))
