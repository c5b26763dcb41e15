"""The per-duty summary of a run: ``summary.json`` and ``summary.md``.

``summary.json``::

    {"lab": {"name", "site", "emulated", "inventory"}, "started", "finished",
     "verdict": "PASS" | "FAIL" | "BROKEN" | ..., "exit_code": 0 | 1 | 3,
     "duties": {"<ID>": {"title", "area", "group", "kind", "verdict",
                         "tests": {"total", "passed", "failed", "broken", "skipped"},
                         "findings": [message, ...], "thresholds": [...]}},
     "tests": [{"nodeid", "duty", "devices", "verdict", "message", "duration_s", "measurements"}]}

Duty verdicts: FAIL when any test failed; else BROKEN when any was broken; else PASS when any
passed; else SKIPPED when tests existed but all skipped; else ATTEST for duties only a person can
confirm and NOT RUN for the rest. Exit codes: 1 when a duty failed, else 3 when the lab was
broken, else 0 (2, for usage and inventory errors, is decided before a run starts).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..duties.catalogue import CATALOGUE, SOURCES
from ..inventory import LoadedLab

VERDICTS = ("PASS", "FAIL", "BROKEN", "SKIPPED", "NOT RUN", "ATTEST")


def duty_verdict(counts: Counter[str], kind: str) -> str:
    if counts["FAIL"]:
        return "FAIL"
    if counts["BROKEN"]:
        return "BROKEN"
    if counts["PASS"]:
        return "PASS"
    if counts["SKIPPED"]:
        return "SKIPPED"
    return "ATTEST" if kind == "attest" else "NOT RUN"


def exit_code(duties: dict[str, Any]) -> int:
    verdicts = {d["verdict"] for d in duties.values()}
    if "FAIL" in verdicts:
        return 1
    if "BROKEN" in verdicts:
        return 3
    return 0


def build(loaded: LoadedLab, tests: list[dict[str, Any]], *, started: float, finished: float) -> dict[str, Any]:
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
            "findings": [r["message"] for r in rows if r["verdict"] in ("FAIL", "BROKEN")],
            "thresholds": [{**asdict(t), "source_url": SOURCES.get(t.source)} for t in d.thresholds],
        }
    code = exit_code(duties)
    lab = loaded.lab.lab
    return {
        "lab": {"name": lab.name, "site": lab.site, "emulated": lab.emulated, "inventory": str(loaded.path)},
        "started": started, "finished": finished,
        "verdict": {0: "PASS", 1: "FAIL", 3: "BROKEN"}[code], "exit_code": code,
        "duties": duties, "tests": tests,
    }


def render_markdown(summary: dict[str, Any]) -> str:
    lab = summary["lab"]
    out = [f"# Duty summary: {lab['name']} ({lab['site']})", "",
           f"Overall: **{summary['verdict']}** · emulated: {lab['emulated']} · inventory: `{lab['inventory']}`", "",
           "| duty | verdict | tests | passed | failed | broken | skipped | title |",
           "|---|---|---|---|---|---|---|---|"]
    for duty_id, d in summary["duties"].items():
        t = d["tests"]
        out.append(f"| {duty_id} | {d['verdict']} | {t['total']} | {t['passed']} | {t['failed']} | "
                   f"{t['broken']} | {t['skipped']} | {d['title']} |")
    findings = [(k, f) for k, d in summary["duties"].items() for f in d["findings"]]
    if findings:
        out += ["", "## Findings", ""] + [f"- **{k}**: {f.replace('|', '/')}" for k, f in findings]
    return "\n".join(out) + "\n"


def write(out_dir: Path, summary: dict[str, Any]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
    (out_dir / "summary.md").write_text(render_markdown(summary))
