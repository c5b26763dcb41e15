"""Benchmark: firmware audit of 200 emulated phones over SNMPv3 authPriv, concurrent vs one at a time.

Generates an inventory of ``--phones`` phones on ``127.60.x.y`` in a temp dir (with a copy of the
twin's secrets), starts the lab twin for it, then times over ``--runs`` runs:

(a) :func:`harness.devices.drivers.phone.firmware_audit` of all phones (concurrent, ``--limit`` in flight);
(b) ``Phone.info()`` on each phone in turn;
(c) with ``--down`` phones stopped (the ``down`` fault): once concurrent, once sequential, where each
    dead phone costs one timeout (in parallel in (c) concurrent, back to back in (c) sequential).

Prints medians and ratios. Target (project brief): (a) ≤ 2 s for 200 phones and ≥ 10× faster than
(b). Each configuration of ``--response-ms`` (the twin's ``snmp_response_ms``: 0 answers at
once, 20 is an embedded agent's processing time) gets its own twin.
Run: ``.venv/bin/python bench/snmp_firmware_audit.py [--phones 200 --runs 5 --down 5 --response-ms 0,20]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.common import one_by_one, timed, twin_lab  # noqa: E402
from harness.devices.drivers.phone import Phone, firmware_audit  # noqa: E402
from harness.errors import LabError  # noqa: E402
from harness.twin import manager  # noqa: E402

NET = "127.60"  # away from the shipped lab (127.0) and the test nets


def inventory_text(phones: int, response_ms: float = 0.0) -> str:
    lines = [
        "lab: {name: snmp-bench, site: bench, emulated: true}",
        f"twin: {{snmp_response_ms: {response_ms}}}",
        "defaults:",
        "  snmp: {version: '3', port: 1161, user: labuser, auth_protocol: SHA,",
        "         auth_key: 'file:twin_secrets/snmp_auth_key', priv_protocol: AES,",
        "         priv_key: 'file:twin_secrets/snmp_priv_key', timeout_s: 1, retries: 1}",
        "devices:",
    ]
    for i in range(phones):
        x, y = divmod(i, 250)
        lines += [f"  p{i + 1:03d}:",
                  f"    role: phone\n    platform: generic_sip_phone\n    host: {NET}.{x + 1}.{y + 1}",
                  f"    facts: {{mac: '00:04:f2:01:{i // 256:02x}:{i % 256:02x}', extension: '{2000 + i}',"
                  f" model: VVX 450, firmware: 6.4.3}}"]
    return "\n".join(lines) + "\n"


def sequential(drivers: list[Phone]) -> dict[str, object]:
    return one_by_one(drivers, lambda d: d.firmware())


def bench(a: argparse.Namespace, response_ms: float) -> tuple[float, float]:
    """One configuration: its own twin, its own inventory; returns the two medians."""
    with twin_lab("hil-snmp-bench-", inventory_text(a.phones, response_ms)) as (lab, loaded, up_s):
        print(f"\n== agent response time {response_ms:g} ms: twin up with {a.phones} phones in {up_s:.2f} s")
        drivers = [Phone(n, d, loaded) for n, d in loaded.lab.devices.items()]
        warm = firmware_audit(drivers, limit=a.limit)  # engine-ID discovery, then timed runs
        bad = [n for n, r in warm.items() if isinstance(r, LabError)]
        assert not bad, f"phones that did not answer: {bad[:5]}"
        conc = [timed(lambda: firmware_audit(drivers, limit=a.limit))[0] for _ in range(a.runs)]
        seq = [timed(lambda: sequential(drivers))[0] for _ in range(a.runs)]
        mc, ms = statistics.median(conc), statistics.median(seq)
        print(f"(a) concurrent audit, {a.phones} phones, limit {a.limit}: median {mc:.3f} s "
              f"(runs: {', '.join(f'{t:.3f}' for t in conc)})")
        print(f"(b) one at a time:                 median {ms:.3f} s "
              f"(runs: {', '.join(f'{t:.3f}' for t in seq)})")
        print(f"    ratio (b)/(a): {ms / mc:.1f}x; per phone: {1000 * mc / a.phones:.2f} ms concurrent, "
              f"{1000 * ms / a.phones:.2f} ms sequential")
        if a.down:
            ctl = manager.TwinControl(lab)
            dead = [d.name for d in drivers[:: max(1, a.phones // a.down)][: a.down]]
            for n in dead:
                ctl.fault(n, "down")
            tc = timed(lambda: firmware_audit(drivers, limit=a.limit))[0]
            ts = timed(lambda: sequential(drivers))[0]
            for n in dead:
                ctl.heal(n)
            print(f"(c) with {len(dead)} phones down: concurrent {tc:.3f} s, one at a time {ts:.3f} s, "
                  f"ratio {ts / tc:.1f}x")
        ok = mc <= 2.0 and ms / mc >= 10
        print(f"target (a) <= 2 s and >= 10x: {'met' if ok else 'NOT met'}")
        return mc, ms


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--phones", type=int, default=200)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--limit", type=int, default=50, help="concurrent GETs in flight")
    ap.add_argument("--down", type=int, default=5, help="phones stopped for part (c); 0 skips it")
    ap.add_argument("--response-ms", default="0,20,30",
                    help="comma-separated agent response times to bench (twin setting snmp_response_ms)")
    a = ap.parse_args()
    for value in a.response_ms.split(","):
        bench(a, float(value))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
