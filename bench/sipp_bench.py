"""Benchmark: SIPp load through the twin's Edge (or straight at its PSTN simulator) — failed calls
and the twin's CPU use.

Starts a twin of a copy of the shipped lab (addresses moved to ``$HIL_TEST_NET``, default 127.62
here; the trunk's ``max_calls`` set to 0, unlimited, since this measures throughput, not the
limit), then runs ``PstnSimulator.sipp().originate`` (the ``uac_did`` template, from the carrier's
address) ``--runs`` times and prints counts, rate, retransmissions, setup-time percentiles and the
twin process's CPU use read from ``/proc/<pid>/stat`` (average, and the busiest 0.5 s window).

``--target edge`` (default): calls to a DID on the Edge's trunk port; the Edge routes each one by
its dial plan to the phone, which rings 0.1 s and answers; media is anchored on the Edge. ``--target
pstn``: calls straight to the PSTN simulator's UAS. Target (issue 4): through the Edge, 1,000 calls
at 100 calls/s, zero failed, the twin under one core.

Run: ``HIL_TEST_NET=127.62 .venv/bin/python bench/sipp_bench.py [--calls 1000 --cps 100 --runs 3 --target edge]``.
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

from harness.devices.drivers.pstn import PstnSimulator  # noqa: E402
from harness.devices.session import LabSession  # noqa: E402
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
    ap.add_argument("--target", choices=("edge", "pstn"), default="edge")
    a = ap.parse_args()
    text = (REPO / "lab_inventory.yaml").read_text().replace("max_calls: 10 ", "max_calls: 0 ")
    lab = make_test_lab(Path(tempfile.mkdtemp(prefix="sipp-bench-")), text)
    manager.up(lab)
    ok = True
    try:
        state = manager.read_state(lab)
        assert state is not None, "the twin wrote no state file"
        pid = int(state["pid"])
        session = LabSession(load(lab))
        pstn = session.driver("pstn1", PstnSimulator)
        dev = session.lab.devices["edge1" if a.target == "edge" else "pstn1"]
        if dev.sip is None:
            raise SystemExit(f"{dev.role} of the bench lab declares no sip settings")
        if a.target == "edge":
            time.sleep(2.0)  # the phones register at start
        for i in range(a.runs):
            peak, stop = [0.0], threading.Event()
            th = threading.Thread(target=sample_peak, args=(pid, stop, peak))
            c0, t0 = cpu_s(pid), time.monotonic()
            th.start()
            r = pstn.sipp().originate(f"{dev.host}:{dev.sip.port}", "+13175550100", calls=a.calls, rate_cps=a.cps,
                                      caller="+13175557777")
            stop.set()
            th.join()
            c1, t1 = cpu_s(pid), time.monotonic()
            rt = r.response_times
            ok = ok and r.complete and (c1 - c0) / (t1 - t0) < 1.0
            setup = (f"{rt.p50_ms:g}/{rt.p95_ms:g}/{rt.p99_ms:g}/{rt.max_ms:g} ms" if rt is not None
                     else "not measured (no call reached the RTD's end)")
            print(f"run {i + 1}: {r.counts()}; exit {r.exit_code}; {r.rate_achieved_cps:.1f} cps; "
                  f"{r.retransmissions} retrans; setup p50/p95/p99/max {setup}; "
                  f"SIPp wall {r.wall_time_s:.2f} s; twin CPU {c1 - c0:.2f} s = "
                  f"{(c1 - c0) / (t1 - t0) * 100:.1f} % of one core (peak 0.5 s window {peak[0] * 100:.0f} %)")
    finally:
        manager.down(lab)
    print(f"target: every call successful, twin under one core: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
