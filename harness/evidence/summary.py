"""The per-duty summary of a run: ``summary.json`` and ``summary.md``.

``summary.json``::

    {"lab": {"name", "site", "emulated", "inventory", "inventory_sha256"},
     "run": {"started", "finished" (ISO 8601 UTC), "harness_version", "commit", "profile"},
     "verdict": "PASS" | "PARTIAL" | "FAIL" | "BROKEN" | "NOT RUN", "exit_code": 0 | 1 | 3,
     "overall": "PASS (partial run: --duty NET-VOIP-HW)",   # the verdict as the table prints it
     "partial_run": bool, "selection": null | {"duty", "device", "keyword", "markexpr", "deselect",
                                               "ignore", "paths" (what was given), "text",
                                               "deselected", "not_run" (test counts)},
     "counts": {"<verdict>": number of duties},
     "duties": {"<ID>": {"title", "area", "group", "kind", "verdict", "automated", "reasons": [...],
                         "attestation": null | {"status", "text", "record"},
                         "tests": {"total", "passed", "failed", "broken", "skipped", "deselected", "not_run"},
                         "checks": [test names], "findings": [message, ...],
                         "skip_reasons": [...], "evidence": [measurement, ...], "thresholds": [...]}},
     "tests": [{"nodeid", "duty", "devices", "verdict", "message", "duration_s", "measurements",
                "failure", "explained_failure", "core", "skipped_for"}],
     "findings": [{"root": failure + {"checks"}, "inputs": [...],
                   "consequences": [failure + {"because", "checks"}, ...]}]}   # one per test

``findings`` is every failed test of the run grouped by root cause (:mod:`.findings`): a failure
whose shared inputs (an NTP server, a DNS name) failed their own check is listed as a consequence
under that root finding; every other failure is a finding of its own. A test is listed once under
each root its failed checks hang on (nearly always one), with those checks inside it (``checks``): a
DATA-ACCURACY row that disagrees and the count that fails the test are one entry. summary.md shows one
heading per finding, its consequences indented under it, each test once with its failed checks under
it. Grouping changes no verdict and no exit code.

A duty's ``automated`` verdict comes from its tests: FAIL when any failed; else BROKEN when any was
broken; else, when any passed, PASS only if every check that makes it up ran: PARTIAL when a core
check (``@pytest.mark.core``) was skipped, when some of its tests were deselected, or when some never
ran (the run stopped early), each with its reason in ``reasons``; else, when tests ran and all
skipped, PARTIAL when a core check among them was skipped for a run condition (``skipped_for``:
destructive without ``--allow-destructive``, outside the update window,
:mod:`harness.evidence.skips`; the inventory did not stand in its way), else SKIPPED,
with every skip reason in ``reasons`` (``skipped: …``) either way; else NOT SELECTED when all were
deselected; else ATTEST for duties only a person can confirm and NOT RUN for the rest (no scenario
checks it yet). Its ``attestation`` (hybrid and attest duties:
:func:`~harness.inventory.attestations.attestation_status`) is the second part of the verdict: a
hybrid duty whose automated part passed is PASS only when ATTESTED, else PARTIAL (reason: attestation
missing or expired); an attest duty is ATTEST, its attestation status beside it.

The overall verdict is the worst of the duties checked, FAIL before BROKEN before PARTIAL before PASS
(a duty found not met stands even when another part of the lab broke), and NOT RUN when no duty was
checked; a partial run (a selection, or tests that never ran) is never PASS: its verdict is PARTIAL
and ``overall`` reads ``PASS (partial run: -k voice_vlan)``. Exit codes: 1 when a duty failed, else 3
when the lab was broken, else 0 — PARTIAL, NOT SELECTED, SKIPPED and NOT RUN included: what a run did
not check is in ``verdict``, which CI that must certify reads (2, for usage and inventory errors, is
decided before or outside the summary).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import subprocess
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import __version__
from ..duties.catalogue import CATALOGUE, SOURCES, Duty
from ..inventory import LoadedLab
from ..inventory.attestations import Attestation, attestation_status
from .findings import group

VERDICTS = ("PASS", "PARTIAL", "FAIL", "BROKEN", "SKIPPED", "NOT SELECTED", "NOT RUN", "ATTEST")
#: the verdicts of a duty that was checked (the overall verdict is the worst of these)
CHECKED = ("FAIL", "BROKEN", "PARTIAL", "PASS")
MAX_EVIDENCE = 50  # measurements kept per duty in summary.md (all stay in summary.json's tests)


def _in_verdict_order(counts: Counter[str]) -> dict[str, int]:
    """``counts`` as a dict in :data:`VERDICTS` order (stable between runs), zero counts left out."""
    return {v: counts[v] for v in (*VERDICTS, *sorted(set(counts) - set(VERDICTS))) if counts[v]}


def duty_verdict(counts: Counter[str], kind: str) -> str:
    """The verdict of a duty's tests alone (no selection, core check or attestation): FAIL, BROKEN,
    PASS, SKIPPED, else ATTEST (attest duties) or NOT RUN."""
    for v in ("FAIL", "BROKEN", "PASS", "SKIPPED"):
        if counts[v]:
            return v
    return "ATTEST" if kind == "attest" else "NOT RUN"


def automated_verdict(rows: Sequence[Mapping[str, Any]], kind: str, *, deselected: int = 0, not_run: int = 0,
                      selection: str = "") -> tuple[str, list[str]]:
    """The verdict of a duty's automated part and why it is not complete (module docstring):
    ``rows`` its test records, ``deselected`` / ``not_run`` its tests left out by the selection or
    never run, ``selection`` the selection's text for the reason."""
    counts = Counter(r["verdict"] for r in rows)
    verdict = duty_verdict(counts, kind)
    whole = len(rows) + deselected + not_run
    how = f" ({selection})" if selection else ""
    reasons: list[str] = []
    if verdict == "PASS":
        reasons += [f"core check not run: {r['core']}" + (f" ({r['message']})" if r["message"] else "")
                    for r in rows if r.get("core") and r["verdict"] == "SKIPPED"]
        if deselected:
            reasons.append(f"selection: {deselected} of its {whole} tests deselected{how}")
        if not_run:
            reasons.append(f"run stopped early: {not_run} of its {whole} tests never ran")
        return ("PARTIAL" if reasons else "PASS"), reasons
    if verdict == "SKIPPED":
        reasons += [f"core check not run: {r['core']}" + (f" ({r['message']})" if r["message"] else "")
                    for r in rows if r.get("core") and r.get("skipped_for")]
        partial = bool(reasons)
        reasons += [f"skipped: {m}" for m in dict.fromkeys(r["message"] for r in rows
                                                             if r["message"] and not (r.get("core") and
                                                                                      r.get("skipped_for")))]
        if deselected:
            reasons.append(f"selection: {deselected} of its {whole} tests deselected{how}")
        if not_run:
            reasons.append(f"run stopped early: {not_run} of its {whole} tests never ran")
        return ("PARTIAL" if partial else "SKIPPED"), reasons
    if verdict in ("NOT RUN", "ATTEST") and not_run:
        return verdict, [f"run stopped early: none of its {not_run} tests ran"]
    if verdict in ("NOT RUN", "ATTEST") and deselected:
        return "NOT SELECTED", [f"selection: all {deselected} of its tests deselected"]
    return verdict, reasons


def exit_code(duties: dict[str, Any]) -> int:
    verdicts = {d["verdict"] for d in duties.values()}
    if "FAIL" in verdicts:
        return 1
    if "BROKEN" in verdicts:
        return 3
    return 0


def checked_verdict(duties: dict[str, Any]) -> str:
    """The worst verdict among the duties checked (FAIL, BROKEN, PARTIAL, PASS), else NOT RUN."""
    verdicts = {d["verdict"] for d in duties.values()}
    return next((v for v in CHECKED if v in verdicts), "NOT RUN")


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds")


def _commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=Path(__file__).resolve().parent, check=False)
    except OSError:
        return None
    return out.stdout.strip() or None


def _unique(items: list[str]) -> list[str]:
    """Each message once, with ``(× n)`` where it repeats (a dead device fails many tests alike)."""
    counts = Counter(items)
    return [m if counts[m] == 1 else f"{m} (× {counts[m]})" for m in dict.fromkeys(items)]


def build(loaded: LoadedLab, tests: list[dict[str, Any]], *, started: float, finished: float,
          profile: str | None = None, selection: dict[str, Any] | None = None,
          deselected: Mapping[str, int] | None = None, not_run: Mapping[str, int] | None = None,
          attestations: Sequence[Attestation] = ()) -> dict[str, Any]:
    """Assemble the summary from the plugin's per-test records, the tests deselected and never run
    per duty, the run's ``selection`` (``{}``/None: a full run) and the lab's attestation records
    (judged on the day the run finished, UTC)."""
    deselected, not_run = deselected or {}, not_run or {}
    sel_text = (selection or {}).get("text", "")
    today = datetime.fromtimestamp(finished, UTC).date()
    by_duty: dict[str, list[dict[str, Any]]] = {k: [] for k in CATALOGUE}
    for t in tests:
        by_duty.setdefault(t["duty"], []).append(t)
    duties: dict[str, Any] = {}
    for duty_id, rows in by_duty.items():
        d = CATALOGUE[duty_id]
        counts = Counter(r["verdict"] for r in rows)
        automated, reasons = automated_verdict(rows, d.kind, deselected=deselected.get(duty_id, 0),
                                               not_run=not_run.get(duty_id, 0), selection=sel_text)
        verdict, attestation = _with_attestation(d, automated, reasons, attestations, today)
        duties[duty_id] = {
            "title": d.title, "area": d.area, "group": d.group, "kind": d.kind,
            "verdict": verdict, "automated": automated, "reasons": reasons,
            "attestation": attestation,
            "tests": {"total": len(rows), "passed": counts["PASS"], "failed": counts["FAIL"],
                      "broken": counts["BROKEN"], "skipped": counts["SKIPPED"],
                      "deselected": deselected.get(duty_id, 0), "not_run": not_run.get(duty_id, 0)},
            "checks": list(dict.fromkeys(r["nodeid"].split("::")[-1].split("[")[0] for r in rows)),
            "findings": _unique([r["message"] for r in rows if r["verdict"] in ("FAIL", "BROKEN")]),
            "skip_reasons": _unique([r["message"] for r in rows if r["verdict"] == "SKIPPED" and r["message"]]),
            "evidence": [m for r in rows for m in r.get("measurements", [])],
            "thresholds": [{**asdict(t), "source_url": SOURCES.get(t.source)} for t in d.thresholds],
        }
    lab = loaded.lab.lab
    try:
        digest = hashlib.sha256(loaded.path.read_bytes()).hexdigest()
    except OSError:
        digest = None
    n_deselected, n_not_run = sum(deselected.values()), sum(not_run.values())
    partial = bool(selection) or bool(n_deselected) or bool(n_not_run)
    worst = checked_verdict(duties)
    verdict = "PARTIAL" if partial and worst == "PASS" else worst
    overall = worst + (f" (partial run: {_partial_because(sel_text, n_not_run)})" if partial else "")
    sel = {**(selection or {}), "deselected": n_deselected, "not_run": n_not_run} if partial else None
    return {
        "lab": {"name": lab.name, "site": lab.site, "emulated": lab.emulated, "inventory": str(loaded.path),
                "inventory_sha256": digest},
        "run": {"started": _iso(started), "finished": _iso(finished), "harness_version": __version__,
                "commit": _commit(), "profile": profile},
        "verdict": verdict, "exit_code": exit_code(duties), "overall": overall,
        "partial_run": partial, "selection": sel,
        "counts": _in_verdict_order(Counter(d["verdict"] for d in duties.values())),
        "duties": duties, "tests": tests, "findings": group(tests),
    }


def _with_attestation(duty: Duty, automated: str, reasons: list[str], records: Sequence[Attestation],
                      today: dt.date) -> tuple[str, dict[str, Any] | None]:
    """The duty's verdict once its attestation is weighed (hybrid and attest duties; the weaker part
    wins), and the attestation's status; ``reasons`` gains the attestation's when it lowers the verdict."""
    if duty.kind not in ("hybrid", "attest"):
        return automated, None
    status = attestation_status(records, duty.id, today)
    if duty.kind == "attest" and automated in ("ATTEST", "NOT SELECTED", "NOT RUN"):
        return "ATTEST", status.as_dict()
    if automated in ("PASS", "PARTIAL") and not status.valid:
        reasons.append(f"attestation: {status.describe()}")
        return "PARTIAL", status.as_dict()
    return automated, status.as_dict()


def _partial_because(selection: str, not_run: int) -> str:
    parts = [selection] if selection else []
    if not_run:
        parts.append(f"stopped early, {not_run} test{'s' if not_run != 1 else ''} never ran")
    return "; ".join(parts) or "tests deselected"


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>|#])")


def _md(text: object) -> str:
    """Text for Markdown, every special character escaped: evidence is shown as measured."""
    return _MD_SPECIAL.sub(r"\\\1", str(text)).replace("\n", " ")


def _value(v: Any, unit: str) -> str:
    if v is None:
        return "nothing"
    if isinstance(v, float):
        v = f"{v:.1f}"
    elif isinstance(v, list):
        v = "[" + ", ".join(str(x) for x in v) + "]"
    return f"{v} {unit}".rstrip()


def _evidence_line(m: dict[str, Any]) -> str:
    mark = "✓" if m["passed"] else "✗"
    if m["op"] == "observed":
        return f"  - {mark} {_md(m['device'])}: {_md(m['what'])} = {_md(_value(m['measured'], m['unit']))}"
    return (f"  - {mark} {_md(m['device'])}: {_md(m['what'])} = {_md(_value(m['measured'], m['unit']))}; "
            f"limit {m['op']} {_md(_value(m['limit'], m['unit']))} ({_md(m['source'])})")


def render_markdown(summary: dict[str, Any]) -> str:
    lab, run, counts = summary["lab"], summary["run"], summary["counts"]
    checked = sum(counts.get(v, 0) for v in CHECKED)
    tally = ", ".join(f"{counts[v]} {v}" for v in VERDICTS if counts.get(v))
    overall = summary.get("overall", summary["verdict"])
    out = [f"# Duty summary: {_md(lab['name'])} ({_md(lab['site'])})", "",
           f"**Overall: {_md(overall)}** for the {checked} {'duty' if checked == 1 else 'duties'} checked "
           f"({tally}).", "",
           f"- run: {run['started']} → {run['finished']} · hil {run['harness_version']}"
           + (f" ({run['commit']})" if run.get("commit") else ""),
           f"- inventory: `{lab['inventory']}` (sha256 {str(lab.get('inventory_sha256'))[:16]}…) · "
           f"emulated: {lab['emulated']} · requirement profile: {run.get('profile') or 'catalogue defaults'}"]
    sel = summary.get("selection")
    if sel:
        out.append(f"- **partial run**: {_md(sel.get('text') or 'no selection')} · {sel['deselected']} tests "
                   f"deselected, {sel['not_run']} never ran")
    out += ["",
            "A PASS covers the checks listed under the duty, not every part of its title, and means every one",
            "of them ran; PARTIAL means some passed and a core one did not run, or part of the duty was left",
            "out (see why); NOT SELECTED means this run's selection left the duty out; NOT RUN means no",
            "scenario checks that duty yet; ATTEST means only a person can confirm it. Hybrid duties show",
            "their automated evidence and their attestation apart; the duty takes the weaker.", "",
            "| duty | verdict | tests | passed | failed | broken | skipped | title | deselected | why |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for duty_id, d in summary["duties"].items():
        t = d["tests"]
        out.append(f"| {duty_id} | {d['verdict']} | {t['total']} | {t['passed']} | {t['failed']} | "
                   f"{t['broken']} | {t['skipped']} | {d['title']} | {t.get('deselected', 0)} | "
                   f"{_md('; '.join(d.get('reasons', [])))} |")
        for label, _, text in parts(d):
            out.append(f"| ↳ {label} | {_md(text)} | | | | | | | | |")
    out += _findings_markdown(summary.get("findings", []))
    ran = [(k, d) for k, d in summary["duties"].items()
           if d["tests"]["total"] or (d.get("attestation") or {}).get("record")]
    if ran:
        out += ["", "## Evidence per duty"]
        for duty_id, d in ran:
            out += ["", f"### {duty_id}: {d['verdict']}", ""]
            if d["checks"]:
                out.append(f"Checks: {', '.join(d['checks'])}")
            out += [f"- **{label}**: {_md(text)}" for label, _, text in parts(d)]
            out += [f"- **why {d['verdict']}**: {_md(r)}" for r in d.get("reasons", [])]
            out += [f"- **finding**: {_md(f)}" for f in d["findings"]]
            out += [f"- skipped: {_md(r)}" for r in d["skip_reasons"]]
            ev = d["evidence"]
            if ev:
                out += ["- measurements:"] + [_evidence_line(m) for m in ev[:MAX_EVIDENCE]]
                if len(ev) > MAX_EVIDENCE:
                    out.append(f"  - … {len(ev) - MAX_EVIDENCE} more in summary.json")
    return "\n".join(out) + "\n"


def _findings_markdown(findings: Sequence[Mapping[str, Any]]) -> list[str]:
    """The ``## Findings`` section: one heading per root finding, the root's test under it with its other
    failed checks under that root, then its consequences, each test once with its failed checks inside."""
    if not findings:
        return []
    grouped = sum(1 for f in findings if f["consequences"] or len(f["root"].get("checks", [])) > 1)
    out = ["", "## Findings", "",
           f"{len(findings)} {'finding' if len(findings) == 1 else 'findings'}"
           + (f", {grouped} of them the root cause of other failures (listed under it, each still FAIL)"
              if grouped else "") + "."]
    for n, f in enumerate(findings, 1):
        root = f["root"]
        out += ["", f"### {n}. {_md(root['message'])}", "", f"- test: {_md(root['nodeid'])}"]
        also = [c for c in root.get("checks", []) if c["because"]]  # the root itself used none it is under
        if also:
            out.append(f"- in the same test, failed with it ({len(also)}):")
            out += [f"  - {_md(c['message'])}" for c in also]
        if f["inputs"]:
            judged = (" (the checks above were judged with it)" if also else "") if not f["consequences"] else \
                " (the consequences below were judged with it)"
            out.append(f"- failed input: {_md(', '.join(f['inputs']))}{judged}")
        if f["consequences"]:
            n_checks = sum(len(c.get("checks", [c])) for c in f["consequences"])
            out.append(f"- consequences ({len(f['consequences'])} {'test' if len(f['consequences']) == 1 else 'tests'}"
                       + (f", {n_checks} failed checks" if n_checks != len(f["consequences"]) else "") + "):")
            for c in f["consequences"]:
                checks = c.get("checks", [c])
                if len(checks) == 1:
                    out.append(f"  - {_md(c['message'])} ({_md(c['nodeid'])})")
                else:
                    out.append(f"  - {_md(c['nodeid'])}, {len(checks)} failed checks:")
                    out += [f"    - {_md(k['message'])}" for k in checks]
    return out


def parts(duty: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The two parts of a hybrid duty's verdict (``automated evidence``, ``attestation``), or the
    attestation of an attest duty, as (label, status, text) triples (``("attestation", "ATTESTED",
    "ATTESTED by … until …")``); ``[]`` for an automated duty, and for a hybrid one neither checked
    nor attested."""
    att = duty.get("attestation")
    if not att:
        return []
    mine = [("attestation", att["status"], att["text"])]
    if duty["kind"] == "attest":
        return mine
    automated = duty.get("automated", duty["verdict"])
    if automated not in CHECKED and not att.get("record"):
        return []  # nothing checked, nothing attested: the duty's own row says all
    return [("automated evidence", automated, automated), *mine]


def write(out_dir: Path, summary: dict[str, Any]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    (out_dir / "summary.md").write_text(render_markdown(summary))
