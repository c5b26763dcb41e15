"""A plain `pytest scenarios` run holds the lab like `hil run` does (hil_pytest.holds): refused or waiting
while another run holds it, naming it; holding it against `hil run`; and holding its --hil-summary folder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from filelock import FileLock

from harness import lease
from harness.inventory import load
from tests.conftest import REPO, wait_for

pytestmark = pytest.mark.timeout(300)


def scenarios(lab_path: Path, out: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "pytest", str(REPO / "scenarios"), f"--inventory={lab_path}", f"--hil-summary={out}",
            "-p", "no:cacheprovider", "-q", f"--rootdir={REPO}", *args]


def wait_held(lab_path: Path) -> lease.Holder:
    who = wait_for(lambda: lease.holder(lease.lab_id(load(lab_path).lab.lab), backend=lease.for_inventory(lab_path)),
                   60)
    assert who is not None
    return who


def test_plain_pytest_waits_for_or_is_refused_a_lab_hil_run_holds(twin, lab_path, tmp_path):
    a = subprocess.Popen([sys.executable, "-m", "harness.cli", "run", "--inventory", str(lab_path), "--reports",
                          str(tmp_path / "a"), "--no-html", "--duty", "PSTN-CAPACITY"], cwd=REPO,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_held(lab_path)
        r = subprocess.run(scenarios(lab_path, tmp_path / "b", "--duty", "PSTN-CONNECT"), cwd=REPO,
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 4, r.stdout[-2000:] + r.stderr[-2000:]
        assert "is in use by" in r.stderr and f"pid {a.pid} (hil run" in r.stderr, r.stderr[-2000:]
        r = subprocess.run(scenarios(lab_path, tmp_path / "c", "--duty", "PSTN-CONNECT", "--wait-lab", "180"),
                           cwd=REPO, capture_output=True, text=True, timeout=240)
        assert r.returncode == 0 and a.poll() == 0, r.stdout[-2000:] + r.stderr[-2000:]
    finally:
        a.wait(120)


def test_hil_run_is_refused_a_lab_plain_pytest_holds(twin, lab_path, tmp_path):
    p = subprocess.Popen(scenarios(lab_path, tmp_path / "a", "--duty", "PSTN-CAPACITY"), cwd=REPO,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        who = wait_held(lab_path)
        assert who.pid == p.pid and who.command.startswith("pytest ") and who.reports == str(tmp_path / "a")
        r = subprocess.run([sys.executable, "-m", "harness.cli", "run", "--inventory", str(lab_path), "--reports",
                            str(tmp_path / "b"), "--no-html"], cwd=REPO, capture_output=True, text=True, timeout=120)
        assert r.returncode == 2 and f"pid {p.pid} (pytest " in r.stdout.replace("\n", ""), r.stdout[-2000:]
    finally:
        p.wait(120)


def test_plain_pytest_holds_its_summary_folder(twin, lab_path, tmp_path):
    out = tmp_path / "r"
    out.mkdir()
    with FileLock(str(out / ".hil-run.lock")):
        r = subprocess.run(scenarios(lab_path, out, "--duty", "PSTN-CONNECT"), cwd=REPO, capture_output=True,
                           text=True, timeout=120)
    assert r.returncode == 4 and f"another hil run is writing {out}" in r.stderr, r.stderr[-2000:]
    assert not (out / "summary.json").exists()
