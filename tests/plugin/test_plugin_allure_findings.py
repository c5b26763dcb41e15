"""The Allure results tell the findings' story of summary.json, through pytester and allure-pytest (no
device I/O): a consequence that runs before its root is tagged when pytest ends, and a test whose own
check judged the input is the root, tagged as nobody's consequence, in Allure and in pytest's report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.plugin.conftest import run, write_scenario

pytest_plugins = ["pytester"]

SCENARIO = """
import pytest
from harness.evidence.check import RECORD, Measurement, check, intent

@pytest.mark.duty('SEC-TOLL-FRAUD')
def test_a_wire():
    # runs first: the input it used has not failed yet
    check(1, intent('leaks', 0), duty='SEC-TOLL-FRAUD', device='edge1', what='leaks', inputs_used=['list x'])

@pytest.mark.duty('SEC-TOLL-FRAUD')
def test_b_list():
    # judges the input (a row, recorded) and fails on a count that used it: the root, in one test
    RECORD.add(Measurement('SEC-TOLL-FRAUD', 'cloud', 'row', 'a', '==', 'b', '', 'org', False, '', ('list x',), ()))
    check(1, intent('missing', 0), duty='SEC-TOLL-FRAUD', device='cloud', what='count', inputs_used=['list x'])

@pytest.mark.duty('SEC-TOLL-FRAUD')
def test_c_after():
    # runs after the root: noted at test time too
    check(2, intent('leaks', 0), duty='SEC-TOLL-FRAUD', device='edge1', what='late', inputs_used=['list x'])
"""


def _results(allure_dir: Path) -> dict[str, dict[str, Any]]:
    out = {}
    for p in allure_dir.glob("*-result.json"):
        r = json.loads(p.read_text())
        out[r["name"]] = r
    return out


def test_allure_tags_the_consequences_of_the_runs_findings_whatever_the_order(pytester, labdir, tmp_path):
    write_scenario(pytester, SCENARIO)
    allure_dir, summary_dir = tmp_path / "allure", tmp_path / "out"
    r = run(pytester, labdir, f"--hil-summary={summary_dir}", f"--alluredir={allure_dir}", "-p", "no:randomly")
    r.assert_outcomes(failed=3)
    findings = json.loads((summary_dir / "summary.json").read_text())["findings"]
    (f,) = findings
    assert f["root"]["nodeid"].endswith("test_b_list") and f["root"]["what"] == "row", f
    root_msg = f["root"]["message"]
    res = _results(allure_dir)
    for name in ("test_a_wire", "test_c_after"):
        details = res[name]["statusDetails"]["message"]
        assert details.count("\nconsequence of: ") == 1 and details.endswith(f"\nconsequence of: {root_msg}"), details
        (att,) = [a for a in res[name]["attachments"] if a["name"] == "root cause"]
        assert (allure_dir / att["source"]).read_text().startswith(root_msg), att
        labels = {lb["name"]: lb["value"] for lb in res[name]["labels"]}
        assert labels["nodeid"] == f"scenarios/test_s.py::{name}", labels
    root = res["test_b_list"]
    assert "consequence of" not in root["statusDetails"]["message"], root["statusDetails"]
    assert "consequence of" not in root["statusDetails"]["trace"], root["statusDetails"]  # pytest's report agrees
    assert not any(a["name"] == "root cause" for a in root.get("attachments", [])), root["attachments"]
    # pytest's report: the later consequence is noted at once, the root is not
    # (the failures section: the short summary repeats the message in full where CI is set, pytest >= 8)
    out = r.stdout.str().split("short test summary info")[0]
    assert out.count("consequence of: ") == 1 and "consequence of: [SEC-TOLL-FRAUD] cloud: row" in out, out
