"""One run per lab at a time: the lab lease.

Every run that calls, provisions or updates a lab (every ``hil run``, and ``pytest scenarios`` on a
lab) holds the lab's lease while any of its processes lives. Two runs on one lab would share the
trunk's Max Calls, the Edge's console line and the switch's running-config and corrupt each other's
verdicts, so a second run is refused at once, naming who holds the lab, or waits for it
(``hil run --wait-lab SECONDS``, ``pytest --wait-lab SECONDS``).

The interface is small so that a shared back end (a later issue: Redis, for labs several machines
drive) is one more class implementing :class:`LeaseBackend`:

* :func:`acquire` ``(lab_id, holder, wait_s, backend=…) -> Lease``; :class:`LabBusy` when the lab
  stayed held for ``wait_s`` seconds.
* :func:`release` ``(lease)``: give it back (:meth:`Lease.release`).
* :func:`holder` ``(lab_id, backend=…) -> Holder | None``: who holds the lab now, ``None`` when free.
* A run that goes on in a child process (``hil run`` starts pytest) hands the lease down:
  :meth:`Lease.handover` gives the child's environment and descriptors, and
  :meth:`LeaseBackend.adopt` takes it up in the child, which then holds it for as long as it lives
  (so pytest still holds the lab after a SIGKILL of ``hil run``, until it has stopped too).

**Lab identity** (:func:`lab_id`): ``<lab.name>@<lab.site>``, the inventory's ``lab:`` section, which
names the lab in every report; not the inventory's path, so two inventory files for one lab in one
folder (a nightly one and a person's) share one lease. Two copies of an emulated lab meant to run
side by side in one folder need names of their own.

**File back end** (:class:`FileLeases`, the embedded default, from :func:`for_inventory`): in the
``.hil/`` folder beside the inventory, ``lab-<name>-<hash>.lock`` (an exclusive ``flock``, see
:mod:`harness.flock`; ``<hash>``: the first 8 hex digits of the SHA-256 of the lab id, since the
site is free text) and ``lab-<name>-<hash>.holder.json`` (the :class:`Holder` that took it). The
kernel frees the lock when the last process holding it dies, however it dies, so a lab whose holder
died is free; the record stays behind and is read only while the lock is held. It serialises the
runs of one machine on the inventories of one folder; runs from other checkouts or machines need the
shared back end.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import socket
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from .flock import Flock
from .inventory.models import LabInfo
from .lifecycle import pid_alive

#: a failed first try is retried this long even when the caller does not wait: another process's
#: :func:`holder` look takes the lock for microseconds (project choice)
MIN_TRY_S = 0.25


def lab_id(lab: LabInfo) -> str:
    """The lab's identity for the lease: ``<name>@<site>`` (``hil-twin@Lab Site A (emulated)``)."""
    return f"{lab.name}@{lab.site}"


@dataclass(frozen=True)
class Holder:
    """Who holds a lab: ``user`` on ``host``, process ``pid`` running ``command`` since ``since``
    (seconds since the epoch), writing its reports to ``reports`` (a folder, when it has one)."""

    user: str
    host: str
    pid: int
    command: str
    since: float
    reports: str | None = None

    @classmethod
    def this_process(cls, command: str, reports: Path | None = None) -> Holder:
        try:
            user = getpass.getuser()
        except (KeyError, OSError):  # no name for this uid (containers)
            user = str(os.getuid())
        return cls(user, socket.gethostname(), os.getpid(), command, time.time(),
                   str(reports.resolve()) if reports else None)

    def describe(self) -> str:
        """``alice@lab-pc, pid 4242 (hil run --duty PSTN-CAPACITY), since 2026-05-01 14:03:11+02:00,
        reports in /home/alice/reports``; a pid of this host that is gone says so (a process it
        started still holds the lab)."""
        since = datetime.fromtimestamp(self.since).astimezone().isoformat(timespec="seconds")
        gone = ""
        if self.pid > 0 and self.host == socket.gethostname() and not pid_alive(self.pid):
            gone = ", gone: a process it started still holds the lab"
        text = f"{self.user}@{self.host}, pid {self.pid}{gone} ({self.command}), since {since}"
        return text + (f", reports in {self.reports}" if self.reports else "")

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Holder:
        """Raises ValueError (not JSON, or not a holder record)."""
        try:
            data = json.loads(text)
            return cls(str(data["user"]), str(data["host"]), int(data["pid"]), str(data["command"]),
                       float(data["since"]), data.get("reports"))
        except (TypeError, KeyError, AttributeError) as e:
            raise ValueError(f"not a holder record: {e}") from None


#: what :func:`holder` says of a lab held by a process that left no readable record
UNKNOWN_HOLDER = Holder("?", "?", 0, "a process that left no holder record", 0.0)


class LabBusy(Exception):
    """The lab stayed held. ``holder`` is who holds it (``None`` when it was let go in the meantime),
    ``waited_s`` how long the caller was ready to wait (0: it asked not to)."""

    def __init__(self, lab: str, holder: Holder | None, waited_s: float) -> None:
        self.lab_id, self.holder, self.waited_s = lab, holder, waited_s
        who = holder.describe() if holder else "another run (gone just now: try again)"
        still = f" (still, after waiting {waited_s:g} s)" if waited_s > 0 else ""
        super().__init__(f"lab {lab} is in use{still} by {who}")


@dataclass(frozen=True)
class Handover:
    """What a child process needs to go on holding a lease: environment variables and descriptors
    (for ``subprocess.Popen(env=…, pass_fds=…)``)."""

    env: dict[str, str] = field(default_factory=dict)
    fds: tuple[int, ...] = ()


class Lease(Protocol):
    """A held lab. Release it once every process it was handed to has ended."""

    lab_id: str
    holder: Holder

    def release(self) -> None: ...

    def handover(self) -> Handover: ...


class LeaseBackend(Protocol):
    """Where leases live (the file back end here; a shared one later)."""

    def acquire(self, lab_id: str, holder: Holder, wait_s: float) -> Lease:
        """Take the lab, waiting up to ``wait_s`` s. Raises :class:`LabBusy`."""

    def holder(self, lab_id: str) -> Holder | None:
        """Who holds the lab now; ``None`` when it is free."""

    def adopt(self, lab_id: str) -> Lease | None:
        """In a child process: the lease of ``lab_id`` its parent handed down, else ``None``."""


@dataclass
class FileLease:
    """A lease of :class:`FileLeases`: the lock file's descriptor, held by this process (and the
    children it was handed to)."""

    lab_id: str
    holder: Holder
    lock: Flock

    def release(self) -> None:
        self.lock.release()

    def handover(self) -> Handover:
        env, fd = self.lock.handover(FileLeases.HANDOVER_ENV)
        return Handover(env, (fd,))


class FileLeases:
    """The embedded back end: lock files in ``folder`` (the inventory's ``.hil/``)."""

    #: the environment variable a child finds its inherited lease descriptor in
    HANDOVER_ENV = "HIL_LAB_LEASE_FD"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _paths(self, lab: str) -> tuple[Path, Path]:
        name = lab.split("@", 1)[0]
        stem = f"lab-{name}-{hashlib.sha256(lab.encode()).hexdigest()[:8]}"
        return self.folder / f"{stem}.lock", self.folder / f"{stem}.holder.json"

    def acquire(self, lab_id: str, holder: Holder, wait_s: float) -> FileLease:
        lock_path, record = self._paths(lab_id)
        lock = Flock(lock_path)
        if not lock.acquire(max(wait_s, MIN_TRY_S)):
            raise LabBusy(lab_id, self.holder(lab_id), wait_s)
        tmp = record.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(holder.to_json())
        tmp.replace(record)
        return FileLease(lab_id, holder, lock)

    def holder(self, lab_id: str) -> Holder | None:
        lock_path, record = self._paths(lab_id)
        if Flock(lock_path).is_free():
            return None
        try:
            return Holder.from_json(record.read_text())
        except (OSError, ValueError):
            return UNKNOWN_HOLDER

    def adopt(self, lab_id: str) -> FileLease | None:
        lock_path, record = self._paths(lab_id)
        lock = Flock.adopt(lock_path, self.HANDOVER_ENV)
        if lock is None:
            return None
        try:
            who = Holder.from_json(record.read_text())
        except (OSError, ValueError):
            who = UNKNOWN_HOLDER
        return FileLease(lab_id, who, lock)


def for_inventory(inventory: Path) -> LeaseBackend:
    """The lease back end for the lab of ``inventory``: the file back end in ``.hil/`` beside it."""
    return FileLeases(inventory.resolve().parent / ".hil")


def acquire(lab: str, holder: Holder, wait_s: float = 0.0, *, backend: LeaseBackend) -> Lease:
    """Take the lease of lab ``lab`` for ``holder``, waiting up to ``wait_s`` seconds (0: refuse at
    once when it is held).

    Raises:
        LabBusy: it stayed held; names the holder.
        OSError: the back end's storage cannot be used (the ``.hil/`` folder not writable).
    """
    return backend.acquire(lab, holder, wait_s)


def release(lease: Lease) -> None:
    """Give ``lease`` back (children it was handed to keep the lab until they end)."""
    lease.release()


def holder(lab: str, *, backend: LeaseBackend) -> Holder | None:
    """Who holds lab ``lab`` now, or ``None`` when it is free."""
    return backend.holder(lab)

