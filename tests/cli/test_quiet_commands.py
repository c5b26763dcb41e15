"""No third-party warning reaches a user: the ``hil`` command (the installed entry point) and the twin
it starts print none (harness/third_party_warnings.py filters them before the libraries load)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.twin import manager
from tests.conftest import make_test_lab

HIL = shutil.which("hil", path=str(Path(sys.executable).parent)) or "hil"
#: what a user's shell gives: no warning options of ours or of the test run
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}


def hil(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([HIL, *map(str, args)], capture_output=True, text=True, timeout=300, check=False,
                          cwd=cwd, env=ENV)


def test_fault_list_inventory_check_duties_and_status_print_no_warning(tmp_path: Path) -> None:
    lab = make_test_lab(tmp_path / "lab")  # no twin runs for it: status says so, exit 3
    for args, code in ((("lab", "fault", "--list"), 0), (("inventory", "check", lab), 0), (("duties",), 0),
                       (("lab", "status", "--inventory", lab), 3)):
        r = hil(*args, cwd=tmp_path)
        assert r.returncode == code, (args, r.stdout, r.stderr)
        assert "Warning" not in r.stderr and "Warning" not in r.stdout, (args, r.stderr)


@pytest.mark.twin
def test_run_and_its_twin_print_no_warning(twin: manager.TwinControl, lab_path: Path, tmp_path: Path) -> None:
    r = hil("run", "--inventory", lab_path, "--reports", tmp_path / "reports", "--no-html",
            "--duty", "MAINT-VERSION-MATRIX", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Warning" not in r.stderr and "Warning" not in r.stdout
    assert "Warning" not in manager.log_file(lab_path).read_text()
