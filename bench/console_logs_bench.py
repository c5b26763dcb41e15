"""Benchmark: a 5 MB Edge log bundle over the twin's serial console with ``console-noise`` on.

Starts a twin of a copy of the shipped lab (addresses moved to ``$HIL_TEST_NET``, default 127.65
here), gives ``edge1`` a log volume of ``--kb`` KiB (fault ``log-volume``, default 5120: a bundle of
about 5 MB) and then, ``--runs`` times each, collects a bundle with ``Edge.collect_logs``:

* ``console+noise``: XMODEM-1K on the serial console with the ``console-noise`` fault on;
* ``console``: the same on a quiet line (what the noise costs);
* ``ssh``: SFTP over SSH, for comparison.

Every bundle is checked by the driver (SHA-256 against the Edge's manifest, tar members against its
file list) and hashed again here. Prints per path the median time on the wire, the median
throughput (kB/s, 1 kB = 1000 bytes), the retransmitted XMODEM blocks and the bundle size; exits 1
if any bundle did not arrive intact. Target (issue 5): received intact, checksum verified,
throughput reported.

Run: ``HIL_TEST_NET=127.65 .venv/bin/python bench/console_logs_bench.py [--runs 3 --kb 5120]``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("HIL_TEST_NET", "127.65")

from harness.devices.drivers.edge import Edge  # noqa: E402
from harness.devices.drivers.edge_logs_cli import LogBundle  # noqa: E402
from harness.errors import LabError  # noqa: E402
from harness.inventory import load  # noqa: E402
from harness.twin import manager  # noqa: E402
from tests.conftest import make_test_lab  # noqa: E402


def run_path(edge: Edge, twin: manager.TwinControl, path: str, noise: bool, runs: int, kb: int, dest: Path
             ) -> list[LogBundle | LabError]:
    """``runs`` collections over ``path`` (``console+noise``, ``console``, ``ssh``); bundles or errors."""
    if noise:
        twin.fault("edge1", "console-noise")
    out: list[LogBundle | LabError] = []
    try:
        for i in range(runs):
            try:
                b = edge.collect_logs("console" if path.startswith("console") else "ssh", dest=dest / f"{path}-{i}")
                assert hashlib.sha256(b.path.read_bytes()).hexdigest() == b.sha256 == b.announced_sha256
                out.append(b)
                print(f"  {path:<14} run {i + 1}: {b.size_bytes} bytes in {b.seconds:.2f} s = "
                      f"{b.throughput_kBps:.0f} kB/s, {b.retransmitted_blocks} blocks retransmitted, intact")
            except LabError as e:
                out.append(e)
                print(f"  {path:<14} run {i + 1}: NOT INTACT: {e}")
    finally:
        if noise:
            twin.heal("edge1")  # heals every fault of edge1: put the log volume back
            twin.fault("edge1", "log-volume", str(kb))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--kb", type=int, default=5120, help="the Edge's log volume in KiB (bundle size)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="hil-logs-bench-") as tmp:
        lab = make_test_lab(Path(tmp) / "lab")
        manager.up(lab)
        try:
            loaded = load(lab)
            twin = manager.TwinControl(lab)
            twin.fault("edge1", "log-volume", str(args.kb))
            edge = Edge("edge1", loaded.lab.devices["edge1"], loaded)
            results: dict[str, list[LogBundle | LabError]] = {}
            try:
                for path, noise in (("console+noise", True), ("console", False), ("ssh", False)):
                    results[path] = run_path(edge, twin, path, noise, args.runs, args.kb, Path(tmp))
            finally:
                edge.close()
        finally:
            manager.down(lab)
    print(f"\n{'path':<14} {'runs':>4} {'intact':>6} {'size MB':>8} {'median s':>9} {'median kB/s':>12} "
          f"{'retransmitted (per run)':>24}")
    bad = 0
    for path, rs in results.items():
        ok = [r for r in rs if isinstance(r, LogBundle)]
        bad += len(rs) - len(ok)
        if not ok:
            print(f"{path:<14} {len(rs):>4} {0:>6}")
            continue
        print(f"{path:<14} {len(rs):>4} {len(ok):>6} {statistics.median(b.size_bytes for b in ok) / 1e6:>8.2f} "
              f"{statistics.median(b.seconds for b in ok):>9.2f} "
              f"{statistics.median(b.throughput_kBps for b in ok):>12.0f} "
              f"{', '.join(str(b.retransmitted_blocks) for b in ok):>24}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
