"""The per-duty summary of a run: ``summary.json`` and ``summary.md``.

``summary.json``::

    {"lab": {"name", "site", "emulated", "inventory", "inventory_sha256"},
     "run": {"started", "finished" (ISO 8601 UTC), "harness_version", "commit", "profile"},
     "verdict": "PASS" | "FAIL" | "BROKEN" | "NOT RUN", "exit_code": 0 | 1 | 3,
     "counts": {"<verdict>": number of duties},
     "duties": {"<ID>": {"title", "area", "group", "kind", "verdict",
                         "tests": {"total", "passed", "failed", "broken", "skipped"},
                         "checks": [test names], "findings": [message, ...],
                         "skip_reasons": [...], "evidence": [measurement, ...], "thresholds": [...]}},
     "tests": [{"nodeid", "duty", "devices", "verdict", "message", "duration_s", "measurements"}]}

Duty verdicts: FAIL when any test failed; else BROKEN when any was broken; else PASS when any
passed; else SKIPPED when tests existed but all skipped; else ATTEST for duties only a person can
confirm and NOT RUN for the rest. The overall verdict is the worst of the duties that ran (FAIL
before BROKEN: a duty found not met stands even when another part of the lab broke), and NOT RUN
when no duty was checked at all. Exit codes: 1 when a duty failed, else 3 when the lab was broken,
else 0 (2, for usage and inventory errors, is decided before or outside the summary).
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from collections import Counter
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import __version__
from ..duties.catalogue import CATALOGUE, SOURCES
from ..inventory import LoadedLab

VERDICTS = ("PASS", "FAIL", "BROKEN", "SKIPPED", "NOT RUN", "ATTEST")
MAX_EVIDENCE = 50  # measurements kept per duty in summary.md (all stay in summary.json's tests)


def _in_verdict_order(counts: Counter[str]) -> dict[str, int]:
    """``counts`` as a dict in :data:`VERDICTS` order (stable between runs), zero counts left out."""
    return {v: counts[v] for v in (*VERDICTS, *sorted(set(counts) - set(VERDICTS))) if counts[v]}


def duty_verdict(counts: Counter[str], kind: str) -> str:
    for v in ("FAIL", "BROKEN", "PASS", "SKIPPED"):
        if counts[v]:
            return v
    return "ATTEST" if kind == "attest" else "NOT RUN"


def exit_code(duties: dict[str, Any]) -> int:
    verdicts = {d["verdict"] for d in duties.values()}
    if "FAIL" in verdicts:
        return 1
    if "BROKEN" in verdicts:
        return 3
    return 0


def _overall(duties: dict[str, Any]) -> str:
    verdicts = {d["verdict"] for d in duties.values()}
    for v in ("FAIL", "BROKEN", "PASS"):
        if v in verdicts:
            return v
    return "NOT RUN"


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
          profile: str | None = None) -> dict[str, Any]:
    """Assemble the summary from the plugin's per-test records."""
    by_duty: dict[str, list[dict[str, Any]]] = {k: [] for k in CATALOGUE}
    for t in tests:
        by_duty.setdefault(t["duty"], []).append(t)
    duties: dict[str, Any] = {}
    for duty_id, rows in by_duty.items():
        d = CATALOGUE[duty_id]
        counts = Counter(r["verdict"] for r in rows)
        duties[duty_id] = {
            "title": d.title, "area": d.area, "group": d.group, "kind": d.kind,
            "verdict": duty_verdict(counts, d.kind),
            "tests": {"total": len(rows), "passed": counts["PASS"], "failed": counts["FAIL"],
                      "broken": counts["BROKEN"], "skipped": counts["SKIPPED"]},
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
    return {
        "lab": {"name": lab.name, "site": lab.site, "emulated": lab.emulated, "inventory": str(loaded.path),
                "inventory_sha256": digest},
        "run": {"started": _iso(started), "finished": _iso(finished), "harness_version": __version__,
                "commit": _commit(), "profile": profile},
        "verdict": _overall(duties), "exit_code": exit_code(duties),
        "counts": _in_verdict_order(Counter(d["verdict"] for d in duties.values())),
        "duties": duties, "tests": tests,
    }


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
    checked = sum(counts.get(v, 0) for v in ("PASS", "FAIL", "BROKEN"))
    tally = ", ".join(f"{counts[v]} {v}" for v in VERDICTS if counts.get(v))
    out = [f"# Duty summary: {_md(lab['name'])} ({_md(lab['site'])})", "",
           f"**Overall: {summary['verdict']}** for the {checked} {'duty' if checked == 1 else 'duties'} checked "
           f"({tally}).", "",
           f"- run: {run['started']} → {run['finished']} · hil {run['harness_version']}"
           + (f" ({run['commit']})" if run.get("commit") else ""),
           f"- inventory: `{lab['inventory']}` (sha256 {str(lab.get('inventory_sha256'))[:16]}…) · "
           f"emulated: {lab['emulated']} · requirement profile: {run.get('profile') or 'catalogue defaults'}", "",
           "A PASS covers the checks listed under the duty, not every part of its title; NOT RUN means no",
           "scenario checks that duty yet; ATTEST means only a person can confirm it.", "",
           "| duty | verdict | tests | passed | failed | broken | skipped | title |",
           "|---|---|---|---|---|---|---|---|"]
    for duty_id, d in summary["duties"].items():
        t = d["tests"]
        out.append(f"| {duty_id} | {d['verdict']} | {t['total']} | {t['passed']} | {t['failed']} | "
                   f"{t['broken']} | {t['skipped']} | {d['title']} |")
    ran = [(k, d) for k, d in summary["duties"].items() if d["tests"]["total"]]
    if ran:
        out += ["", "## Evidence per duty"]
        for duty_id, d in ran:
            out += ["", f"### {duty_id}: {d['verdict']}", "", f"Checks: {', '.join(d['checks'])}"]
            out += [f"- **finding**: {_md(f)}" for f in d["findings"]]
            out += [f"- skipped: {_md(r)}" for r in d["skip_reasons"]]
            ev = d["evidence"]
            if ev:
                out += ["- measurements:"] + [_evidence_line(m) for m in ev[:MAX_EVIDENCE]]
                if len(ev) > MAX_EVIDENCE:
                    out.append(f"  - … {len(ev) - MAX_EVIDENCE} more in summary.json")
    return "\n".join(out) + "\n"


def write(out_dir: Path, summary: dict[str, Any]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    (out_dir / "summary.md").write_text(render_markdown(summary))
