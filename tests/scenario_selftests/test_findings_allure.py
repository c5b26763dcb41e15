"""Allure tells the findings' story of summary.md, from the same findings, against the twin:

* ``prefix-block-missing=+1900`` on cloud: SEC-TOLL-FRAUD's wire test (the premium call reaching the
  carrier) runs BEFORE the org's Block List check, its root; its Allure result still names the root
  (``consequence of: …``, a ``root cause`` attachment, the category "Duty not met: consequence of a
  root cause"), and the root's does not. ``hil report``'s report files them so.
* ``edge-offline`` on edge1: DATA-ACCURACY's Edge comparison (OFFLINE in the org while its SIP answers)
  runs before INET-ACCESS's ``onlineStatus`` check, its root: tagged the same way.
* ``edge-record-version=edge1:2026.1.0`` on cloud: DATA-ACCURACY's Edge comparison judges the record's
  version (its root row) and fails on its count, which used it: the test is the root, never tagged as
  a consequence of its own finding; the version matrix's failures are its consequences."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.evidence.allure_report_data import categories
from tests.scenario_runner import ScenarioRun, run_scenarios

pytestmark = pytest.mark.timeout(300)

ALLURE = Path(__file__).resolve().parents[2] / "node_modules" / ".bin" / "allure"
CONSEQUENCE = "Duty not met: consequence of a root cause"
TOLL = "scenarios/security/test_toll_fraud.py::"
WIRE = f"{TOLL}test_blocked_prefixes_never_reach_the_carrier[edge1]"
ORG_BLOCKS = f"{TOLL}test_org_block_list_holds_every_prefix_barred_for_all_stations[edge1]"
EDGE_ROW = "scenarios/data/test_data_accuracy.py::test_edge_records_match_the_edges_on_the_wire[edge1]"
MATRIX = "scenarios/maintenance/test_version_matrix.py::"
ONLINE = "scenarios/network/test_internet.py::test_edge_is_online_and_traces_to_genesys[edge1]"


def _results(allure_dir: Path) -> dict[str, dict[str, Any]]:
    """The Allure results of the run by pytest node id (the plugin's ``nodeid`` label)."""
    out = {}
    for p in allure_dir.glob("*-result.json"):
        r = json.loads(p.read_text())
        out[next(lb["value"] for lb in r["labels"] if lb["name"] == "nodeid")] = r
    return out


def _tagged_with(result: dict[str, Any], root_message: str, allure_dir: Path) -> None:
    message = result["statusDetails"]["message"]
    assert message.endswith(f"\nconsequence of: {root_message}"), message
    (att,) = [a for a in result["attachments"] if a["name"] == "root cause"]
    assert (allure_dir / att["source"]).read_text().startswith(root_message), att


def _untagged(result: dict[str, Any]) -> None:
    assert result["status"] == "failed" and "consequence of" not in result["statusDetails"]["message"], result
    assert not any(a["name"] == "root cause" for a in result.get("attachments", [])), result["attachments"]


def _order(r: ScenarioRun) -> list[str]:
    return [t["nodeid"] for t in r.summary["tests"]]


def test_a_consequence_that_runs_before_its_root_names_it_in_allure(twin, lab_path, out):
    twin.fault("cloud", "prefix-block-missing", "+1900")
    allure_dir = out / "allure-results"
    r = run_scenarios(lab_path, out, "--duty=SEC-TOLL-FRAUD", "-k", "never_reach or org_block_list",
                      f"--alluredir={allure_dir}")
    r.fails(WIRE.split("::")[-1], "[SEC-TOLL-FRAUD] edge1", "premium +1900 reached pstn1")
    r.fails(ORG_BLOCKS.split("::")[-1], "[SEC-TOLL-FRAUD] cloud prefix Block List")
    assert _order(r).index(WIRE) < _order(r).index(ORG_BLOCKS), _order(r)  # the consequence ran first
    (f,) = r.summary["findings"]
    assert f["root"]["nodeid"] == ORG_BLOCKS and {c["nodeid"] for c in f["consequences"]} == {WIRE}, f
    res = _results(allure_dir)
    _tagged_with(res[WIRE], f["root"]["message"], allure_dir)
    _untagged(res[ORG_BLOCKS])
    if not ALLURE.exists():
        pytest.skip("npm allure is not installed (`make setup`): the report is not generated")
    proc = subprocess.run([sys.executable, "-c", "from harness.cli import app; app()", "report", "--reports", str(out)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    cats = categories(out / "allure-report.html")
    assert cats[CONSEQUENCE] == {res[WIRE]["name"]}, cats
    assert cats["Duty not met"] == {res[ORG_BLOCKS]["name"]}, cats


def test_the_root_test_is_never_a_consequence_of_its_own_finding_in_allure(twin, lab_path, out):
    twin.fault("cloud", "edge-record-version", "edge1:2026.1.0")
    allure_dir = out / "allure-results"
    r = run_scenarios(lab_path, out, "--duty=DATA-ACCURACY", "--duty=MAINT-VERSION-MATRIX", "-k",
                      "edge_records_match or test_edge_runs_an_approved_version or compatible_with_its_edge",
                      f"--alluredir={allure_dir}")
    failed = {t["nodeid"] for t in r.summary["tests"] if t["verdict"] == "FAIL"}
    matrix = {n for n in failed if n.startswith(MATRIX)}
    assert EDGE_ROW in failed and len(matrix) == 5 and failed == {EDGE_ROW} | matrix, failed
    (f,) = r.summary["findings"]
    assert f["root"]["nodeid"] == EDGE_ROW, f
    res = _results(allure_dir)
    _untagged(res[EDGE_ROW])  # its count check used the version its own row judged: it is the root
    assert "consequence of" not in res[EDGE_ROW]["statusDetails"]["trace"]  # nor in pytest's report
    for n in matrix:
        _tagged_with(res[n], f["root"]["message"], allure_dir)


def test_an_offline_edge_names_its_root_on_the_comparison_that_ran_before_it(twin, lab_path, out):
    twin.fault("edge1", "edge-offline")
    allure_dir = out / "allure-results"
    r = run_scenarios(lab_path, out, "--duty=DATA-ACCURACY", "--duty=INET-ACCESS", "-k",
                      "edge_records_match or edge_is_online_and_traces", f"--alluredir={allure_dir}")
    assert {t["nodeid"] for t in r.summary["tests"] if t["verdict"] == "FAIL"} == {EDGE_ROW, ONLINE}, r.summary
    assert _order(r).index(EDGE_ROW) < _order(r).index(ONLINE), _order(r)  # the consequence ran first
    (f,) = r.summary["findings"]
    assert f["root"]["nodeid"] == ONLINE, f
    res = _results(allure_dir)
    _tagged_with(res[EDGE_ROW], f["root"]["message"], allure_dir)
    _untagged(res[ONLINE])
