"""Benchmark: one full carrier interop checklist (PSTN-INTEROP) run with the SIP probe, wall clock.

Starts a twin of a copy of the shipped lab (addresses moved to ``$HIL_TEST_NET``, default 127.63
here), then runs ``pytest scenarios --duty=PSTN-INTEROP`` ``--runs`` times in a subprocess (as
``hil run --duty PSTN-INTEROP`` does) and prints each run's wall time, the slowest checklist
tests, and the median. Target (issue 4): a full interop checklist run in <= 30 s.

Run: ``HIL_TEST_NET=127.63 .venv/bin/python bench/interop_bench.py [--runs 5]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("HIL_TEST_NET", "127.63")

from harness.twin import manager  # noqa: E402
from tests.conftest import make_test_lab  # noqa: E402
from tests.scenario_runner import run_scenarios  # noqa: E402

TARGET_S = 30.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="interop-bench-"))
    lab = make_test_lab(tmp / "lab")
    manager.up(lab)
    walls = []
    ok = True
    try:
        time.sleep(2.0)  # the phones register at start
        for i in range(a.runs):
            t0 = time.perf_counter()
            r = run_scenarios(lab, tmp / f"out{i}", "--duty=PSTN-INTEROP")
            wall = time.perf_counter() - t0
            walls.append(wall)
            tests = r.tests("PSTN-INTEROP")
            verdicts = sorted({t["verdict"] for t in tests.values()})
            slow = sorted(tests.values(), key=lambda t: -t["duration_s"])[:3]
            ok = ok and r.verdict("PSTN-INTEROP") == "PASS"
            print(f"run {i + 1}: {wall:.2f} s wall for {len(tests)} checklist tests ({', '.join(verdicts)}); "
                  "slowest: " + ", ".join(f"{t['nodeid'].split('::')[-1]} {t['duration_s']:.2f} s" for t in slow))
    finally:
        manager.down(lab)
    med = statistics.median(walls)
    met = ok and med <= TARGET_S
    print(f"median {med:.2f} s over {len(walls)} runs (min {min(walls):.2f}, max {max(walls):.2f}); "
          f"target <= {TARGET_S:g} s with every item PASS: {'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
