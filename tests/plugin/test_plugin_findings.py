"""The plugin's records for the findings (harness.evidence.findings), through pytester (no device I/O):
a FAIL test that judged a shared input in one check and failed on another keeps the message of the
check that failed it, and the input's root is that first check."""

from __future__ import annotations

import json

import pytest

from tests.plugin.conftest import run, write_scenario

pytest_plugins = ["pytester"]


def test_a_test_that_judged_an_input_keeps_its_own_message(pytester, labdir, tmp_path):
    write_scenario(pytester, """
import pytest
from harness.evidence.check import RECORD, Measurement, check, intent

@pytest.mark.duty('DATA-ACCURACY')
def test_rows_then_count():
    # a row that disagrees (recorded, not raised) judges the input; the count fails the test
    RECORD.add(Measurement('DATA-ACCURACY', 'edge1', 'row', 'a', '==', 'b', '', 'org', False, '', ('input x',), ()))
    check(1, intent('disagreements', 0), duty='DATA-ACCURACY', device='edge1', what='count', inputs_used=['input x'])
""")
    summary_dir = tmp_path / "out"
    r = run(pytester, labdir, f"--hil-summary={summary_dir}")
    assert r.ret == pytest.ExitCode.TESTS_FAILED
    s = json.loads((summary_dir / "summary.json").read_text())
    (t,) = [t for t in s["tests"] if t["nodeid"].endswith("test_rows_then_count")]
    assert t["verdict"] == "FAIL" and t["message"].startswith("[DATA-ACCURACY] edge1: count = 1"), t["message"]
    (f,) = s["findings"]
    assert f["root"]["what"] == "row" and f["inputs"] == ["input x"], f
    # the test once: the root's test, its count (a consequence of its own row) inside it
    assert [(c["what"], c["because"]) for c in f["root"]["checks"]] == [("row", []), ("count", ["input x"])], f
    assert f["consequences"] == [], f
