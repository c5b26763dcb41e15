"""Benchmarks of the access-switch driver against the twin: port audit and provisioning.

``audit``: ``--switches`` twin switches (48 ports each, every port cabled to a phone) on
``127.61.2.x``; times :func:`harness.devices.drivers.switch.audit_switches` (all switches at once, CLI and
SNMP views, fresh sessions every run, login included) against the same audits one switch after
the other. Target (issue 3): 10 switches x 48 ports in <= 10 s and >= 5x faster than sequential.

``provision``: one switch with 48 phone ports. Each run first puts all 48 ports in the wrong state
(not timed, another session), then times a new session's login, ``Provisioner.apply`` of the
inventory's intent and the verification read (``Switch.audit``: both views), counting SSH logins
and config batches; then restores (timed apart), checks the running-config equals the one before
line for line, and recovers the set-up's journal. Target: <= 10 s, one SSH session, one config batch.

Run: ``.venv/bin/python bench/switch_bench.py audit [--switches 10 --runs 5]`` and
``.venv/bin/python bench/switch_bench.py provision [--runs 5]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.common import one_by_one, timed, twin_lab  # noqa: E402
from harness.devices.drivers.switch import Switch, SwitchAudit, audit_switches  # noqa: E402
from harness.devices.procedures.switch_provisioning import Provisioner, switch_intent  # noqa: E402
from harness.devices.session import LabSession  # noqa: E402
from harness.errors import LabError  # noqa: E402
from harness.inventory import LoadedLab  # noqa: E402
from harness.transports.cli import SwitchCli  # noqa: E402

NET = "127.61"
PORTS = 48


def inventory_text(switches: int, show_ms: float = 0.0, snmp_ms: float = 0.0) -> str:
    lines = [
        "lab: {name: switch-bench, site: bench, emulated: true}",
        f"twin: {{cli_show_ms: {show_ms}, snmp_response_ms: {snmp_ms}}}",
        "defaults:",
        "  ssh: {port: 2222, username: admin, password: 'file:twin_secrets/ssh_password',",
        "        enable_secret: 'file:twin_secrets/enable_secret', known_hosts: .hil/known_hosts, timeout_s: 10}",
        "  snmp: {version: '2c', port: 1161, community: 'file:twin_secrets/snmp_community', timeout_s: 2,"
        " retries: 1}",
        "devices:",
    ]
    for s in range(1, switches + 1):
        lines += [f"  sw{s:02d}:", "    role: switch", "    platform: cisco_ios", f"    host: {NET}.2.{s}",
                  "    facts: {model: WS-C3850-48P, firmware: 16.12.4, voice_vlan: 100, voice_vlan_name: VOICE,"
                  " data_vlan: 10}"]
        for p in range(1, PORTS + 1):  # phones without transports: the twin cables them, serves nothing
            n = (s - 1) * PORTS + p
            lines += [f"  ph{n:04d}:", "    role: phone", "    platform: generic_sip_phone",
                      f"    host: {NET}.{3 + n // 250}.{n % 250 + 1}", "    snmp: null",
                      f"    facts: {{mac: '00:04:f2:{s:02x}:00:{p:02x}', extension: '{10000 + n}',"
                      f" switch_port: {{switch: sw{s:02d}, port: GigabitEthernet1/0/{p}}}}}"]
    return "\n".join(lines) + "\n"


@contextmanager
def bench_lab(switches: int, show_ms: float = 0.0, snmp_ms: float = 0.0) -> Iterator[tuple[Path, LoadedLab]]:
    with twin_lab("hil-switch-bench-", inventory_text(switches, show_ms, snmp_ms)) as (lab, loaded, up_s):
        print(f"\n== twin up with {switches} switches x {PORTS} ports in {up_s:.2f} s "
              f"(switch CLI answers a show after {show_ms:g} ms, SNMP after {snmp_ms:g} ms)")
        yield lab, loaded


def _switches(session: LabSession) -> list[Switch]:
    return [session.driver(n, Switch) for n, d in session.lab.devices.items() if d.role == "switch"]


def _fresh(loaded: LoadedLab, fn: Callable[[list[Switch]], object]) -> tuple[float, object]:
    session = LabSession(loaded)
    try:
        return timed(lambda: fn(_switches(session)))
    finally:
        session.close()


def sequential(switches: list[Switch]) -> dict[str, SwitchAudit | LabError]:
    return one_by_one(switches, lambda sw: sw.audit())


def audit_once(a: argparse.Namespace, show_ms: float, snmp_ms: float) -> bool:
    with bench_lab(a.switches, show_ms, snmp_ms) as (_, loaded):
        _, warm = _fresh(loaded, audit_switches)  # template compile, first logins
        assert isinstance(warm, dict)
        bad = {n: r for n, r in warm.items() if isinstance(r, LabError)}
        assert not bad, f"switches that failed: {bad}"
        ports = sum(len(r.cli) for r in warm.values() if not isinstance(r, LabError))
        gaps = sum(len(r.disagreements) for r in warm.values() if not isinstance(r, LabError))
        conc = [_fresh(loaded, audit_switches)[0] for _ in range(a.runs)]
        seq = [_fresh(loaded, sequential)[0] for _ in range(a.runs)]
        mc, ms = statistics.median(conc), statistics.median(seq)
        print(f"ports audited per run: {ports} (CLI and SNMP views; {gaps} disagreements)")
        print(f"concurrent: median {mc:.2f} s (runs {', '.join(f'{t:.2f}' for t in conc)})")
        print(f"sequential: median {ms:.2f} s (runs {', '.join(f'{t:.2f}' for t in seq)})")
        print(f"ratio sequential/concurrent: {ms / mc:.1f}x")
        ok = mc <= 10 and ms / mc >= 5
        print(f"target <= 10 s and >= 5x: {'met' if ok else 'NOT met'}")
        return ok


def audit(a: argparse.Namespace) -> int:
    results = []
    for pair in a.device_ms.split(","):
        show_ms, _, snmp_ms = pair.partition("/")
        results.append(audit_once(a, float(show_ms), float(snmp_ms or 0)))
    return 0 if all(results) else 1


def _wrong_state(ports: list[str]) -> list[str]:
    out = []
    for p in ports:
        out += [f"interface {p}", "no switchport voice vlan", "no switchport access vlan", "no mls qos trust",
                "no spanning-tree portfast", "no network-policy 1", "power inline never"]
    return out


def _logins(sw: Switch) -> int:
    """SSH logins recorded so far in the switch's CLI transcript (it outlives sessions)."""
    assert sw.device.ssh is not None
    tr = sw.transcript("cli", f"{sw.device.host}:{sw.device.ssh.port}")
    return sum(1 for _, d, text in tr.entries if d == "!" and text.startswith("connect "))


def provision(a: argparse.Namespace) -> int:
    batches = 0
    real_batch = SwitchCli.config_batch

    def counting(self: SwitchCli, lines: list[str], timeout_s: float | None = None) -> object:
        nonlocal batches
        batches += 1
        return real_batch(self, lines, timeout_s)

    SwitchCli.config_batch = counting  # type: ignore[assignment,method-assign]
    with bench_lab(1) as (lab, loaded):
        want = switch_intent(loaded.lab, "sw01")
        ports = [p.interface for p in want.ports]
        setup_journals, bench_journals = lab.parent / "setup-journal", lab.parent / "bench-journal"
        times, restores, lines_sent, batches_per_run, logins = [], [], 0, 0, 0
        for _ in range(a.runs):
            setup = LabSession(loaded)  # not timed: every phone port put in the wrong state
            try:
                disturb = Provisioner(setup.driver("sw01", Switch), setup_journals)
                disturb.send_lines(_wrong_state(ports))
                disturb.release()
            finally:
                setup.close()
            session = LabSession(loaded)
            try:
                sw = session.driver("sw01", Switch)
                logins_before, batches = _logins(sw), 0
                t0 = time.perf_counter()  # timed: login, plan, one batch, both views read back
                prov = Provisioner(sw, bench_journals)
                applied = prov.apply(want)
                verified = sw.audit()
                t = time.perf_counter() - t0
                batches_per_run, lines_sent = batches, len(applied.lines)
                logins = _logins(sw) - logins_before
                assert batches == 1 and logins == 1, f"{batches} config batches, {logins} SSH logins"
                wrong = [p for p in ports if verified.cli[p].voice_vlan != 100 or verified.cli[p].trust != "dscp"
                         or (verified.snmp or {})[p].voice_vlan != 100]
                assert not wrong, f"not provisioned: {wrong}"
                assert prov.apply(want).lines == [], "second apply is not empty"
                t0 = time.perf_counter()
                r = prov.restore()  # back to the wrong state this run started from
                restores.append(time.perf_counter() - t0)
                assert r.exact, r.remaining
                back = Provisioner(sw, setup_journals).recover(write=True)  # and to the twin's own config
                assert back is not None and back.restore is not None and back.restore.exact
                times.append(t)
            finally:
                session.close()
        m = statistics.median(times)
        print(f"provision + verify {len(want.ports)} ports: {lines_sent} lines in {batches_per_run} batch; SSH logins "
              f"per run: {logins}; median {m:.2f} s (runs {', '.join(f'{t:.2f}' for t in times)})")
        print(f"restore (read, diff, one batch, read, compare): median {statistics.median(restores):.2f} s; "
              "running-config equal to the one before, line for line, after every run")
        ok = m <= 10
        print(f"target <= 10 s, one session, one batch: {'met' if ok else 'NOT met'}")
        return 0 if ok else 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="what", required=True)
    pa = sub.add_parser("audit")
    pa.add_argument("--switches", type=int, default=10)
    pa.add_argument("--runs", type=int, default=5)
    pa.add_argument("--device-ms", default="0/0,100/20",
                    help="comma-separated SHOW_MS/SNMP_MS pairs: the twin's cli_show_ms and snmp_response_ms")
    pp = sub.add_parser("provision")
    pp.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    return audit(a) if a.what == "audit" else provision(a)


if __name__ == "__main__":
    raise SystemExit(main())
