"""Benchmark: SIPp load against the twin's PSTN simulator UAS — failed calls and the twin's CPU use.

Starts a twin of a copy of the shipped lab (addresses moved to ``$HIL_TEST_NET``, default 127.62
here), then runs ``PstnSimulator.sipp().originate`` (the ``uac_did`` template) ``--runs`` times and
prints counts, rate, retransmissions, setup-time percentiles and the twin process's CPU use read
from ``/proc/<pid>/stat`` (average, and the busiest 0.5 s window). Target (issue 4): 1,000 calls at
100 calls/s, zero failed, the twin under one core. Through the Edge once it routes calls; today
straight to the PSTN simulator's UAS.

Run: ``HIL_TEST_NET=127.62 .venv/bin/python bench/sipp_bench.py [--calls 1000 --cps 100 --runs 3]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("HIL_TEST_NET", "127.62")

from harness.devices.base import LabSession  # noqa: E402
from harness.inventory import load  # noqa: E402
from harness.twin import manager  # noqa: E402
from tests.conftest import make_test_lab  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    """utime + stime of a process, seconds (/proc/<pid>/stat fields 14 and 15)."""
    f = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()
    return (int(f[11]) + int(f[12])) / TICK


def sample_peak(pid: int, stop: threading.Event, peak: list[float]) -> None:
    """Busiest 0.5 s window of ``pid``'s CPU use (fraction of one core) into ``peak[0]`` until ``stop``."""
    last_t, last_c = time.monotonic(), cpu_s(pid)
    while not stop.wait(0.5):
        t, c = time.monotonic(), cpu_s(pid)
        peak[0] = max(peak[0], (c - last_c) / (t - last_t))
        last_t, last_c = t, c


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=1000)
    ap.add_argument("--cps", type=int, default=100)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    lab = make_test_lab(Path(tempfile.mkdtemp(prefix="sipp-bench-")))
    manager.up(lab)
    ok = True
    try:
        state = manager.read_state(lab)
        assert state is not None, "the twin wrote no state file"
        pid = int(state["pid"])
        pstn = LabSession(load(lab)).driver("pstn1")
        dev = pstn.device
        for i in range(a.runs):
            peak, stop = [0.0], threading.Event()
            th = threading.Thread(target=sample_peak, args=(pid, stop, peak))
            c0, t0 = cpu_s(pid), time.monotonic()
            th.start()
            r = pstn.sipp().originate(f"{dev.host}:{dev.sip.port}", "+13175550100", calls=a.calls, rate_cps=a.cps)
            stop.set()
            th.join()
            c1, t1 = cpu_s(pid), time.monotonic()
            rt = r.response_times
            ok = ok and r.complete and (c1 - c0) / (t1 - t0) < 1.0
            print(f"run {i + 1}: {r.counts()}; exit {r.exit_code}; {r.rate_achieved_cps:.1f} cps; "
                  f"{r.retransmissions} retrans; setup p50/p95/p99/max {rt.p50_ms:g}/{rt.p95_ms:g}/{rt.p99_ms:g}/"
                  f"{rt.max_ms:g} ms; SIPp wall {r.wall_time_s:.2f} s; twin CPU {c1 - c0:.2f} s = "
                  f"{(c1 - c0) / (t1 - t0) * 100:.1f} % of one core (peak 0.5 s window {peak[0] * 100:.0f} %)")
    finally:
        manager.down(lab)
    print(f"target: every call successful, twin under one core: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
