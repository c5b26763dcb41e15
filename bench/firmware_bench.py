"""Benchmark of the phone firmware rollout (MAINT-PHONE-FIRMWARE) against the twin.

``--phones`` twin phones (SNMP v2c, SIP registered at one Edge) on ``127.62.3.x``, one Edge and one
provisioning server; each run upgrades every phone from 6.4.3 to 6.4.4 with
:func:`harness.devices.procedures.firmware_rollout.rollout`: a canary, then waves of ``--wave-size`` phones with
``--wave-size`` at once (image check, config write, check-sync, away, back, re-registered at the
Edge, as the twin's emulated Genesys Cloud API shows it). Between runs the twin is healed (every
phone back on 6.4.3). The twin's boot time is ``harness.twin.phone.firmware.BOOT_S``.

Figure (issue 5): total time within 20 % of (waves x one phone's upgrade time), where one phone's
upgrade time is the canary's (a wave of one phone) and waves counts the canary's wave. Medians of
``--runs`` are printed.

Run: ``.venv/bin/python bench/firmware_bench.py [--phones 50 --wave-size 10 --runs 3]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.common import timed, twin_lab  # noqa: E402
from harness.devices.drivers.edge import Edge  # noqa: E402
from harness.devices.procedures.firmware_rollout import Timeouts, rollout  # noqa: E402
from harness.devices.session import LabSession  # noqa: E402
from harness.duties.profile import FirmwareTarget  # noqa: E402
from harness.twin import manager  # noqa: E402
from harness.twin.phone.firmware import BOOT_S  # noqa: E402
from harness.twin.provisioning.images import image_sha256  # noqa: E402

NET = "127.62"
PLATFORM, OLD, NEW = "generic_sip_phone", "6.4.3", "6.4.4"


def inventory_text(phones: int) -> str:
    lines = [
        "lab: {name: firmware-bench, site: bench, emulated: true}",
        f"cloud: {{base_url: 'http://{NET}.6.1:8443', client_id: hil-bench-client,"
        " client_secret: 'file:twin_secrets/cloud_client_secret', timeout_s: 5}",
        "defaults:",
        "  ssh: {port: 2222, username: admin, password: 'file:twin_secrets/ssh_password',",
        "        known_hosts: .hil/known_hosts, timeout_s: 10}",
        "  snmp: {version: '2c', port: 1161, community: 'file:twin_secrets/snmp_community', timeout_s: 2,"
        " retries: 1}",
        "devices:",
        "  edge1:",
        "    role: edge",
        "    platform: genesys_edge",
        f"    host: {NET}.1.1",
        "    sip: {port: 5060, phone_port: 8060}",
        "    facts: {firmware: 2026.11.1, model: Genesys Edge (virtual), serial: VE-000001}",
        "  prov1:",
        "    role: provisioning",
        "    platform: http_provisioning",
        f"    host: {NET}.5.1",
        "    ssh: null",
        "    snmp: null",
        "    http: {port: 8080, username: provision, password: 'file:twin_secrets/http_password'}",
    ]
    for n in range(1, phones + 1):
        lines += [f"  ph{n:03d}:", "    role: phone", f"    platform: {PLATFORM}", f"    host: {NET}.3.{n}",
                  "    ssh: null",
                  "    sip: {port: 5060, transport: udp, registrar: edge1, password: 'file:twin_secrets/sip_password'}",
                  f"    facts: {{mac: '00:04:f2:62:00:{n:02x}', extension: '{2000 + n}', model: VVX 450,"
                  f" firmware: {OLD}}}"]
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--phones", type=int, default=50)
    ap.add_argument("--wave-size", type=int, default=10)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--table", action="store_true", help="print the per-phone table of each run")
    a = ap.parse_args()
    with twin_lab("hil-firmware-bench-", inventory_text(a.phones)) as (lab, loaded, up_s):
        print(f"\n== twin up with {a.phones} phones, one Edge, one provisioning server in {up_s:.2f} s "
              f"(phone boot {BOOT_S:g} s)")
        control = manager.TwinControl(lab)
        target = FirmwareTarget(version=NEW, url=f"http://{NET}.5.1:8080/firmware/{PLATFORM}-{NEW}.bin",
                                sha256=image_sha256(PLATFORM, NEW))
        phones = sorted(n for n, d in loaded.lab.devices.items() if d.role == "phone")
        totals, ones, ratios, walls = [], [], [], []
        ok = True
        for run in range(a.runs):
            control.heal_all()  # every phone back on OLD, configs forgotten
            session = LabSession(loaded)
            try:
                session.driver("edge1", Edge).registered_phones()  # API login outside the timing
                wall, report = timed(partial(rollout, session, phones, target, wave_size=a.wave_size,
                                             concurrency=a.wave_size,
                                             timeouts=Timeouts(away_s=30, back_s=30, register_s=60)))
            finally:
                session.close()
            bad = [u for u in report.phones if not u.ok]
            if bad or report.stopped:
                print(report.table())
                ok = False
                break
            if a.table:
                print(report.table())
            one = report.phones[0].total_s or 0.0
            waves = len(report.waves)
            ratio = report.total_s / (waves * one)
            totals.append(report.total_s)
            ones.append(one)
            ratios.append(ratio)
            walls.append(wall)
            per_wave = [max(u.total_s or 0.0 for u in report.phones if u.wave == w) for w in range(waves)]
            print(f"run {run + 1}: total {report.total_s:.2f} s, {waves} waves, one phone {one:.2f} s, "
                  f"ratio {ratio:.3f}; waves {', '.join(f'{t:.2f}' for t in per_wave)} s; "
                  f"registered {max(u.registered_s or 0 for u in report.phones):.2f} s at most after check-sync")
        if not ok:
            print("rollout failed; no figures")
            return 1
        mt, mo, mr = statistics.median(totals), statistics.median(ones), statistics.median(ratios)
        waves = len(report.waves)
        print(f"median total {mt:.2f} s over {a.runs} run(s); one phone {mo:.2f} s; waves {waves}; "
              f"waves x one phone {waves * mo:.2f} s; median ratio {mr:.3f}")
        met = abs(mr - 1.0) <= 0.20
        print(f"target total within 20 % of waves x one phone: {'met' if met else 'NOT met'}")
        return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
