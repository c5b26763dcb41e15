"""An exclusive ``flock(2)`` that a child process can keep holding after its parent is gone.

Used for the reports folder's lock (``<reports>/.hil-run.lock``), a run's temporary folder and the
file back end of the lab lease (:mod:`harness.lease`). The lock belongs to an *open file
description*: a child started with the descriptor in ``pass_fds`` shares it, so the lock stays
taken while any process of the run still holds the descriptor, and the kernel frees it when the
last one dies, however it dies (SIGKILL included). That is why ``hil run`` hands its locks to the
pytest it starts (:meth:`Flock.handover`) instead of letting the child take them again, and why
:meth:`Flock.release` only closes the descriptor and never unlocks it: a lock a surviving child
still holds stays taken.

The ``filelock`` package takes the same lock on Linux (``flock`` with ``LOCK_EX``), so a
``filelock.FileLock`` on the same path and a :class:`Flock` exclude each other; it is not used here
because it cannot hand its descriptor to a child.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

#: how often a waiting :meth:`Flock.acquire` tries again (project choice: a run waits seconds, not ms)
POLL_S = 0.1


class Flock:
    """An exclusive lock on ``path`` (the file is created, never removed: removing a lock file
    while another process waits on it would give two holders)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    @property
    def held(self) -> bool:
        return self.fd is not None

    def acquire(self, wait_s: float = 0.0) -> bool:
        """Take the lock, waiting up to ``wait_s`` seconds (0: one try). False when it stayed taken.

        Raises:
            OSError: the file cannot be created or opened (a missing folder is created).
        """
        if self.fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        deadline = time.monotonic() + max(0.0, wait_s)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                left = deadline - time.monotonic()
                if left <= 0:
                    os.close(fd)
                    return False
                time.sleep(min(POLL_S, left))
                continue
            self.fd = fd
            return True

    def release(self) -> None:
        """Close this process's descriptor. The lock is free once no process holds it any more (a
        child it was handed to keeps it while it lives)."""
        fd, self.fd = self.fd, None
        if fd is not None:
            os.close(fd)

    def handover(self, variable: str) -> tuple[dict[str, str], int]:
        """What a child process needs to keep holding this lock: ``({variable: "<fd>"}, fd)``; pass
        the fd in ``pass_fds`` and the mapping in the child's environment, and call
        :meth:`adopt` there.

        Raises:
            RuntimeError: the lock is not held.
        """
        if self.fd is None:
            raise RuntimeError(f"{self.path}: lock not held, nothing to hand over")
        return {variable: str(self.fd)}, self.fd

    @classmethod
    def adopt(cls, path: Path, variable: str) -> Flock | None:
        """In a child: the lock on ``path`` its parent handed down under ``variable`` (see
        :meth:`handover`), or ``None`` when none was (the variable unset, the descriptor closed or
        open on another file). The variable is removed from ``os.environ`` and the descriptor made
        non-inheritable, so this process's own children do not take the lock with them."""
        value = os.environ.pop(variable, "")
        if not value.isdigit():
            return None
        fd = int(value)
        try:
            mine, wanted = os.fstat(fd), os.stat(path)
            if (mine.st_dev, mine.st_ino) != (wanted.st_dev, wanted.st_ino):
                return None
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the same open file: succeeds when ours
            os.set_inheritable(fd, False)
        except OSError:
            return None
        lock = cls(path)
        lock.fd = fd
        return lock

    def is_free(self) -> bool:
        """Whether nobody holds the lock now (tried without waiting, and let go at once). Another
        process's try in that instant fails, so callers that take the lock retry for a moment."""
        if self.fd is not None:
            return False
        if not self.path.exists():
            return True
        probe = Flock(self.path)
        try:
            free = probe.acquire(0)
        except OSError:
            return True
        probe.release()
        return free
