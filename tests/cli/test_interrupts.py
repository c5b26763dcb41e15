"""SIGINT, SIGTERM and SIGKILL of `hil run`, during a SIPp load run and during a normal run: nothing of the
run survives (pytest, SIPp, the twin it started), no temporary folder is left, the run says it was
interrupted, and the reports folder and the lab are free once the last writer is gone, not before.

Each run starts a twin of its own on ``<other_net(3)>.2x.y`` (the shipped ``127.0.x.y`` with a ``2`` in
front of x), so it never meets the session twin or the labs of other tests.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from harness import lease
from harness.flock import Flock
from harness.inventory import load
from harness.twin import manager
from tests.conftest import REPO, make_test_lab, other_net, wait_for, with_default_sigint

#: these tests start labs of their own (tests/conftest.py marks those that use the session twin)
pytestmark = [pytest.mark.twin, pytest.mark.timeout(300)]

#: what may stay in TMPDIR: pysnmp's engine-boots store, which the twin's SNMP engine keeps on purpose
#: (RFC 3414 §2.2: snmpEngineBoots must grow across restarts of the engine)
KEPT_IN_TMPDIR = {"__pysnmp"}
RUN_EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143, signal.SIGKILL: -signal.SIGKILL}


def ended(p: psutil.Process) -> bool:
    try:
        return p.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def start_run(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[bytes], Path, Path, Path, Path]:
    """`hil run` on a lab of its own, in its own session, with TMPDIR and output in ``tmp_path``."""
    inv = make_test_lab(tmp_path / "lab", (REPO / "lab_inventory.yaml").read_text().replace(
        "127.0.", f"{other_net(3)}.2"))
    reports, tmp, out = tmp_path / "reports", tmp_path / "tmp", tmp_path / "out.txt"
    tmp.mkdir()
    with open(out, "wb") as f:
        proc = subprocess.Popen(with_default_sigint([sys.executable, "-m", "harness.cli", "run", "--inventory",
                                                     str(inv), "--reports", str(reports), "--no-html", *args]),
                                cwd=REPO, stdout=f, stderr=subprocess.STDOUT, start_new_session=True,
                                env={**os.environ, "TMPDIR": str(tmp)})
    return proc, inv, reports, tmp, out


def tree(pid: int) -> list[psutil.Process]:
    try:
        p = psutil.Process(pid)
        return [p, *p.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def named(procs: list[psutil.Process], word: str) -> list[psutil.Process]:
    found = []
    for p in procs:
        try:
            if word in " ".join(p.cmdline()):
                found.append(p)
        except psutil.Error:
            pass
    return found


@pytest.mark.parametrize("phase", ["sipp", "normal"])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=lambda s: s.name)
def test_an_interrupted_run_leaves_nothing_behind(tmp_path: Path, sig: signal.Signals, phase: str) -> None:
    proc, inv, reports, tmp, out = start_run(tmp_path, *(["--duty", "PSTN-CAPACITY"] if phase == "sipp" else []))
    try:
        if phase == "sipp":  # a SIPp load run is going (PSTN-CAPACITY's 10 calls/s for 5 s)
            assert wait_for(lambda: named(tree(proc.pid), "sipp "), 120, 0.02), out.read_text()[-3000:]
        else:  # a few scenarios have reported
            staged = reports / ".this-run" / "allure-results"  # where a run writes until pytest is done
            assert wait_for(lambda: len(list(staged.glob("*-result.json"))) >= 3, 120, 0.02), out.read_text()[-3000:]
        procs = tree(proc.pid)
        pytest_procs = named(procs, "-m pytest")
        assert pytest_procs and named(procs, "harness.twin"), [p.cmdline() for p in procs]
        assert phase != "sipp" or named(procs, "sipp ")
        lab = load(inv).lab.lab
        backend = lease.for_inventory(inv)
        assert lease.holder(lease.lab_id(lab), backend=backend) is not None
        os.kill(proc.pid, sig)

        # the reports folder and the lab are taken again only once the last writer is gone
        refused = 0
        while not all(ended(p) for p in pytest_procs):
            lock = Flock(reports / ".hil-run.lock")
            if lock.acquire(0):
                writers = [p for p in pytest_procs if not ended(p)]
                lock.release()
                assert not writers, "the reports lock was free while its writer still ran"
            else:
                refused += 1
            time.sleep(0.01)
        if sig == signal.SIGKILL:
            assert refused, "pytest never held the reports lock after hil run was killed"
        assert proc.wait(60) == RUN_EXIT[sig]

        _, alive = psutil.wait_procs(procs, timeout=30)
        assert all(ended(p) for p in alive), [(p.pid, p.cmdline()) for p in alive if not ended(p)]
        assert wait_for(lambda: manager.read_state(inv) is None, 10), "the twin the run started is still up"
        assert Flock(reports / ".hil-run.lock").is_free()
        assert lease.holder(lease.lab_id(lab), backend=backend) is None
        assert {p.name for p in tmp.iterdir()} <= KEPT_IN_TMPDIR, list(tmp.rglob("*"))
        text = out.read_text()
        if sig == signal.SIGKILL:  # pytest says it, hil run cannot
            assert f"hil: interrupted: hil run (pid {proc.pid}) is gone" in text, text[-3000:]
        else:
            assert f"interrupted ({sig.name}): pytest and SIPp stopped" in text, text[-3000:]
            assert "no summary was written for this run" in text
        assert not (reports / "summary.json").exists()
    finally:
        proc.kill()
        proc.wait()
        manager.down(inv)
