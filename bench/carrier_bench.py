"""Benchmark: SIPp load straight at ``hil carrier serve`` — failed calls, the carrier's CPU, and
the cost of its call log (the file it keeps written, the HTTP answer).

Starts ``hil carrier serve`` on ``$HIL_TEST_NET.9.1`` (default 127.62) with a call log file and
its HTTP server, then runs SIPp's ``uac_did`` template from ``$HIL_TEST_NET.9.2`` (this machine's
SIPp) ``--runs`` times at the carrier's echo number, and prints counts, rate, setup-time
percentiles, the carrier process's CPU use (``/proc/<pid>/stat``: average, busiest 0.5 s window)
and the time one ``GET /calls.csv`` takes with the log at that size. Stops the carrier with
SIGTERM and checks it exits 0.

Run: ``HIL_TEST_NET=127.62 .venv/bin/python bench/carrier_bench.py [--calls 1000 --cps 100 --runs 3]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
NET = os.environ.setdefault("HIL_TEST_NET", "127.62")

import httpx  # noqa: E402

from bench.sipp_bench import cpu_s, sample_peak  # noqa: E402
from harness.transports.sipp.hosts import LocalHost  # noqa: E402
from harness.transports.sipp.runner import SippRunner  # noqa: E402
from harness.transports.transcript import Transcript  # noqa: E402

ECHO = "+13175559000"
TOKEN = "carrier-bench-token-0b1c2d"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=1000)
    ap.add_argument("--cps", type=int, default=100)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-file", action="store_true", help="no call log file (HTTP only): its cost apart")
    a = ap.parse_args()
    host, peer = f"{NET}.9.1", f"{NET}.9.2"
    folder = Path(tempfile.mkdtemp(prefix="carrier-bench-"))
    (folder / "token").write_text(TOKEN + "\n")
    (folder / "carrier.yaml").write_text(f"""name: bench
sip: {{host: {host}, port: 5060}}
echo_numbers: ["{ECHO}"]
call_log: {{file: {"null" if a.no_file else "calls.csv"}, http: {{host: {host}, port: 8088, token: file:token}}}}
""")
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "carrier", "serve", "--config",
                             str(folder / "carrier.yaml")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    while "ready" not in (line := proc.stdout.readline()):
        if not line:
            raise SystemExit("the carrier did not start")
    ok = True
    try:
        runner = SippRunner("bench", LocalHost(), peer, Transcript("bench sipp"))
        for i in range(a.runs):
            peak, stop = [0.0], threading.Event()
            th = threading.Thread(target=sample_peak, args=(proc.pid, stop, peak))
            c0, t0 = cpu_s(proc.pid), time.monotonic()
            th.start()
            r = runner.originate(f"{host}:5060", ECHO, calls=a.calls, rate_cps=a.cps, caller="+13175557777")
            stop.set()
            th.join()
            c1, t1 = cpu_s(proc.pid), time.monotonic()
            g0 = time.perf_counter()
            log = httpx.get(f"http://{host}:8088/calls.csv", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
            get_s = time.perf_counter() - g0
            rows = log.text.count("\n") - 1
            rt = r.response_times
            ok = ok and r.complete and (c1 - c0) / (t1 - t0) < 1.0
            setup = f"{rt.p50_ms:g}/{rt.p95_ms:g}/{rt.p99_ms:g}/{rt.max_ms:g} ms" if rt is not None else "n/a"
            print(f"run {i + 1}: {r.counts()}; exit {r.exit_code}; {r.rate_achieved_cps:.1f} cps; "
                  f"{r.retransmissions} retrans; setup p50/p95/p99/max {setup}; SIPp wall {r.wall_time_s:.2f} s; "
                  f"carrier CPU {c1 - c0:.2f} s = {(c1 - c0) / (t1 - t0) * 100:.1f} % of one core "
                  f"(peak 0.5 s window {peak[0] * 100:.0f} %); GET /calls.csv {rows} rows in {get_s * 1000:.0f} ms")
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
        print(f"carrier stopped: exit {proc.returncode}; {out.strip().splitlines()[-1]}")
        ok = ok and proc.returncode == 0
        shutil.rmtree(folder, ignore_errors=True)
    print(f"target: every call successful, carrier under one core, clean stop: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
