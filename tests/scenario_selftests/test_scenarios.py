"""Every shipped scenario: PASS on the healthy twin, FAIL under the fault it exists to catch (with
device, duty, measured value and limit in the message), BROKEN when the device is gone."""

from __future__ import annotations

from tests.scenario_runner import run_scenarios


def test_healthy_twin_passes_every_duty(healthy_run):
    r = healthy_run.run  # the session's one full run on the healthy twin (tests/conftest.py)
    assert r.returncode == 0, r.output
    for duty in ("LAB-READY", "MAINT-VERSION-MATRIX", "NET-VOIP-HW", "CFG-STATION", "PSTN-CONNECT", "PSTN-INTEROP",
                 "PSTN-CAPACITY", "SEC-TOLL-FRAUD"):
        assert r.summary["duties"][duty]["automated"] == "PASS", (duty, r.summary["duties"][duty])
        if duty != "PSTN-CAPACITY":
            assert r.verdict(duty) == "PASS", (duty, r.summary["duties"][duty])
    # a hybrid duty needs its attestation too: the test lab has none, so its automated PASS is PARTIAL
    capacity = r.summary["duties"]["PSTN-CAPACITY"]
    assert capacity["verdict"] == "PARTIAL" and capacity["reasons"] == ["attestation: ATTESTATION MISSING"], capacity
    not_passed = {t["nodeid"]: t for t in r.summary["tests"] if t["verdict"] != "PASS"}
    # only the destructive scenarios stay out of a run without --allow-destructive
    assert all(t["verdict"] == "SKIPPED" and "--allow-destructive" in t["message"] for t in not_passed.values()), \
        not_passed
    assert any("provision" in n for n in not_passed)
    # readiness touched every device of the inventory
    ready = r.tests("LAB-READY")
    assert {f"test_device_answers_on_every_declared_transport[{n}]" for n in
            ("edge1", "sw1", "phone1", "phone2", "phone3", "phone4", "pstn1", "prov1")} <= set(ready)


def test_version_matrix_fails_on_unapproved_phone_firmware(twin, lab_path, out):
    twin.fault("phone2", "firmware", "5.9.0")
    r = run_scenarios(lab_path, out, "--duty=MAINT-VERSION-MATRIX")
    assert r.returncode == 1
    t = r.tests()
    bad = t["test_phone_runs_an_approved_version[phone2]"]
    assert bad["verdict"] == "FAIL"
    msg = bad["message"]
    assert "[MAINT-VERSION-MATRIX] phone2" in msg and "5.9.0" in msg and "6.4.3" in msg, msg
    assert t["test_phone_runs_an_approved_version[phone1]"]["verdict"] == "PASS"
    assert r.verdict("MAINT-VERSION-MATRIX") == "FAIL"


def test_version_matrix_fails_on_unapproved_edge_firmware(twin, lab_path, out):
    twin.fault("edge1", "firmware", "2025.1.0")
    r = run_scenarios(lab_path, out, "--duty=MAINT-VERSION-MATRIX", "--device=edge1")
    bad = r.tests()["test_edge_runs_an_approved_version[edge1]"]
    assert bad["verdict"] == "FAIL"
    assert "[MAINT-VERSION-MATRIX] edge1: firmware version = 2025.1.0" in bad["message"]
    assert "2026.11.1" in bad["message"]


def test_voip_hw_fails_when_voice_vlan_is_dropped(twin, lab_path, out):
    twin.fault("sw1", "drop-voice-vlan")
    r = run_scenarios(lab_path, out, "--duty=NET-VOIP-HW")
    assert r.returncode == 1
    t = r.tests()
    vlan = t["test_voice_vlan_exists_on_access_switch[sw1]"]
    assert vlan["verdict"] == "FAIL" and "[NET-VOIP-HW] sw1" in vlan["message"] and "100" in vlan["message"]
    port = t["test_phone_port_carries_voice_vlan[phone1]"]
    assert port["verdict"] == "FAIL"
    assert "sw1 GigabitEthernet1/0/1" in port["message"] and "limit == 100" in port["message"], port["message"]


def test_pstn_connect_fails_when_options_go_unanswered(twin, lab_path, out):
    twin.fault("pstn1", "options-silent")
    r = run_scenarios(lab_path, out, "--duty=PSTN-CONNECT")
    assert r.returncode == 1
    t = r.tests()["test_trunk_peer_answers_sip_options[pstn1]"]
    assert t["verdict"] == "FAIL"
    assert "[PSTN-CONNECT] pstn1: SIP OPTIONS round trip = nothing; limit <= 2000 ms" in t["message"], t["message"]
    # the simulator's management plane answers: readiness does not call the lab broken for it (the two
    # duties in one run, as a full run has them: readiness first, then the trunk checks)
    both = run_scenarios(lab_path, out / "both", "--duty=LAB-READY", "--duty=PSTN-CONNECT")
    assert both.verdict("LAB-READY") == "PASS" and both.verdict("PSTN-CONNECT") == "FAIL"


def test_pstn_connect_is_broken_not_failed_when_the_simulator_is_down(twin, lab_path, out):
    twin.fault("pstn1", "down")
    r = run_scenarios(lab_path, out, "--duty=PSTN-CONNECT")
    t = r.tests()["test_trunk_peer_answers_sip_options[pstn1]"]
    assert t["verdict"] == "BROKEN", t
    assert "pstn1" in t["message"]
    assert r.verdict("PSTN-CONNECT") == "BROKEN"
    assert r.summary["exit_code"] == 3


def test_pstn_connect_fails_when_an_edge_trunk_is_silent(twin, lab_path, out):
    twin.fault("edge1", "options-silent")
    r = run_scenarios(lab_path, out)
    t = r.tests()
    edge = t["test_edge_trunk_answers_sip_options[edge1]"]
    assert edge["verdict"] == "FAIL", edge
    assert "[PSTN-CONNECT] edge1: SIP OPTIONS to the Edge trunk round trip = nothing" in edge["message"]
    assert t["test_trunk_peer_answers_sip_options[pstn1]"]["verdict"] == "PASS"
    # readiness sees a live Edge (SSH, SNMP, console answer): one symptom, one verdict
    assert t["test_device_answers_on_every_declared_transport[edge1]"]["verdict"] == "PASS"
    assert r.summary["exit_code"] == 1 and r.verdict("LAB-READY") == "PASS"


def test_pstn_connect_is_broken_when_the_edge_is_down(twin, lab_path, out):
    twin.fault("edge1", "down")
    r = run_scenarios(lab_path, out, "--duty=PSTN-CONNECT")
    t = r.tests()
    assert t["test_edge_trunk_answers_sip_options[edge1]"]["verdict"] == "BROKEN"
    assert t["test_trunk_peer_answers_sip_options[pstn1]"]["verdict"] == "PASS"
    assert r.summary["exit_code"] == 3


def test_readiness_is_broken_for_a_dead_device_only(twin, lab_path, out):
    twin.fault("phone3", "down")
    r = run_scenarios(lab_path, out, "--duty=LAB-READY")
    t = r.tests()
    dead = t["test_device_answers_on_every_declared_transport[phone3]"]
    assert dead["verdict"] == "BROKEN"
    assert "phone3 snmp" in dead["message"], dead["message"]
    others = [v for k, v in t.items() if "phone3" not in k]
    assert others and all(v["verdict"] == "PASS" for v in others)


def test_version_matrix_names_each_incompatible_edge_phone_pair(twin, lab_path, out):
    twin.fault("phone2", "firmware", "6.3.9")
    twin.fault("phone4", "firmware", "7.0.1")
    r = run_scenarios(lab_path, out, "--duty=MAINT-VERSION-MATRIX", "-k", "compatible")
    t = r.tests("MAINT-VERSION-MATRIX")
    msg = t["test_phone_is_compatible_with_its_edge[phone2]"]["message"]
    assert t["test_phone_is_compatible_with_its_edge[phone2]"]["verdict"] == "FAIL", msg
    assert "[MAINT-VERSION-MATRIX] phone2: edge1 2026.11.1 with phone2 generic_sip_phone 6.3.9" in msg, msg
    assert "= incompatible; limit == compatible" in msg and "allowed beside edge1 2026.11.1: >=6.4,<7" in msg, msg
    assert "phone4 generic_sip_phone 7.0.1" in t["test_phone_is_compatible_with_its_edge[phone4]"]["message"]
    assert t["test_phone_is_compatible_with_its_edge[phone1]"]["verdict"] == "PASS"


def test_version_matrix_fails_an_edge_version_no_row_covers(twin, lab_path, out):
    twin.fault("edge1", "firmware", "2027.1.0")
    r = run_scenarios(lab_path, out, "--duty=MAINT-VERSION-MATRIX", "-k", "compatible")
    rec = r.tests("MAINT-VERSION-MATRIX")["test_phone_is_compatible_with_its_edge[phone1]"]
    assert rec["verdict"] == "FAIL" and "edge1 2027.1.0 with phone1" in rec["message"], rec
    assert "= edge-not-listed" in rec["message"], rec
