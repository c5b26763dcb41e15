"""Verdicts a partner can sign, against the twin (issue 11, items 2-4): no FAIL that the lab explains
(a phone down, the twin killed mid-run), no PASS without the core check or the attestation (outside
the update window, a hybrid duty), and partial runs that say so (``-k``, ``--duty``; a bad ``-k``
keeps the last reports)."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.devices.procedures.trunk_calls import TrunkProbe
from harness.inventory.models import EdgeDevice
from harness.transports.sip.ua import CallHandle
from harness.transports.transcript import Transcript
from harness.twin import manager
from tests.cli.test_run import hil
from tests.conftest import REPO, edited, make_test_lab, other_net
from tests.scenario_runner import run_scenarios

pytestmark = pytest.mark.timeout(900)

DEVICES = ("edge1", "sw1", "phone1", "phone2", "phone3", "phone4", "pstn1", "prov1", "cloud")  # cloud: the org's API
UPDATE_TEST = "test_edge_software_update[edge1]"


def _summary(reports: Path) -> dict[str, Any]:
    return json.loads((reports / "summary.json").read_text())


def _closed_window(lab_path: Path, twin: manager.TwinControl) -> contextlib.AbstractContextManager[None]:
    """The test lab's update window, moved to open three hours from now (UTC): closed for the test, in
    the inventory and in the twin's site in Genesys Cloud (``update-window``; the ``twin`` fixture heals it)."""
    opens = dt.datetime.now(dt.UTC) + dt.timedelta(hours=3)
    twin.fault("cloud", "update-window", f"{opens:%H:00}-{opens + dt.timedelta(hours=3):%H:00}")
    return edited(lab_path, 'start: "02:00"\n    end: "05:00"\n    time_zone: America/Indiana/Indianapolis',
                   f'start: "{opens:%H:00}"\n    end: "{opens + dt.timedelta(hours=3):%H:00}"\n    time_zone: UTC')


# --- no FAIL that the lab explains --------------------------------------------------------------


def test_a_phone_down_explains_every_failure_it_causes(twin, lab_path, out):
    twin.fault("phone2", "down")
    r = run_scenarios(lab_path, out, timeout_s=600)
    t = r.tests()
    fails = {n: v for n, v in t.items() if v["verdict"] == "FAIL"}
    assert not fails, fails
    # the capacity calls go to the carrier's echo line: no station has to answer them
    assert t["test_max_calls_held_and_next_call_refused[edge1]"]["verdict"] == "PASS"
    assert t["test_sustained_call_rate_has_no_failed_call[edge1]"]["verdict"] == "PASS"
    # the inbound call to phone2's DID found nobody: BROKEN naming phone2, the 480 kept as the FAIL it explains
    every_did = t["test_inbound_call_to_every_did_has_audio_both_ways[edge1]"]
    assert every_did["verdict"] == "BROKEN", every_did
    msg = every_did["message"]
    assert msg.startswith("unreachable: phone2 was found dead (quarantined earlier in the run: timeout: phone2 "), msg
    assert "; the FAIL it would explain: [PSTN-CONNECT] edge1: inbound test call: final answer to inbound " \
           "+13175550101 -> 1002 (phone2) = 480" in msg, msg
    assert every_did["explained_failure"].startswith("[PSTN-CONNECT] edge1: inbound test call")
    # items that call one DID take a live phone's
    assert all(v["verdict"] == "PASS" for n, v in t.items() if n.startswith("test_item5_inbound")), t
    assert r.summary["exit_code"] == 3 and r.verdict("PSTN-CONNECT") == "BROKEN"


def test_a_twin_killed_mid_run_leaves_no_failure(tmp_path):
    net = other_net(2)
    text = (REPO / "lab_inventory.yaml").read_text().replace("127.0.", f"{net}.")
    # the dead site services answer nothing however long the probes wait: their timeouts cut here (DHCP
    # 5 s -> 1 s, DNS 2 s -> 0.5 s per query), 13 s of the run's waiting on them after the kill
    for after, timeout in (("    boot_options: [66, 160]\n", 1), ("    domain: lab-a.example\n", 0.5)):
        assert text.count(after) == 1, after
        text = text.replace(after, f"{after}    timeout_s: {timeout}\n")
    inv = make_test_lab(tmp_path / "lab", text)
    for profile in (tmp_path / "lab" / "profiles").glob("*.yaml"):  # image URLs on this lab's provisioning server
        profile.write_text(profile.read_text().replace(f"{os.environ['HIL_TEST_NET']}.", f"{net}."))
    reports = tmp_path / "reports"
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "run", "--inventory", str(inv), "--reports",
                             str(reports), "--no-html"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        results = reports / ".this-run" / "allure-results"
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and len(list(results.glob("*-result.json"))) < 14:
            time.sleep(0.05)  # past LAB-READY (10 tests): the duty checks have begun
        state = manager.read_state(inv)
        assert state is not None, "the run's twin is not running"
        os.kill(int(state["pid"]), signal.SIGKILL)
        output, _ = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
        manager.down(inv)
    s = _summary(reports)
    fails = [t for t in s["tests"] if t["verdict"] == "FAIL"]
    assert not fails, fails
    broken = [t for t in s["tests"] if t["verdict"] == "BROKEN"]
    assert len(broken) >= 10, output[-3000:]
    # each names what died: a device, the org (the twin's Genesys Cloud API, through which the Edge is read), or
    # one of the site's network services the twin served (its DHCP server, resolver, NTP servers, the internet side)
    died = (*DEVICES, "cloud api", "dhcp ", "dns ", "NTP servers", "ntp servers", "stun ", "internet")
    assert all(any(d in t["message"] for d in died) for t in broken), \
        [t["message"][:300] for t in broken if not any(d in t["message"] for d in died)]
    assert proc.returncode == 3, output[-3000:]


def test_calls_another_actor_holds_make_trunk_checks_broken_lab_busy(twin, loaded, lab_path, out):
    edge = loaded.lab.devices["edge1"]
    assert isinstance(edge, EdgeDevice)
    other = TrunkProbe("edge1", edge, Transcript("another run sip"))  # a second run, filling the trunk
    held: list[CallHandle] = []
    try:
        for _ in range(edge.facts.trunk.max_calls if edge.facts.trunk else 0):
            held.append(other.outbound("1001", "+13175559000"))
        assert held and all(c.state == "confirmed" for c in held), [c.result() for c in held]
        r = run_scenarios(lab_path, out, "--duty=PSTN-CAPACITY", "--duty=PSTN-INTEROP", "-k", "max_calls or item3")
    finally:
        for call in held:
            if call.state == "confirmed":
                call.bye()
        other.close()
    t = r.tests()
    assert not [n for n, v in t.items() if v["verdict"] == "FAIL"], t
    capacity = t["test_max_calls_held_and_next_call_refused[edge1]"]
    assert capacity["verdict"] == "BROKEN", capacity
    assert capacity["message"].startswith("lab busy: 10 calls already up on edge1 before the test (trunk metrics: "
                                          "inbound 0, outbound 10)"), capacity["message"]
    dtmf = [v for n, v in t.items() if n.startswith("test_item3_")]
    assert dtmf and all(v["verdict"] == "BROKEN" for v in dtmf), dtmf
    for v in dtmf:  # refused 503 by a full trunk: the lab explains it, and says what it saw
        assert v["message"].startswith("lab busy: 10 calls already up on edge1 before the test (trunk metrics)"), v
        assert "; the FAIL it would explain: [PSTN-INTEROP] edge1: item 3" in v["message"], v


# --- no PASS without the core check or the attestation -------------------------------------------


def test_outside_the_update_window_the_update_duty_is_partial_never_pass(twin, lab_path, out):
    with _closed_window(lab_path, twin):
        r = run_scenarios(lab_path, out / "read-only", "--duty=MAINT-EDGE-UPDATE", "--duty=MAINT-PHONE-FIRMWARE")
        update, firmware = r.summary["duties"]["MAINT-EDGE-UPDATE"], r.summary["duties"]["MAINT-PHONE-FIRMWARE"]
        assert (update["verdict"], update["automated"]) == ("PARTIAL", "PARTIAL"), update
        assert update["reasons"] == ["core check not run: the software update (destructive scenario: run with "
                                     "--allow-destructive)"]
        assert firmware["verdict"] == "PARTIAL" and firmware["reasons"] == [
            "core check not run: the firmware rollout (destructive scenario: run with --allow-destructive)"]
        assert r.summary["verdict"] == "PARTIAL" and r.returncode == 0
        r = run_scenarios(lab_path, out / "destructive", "--duty=MAINT-EDGE-UPDATE", "--allow-destructive")
        update = r.summary["duties"]["MAINT-EDGE-UPDATE"]
        assert update["verdict"] == "PARTIAL", update
        why = update["reasons"][0]
        assert why.startswith("core check not run: the software update (edge1: update not started: outside the "
                              "update window (FREQ=DAILY"), why
        assert "--in-update-window" in why, why
    assert twin.state("edge1")["software_status"] == "idle"


def test_on_the_twin_allow_destructive_runs_the_update_whatever_the_hour(twin, lab_path, tmp_path):
    reports = tmp_path / "r"
    with _closed_window(lab_path, twin):
        r = hil("run", "--inventory", str(lab_path), "--reports", str(reports), "--no-html",
                "--duty", "MAINT-EDGE-UPDATE", "--allow-destructive", timeout_s=600)
    assert r.returncode == 0, r.stdout[-4000:]
    assert "the Edge update runs as if inside the site's update window" in r.stdout
    s = _summary(reports)
    update = next(t for t in s["tests"] if t["nodeid"].endswith(UPDATE_TEST))
    assert update["verdict"] == "PASS", update
    assert s["duties"]["MAINT-EDGE-UPDATE"]["verdict"] == "PASS", s["duties"]["MAINT-EDGE-UPDATE"]
    assert twin.state("edge1")["installed_firmware"] == "2026.12.0"


def test_the_update_window_option_is_refused_on_a_real_lab(tmp_path):
    text = (REPO / "lab_inventory.yaml").read_text().replace("emulated: true", "emulated: false")
    inv = make_test_lab(tmp_path / "lab", text)
    r = hil("run", "--inventory", str(inv), "--reports", str(tmp_path / "r"), "--in-update-window")
    assert r.returncode == 2, r.stdout
    assert "--in-update-window: lab hil-twin is not emulated" in r.stdout
    assert not (tmp_path / "r").exists()


EVIDENCE = b"Edge offline log collection runbook, rev. 3, rehearsed 2026-01-12\n"


@contextlib.contextmanager
def _attested(lab_path: Path, date: dt.date) -> Iterator[None]:
    """The test lab's inventory naming an attestation file with MAINT-EDGE-LOGS and CLOUD-ORG-CONFIG
    attested on ``date`` (12-month review), while the block runs."""
    folder = lab_path.parent
    (folder / "evidence").mkdir(exist_ok=True)
    (folder / "evidence" / "runbook.txt").write_bytes(EVIDENCE)
    records = "".join(
        f"  - duty: {duty}\n    statement: {statement}\n    evidence:\n      document: Runbook\n"
        f"      file: evidence/runbook.txt\n      sha256: {hashlib.sha256(EVIDENCE).hexdigest()}\n"
        f"    person: Jane Doe\n    role: Site owner\n    date: {date.isoformat()}\n    review_interval_months: 12\n"
        for duty, statement in (("MAINT-EDGE-LOGS", "Logs are collected offline by the runbook"),
                                ("CLOUD-ORG-CONFIG", "Queues and scripts are configured as designed")))
    (folder / "attestations.yaml").write_text("attestations:\n" + records)
    try:
        with edited(lab_path, "profile: profiles/default.yaml", "profile: profiles/default.yaml\n"
                                                                  "attestations: attestations.yaml"):
            yield
    finally:
        (folder / "attestations.yaml").unlink()


def test_a_hybrid_duty_passes_only_with_a_valid_attestation(twin, lab_path, out):
    today = dt.datetime.now(dt.UTC).date()
    with _attested(lab_path, today - dt.timedelta(days=30)):
        r = run_scenarios(lab_path, out / "valid", "--duty=MAINT-EDGE-LOGS")
    logs, cloud = r.summary["duties"]["MAINT-EDGE-LOGS"], r.summary["duties"]["CLOUD-ORG-CONFIG"]
    assert (logs["verdict"], logs["automated"], logs["attestation"]["status"]) == ("PASS", "PASS", "ATTESTED"), logs
    assert cloud["verdict"] == "ATTEST" and cloud["attestation"]["text"].startswith("ATTESTED by Jane Doe (Site owner)")
    md = (out / "valid" / "summary.md").read_text()
    assert "| ↳ automated evidence | PASS |" in md and "| ↳ attestation | ATTESTED by Jane Doe" in md
    with _attested(lab_path, today - dt.timedelta(days=400)):
        r = run_scenarios(lab_path, out / "expired", "--duty=MAINT-EDGE-LOGS")
    logs = r.summary["duties"]["MAINT-EDGE-LOGS"]
    assert (logs["verdict"], logs["automated"]) == ("PARTIAL", "PASS"), logs
    assert logs["reasons"][0].startswith("attestation: ATTESTATION EXPIRED on "), logs["reasons"]


# --- partial runs say so -----------------------------------------------------------------------


def test_a_selected_run_is_partial_and_a_bad_selection_keeps_the_last_reports(twin, lab_path, tmp_path):
    reports = tmp_path / "r"
    r = hil("run", "--inventory", str(lab_path), "--reports", str(reports), "--no-html", "-k", "voice_vlan")
    assert r.returncode == 0, r.stdout[-3000:]
    s = _summary(reports)
    hw = s["duties"]["NET-VOIP-HW"]
    ran, deselected = hw["tests"]["total"], hw["tests"]["deselected"]
    assert hw["verdict"] == "PARTIAL" and ran and deselected, hw
    assert hw["reasons"] == [f"selection: {deselected} of its {ran + deselected} tests deselected (-k voice_vlan)"]
    for duty in ("LAB-READY", "PSTN-CONNECT", "CFG-STATION"):
        assert s["duties"][duty]["verdict"] == "NOT SELECTED", s["duties"][duty]
    assert s["duties"]["PSTN-TDM"]["verdict"] == "NOT RUN"  # no scenario checks it: not a matter of selection
    assert s["selection"]["keyword"] == "voice_vlan" and s["selection"]["text"] == "-k voice_vlan"
    assert (s["verdict"], s["overall"]) == ("PARTIAL", "PARTIAL (partial run: -k voice_vlan)")
    assert "Overall: PARTIAL (partial run: -k voice_vlan)" in r.stdout
    assert "**Overall: PARTIAL (partial run: -k voice\\_vlan)**" in (reports / "summary.md").read_text()
    props = {p.get("name"): p.get("value") for p in ET.parse(reports / "junit.xml").iter("property")}
    assert props["hil.overall"] == "PARTIAL (partial run: -k voice_vlan)" and props["hil.selection"] == "-k voice_vlan"
    assert props["hil.duty.NET-VOIP-HW"].startswith("PARTIAL: selection: ")

    last = {f: (reports / f).read_bytes() for f in ("summary.json", "summary.md", "junit.xml")}
    results = sorted(p.name for p in (reports / "allure-results").iterdir())
    for args in (["-k", "voice_vlan and ("], ["--", "--no-such-pytest-option"]):
        bad = hil("run", "--inventory", str(lab_path), "--reports", str(reports), "--no-html", *args)
        assert bad.returncode == 2, (args, bad.stdout[-2000:])
        assert "the last run's reports are left as they were" in bad.stdout, bad.stdout[-2000:]
        assert {f: (reports / f).read_bytes() for f in last} == last
        assert sorted(p.name for p in (reports / "allure-results").iterdir()) == results
        assert not (reports / ".this-run").exists()

    r = hil("run", "--inventory", str(lab_path), "--reports", str(reports), "--no-html", "--duty", "NET-VOIP-HW")
    assert r.returncode == 0, r.stdout[-3000:]
    s = _summary(reports)
    assert s["duties"]["NET-VOIP-HW"]["verdict"] == "PASS" and s["duties"]["CFG-STATION"]["verdict"] == "NOT SELECTED"
    assert (s["verdict"], s["overall"]) == ("PARTIAL", "PASS (partial run: --duty NET-VOIP-HW)")
    assert "Overall: PASS (partial run: --duty NET-VOIP-HW)" in r.stdout
