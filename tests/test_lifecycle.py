"""harness.lifecycle: the run's child in a process group of its own, interrupts passed on, a child that
stops when its parent is SIGKILLed, and temporary folders that never stay behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest

from harness import lifecycle
from harness.flock import Flock
from tests.conftest import REPO, wait_for, with_default_sigint


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def read_pid(path: Path, timeout_s: float = 20) -> int:
    assert wait_for(lambda: path.exists() and path.read_text().strip().isdigit(), timeout_s), path
    return int(path.read_text())


def test_sweep_removes_run_folders_nobody_holds(tmp_path: Path) -> None:
    held, free, bare = (tmp_path / f"hil-run-{n}" for n in ("held", "free", "bare"))
    for d in (held, free, bare):
        d.mkdir()
    lock = Flock(held / ".lock")
    assert lock.acquire(0)
    was = Flock(free / ".lock")
    assert was.acquire(0)
    was.release()  # taken and let go again: its holder is gone
    (tmp_path / "other").mkdir()
    try:
        assert sorted(lifecycle.sweep_run_temps(tmp_path)) == [bare, free]
        assert held.is_dir() and (tmp_path / "other").is_dir()
    finally:
        lock.release()


def test_run_temp_is_locked_while_it_lives_and_removed_after(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    temp = lifecycle.RunTemp()
    assert temp.path.parent == tmp_path and temp.path.name.startswith("hil-run-")
    env, fd = temp.child_env()
    assert env["TMPDIR"] == str(temp.path) and env[lifecycle.RUN_TMP_LOCK_ENV] == str(fd)
    assert lifecycle.sweep_run_temps(tmp_path) == []  # held: never swept
    temp.remove()
    assert not temp.path.exists()


#: stays in its group's foreground: starts ``sleep`` (same group), notes both pids, ends
LEAVER = """
import subprocess, sys
from pathlib import Path
p = subprocess.Popen(["sleep", "60"])
Path(sys.argv[1]).write_text(str(p.pid))
"""


def test_run_child_kills_what_the_child_left_in_its_group(tmp_path: Path) -> None:
    rc = lifecycle.run_child([sys.executable, "-c", LEAVER, str(tmp_path / "sleep.pid")], dict(os.environ), [])
    assert rc == 0
    assert wait_for(lambda: gone(read_pid(tmp_path / "sleep.pid")), 5)


#: hil run's side: runs CHILD through run_child, as `hil run` runs pytest, and reports the interrupt
PARENT = """
import os, signal, sys
from harness import lifecycle
lifecycle.interrupt_on(signal.SIGTERM)
try:
    lifecycle.run_child([sys.executable, "-c", sys.argv[1], sys.argv[2]], dict(os.environ), [], grace_s=10)
except KeyboardInterrupt as e:
    print("interrupted", lifecycle.signal_of(e), flush=True)
"""

#: pytest's side: a grandchild in its group, then waits; SIGTERM is noted and ends it cleanly
CHILD = """
import signal, subprocess, sys, time
from pathlib import Path
d = Path(sys.argv[1])
def term(signum, frame):
    (d / "got").write_text(signal.Signals(signum).name)
    sys.exit(0)
signal.signal(signal.SIGTERM, term)
p = subprocess.Popen(["sleep", "60"])
(d / "sleep.pid").write_text(str(p.pid))
(d / "child.pid").write_text(str(__import__("os").getpid()))
time.sleep(60)
"""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_parent_stops_its_child_then_kills_its_group(tmp_path: Path, sig: signal.Signals) -> None:
    parent = subprocess.Popen(with_default_sigint([sys.executable, "-c", PARENT, CHILD, str(tmp_path)]), cwd=REPO,
                              text=True, stdout=subprocess.PIPE, start_new_session=True)
    child, sleeper = read_pid(tmp_path / "child.pid"), read_pid(tmp_path / "sleep.pid")
    assert os.getpgid(child) == child and os.getpgid(sleeper) == child  # a group of its own, grandchild in it
    parent.send_signal(sig)
    out, _ = parent.communicate(timeout=30)
    assert out.split() == ["interrupted", str(int(sig))]
    assert (tmp_path / "got").read_text() == "SIGTERM"  # passed on as SIGTERM, whatever the parent got
    assert wait_for(lambda: gone(child) and gone(sleeper), 5)


#: a run's child under a parent that will be SIGKILLed: guarded as pytest is, a grandchild of its own
GUARDED = """
import os, subprocess, sys, time
from pathlib import Path
from harness import lifecycle
d = Path(sys.argv[1])
child = lifecycle.guard_run_child()
assert child is not None
p = subprocess.Popen(["sleep", "60"])
(Path(os.environ["TMPDIR"]) / "work").mkdir()
(d / "sleep.pid").write_text(str(p.pid))
(d / "child.pid").write_text(str(os.getpid()))
try:
    time.sleep(60)
except KeyboardInterrupt:
    (d / "interrupted").write_text(child.interrupted_line() or "")
"""

#: the parent: starts GUARDED with a run's environment (as `hil run` starts pytest), then waits
DOOMED = """
import os, subprocess, sys, time
from harness import lifecycle
temp = lifecycle.RunTemp()
env, fd = temp.child_env()
env = {**os.environ, **env, lifecycle.RUN_PID_ENV: str(os.getpid())}
subprocess.Popen([sys.executable, "-c", sys.argv[1], sys.argv[2]], env=env, pass_fds=[fd], process_group=0)
print(temp.path, flush=True)
time.sleep(60)
"""


def test_a_child_stops_when_its_parent_is_sigkilled_and_leaves_nothing(tmp_path: Path) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    parent = subprocess.Popen([sys.executable, "-c", DOOMED, GUARDED, str(tmp_path)], cwd=REPO, text=True,
                              stdout=subprocess.PIPE, env={**os.environ, "TMPDIR": str(tmp)})
    assert parent.stdout is not None
    run_temp = Path(parent.stdout.readline().strip())
    child, sleeper = read_pid(tmp_path / "child.pid"), read_pid(tmp_path / "sleep.pid")
    assert (run_temp / "work").is_dir()
    parent.kill()  # SIGKILL: hil run cannot clean up
    parent.wait()
    assert wait_for(lambda: gone(child) and gone(sleeper), 15), "the child or its own child outlived the parent"
    assert (tmp_path / "interrupted").read_text().startswith(f"hil: interrupted: hil run (pid {parent.pid}) is gone")
    assert not run_temp.exists() and list(tmp.iterdir()) == []


def test_guard_ignores_a_process_hil_run_did_not_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(lifecycle.RUN_PID_ENV, str(os.getpid()))  # alive, and not our parent
    before = signal.getsignal(signal.SIGTERM)
    assert lifecycle.guard_run_child() is None
    assert signal.getsignal(signal.SIGTERM) == before and lifecycle.RUN_PID_ENV not in os.environ
    monkeypatch.delenv(lifecycle.RUN_PID_ENV, raising=False)
    assert lifecycle.guard_run_child() is None  # plain pytest


def test_pid_alive_counts_a_zombie_as_gone() -> None:
    p = subprocess.Popen(["true"])
    deadline = time.monotonic() + 5
    while psutil.Process(p.pid).status() != psutil.STATUS_ZOMBIE and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not lifecycle.pid_alive(p.pid)
    p.wait()
    assert not lifecycle.pid_alive(p.pid) and lifecycle.pid_alive(os.getpid())
