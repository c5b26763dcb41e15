"""Duty verdicts from test records, without a lab: a core check skipped, tests deselected or never
run, a hybrid duty's attestation, a partial run's overall verdict, and how JUnit and Allure carry
them."""

from __future__ import annotations

import datetime as dt
import json
import time
import xml.etree.ElementTree as ET
from typing import Any

from harness.evidence import junit
from harness.evidence.allure_env import label_duty_verdicts
from harness.evidence.summary import automated_verdict, build, render_markdown
from harness.inventory.attestations import Attestation


def rec(verdict: str, duty: str = "MAINT-PHONE-FIRMWARE", name: str = "test_x", message: str = "",
        core: str | None = None) -> dict[str, Any]:
    return {"nodeid": f"scenarios/m.py::{name}", "duty": duty, "devices": [], "verdict": verdict,
            "message": message, "duration_s": 0.1, "measurements": [], "failure": verdict == "FAIL", "core": core}


def attested(duty: str, date: dt.date) -> Attestation:
    return Attestation.model_validate({
        "duty": duty, "statement": "contracted channels", "person": "Jane Doe", "role": "owner", "date": date,
        "review_interval_months": 12,
        "evidence": {"document": "order", "file": "order.pdf", "sha256": "ab" * 32}})


def test_a_skipped_core_check_makes_a_passing_duty_partial():
    rows = [rec("PASS", name="test_image"),
            rec("SKIPPED", name="test_rollout", message="destructive scenario: run with --allow-destructive",
                core="the firmware rollout")]
    assert automated_verdict(rows, "automated") == ("PARTIAL", [
        "core check not run: the firmware rollout (destructive scenario: run with --allow-destructive)"])
    assert automated_verdict(rows[:1], "automated") == ("PASS", [])
    # a skipped check that is not the core one leaves the PASS alone
    assert automated_verdict([rows[0], {**rows[1], "core": None}], "automated") == ("PASS", [])
    # a FAIL stands whatever else happened
    assert automated_verdict([rec("FAIL"), rows[1]], "automated") == ("FAIL", [])


def test_a_core_check_skipped_for_a_run_option_makes_an_all_skipped_duty_partial():
    """``hil run -m core`` without --allow-destructive: the duty's only selected test, its core check,
    was skipped because the run did not allow it, not because the inventory has nothing to test."""
    destructive = "destructive scenario: run with --allow-destructive"
    rollout = {**rec("SKIPPED", name="test_rollout", message=destructive, core="the firmware rollout"),
               "skipped_for": "--allow-destructive"}
    assert automated_verdict([rollout], "automated", deselected=3, selection="-m core") == ("PARTIAL", [
        f"core check not run: the firmware rollout ({destructive})",
        "selection: 3 of its 4 tests deselected (-m core)"])
    # a test that is not the core one, skipped for the option: SKIPPED, and it says why
    provision = {**rollout, "core": None}
    assert automated_verdict([provision], "automated") == ("SKIPPED", [f"skipped: {destructive}"])
    # the inventory has nothing to test (the core check too): SKIPPED with the inventory's reason
    no_phone = rec("SKIPPED", name="test_rollout", message="the inventory has no phone device",
                   core="the firmware rollout")
    assert automated_verdict([no_phone, no_phone], "automated") == (
        "SKIPPED", ["skipped: the inventory has no phone device"])


def test_a_core_check_skipped_for_a_run_option_reads_partial_in_the_summary(loaded):
    rollout = {**rec("SKIPPED", name="test_rollout", message="destructive scenario: run with --allow-destructive",
                     core="the firmware rollout"), "skipped_for": "--allow-destructive"}
    s = build(loaded, [rollout], started=time.time(), finished=time.time(),
              selection={"markexpr": "core", "text": "-m core"}, deselected={"MAINT-PHONE-FIRMWARE": 1})
    d = s["duties"]["MAINT-PHONE-FIRMWARE"]
    assert d["verdict"] == "PARTIAL" and d["reasons"][0].startswith("core check not run: the firmware rollout")
    row = next(x for x in render_markdown(s).splitlines() if x.startswith("| MAINT-PHONE-FIRMWARE |"))
    assert "| PARTIAL |" in row and "core check not run: the firmware rollout" in row, row


def test_deselected_and_unrun_tests_make_a_duty_partial_or_not_selected():
    assert automated_verdict([rec("PASS")] * 5, "automated", deselected=26, selection="-k voice_vlan") == (
        "PARTIAL", ["selection: 26 of its 31 tests deselected (-k voice_vlan)"])
    assert automated_verdict([], "automated", deselected=4, selection="--duty NET-VOIP-HW") == (
        "NOT SELECTED", ["selection: all 4 of its tests deselected"])
    assert automated_verdict([rec("PASS")], "automated", not_run=2) == (
        "PARTIAL", ["run stopped early: 2 of its 3 tests never ran"])
    assert automated_verdict([], "automated") == ("NOT RUN", [])
    assert automated_verdict([], "attest") == ("ATTEST", [])


def test_a_selected_run_is_never_pass(loaded):
    tests = [rec("PASS", "NET-VOIP-HW", "test_voice_vlan")]
    sel = {"keyword": "voice_vlan", "text": "-k voice_vlan"}
    s = build(loaded, tests, started=time.time(), finished=time.time(), selection=sel,
              deselected={"NET-VOIP-HW": 26, "CFG-STATION": 8})
    assert s["verdict"] == "PARTIAL" and s["exit_code"] == 0
    assert s["overall"] == "PARTIAL (partial run: -k voice_vlan)"
    assert s["selection"] == {**sel, "deselected": 34, "not_run": 0} and s["partial_run"]
    assert s["duties"]["CFG-STATION"]["verdict"] == "NOT SELECTED"
    assert s["duties"]["NET-NTP"]["verdict"] == "NOT RUN"  # no scenario at all: not a matter of selection
    s = build(loaded, tests, started=time.time(), finished=time.time(),
              selection={"duty": ["NET-VOIP-HW"], "text": "--duty NET-VOIP-HW"}, deselected={"CFG-STATION": 8})
    assert s["duties"]["NET-VOIP-HW"]["verdict"] == "PASS"
    assert (s["verdict"], s["overall"]) == ("PARTIAL", "PASS (partial run: --duty NET-VOIP-HW)")
    md = render_markdown(s)
    assert "**Overall: PASS (partial run: --duty NET-VOIP-HW)**" in md and "**partial run**: --duty NET-VOIP-HW" in md
    full = build(loaded, tests, started=time.time(), finished=time.time())
    assert (full["verdict"], full["overall"], full["selection"]) == ("PASS", "PASS", None)


def test_a_hybrid_duty_needs_its_attestation_and_an_attest_duty_shows_it(loaded):
    now = time.time()
    today = dt.datetime.fromtimestamp(now, dt.UTC).date()
    tests = [rec("PASS", "PSTN-CAPACITY", "test_max_calls")]
    missing = build(loaded, tests, started=now, finished=now)["duties"]["PSTN-CAPACITY"]
    assert (missing["verdict"], missing["automated"]) == ("PARTIAL", "PASS")
    assert missing["reasons"] == ["attestation: ATTESTATION MISSING"]
    assert missing["attestation"]["status"] == "ATTESTATION MISSING"
    records = [attested("PSTN-CAPACITY", today - dt.timedelta(days=30)),
               attested("MAINT-EDGE-LOGS", today - dt.timedelta(days=400)),
               attested("CLOUD-ORG-CONFIG", today)]
    tests.append(rec("PASS", "MAINT-EDGE-LOGS", "test_logs"))
    s = build(loaded, tests, started=now, finished=now, attestations=records)
    ok, old, cloud = (s["duties"][d] for d in ("PSTN-CAPACITY", "MAINT-EDGE-LOGS", "CLOUD-ORG-CONFIG"))
    assert (ok["verdict"], ok["reasons"], ok["attestation"]["status"]) == ("PASS", [], "ATTESTED")
    assert old["verdict"] == "PARTIAL" and old["reasons"][0].startswith("attestation: ATTESTATION EXPIRED on ")
    assert cloud["verdict"] == "ATTEST" and cloud["attestation"]["text"].startswith("ATTESTED by Jane Doe (owner)")
    assert s["verdict"] == "PARTIAL" and s["exit_code"] == 0
    md = render_markdown(s)
    assert "| ↳ automated evidence | PASS |" in md and "| ↳ attestation | ATTESTATION EXPIRED on" in md
    assert "| ↳ attestation | ATTESTATION MISSING |" not in md  # ENV-EDGE: neither checked nor attested
    assert "| ENV-EDGE | NOT RUN |" in md


def test_junit_and_allure_carry_the_duty_verdicts(loaded, tmp_path):
    tests = [rec("PASS", name="test_image"), rec("SKIPPED", name="test_rollout", message="destructive",
                                                  core="the firmware rollout")]
    s = build(loaded, tests, started=time.time(), finished=time.time())
    xml = tmp_path / "junit.xml"
    xml.write_text('<?xml version="1.0"?><testsuites><testsuite name="pytest" tests="2">'
                   '<testcase classname="scenarios.m" name="test_image"/></testsuite></testsuites>')
    assert junit.add_verdicts(xml, s)
    props = {p.get("name"): p.get("value") for p in ET.parse(xml).iter("property")}
    assert props["hil.verdict"] == "PARTIAL" and props["hil.overall"] == "PARTIAL"
    assert props["hil.duty.MAINT-PHONE-FIRMWARE"] == "PARTIAL: core check not run: the firmware rollout (destructive)"
    assert props["hil.duty.PSTN-CAPACITY"] == "NOT RUN: attestation: ATTESTATION MISSING"
    assert "hil.duty.NET-NTP" not in props
    result = tmp_path / "x-result.json"
    result.write_text(json.dumps({"name": "test_image", "status": "passed",
                                  "labels": [{"name": "duty", "value": "MAINT-PHONE-FIRMWARE"}]}))
    assert label_duty_verdicts(tmp_path, s) == 1
    labels = {(lb["name"], lb["value"]) for lb in json.loads(result.read_text())["labels"]}
    assert ("duty_verdict", "PARTIAL") in labels
    assert ("tag", "PARTIAL: core check not run: the firmware rollout (destructive)") in labels
