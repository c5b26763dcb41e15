"""JUnit XML that keeps the harness's two kinds of bad news apart.

pytest writes every exception in a test's body as ``<failure>``. CI dashboards read ``<failure>`` as
"the product is wrong" and ``<error>`` as "the test could not run": this rewrites the test cases
the duty summary calls BROKEN (lab errors, harness errors) as ``<error>`` and fixes the counts.
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
