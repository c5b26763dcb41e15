"""The lab lease (harness.lease) and the lock under it (harness.flock): one holder per lab, the holder
named, waiting, a dead holder's lab free, and the hand-over from ``hil run`` to its pytest."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from filelock import FileLock

from harness import lease
from harness.flock import Flock
from harness.inventory.models import LabInfo
from tests.conftest import REPO

LAB = LabInfo(name="lab-a", site="Site A (Indianapolis)", emulated=True)

#: a process holding the lease of lab-a in FOLDER until its stdin closes (or it is killed)
HOLDER = """
import sys, time
from pathlib import Path
from harness import lease
backend = lease.FileLeases(Path(sys.argv[1]))
held = lease.acquire(sys.argv[2], lease.Holder.this_process("holder-cmd --x", Path(sys.argv[3])), 0, backend=backend)
print("held", flush=True)
sys.stdin.read()
time.sleep(float(sys.argv[4]) if len(sys.argv) > 4 else 0)
"""


def holder_process(folder: Path, lab: str, *, linger_s: float = 0.0) -> subprocess.Popen[str]:
    p = subprocess.Popen([sys.executable, "-c", HOLDER, str(folder), lab, str(folder / "reports"), str(linger_s)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO)
    assert p.stdout is not None and p.stdout.readline().strip() == "held"
    return p


def test_lab_id_is_name_and_site_and_two_inventories_of_one_folder_share_it(tmp_path: Path) -> None:
    assert lease.lab_id(LAB) == "lab-a@Site A (Indianapolis)"
    a = lease.for_inventory(tmp_path / "nightly.yaml")
    b = lease.for_inventory(tmp_path / "alice.yaml")
    held = lease.acquire(lease.lab_id(LAB), lease.Holder.this_process("hil run"), backend=a)
    try:
        with pytest.raises(lease.LabBusy):
            lease.acquire(lease.lab_id(LAB), lease.Holder.this_process("hil run"), backend=b)
        other = LabInfo(name="lab-b", site=LAB.site)  # another lab of the same site is free
        lease.release(lease.acquire(lease.lab_id(other), lease.Holder.this_process("x"), backend=b))
    finally:
        lease.release(held)
    assert list((tmp_path / ".hil").glob("lab-lab-a-*.lock"))  # beside the inventory, in .hil/


def test_a_held_lab_is_refused_naming_the_holder(tmp_path: Path) -> None:
    backend = lease.FileLeases(tmp_path)
    lab = lease.lab_id(LAB)
    assert lease.holder(lab, backend=backend) is None
    p = holder_process(tmp_path, lab)
    try:
        who = lease.holder(lab, backend=backend)
        assert who is not None and who.pid == p.pid and who.command == "holder-cmd --x"
        assert who.reports == str(tmp_path / "reports")
        t0 = time.monotonic()
        with pytest.raises(lease.LabBusy) as e:
            lease.acquire(lab, lease.Holder.this_process("hil run"), 0, backend=backend)
        assert time.monotonic() - t0 < 2  # refused at once
        msg = str(e.value)
        for part in (f"lab {lab} is in use by", f"pid {p.pid}", "holder-cmd --x", who.user, who.host, "since",
                     f"reports in {tmp_path / 'reports'}"):
            assert part in msg, (part, msg)
        assert e.value.holder == who
    finally:
        p.communicate("")
    assert lease.holder(lab, backend=backend) is None  # let go when its process ended


def test_waiting_takes_the_lab_once_the_holder_ends(tmp_path: Path) -> None:
    backend = lease.FileLeases(tmp_path)
    lab = lease.lab_id(LAB)
    p = holder_process(tmp_path, lab, linger_s=1.5)
    try:
        assert p.stdin is not None
        p.stdin.close()  # it lets go in 1.5 s
        with pytest.raises(lease.LabBusy, match=r"still, after waiting"):
            lease.acquire(lab, lease.Holder.this_process("hil run"), 0.5, backend=backend)
        t0 = time.monotonic()
        held = lease.acquire(lab, lease.Holder.this_process("hil run --wait-lab 30"), 30, backend=backend)
        assert 0.3 < time.monotonic() - t0 < 10
        assert p.wait(5) == 0
        who = lease.holder(lab, backend=backend)
        assert who is not None and who.pid == os.getpid() and who.command == "hil run --wait-lab 30"
        lease.release(held)
    finally:
        p.kill()
        p.wait()


def test_a_sigkilled_holder_frees_the_lab_and_its_record_says_it_is_gone(tmp_path: Path) -> None:
    backend = lease.FileLeases(tmp_path)
    lab = lease.lab_id(LAB)
    p = holder_process(tmp_path, lab)
    who = lease.holder(lab, backend=backend)
    assert who is not None and "gone" not in who.describe()
    p.send_signal(signal.SIGKILL)
    p.wait()
    assert "gone: a process it started still holds the lab" in who.describe()  # what a refusal would say now
    assert lease.holder(lab, backend=backend) is None  # the kernel let go of the flock
    lease.release(lease.acquire(lab, lease.Holder.this_process("hil run"), 0, backend=backend))


#: a child of a lease holder: adopts the lease handed down, says so, holds it until stdin closes
ADOPTER = """
import sys
from pathlib import Path
from harness import lease
got = lease.FileLeases(Path(sys.argv[1])).adopt(sys.argv[2])
print("adopted" if got is not None else "none", got.holder.command if got else "", flush=True)
sys.stdin.read()
"""


def test_a_lease_handed_to_a_child_stays_held_while_the_child_lives(tmp_path: Path) -> None:
    backend = lease.FileLeases(tmp_path)
    lab = lease.lab_id(LAB)
    held = lease.acquire(lab, lease.Holder.this_process("hil run --duty X"), backend=backend)
    hand = held.handover()
    child = subprocess.Popen([sys.executable, "-c", ADOPTER, str(tmp_path), lab], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, cwd=REPO, env={**os.environ, **hand.env},
                             pass_fds=hand.fds)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().split(None, 1) == ["adopted", "hil run --duty X\n"]
        lease.release(held)  # the parent leaves (or dies): the child still holds the lab
        assert lease.holder(lab, backend=backend) is not None
        with pytest.raises(lease.LabBusy):
            lease.acquire(lab, lease.Holder.this_process("second"), 0, backend=backend)
    finally:
        child.communicate("")
    assert lease.holder(lab, backend=backend) is None


def test_adopt_refuses_a_descriptor_that_is_not_the_lease(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    backend = lease.FileLeases(tmp_path)
    lab = lease.lab_id(LAB)
    assert backend.adopt(lab) is None  # nothing handed down
    with open(tmp_path / "other", "w") as f:
        monkeypatch.setenv(lease.FileLeases.HANDOVER_ENV, str(f.fileno()))
        lease.release(lease.acquire(lab, lease.Holder.this_process("x"), backend=backend))  # the lock file exists
        assert backend.adopt(lab) is None  # an open file, but another one
    assert lease.FileLeases.HANDOVER_ENV not in os.environ  # taken out, not passed further down
    monkeypatch.setenv(lease.FileLeases.HANDOVER_ENV, "999")
    assert backend.adopt(lab) is None  # a closed descriptor


def test_flock_and_filelock_exclude_each_other_and_release_only_closes(tmp_path: Path) -> None:
    path = tmp_path / "r" / ".hil-run.lock"
    mine = Flock(path)
    assert mine.acquire(0) and mine.held and not mine.is_free()
    other = FileLock(str(path))
    with pytest.raises(TimeoutError):
        other.acquire(timeout=0)
    assert not Flock(path).acquire(0.2)
    mine.release()
    assert Flock(path).is_free() and path.exists()  # never removed: waiters share one inode
    with other:
        assert not Flock(path).acquire(0)
