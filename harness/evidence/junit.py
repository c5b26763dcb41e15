"""JUnit XML that keeps the harness's two kinds of bad news apart, and carries the duty verdicts.

pytest writes every exception in a test's body as ``<failure>``. CI dashboards read ``<failure>`` as
"the product is wrong" and ``<error>`` as "the test could not run": :func:`broken_as_errors` rewrites
the test cases the duty summary calls BROKEN (lab errors, harness errors, a FAIL the lab explains) as
``<error>`` and fixes the counts. JUnit has no verdict for a duty, nor for a run that is partial:
:func:`add_verdicts` writes them as ``<properties>`` of each test suite (``hil.verdict``,
``hil.overall``, ``hil.selection``, and ``hil.duty.<ID>`` = ``PARTIAL: <reason>`` …).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any


def _case_key(nodeid: str) -> tuple[str, str]:
    """``scenarios/pstn/test_x.py::test_y[pstn1]`` -> ``("scenarios.pstn.test_x", "test_y[pstn1]")``."""
    path, _, name = nodeid.partition("::")
    return path.removesuffix(".py").replace("/", "."), name.replace("::", ".")


def broken_as_errors(junit: Path, summary: dict[str, Any]) -> int:
    """Rewrite ``<failure>`` as ``<error>`` for BROKEN tests; returns how many were rewritten."""
    broken = {_case_key(t["nodeid"]) for t in summary.get("tests", []) if t["verdict"] == "BROKEN"}
    if not broken or not junit.is_file():
        return 0
    tree = ET.parse(junit)
    changed = 0
    for suite in tree.iter("testsuite"):
        moved = 0
        for case in suite.iter("testcase"):
            key = (case.get("classname", ""), case.get("name", ""))
            failure = case.find("failure")
            if failure is not None and key in broken:
                failure.tag = "error"
                moved += 1
        if moved:
            suite.set("failures", str(int(suite.get("failures", "0")) - moved))
            suite.set("errors", str(int(suite.get("errors", "0")) + moved))
            changed += moved
    if changed:
        tree.write(junit, encoding="utf-8", xml_declaration=True)
    return changed


def verdict_properties(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """(name, value) of the run's verdicts: ``hil.verdict``, ``hil.overall``, ``hil.selection`` (a
    partial run's), then ``hil.duty.<ID>`` for every duty checked, selected out or attested, its
    verdict followed by its reasons and its attestation."""
    props = [("hil.verdict", str(summary.get("verdict", ""))), ("hil.overall", str(summary.get("overall", "")))]
    if sel := summary.get("selection"):
        props.append(("hil.selection", str(sel.get("text") or "")))
    for duty_id, d in summary.get("duties", {}).items():
        if d["verdict"] == "NOT RUN" and not d.get("attestation"):
            continue
        notes = [*d.get("reasons", [])]
        if (att := d.get("attestation")) and not any(n.startswith("attestation:") for n in notes):
            notes.append(f"attestation: {att['text']}")
        props.append((f"hil.duty.{duty_id}", d["verdict"] + (": " + "; ".join(notes) if notes else "")))
    return props


def add_verdicts(junit: Path, summary: dict[str, Any]) -> bool:
    """Write :func:`verdict_properties` into every ``<testsuite>`` of ``junit`` (replacing earlier
    ``hil.*`` properties); False when the file does not exist."""
    if not junit.is_file():
        return False
    tree = ET.parse(junit)
    props = verdict_properties(summary)
    for suite in tree.iter("testsuite"):
        holder = suite.find("properties")
        if holder is None:
            holder = ET.Element("properties")
            suite.insert(0, holder)
        for old in [p for p in holder.findall("property") if p.get("name", "").startswith("hil.")]:
            holder.remove(old)
        for name, value in props:
            ET.SubElement(holder, "property", name=name, value=value)
    tree.write(junit, encoding="utf-8", xml_declaration=True)
    return True
