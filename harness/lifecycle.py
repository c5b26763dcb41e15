"""Nothing left behind: how ``hil run`` and the pytest it starts end, however they are stopped.

``hil run`` (the parent) and pytest (its child) split the work:

* **The parent** starts pytest in a process group of its own (:func:`run_child`), so the group holds
  pytest and every local process pytest starts (SIPp stays in it); it hands down its locks (the lab
  lease, the reports folder's lock, the run's temporary folder, all :mod:`harness.flock` locks) so
  that pytest holds them too. On SIGINT, SIGTERM or SIGHUP (:func:`interrupt_on` turns the last two
  into :class:`Interrupted`, a ``KeyboardInterrupt``) it sends SIGTERM to pytest, waits up to
  :data:`INTERRUPT_GRACE_S` for it to stop what it started, then kills whatever is left in the group.
  A second signal cuts the wait short. pytest and its children get ``TMPDIR`` set to the run's
  temporary folder (:class:`RunTemp`), so every temporary folder of the run (SIPp's work folders,
  Edge log bundles, pytest's ``tmp_path``) is inside it, and the parent removes it at the end.
* **The child** (:func:`guard_run_child`, called by the pytest plugin) turns SIGTERM and SIGINT into
  one ``KeyboardInterrupt`` (pytest then tears down its fixtures: SIPp is stopped, its work folder
  removed), asks the kernel for SIGTERM when its parent dies (Linux ``prctl(PR_SET_PDEATHSIG)``;
  elsewhere a thread watches the parent pid), and at exit kills any child it still has and removes
  the run's temporary folder. So a SIGKILL of ``hil run``, which cannot clean up, still ends pytest
  and SIPp, and pytest holds the reports lock and the lab lease until it is gone.

A run's temporary folder left by processes that all died by SIGKILL is removed by the next run
(:func:`sweep_run_temps`): it is free once nobody holds its lock.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

import psutil

from .flock import Flock

#: how long an interrupted ``hil run`` waits for pytest to stop what it started (SIPp: SIGKILL, then
#: its work folder removed; over SSH two commands bounded by ``ssh.timeout_s``) before it kills the
#: process group; project choice
INTERRUPT_GRACE_S = 30.0
#: how long the child waits for its own children to end after SIGTERM before SIGKILL (project choice)
CHILD_STOP_S = 3.0
#: how often the watchdog thread looks at the parent pid where prctl is missing (project choice)
PARENT_POLL_S = 0.5
#: environment of a run's child: the parent's pid, the run's temporary folder and its lock
RUN_PID_ENV, RUN_TMP_ENV, RUN_TMP_LOCK_ENV = "HIL_RUN_PID", "HIL_RUN_TMPDIR", "HIL_RUN_TMP_LOCK_FD"
#: the reports folder's lock, handed from ``hil run`` to the pytest that writes the reports
REPORTS_LOCK_ENV = "HIL_REPORTS_LOCK_FD"
REPORTS_LOCK_NAME = ".hil-run.lock"
RUN_TEMP_PREFIX = "hil-run-"
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


class Interrupted(KeyboardInterrupt):
    """A run stopped by a signal (``signum``); a ``KeyboardInterrupt``, so SIGTERM unwinds as
    Ctrl-C does."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def signal_of(exc: KeyboardInterrupt) -> int:
    """The signal behind ``exc``: :attr:`Interrupted.signum`, SIGINT for a plain Ctrl-C."""
    return exc.signum if isinstance(exc, Interrupted) else int(signal.SIGINT)


def _raise_interrupted(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signum)


def interrupt_on(*signums: int) -> None:
    """From now on, ``signums`` (SIGTERM, SIGHUP) raise :class:`Interrupted` in the main thread."""
    for s in signums:
        signal.signal(s, _raise_interrupted)


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie, which has ended and waits to be reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(") ", 1)[-1][:1] != "Z"
    except OSError:
        return True


# --- the parent: hil run ------------------------------------------------------------------------


class RunTemp:
    """The run's temporary folder, ``$TMPDIR/hil-run-XXXXXXXX``, locked (``.lock``) while any process
    of the run lives. Made under a hidden name and renamed once locked, so :func:`sweep_run_temps`
    never sees it unlocked."""

    def __init__(self) -> None:
        sweep_run_temps()
        staging = Path(tempfile.mkdtemp(prefix=f".{RUN_TEMP_PREFIX}"))
        self.lock = Flock(staging / ".lock")
        self.lock.acquire(0)
        self.path = staging.with_name(staging.name[1:])
        staging.rename(self.path)
        self.lock.path = self.path / ".lock"

    def child_env(self) -> tuple[dict[str, str], int]:
        """``TMPDIR`` and the lock's hand-over for the run's child."""
        env, fd = self.lock.handover(RUN_TMP_LOCK_ENV)
        return {"TMPDIR": str(self.path), RUN_TMP_ENV: str(self.path), **env}, fd

    def remove(self) -> None:
        self.lock.release()
        shutil.rmtree(self.path, ignore_errors=True)


def sweep_run_temps(root: Path | None = None) -> list[Path]:
    """Remove this user's run temporary folders in ``root`` (default: the temp folder) that no
    process holds any more (every process of their run died by SIGKILL). Returns those removed."""
    removed = []
    for d in (root or Path(tempfile.gettempdir())).glob(f"{RUN_TEMP_PREFIX}*"):
        try:
            mine = d.is_dir() and d.stat().st_uid == os.getuid()
        except OSError:
            continue
        if mine and Flock(d / ".lock").is_free():
            shutil.rmtree(d, ignore_errors=True)
            removed.append(d)
    return removed


def run_child(argv: Sequence[str], env: dict[str, str], pass_fds: Sequence[int],
              grace_s: float = INTERRUPT_GRACE_S) -> int:
    """Run ``argv`` in a process group of its own to its end and return its exit status; whatever
    it leaves in its group is killed. Interrupted (``KeyboardInterrupt``, :class:`Interrupted`): send
    it SIGTERM, wait up to ``grace_s`` s (a second interrupt cuts the wait short), kill its group,
    then re-raise."""
    proc = subprocess.Popen(list(argv), env=env, pass_fds=tuple(pass_fds), process_group=0)
    try:
        return proc.wait()
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired, KeyboardInterrupt):  # late, or the user insists:
            proc.wait(grace_s)                                                     # the group is killed below
        raise
    finally:
        _kill_group(proc.pid)
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        proc.wait()


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


# --- the child: pytest under hil run ------------------------------------------------------------


class RunChild:
    """What :func:`guard_run_child` set up in pytest: the parent's pid, the run's temporary folder
    and its lock."""

    def __init__(self, parent_pid: int, temp: Path | None, temp_lock: Flock | None) -> None:
        self.parent_pid, self.temp, self.temp_lock = parent_pid, temp, temp_lock
        self.interrupted = False

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        """The first SIGTERM/SIGINT raises :class:`Interrupted`; later ones are ignored, so that the
        teardown it starts (SIPp stopped, folders removed) is not cut short (the parent kills the
        group if it takes too long)."""
        if self.interrupted:
            return
        self.interrupted = True
        raise Interrupted(signum)

    @property
    def orphaned(self) -> bool:
        """Whether the ``hil run`` that started this process is gone."""
        return os.getppid() != self.parent_pid or not pid_alive(self.parent_pid)

    def interrupted_line(self) -> str | None:
        """What to tell the terminal when interrupted: a line when ``hil run`` is gone (when it is
        not, it says so itself)."""
        if not self.orphaned:
            return None
        return (f"hil: interrupted: hil run (pid {self.parent_pid}) is gone; stopping this pytest and everything "
                "it started")

    def at_exit(self) -> None:
        """Kill children still running (SIGTERM, then SIGKILL after :data:`CHILD_STOP_S`), remove
        the run's temporary folder."""
        with contextlib.suppress(psutil.Error):
            children = psutil.Process().children(recursive=True)
            for c in children:
                with contextlib.suppress(psutil.Error):
                    c.terminate()
            _, alive = psutil.wait_procs(children, timeout=CHILD_STOP_S)
            for c in alive:
                with contextlib.suppress(psutil.Error):
                    c.kill()
        if self.temp is not None:
            shutil.rmtree(self.temp, ignore_errors=True)
        if self.temp_lock is not None:
            self.temp_lock.release()


def guard_run_child() -> RunChild | None:
    """In a pytest started by ``hil run`` (``$HIL_RUN_PID`` is its parent): set up what
    :class:`RunChild` describes and return it; ``None`` elsewhere (plain pytest, or a process
    further down that inherited the variables, which are removed from ``os.environ`` here). Call it
    from the main thread. A parent that died before this ran ends the run at once (SIGTERM to
    itself)."""
    value = os.environ.pop(RUN_PID_ENV, "")
    temp = os.environ.pop(RUN_TMP_ENV, "")
    if not value.isdigit():
        return None
    parent = int(value)
    if os.getppid() != parent and pid_alive(parent):
        return None  # started further down the tree, not by hil run itself
    temp_path = Path(temp) if temp else None
    child = RunChild(parent, temp_path, Flock.adopt(temp_path / ".lock", RUN_TMP_LOCK_ENV) if temp_path else None)
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, child.on_signal)
    atexit.register(child.at_exit)
    if not _die_with_parent(signal.SIGTERM):
        threading.Thread(target=_watch_parent, args=(parent,), name="hil-parent-watch", daemon=True).start()
    if os.getppid() != parent:  # the parent died before the kernel was told to signal us
        os.kill(os.getpid(), signal.SIGTERM)
    return child


def _die_with_parent(signum: int) -> bool:
    """Linux: have the kernel send ``signum`` to this process when its parent dies. False where it
    cannot (not Linux, or prctl refused)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_PDEATHSIG, int(signum), 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_S)
    os.kill(os.getpid(), signal.SIGTERM)
