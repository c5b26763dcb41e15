"""`hil run` end to end: reports, exit codes, a device dying mid-run, secrets kept out."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from filelock import FileLock

from harness.twin import manager
from tests.conftest import REPO, make_test_lab, other_net

#: these tests start labs of their own (tests/conftest.py marks those that use the session twin)
pytestmark = pytest.mark.twin


def hil(*args: str, timeout_s: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True, text=True,
                          timeout=timeout_s, check=False, cwd=REPO)


def secrets() -> list[str]:
    return [p.read_text().strip() for p in (REPO / "twin_secrets").iterdir() if p.name != "README.md"]


def assert_no_secret(reports: Path, *texts: str) -> None:
    values = secrets()
    for p in reports.rglob("*"):
        if p.is_file():
            data = p.read_bytes()
            for v in values:
                assert v.encode() not in data, f"secret found in {p}"
    for t in texts:
        for v in values:
            assert v not in t, "secret found in terminal output"


def test_run_on_healthy_twin_writes_every_report(healthy_run):
    r, reports = healthy_run, healthy_run.reports  # the session's one full run on the healthy twin (tests/conftest.py)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    for f in ("junit.xml", "summary.json", "summary.md", "allure-report.html"):
        assert (reports / f).is_file(), f
    assert list((reports / "allure-results").glob("*-result.json"))
    assert (reports / "allure-results" / "environment.properties").is_file()
    s = json.loads((reports / "summary.json").read_text())
    assert s["exit_code"] == 0 and s["duties"]["PSTN-CONNECT"]["verdict"] == "PASS"
    assert set(s["duties"]) >= {"NET-VOIP-HW", "QOS-MEDIA", "SEC-TOLL-FRAUD", "PSTN-TDM"}
    assert s["duties"]["PSTN-TDM"]["verdict"] == "NOT RUN"  # a duty with no scenario yet
    order = ["PASS", "PARTIAL", "FAIL", "BROKEN", "SKIPPED", "NOT SELECTED", "NOT RUN", "ATTEST"]
    assert list(s["counts"]) == [v for v in order if v in s["counts"]], s["counts"]  # the same order every run
    assert "already running" in r.stdout and "MAINT-VERSION-MATRIX" in r.stdout
    html = (reports / "allure-report.html").read_text(errors="replace")
    assert len(html) > 100_000 and "<html" in html.lower()
    assert_no_secret(reports, r.stdout, r.stderr)


def test_device_down_mid_run_is_broken_and_exits_3(twin, lab_path, tmp_path):
    reports = tmp_path / "reports"
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "run", "--inventory", str(lab_path),
                             "--reports", str(reports), "--no-html"], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    results = reports / ".this-run" / "allure-results"  # the run's reports until pytest ends
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(results.glob("*-result.json"))) < 2:
        time.sleep(0.02)
    twin.fault("phone4", "down")
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 3, out[-4000:]
    s = json.loads((reports / "summary.json").read_text())
    phone4 = [t for t in s["tests"] if "phone4" in t["devices"]]
    broken = [t for t in phone4 if t["verdict"] == "BROKEN"]
    assert broken, phone4
    # one timeout, then quarantine: no phone4 test waits longer than one SNMP deadline (1 s x 2 tries)
    assert all(t["duration_s"] < 4.0 for t in broken), broken
    assert not [t for t in s["tests"] if t["verdict"] == "FAIL"]
    suite = ET.parse(reports / "junit.xml").getroot().find("testsuite")
    assert suite is not None  # BROKEN is <error> in JUnit, never a <failure> of a duty
    assert int(suite.get("errors", "0")) == len([t for t in s["tests"] if t["verdict"] == "BROKEN"])
    assert suite.get("failures") == "0"
    # a site-wide check that relied on phone4 (DATA-ACCURACY's MAC reconciliation) is BROKEN naming it
    others = [t for t in s["tests"] if "phone4" not in t["devices"] and "destructive" not in t["message"]
              and not (t["verdict"] == "BROKEN" and "phone4" in t["message"])]
    assert others and all(t["verdict"] == "PASS" for t in others), [t for t in others if t["verdict"] != "PASS"]
    assert_no_secret(reports, out)


def test_failing_run_keeps_secrets_out_of_transcripts(twin, lab_path, tmp_path):
    twin.fault("sw1", "drop-voice-vlan")
    reports = tmp_path / "reports"
    r = hil("run", "--inventory", str(lab_path), "--reports", str(reports), "--no-html", "--duty", "NET-VOIP-HW")
    assert r.returncode == 1
    attachments = list((reports / "allure-results").glob("*-attachment*"))
    assert any("show vlan" in a.read_text(errors="replace") for a in attachments), "transcript not attached"
    assert_no_secret(reports, r.stdout, r.stderr)


def test_run_starts_and_stops_its_own_twin(tmp_path):
    text = (REPO / "lab_inventory.yaml").read_text().replace("127.0.", f"{other_net(1)}.")
    inv = make_test_lab(tmp_path / "lab", text)
    reports = tmp_path / "reports"
    r = hil("run", "--inventory", str(inv), "--reports", str(reports), "--no-html", "--duty", "PSTN-CONNECT")
    assert r.returncode == 0, r.stdout[-3000:]
    assert "lab twin started" in r.stdout
    assert manager.read_state(inv) is None  # stopped again


def test_run_with_invalid_inventory_exits_2(tmp_path):
    text = (REPO / "lab_inventory.yaml").read_text().replace("port: 2222", "port: abc")
    inv = make_test_lab(tmp_path / "lab", text)
    r = hil("run", "--inventory", str(inv), "--reports", str(tmp_path / "r"))
    assert r.returncode == 2
    assert "lab_inventory.yaml:" in r.stdout and "defaults.ssh.port" in r.stdout
    assert "Traceback" not in r.stdout + r.stderr


def test_selection_that_matches_nothing_or_is_wrong_exits_2(twin, lab_path, tmp_path):
    for args in (["-k", "no_such_scenario"], ["--duty", "PSTN-TDM"]):
        r = hil("run", "--inventory", str(lab_path), "--reports", str(tmp_path / "r"), "--no-html", *args)
        assert r.returncode == 2, (args, r.stdout[-2000:])
        assert "no run:" in r.stdout
        assert not (tmp_path / "r" / "summary.json").exists()  # never a summary that says PASS


def test_mistyped_duty_or_device_exits_2_and_keeps_the_last_reports(twin, lab_path, tmp_path):
    reports = tmp_path / "r"
    reports.mkdir()
    (reports / "summary.json").write_text("{}")  # the last good run's
    for args, want in ((["--duty", "pstn-connect"], "--duty pstn-connect: no such duty; did you mean PSTN-CONNECT?"),
                       (["--duty", "NOPE"], "--duty NOPE: no such duty (see `hil duties`)"),
                       (["--device", "nosuch"], "--device nosuch: no such device in the inventory (edge1, ")):
        r = hil("run", "--inventory", str(lab_path), "--reports", str(reports), "--no-html", *args)
        assert r.returncode == 2 and want in r.stdout, (args, r.stdout[-2000:])
        assert (reports / "summary.json").read_text() == "{}"


def test_scenario_without_duty_marker_stops_hil_run_with_exit_2(twin, lab_path, tmp_path):
    scenarios = tmp_path / "xsc"  # any folder given to --scenarios, whatever its name
    shutil.copytree(REPO / "scenarios", scenarios)
    (scenarios / "extra").mkdir()
    (scenarios / "extra" / "test_unmarked.py").write_text("def test_unmarked():\n    pass\n")
    r = hil("run", "--inventory", str(lab_path), "--reports", str(tmp_path / "r"), "--no-html",
            "--scenarios", str(scenarios))
    assert r.returncode == 2, r.stdout[-2000:]
    assert "scenario has no @pytest.mark.duty('ID') marker" in r.stdout + r.stderr


def test_second_run_on_the_same_reports_folder_is_refused(twin, lab_path, tmp_path):
    reports = tmp_path / "r"
    reports.mkdir()
    with FileLock(str(reports / ".hil-run.lock")):
        r = hil("run", "--inventory", str(lab_path), "--reports", str(reports), "--no-html")
    assert r.returncode == 2 and "another hil run is writing" in r.stdout


def test_a_run_refused_for_its_reports_folder_starts_no_twin(tmp_path):
    """The reports lock is taken before the twin starts: a refused run leaves the lab as it was."""
    text = (REPO / "lab_inventory.yaml").read_text().replace("127.0.", f"{other_net(5)}.")
    inv = make_test_lab(tmp_path / "lab", text)
    reports = tmp_path / "r"
    reports.mkdir()
    try:
        with FileLock(str(reports / ".hil-run.lock")):
            r = hil("run", "--inventory", str(inv), "--reports", str(reports), "--no-html")
        assert r.returncode == 2 and "another hil run is writing" in r.stdout, r.stdout[-2000:]
        assert "lab twin" not in r.stdout, r.stdout[-2000:]
        assert manager.read_state(inv) is None, "the refused run started a twin"
    finally:
        manager.down(inv)


def test_bad_reports_folder_and_owned_pytest_options_exit_2(twin, lab_path, tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    r = hil("run", "--inventory", str(lab_path), "--reports", str(afile), "--no-html")
    assert r.returncode == 2 and "cannot use it as the reports folder" in r.stdout, r.stdout[-1500:]
    r = hil("run", "--inventory", str(lab_path), "--reports", str(tmp_path / "r"), "--no-html", "--",
            "--inventory=other.yaml")
    assert r.returncode == 2 and "hil run sets this itself" in r.stdout


def test_hil_inventory_environment_variable_is_honoured(twin, lab_path, tmp_path):
    env = dict(os.environ, HIL_INVENTORY=str(lab_path))
    r = subprocess.run([sys.executable, "-m", "harness.cli", "run", "--reports", str(tmp_path / "r"), "--no-html",
                        "--duty", "PSTN-CONNECT"], capture_output=True, text=True, timeout=300, cwd=REPO, env=env)
    assert r.returncode == 0, r.stdout[-2000:]
    assert str(lab_path) in (tmp_path / "r" / "summary.json").read_text()


def test_sigterm_stops_the_twin_the_run_started(tmp_path):
    text = (REPO / "lab_inventory.yaml").read_text().replace("127.0.", f"{other_net(6)}.")
    inv = make_test_lab(tmp_path / "lab", text)
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "run", "--inventory", str(inv), "--reports",
                             str(tmp_path / "r"), "--no-html"], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while manager.read_state(inv) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert manager.read_state(inv) is not None, "the run never started its twin"
    proc.terminate()
    proc.communicate(timeout=60)
    assert proc.returncode != 0
    deadline = time.monotonic() + 20
    while manager.read_state(inv) is not None and time.monotonic() < deadline:
        time.sleep(0.1)
    try:
        assert manager.read_state(inv) is None, "SIGTERM left the twin running"
    finally:
        manager.down(inv)
