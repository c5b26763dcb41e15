"""The pytest plugin itself, through pytester (no device I/O: scenarios here raise what a driver
would raise, so the plugin's own behaviour is what is tested)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import REPO, make_test_lab
from tests.plugin.conftest import run, write_scenario

pytest_plugins = ["pytester"]


def test_scenario_without_duty_marker_is_a_collection_error(pytester, labdir):
    write_scenario(pytester, "def test_nothing():\n    pass\n")
    r = run(pytester, labdir)
    assert r.ret == pytest.ExitCode.USAGE_ERROR
    r.stderr.fnmatch_lines(["*test_s.py::test_nothing: scenario has no @pytest.mark.duty('ID') marker*"])


def test_unknown_duty_is_a_collection_error(pytester, labdir):
    write_scenario(pytester, "import pytest\n@pytest.mark.duty('NOPE-1')\ndef test_x():\n    pass\n")
    r = run(pytester, labdir)
    assert r.ret == pytest.ExitCode.USAGE_ERROR
    r.stderr.fnmatch_lines(["*unknown duty 'NOPE-1'*"])


def test_role_fixtures_are_parametrized_with_device_names(pytester, labdir):
    write_scenario(pytester, "import pytest\n@pytest.mark.duty('CFG-STATION')\ndef test_p(phone):\n    pass\n"
                             "@pytest.mark.duty('LAB-READY')\ndef test_d(device):\n    pass\n")
    r = run(pytester, labdir, "--collect-only", "-q")
    out = r.stdout.str()
    for n in ("phone1", "phone2", "phone3", "phone4"):
        assert f"test_p[{n}]" in out
    for n in ("edge1", "sw1", "phone1", "pstn1"):
        assert f"test_d[{n}]" in out
    assert "test_p[edge1]" not in out


def test_verdicts_are_classified_and_dead_devices_quarantined(pytester, labdir, tmp_path):
    write_scenario(pytester, """
import pytest, time
from harness.errors import LabTimeout
from harness.evidence.check import check, intent

@pytest.mark.duty('CFG-STATION')
def test_a_fails(phone_record):  # a check about a phone made elsewhere: no phone is relied on
    if phone_record.name == 'phone1':
        check(3, intent('x', 4), duty='CFG-STATION', device=phone_record.name, what='answer')

@pytest.mark.duty('NET-VOIP-HW')
def test_b_breaks(phone):
    if phone.name == 'phone2':
        raise LabTimeout('phone2', 'snmp', '127.0.0.1:1161', 'no answer within 1.0 s')

@pytest.mark.duty('NET-VOIP-HW')
def test_c_after(phone):
    phone.session('snmp', object)  # opening SNMP: phone2's is quarantined (no I/O here: no twin runs)

@pytest.mark.duty('PSTN-CONNECT')
def test_d_harness_bug(pstn):
    raise KeyError('oops')
""")
    summary_dir = tmp_path / "out"
    r = run(pytester, labdir, f"--hil-summary={summary_dir}", f"--alluredir={tmp_path / 'allure'}")
    assert r.ret == pytest.ExitCode.TESTS_FAILED
    s = json.loads((summary_dir / "summary.json").read_text())
    by_id = {t["nodeid"].split("::")[-1]: t for t in s["tests"]}
    assert by_id["test_a_fails[phone1]"]["verdict"] == "FAIL"
    assert "[CFG-STATION] phone1: answer = 3; limit == 4 (inventory)" in by_id["test_a_fails[phone1]"]["message"]
    assert by_id["test_a_fails[phone2]"]["verdict"] == "PASS"
    assert by_id["test_b_breaks[phone2]"]["verdict"] == "BROKEN"
    # quarantine: the next test that uses phone2's SNMP is BROKEN at once, the others still run
    after = by_id["test_c_after[phone2]"]
    assert after["verdict"] == "BROKEN" and "quarantined" in after["message"] and after["duration_s"] < 0.5
    assert by_id["test_c_after[phone1]"]["verdict"] == "PASS"
    assert by_id["test_d_harness_bug[pstn1]"]["verdict"] == "BROKEN"
    assert "harness error: KeyError" in by_id["test_d_harness_bug[pstn1]"]["message"]
    duties = s["duties"]
    assert duties["CFG-STATION"]["verdict"] == "FAIL"
    assert duties["NET-VOIP-HW"]["verdict"] == "BROKEN"
    assert duties["QOS-MEDIA"]["verdict"] == "NOT RUN"
    assert duties["CLOUD-ORG-CONFIG"]["verdict"] == "ATTEST"
    assert s["exit_code"] == 1
    md = (summary_dir / "summary.md").read_text()
    assert "| CFG-STATION | FAIL |" in md and "| QOS-MEDIA | NOT RUN |" in md


def test_allure_labels_environment_and_categories(pytester, labdir, tmp_path):
    write_scenario(pytester, "import pytest\n@pytest.mark.duty('PSTN-CONNECT')\ndef test_x(pstn):\n    pass\n")
    allure_dir = tmp_path / "allure"
    r = run(pytester, labdir, f"--alluredir={allure_dir}")
    assert r.ret == 0
    results = [json.loads(p.read_text()) for p in allure_dir.glob("*-result.json")]
    assert len(results) == 1
    labels = {(lb["name"], lb["value"]) for lb in results[0]["labels"]}
    assert ("epic", "Integration data") in labels
    assert ("feature", "PSTN access") in labels
    assert ("tag", "PSTN-CONNECT") in labels
    assert any(n == "story" and v.startswith("PSTN access over SIP") for n, v in labels)
    env = (allure_dir / "environment.properties").read_text()
    assert "lab=hil-twin" in env and "edge1.platform=genesys_edge" in env and "phone1.firmware=6.4.3" in env
    cats = json.loads((allure_dir / "categories.json").read_text())
    assert [c["name"] for c in cats] == ["Duty not met: consequence of a root cause", "Duty not met", "Lab broken",
                                         "Harness error"]


def test_duty_and_device_selection(pytester, labdir):
    write_scenario(pytester, "import pytest\n@pytest.mark.duty('CFG-STATION')\ndef test_p(phone):\n    pass\n"
                             "@pytest.mark.duty('PSTN-CONNECT')\ndef test_q(pstn):\n    pass\n")
    r = run(pytester, labdir, "--duty=CFG-STATION", "--device=phone3")
    r.assert_outcomes(passed=1, deselected=4)
    r = run(pytester, labdir, "--duty=NOPE")
    assert r.ret == pytest.ExitCode.USAGE_ERROR


def test_a_duty_without_scenarios_says_so(pytester, labdir):
    write_scenario(pytester, "import pytest\n@pytest.mark.duty('CFG-STATION')\ndef test_p(phone):\n    pass\n")
    r = run(pytester, labdir, "--duty=NET-NTP")
    assert r.ret == pytest.ExitCode.USAGE_ERROR
    r.stderr.fnmatch_lines(["*no scenario checks NET-NTP yet: a full run reports it NOT RUN*"])
    r = run(pytester, labdir, "--duty=NET-NTP", "--duty=CFG-STATION", "-k", "nothing-matches-this")
    r.stdout.fnmatch_lines(["*hil: no scenario checks NET-NTP yet (NOT RUN)*"])
    r.assert_outcomes(deselected=4)


def test_destructive_scenarios_skip_without_opt_in(pytester, labdir):
    write_scenario(pytester, "import pytest\n@pytest.mark.duty('NET-VOIP-HW')\n@pytest.mark.destructive\n"
                             "def test_w(switch):\n    pass\n")
    r = run(pytester, labdir, "-rs")
    r.assert_outcomes(skipped=1)
    r.stdout.fnmatch_lines(["*destructive scenario: run with --allow-destructive*"])
    r = run(pytester, labdir, "--allow-destructive")
    r.assert_outcomes(passed=1)


def test_invalid_inventory_is_a_usage_error(pytester, labdir):
    labdir.write_text(labdir.read_text().replace("version: \"2c\"", "version: \"4\""))
    write_scenario(pytester, "import pytest\n@pytest.mark.duty('PSTN-CONNECT')\ndef test_q(pstn):\n    pass\n")
    r = run(pytester, labdir)
    assert r.ret == pytest.ExitCode.USAGE_ERROR
    r.stderr.fnmatch_lines(["*lab_inventory.yaml:*: devices.sw1.snmp.version: must be '1', '2c' or '3'*"])


def test_emulated_lab_without_twin_is_a_usage_error(pytester):
    inv = make_test_lab(pytester.path, (REPO / "lab_inventory.yaml").read_text().replace("127.0.", "127.99."))
    (pytester.path / "scenarios").mkdir()
    write_scenario(pytester, "import pytest\n@pytest.mark.duty('PSTN-CONNECT')\ndef test_q(pstn):\n    pass\n")
    r = run(pytester, inv)
    assert r.ret == pytest.ExitCode.USAGE_ERROR
    r.stderr.fnmatch_lines(["*lab hil-twin is emulated and no lab twin is running for it: start one with*"])


def test_skip_reasons_reach_the_summary(pytester, labdir, tmp_path):
    write_scenario(pytester, "import pytest\n@pytest.mark.duty('NET-NTP')\ndef test_s(switch):\n"
                             "    pytest.skip('the inventory names no NTP source')\n")
    out = tmp_path / "out"
    r = run(pytester, labdir, f"--hil-summary={out}")
    assert r.ret == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["duties"]["NET-NTP"]["verdict"] == "SKIPPED"
    assert s["duties"]["NET-NTP"]["skip_reasons"] == ["the inventory names no NTP source"]
    assert s["verdict"] == "NOT RUN"  # nothing was checked: never an overall PASS
    assert "skipped: the inventory names no NTP source" in (out / "summary.md").read_text()


def test_readiness_runs_first(pytester, labdir):
    write_scenario(pytester, "import pytest\n@pytest.mark.duty('PSTN-CONNECT')\ndef test_a(pstn):\n    pass\n"
                             "@pytest.mark.duty('LAB-READY')\ndef test_z(pstn):\n    pass\n")
    r = run(pytester, labdir, "--collect-only", "-q")
    lines = [ln for ln in r.stdout.lines if "::" in ln]
    assert lines[0].endswith("test_z[pstn1]") and lines[1].endswith("test_a[pstn1]")


def test_a_scenario_checks_exactly_one_duty(pytester, labdir):
    write_scenario(pytester, "import pytest\n@pytest.mark.duty('NET-NTP', 'NET-NAT')\ndef test_two(switch):\n"
                             "    pass\n")
    r = run(pytester, labdir)
    assert r.ret == pytest.ExitCode.USAGE_ERROR
    r.stderr.fnmatch_lines(["*a scenario checks one duty*"])


def test_device_selection_keeps_checks_made_on_that_switch(pytester, labdir):
    write_scenario(pytester, "import pytest\n@pytest.mark.duty('NET-VOIP-HW')\ndef test_port(phone_record):\n"
                             "    pass\n@pytest.mark.duty('NET-VOIP-HW')\ndef test_sw(switch):\n    pass\n")
    r = run(pytester, labdir, "--device=sw1")
    r.assert_outcomes(passed=5)  # 4 phone ports on sw1 + the switch itself


def test_refused_credentials_do_not_quarantine_the_device(pytester, labdir, tmp_path):
    write_scenario(pytester, """
import pytest
from harness.errors import LabAuthError

@pytest.mark.duty('LAB-READY')
def test_a_ssh(pstn):
    raise LabAuthError('pstn1', 'ssh', '127.0.0.1:2222', 'credentials for admin refused')

@pytest.mark.duty('PSTN-CONNECT')
def test_b_sip(pstn):
    pass
""")
    out = tmp_path / "out"
    run(pytester, labdir, f"--hil-summary={out}")
    tests = {t["nodeid"].split("::")[-1]: t for t in json.loads((out / "summary.json").read_text())["tests"]}
    assert tests["test_a_ssh[pstn1]"]["verdict"] == "BROKEN"
    assert tests["test_b_sip[pstn1]"]["verdict"] == "PASS"  # SSH refused says nothing about SIP


def test_scenario_that_checks_nothing_is_broken(pytester, labdir, tmp_path):
    (pytester.path / "scenarios" / "conftest.py").unlink()
    write_scenario(pytester, "import pytest\n@pytest.mark.duty('CFG-STATION')\ndef test_empty(phone):\n"
                             "    pass\n")
    out = tmp_path / "out"
    r = run(pytester, labdir, f"--hil-summary={out}", f"--alluredir={tmp_path / 'allure'}", "--device=phone1")
    assert r.ret == pytest.ExitCode.TESTS_FAILED
    t = json.loads((out / "summary.json").read_text())["tests"][0]
    assert t["verdict"] == "BROKEN" and "ended without a check" in t["message"]
    result = next(json.loads(p.read_text()) for p in (tmp_path / "allure").glob("*-result.json"))
    assert result["status"] == "broken"


def test_quarantine_blocks_the_failed_transport_only(pytester, labdir, tmp_path):
    write_scenario(pytester, """
import pytest
from harness.errors import LabUnreachable

@pytest.mark.duty('LAB-READY')
def test_a_sip_dies(edge):
    raise LabUnreachable('edge1', 'sip', '127.0.1.1:5060', 'connection refused')

@pytest.mark.duty('PSTN-CONNECT')
def test_b_sip_again(edge):
    edge.session('sip', object)

@pytest.mark.duty('PSTN-CONNECT')
def test_c_snmp_still_used(edge):
    edge.session('snmp', object)
""")
    out = tmp_path / "out"
    run(pytester, labdir, f"--hil-summary={out}")
    tests = {t["nodeid"].split("::")[-1]: t for t in json.loads((out / "summary.json").read_text())["tests"]}
    assert tests["test_b_sip_again[edge1]"]["verdict"] == "BROKEN"
    assert "quarantined after earlier failure: connection refused" in tests["test_b_sip_again[edge1]"]["message"]
    assert tests["test_c_snmp_still_used[edge1]"]["verdict"] == "PASS"


def test_device_with_every_transport_quarantined_is_gone(loaded):
    from harness.devices.session import LabSession
    from harness.errors import LabTimeout, LabUnreachable

    s = LabSession(loaded)
    s.quarantine("phone1", LabTimeout("phone1", "snmp", "x:161", "no answer"))
    assert s.driver("phone1").name == "phone1"  # SIP is still in use
    s.quarantine("phone1", LabTimeout("phone1", "rtp", "x:5060", "no answer"))  # rtp counts as sip
    with pytest.raises(LabUnreachable, match="quarantined after earlier failure"):
        s.driver("phone1")
    s.close()


def test_selection_core_checks_and_early_stops_reach_the_duty_verdicts(pytester, labdir, tmp_path):
    write_scenario(pytester, """
import pytest

@pytest.mark.duty('CFG-STATION')
def test_mac(phone_record):
    pass

@pytest.mark.duty('MAINT-PHONE-FIRMWARE')
def test_image():
    pass

@pytest.mark.duty('MAINT-PHONE-FIRMWARE')
@pytest.mark.core('the firmware rollout')
@pytest.mark.destructive
def test_rollout():
    pass

@pytest.mark.duty('NET-VOIP-HW')
def test_z_fails():
    assert False, 'not met'

@pytest.mark.duty('NET-VOIP-HW')
def test_z_never_runs():
    pass
""")
    out = tmp_path / "out"
    run(pytester, labdir, f"--hil-summary={out}", "-k", "not phone3", "-x")
    s = json.loads((out / "summary.json").read_text())
    assert s["selection"] == {"keyword": "not phone3", "text": "-k 'not phone3'", "deselected": 1, "not_run": 1}
    station, firmware, hw = (s["duties"][d] for d in ("CFG-STATION", "MAINT-PHONE-FIRMWARE", "NET-VOIP-HW"))
    assert station["verdict"] == "PARTIAL" and station["tests"]["deselected"] == 1, station
    assert station["reasons"] == ["selection: 1 of its 4 tests deselected (-k 'not phone3')"]
    assert firmware["verdict"] == "PARTIAL" and firmware["reasons"] == [
        "core check not run: the firmware rollout (destructive scenario: run with --allow-destructive)"]
    assert hw["verdict"] == "FAIL" and hw["tests"]["not_run"] == 1
    assert s["verdict"] == "FAIL"
    assert s["overall"] == "FAIL (partial run: -k 'not phone3'; stopped early, 1 test never ran)"
    core = next(t for t in s["tests"] if t["nodeid"].endswith("test_rollout"))
    assert core["core"] == "the firmware rollout" and core["skipped_for"] == "--allow-destructive"
    # `-m core`: the core check alone was selected and skipped for the option, not for the inventory
    run(pytester, labdir, f"--hil-summary={out}", "-m", "core")
    s = json.loads((out / "summary.json").read_text())
    firmware = s["duties"]["MAINT-PHONE-FIRMWARE"]
    assert firmware["verdict"] == "PARTIAL" and firmware["reasons"] == [
        "core check not run: the firmware rollout (destructive scenario: run with --allow-destructive)",
        "selection: 1 of its 2 tests deselected (-m core)"], firmware
    r = run(pytester, labdir, f"--hil-summary={out}", "--duty=MAINT-PHONE-FIRMWARE")
    s = json.loads((out / "summary.json").read_text())
    assert s["duties"]["CFG-STATION"]["verdict"] == "NOT SELECTED" and s["duties"]["NET-VOIP-HW"]["verdict"] == \
        "NOT SELECTED"
    assert s["selection"]["duty"] == ["MAINT-PHONE-FIRMWARE"] and s["overall"] == \
        "PARTIAL (partial run: --duty MAINT-PHONE-FIRMWARE)"
    assert r.ret == 0
