"""The plugin's rule "FAIL only when the lab was sound in every part the check relied on", through
pytester: a failing check whose device is dead, declared relied on, quarantined earlier, acted on,
or whose lab was busy (a guard, the lease hook)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, make_test_lab
from tests.plugin.conftest import run, write_scenario

pytest_plugins = ["pytester"]

#: no twin and no test network is here: every device of this lab is dead
DEAD_NET = "127.253"


@pytest.fixture
def deadlab(pytester: pytest.Pytester, labdir: Path) -> Path:
    text = (REPO / "lab_inventory.yaml").read_text().replace("emulated: true", "emulated: false")
    return make_test_lab(pytester.path, text.replace("127.0.", f"{DEAD_NET}."))


def _tests(out: Path) -> dict[str, dict[str, Any]]:
    return {t["nodeid"].split("::")[-1]: t for t in json.loads((out / "summary.json").read_text())["tests"]}


FAILS = "check(3, intent('x', 4), duty={duty!r}, device='lab', what='answer')"


def test_a_fail_on_a_dead_device_is_broken_naming_it_and_quarantines_it(pytester, deadlab, tmp_path):
    write_scenario(pytester, f"""
import pytest
from harness.evidence.check import check, intent

@pytest.mark.duty('CFG-STATION')
def test_a_fails(phone):
    {FAILS.format(duty='CFG-STATION')}

@pytest.mark.duty('CFG-STATION')
def test_b_after(phone):
    phone.session('snmp', object)
""")
    out, allure = tmp_path / "out", tmp_path / "allure"
    junit = tmp_path / "junit.xml"
    run(pytester, deadlab, "--device=phone1", f"--hil-summary={out}", f"--alluredir={allure}", f"--junitxml={junit}")
    t = _tests(out)
    a = t["test_a_fails[phone1]"]
    assert a["verdict"] == "BROKEN", a
    assert a["message"].startswith("unreachable: phone1 was found dead (no answer to the liveness probe: snmp "), a
    assert "; sip " in a["message"], a  # every transport the inventory declares was asked
    assert a["message"].endswith("; the FAIL it would explain: [CFG-STATION] lab: answer = 3; limit == 4 (inventory)")
    assert a["explained_failure"] == "[CFG-STATION] lab: answer = 3; limit == 4 (inventory)"
    b = t["test_b_after[phone1]"]  # quarantined: the dead phone costs one timeout
    assert b["verdict"] == "BROKEN" and "quarantined after earlier failure" in b["message"], b
    assert b["duration_s"] < 0.5
    statuses = {json.loads(p.read_text())["name"]: json.loads(p.read_text())["status"]
                for p in allure.glob("*-result.json")}
    assert statuses["test_a_fails[phone1]"] == "broken", statuses
    case = next(c for c in ET.parse(junit).iter("testcase") if c.get("name") == "test_a_fails[phone1]")
    assert case.find("failure") is not None  # pytest's own file; `hil run` moves BROKEN to <error>


def test_declared_quarantined_acted_on_and_busy(pytester, deadlab, tmp_path):
    write_scenario(pytester, f"""
import pytest
from harness.errors import LabTimeout
from harness.evidence.check import check, intent
from harness.evidence.reliance import acts_on, lab_state_guard, relies_on

@pytest.mark.duty('LAB-READY')
def test_0_phone2_snmp_dies():
    raise LabTimeout('phone2', 'snmp', '{DEAD_NET}.3.2:1161', 'no answer within 1.0 s')

@pytest.mark.duty('LAB-READY')
def test_1_phone2_sip_dies():
    raise LabTimeout('phone2', 'sip', '{DEAD_NET}.3.2:5060', 'no answer within 2.0 s')

@pytest.mark.duty('PSTN-CAPACITY')
def test_2_call_rings_phone2():
    relies_on('phone2')  # the Edge routes the DID to phone2: the test drives no session to it
    {FAILS.format(duty='PSTN-CAPACITY')}

@pytest.mark.duty('MAINT-PHONE-FIRMWARE')
def test_3_rollout_loses_phone3():
    acts_on('phone3')
    relies_on('phone3')
    {FAILS.format(duty='MAINT-PHONE-FIRMWARE')}

@pytest.mark.duty('PSTN-INTEROP')
def test_4_trunk_was_busy():
    lab_state_guard(lambda: '2 calls already up on edge1 before the test')
    {FAILS.format(duty='PSTN-INTEROP')}

@pytest.mark.duty('PSTN-INTEROP')
def test_5_trunk_was_quiet():
    lab_state_guard(lambda: None)
    lab_state_guard(lambda: 1 / 0)  # a guard that breaks says nothing
    {FAILS.format(duty='PSTN-INTEROP')}
""")
    out = tmp_path / "out"
    run(pytester, deadlab, f"--hil-summary={out}")
    t = _tests(out)
    rings = t["test_2_call_rings_phone2"]
    assert rings["verdict"] == "BROKEN", rings
    assert rings["message"].startswith("unreachable: phone2 was found dead (quarantined earlier in the run: "
                                       "timeout: phone2 snmp "), rings
    assert rings["duration_s"] < 0.5  # known dead: no probe
    assert "the FAIL it would explain: [PSTN-CAPACITY] lab: answer = 3" in rings["message"]
    assert t["test_3_rollout_loses_phone3"]["verdict"] == "FAIL"  # what the test did to phone3 is its finding
    busy = t["test_4_trunk_was_busy"]
    assert busy["verdict"] == "BROKEN", busy
    assert busy["message"] == ("lab busy: 2 calls already up on edge1 before the test; the FAIL it would explain: "
                               "[PSTN-INTEROP] lab: answer = 3; limit == 4 (inventory)")
    assert t["test_5_trunk_was_quiet"]["verdict"] == "FAIL"


def test_a_lab_lease_plugs_in_through_a_hook(pytester, deadlab, tmp_path):
    (pytester.path / "scenarios" / "conftest.py").write_text(
        (pytester.path / "scenarios" / "conftest.py").read_text()
        + "\ndef pytest_hil_lab_busy(item):\n    return 'the run of pid 4242 held the lab lease'\n")
    write_scenario(pytester, f"""
import pytest
from harness.evidence.check import check, intent

@pytest.mark.duty('PSTN-INTEROP')
def test_x():
    {FAILS.format(duty='PSTN-INTEROP')}
""")
    out = tmp_path / "out"
    run(pytester, deadlab, f"--hil-summary={out}")
    x = _tests(out)["test_x"]
    assert x["verdict"] == "BROKEN" and x["message"].startswith("lab busy: the run of pid 4242 held the lab lease;")
