"""One run per lab at a time: a second `hil run` on the same lab is refused naming the holder, waits with
``--wait-lab``, and a SIGKILLed holder frees the lab (once its pytest has stopped too)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import psutil
import pytest

from harness import lease
from harness.inventory import load
from tests.conftest import REPO, wait_for

#: these tests run `hil run` on the session twin
pytestmark = pytest.mark.timeout(300)


def hil_run(lab_path: Path, reports: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "harness.cli", "run", "--inventory", str(lab_path), "--reports", str(reports),
            "--no-html", *args]


def start_holder(lab_path: Path, reports: Path, out: Path) -> subprocess.Popen[bytes]:
    """Run A: a `hil run` that holds the lab for a while (PSTN-CAPACITY: about 10 s on the twin)."""
    with open(out, "wb") as f:
        a = subprocess.Popen(hil_run(lab_path, reports, "--duty", "PSTN-CAPACITY"), cwd=REPO, stdout=f,
                             stderr=subprocess.STDOUT)
    backend = lease.for_inventory(lab_path)
    lab = lease.lab_id(load(lab_path).lab.lab)
    assert wait_for(lambda: lease.holder(lab, backend=backend), 60), out.read_text()
    return a


def started(reports: Path, key: str) -> datetime:
    return datetime.fromisoformat(json.loads((reports / "summary.json").read_text())["run"][key])


def test_a_second_run_on_the_same_lab_is_refused_naming_the_holder(twin, lab_path, tmp_path):
    a = start_holder(lab_path, tmp_path / "a", tmp_path / "a.txt")
    try:
        b = subprocess.run(hil_run(lab_path, tmp_path / "b", "--duty", "PSTN-CONNECT"), cwd=REPO,
                           capture_output=True, text=True, timeout=120)
        assert b.returncode == 2, b.stdout[-2000:]
        line = b.stdout.replace("\n", "")
        who = lease.holder(lease.lab_id(load(lab_path).lab.lab), backend=lease.for_inventory(lab_path))
        assert who is not None
        for part in ("lab hil-twin@Lab Site A (emulated) is in use by", f"{who.user}@{who.host}", f"pid {a.pid}",
                     "(hil run --inventory", "--duty PSTN-CAPACITY", "since", f"reports in {tmp_path / 'a'}",
                     "--wait-lab SECONDS"):
            assert part in line, (part, b.stdout)
        assert not (tmp_path / "b").exists()  # refused before anything was touched
    finally:
        assert a.wait(120) == 0, (tmp_path / "a.txt").read_text()[-3000:]


def test_with_wait_lab_the_second_run_starts_once_the_first_ended(twin, lab_path, tmp_path):
    a = start_holder(lab_path, tmp_path / "a", tmp_path / "a.txt")
    try:
        b = subprocess.run(hil_run(lab_path, tmp_path / "b", "--duty", "PSTN-CONNECT", "--wait-lab", "180"),
                           cwd=REPO, capture_output=True, text=True, timeout=240)
    finally:
        assert a.wait(120) == 0, (tmp_path / "a.txt").read_text()[-3000:]
    assert b.returncode == 0, b.stdout[-3000:]
    assert "is in use by" in b.stdout and "waiting up to 180 s for it" in b.stdout
    assert started(tmp_path / "b", "started") >= started(tmp_path / "a", "finished")


def test_a_sigkilled_holder_frees_the_lab(twin, lab_path, tmp_path):
    a = start_holder(lab_path, tmp_path / "a", tmp_path / "a.txt")
    procs = [psutil.Process(a.pid), *psutil.Process(a.pid).children(recursive=True)]
    os.kill(a.pid, signal.SIGKILL)
    a.wait()
    _, alive = psutil.wait_procs(procs, timeout=60)  # its pytest stops by itself and lets go of the lab
    assert not [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]
    b = subprocess.run(hil_run(lab_path, tmp_path / "b", "--duty", "PSTN-CONNECT"), cwd=REPO,
                       capture_output=True, text=True, timeout=120)
    assert b.returncode == 0, b.stdout[-3000:]
