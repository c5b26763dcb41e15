"""Run the shipped scenarios against a twin in a subprocess and read the duty summary back."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


@dataclass
class ScenarioRun:
    returncode: int
    output: str
    summary: dict[str, Any]

    def tests(self, duty: str | None = None) -> dict[str, dict[str, Any]]:
        """Test records by test id (``test_name[device]``), optionally of one duty."""
        return {t["nodeid"].split("::")[-1]: t for t in self.summary["tests"] if duty is None or t["duty"] == duty}

    def fails(self, test: str, *parts: str) -> str:
        """Assert that ``test`` (a key of :meth:`tests`) is FAIL and its message holds every one of
        ``parts``; return the message."""
        rec = self.tests()[test]
        assert rec["verdict"] == "FAIL", (test, rec)
        message = str(rec["message"])
        for part in parts:
            assert part in message, (test, part, message)
        return message

    def verdict(self, duty: str) -> str:
        return str(self.summary["duties"][duty]["verdict"])


def run_scenarios(inventory: Path, out: Path, *args: str, timeout_s: float = 300) -> ScenarioRun:
    cmd = [sys.executable, "-m", "pytest", str(REPO / "scenarios"), f"--inventory={inventory}",
           f"--hil-summary={out}", "-p", "no:cacheprovider", "-q", "--tb=short", f"--rootdir={REPO}", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False, cwd=REPO)
    summary_file = out / "summary.json"
    if not summary_file.exists():
        raise AssertionError(f"no summary (rc {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return ScenarioRun(proc.returncode, proc.stdout + proc.stderr, json.loads(summary_file.read_text()))
