"""CFG-STATION (the org's phone records), CFG-TELEPHONY, CFG-DIALPLAN and DATA-ACCURACY against the twin's emulated
org: PASS on the healthy twin, FAIL under each configuration fault of the org (``hil lab fault cloud …``)
naming the device, the duty, the measured value and the limit."""

from __future__ import annotations

import csv
import io

from tests.scenario_runner import ScenarioRun, run_scenarios
from tests.scenario_selftests.test_switch_duties import _transcripts

DUTIES = ("--duty=CFG-STATION", "--duty=CFG-TELEPHONY", "--duty=CFG-DIALPLAN", "--duty=DATA-ACCURACY")


def _passes_but(r: ScenarioRun, duty: str, *failing: str) -> None:
    for name, rec in r.tests(duty).items():
        if name not in failing:
            assert rec["verdict"] == "PASS", (name, rec)


def test_the_healthy_org_passes(healthy_run):
    r = healthy_run.run  # the session's one full run on the healthy twin (tests/conftest.py)
    assert r.returncode == 0, r.output[-3000:]
    for duty in ("CFG-STATION", "CFG-TELEPHONY", "CFG-DIALPLAN"):
        assert r.verdict(duty) == "PASS", (duty, r.summary["duties"][duty])
    # hybrid: the street address is for a person to attest, so without an attestation PARTIAL
    assert r.verdict("DATA-ACCURACY") == "PARTIAL", r.summary["duties"]["DATA-ACCURACY"]
    t = {n: rec for d in DUTIES for n, rec in r.tests(d.removeprefix("--duty=")).items()}
    assert t and all(rec["verdict"] == "PASS" for rec in t.values()), t
    assert t["test_phone_record_hardware_id_is_the_mac_on_the_port[phone1]"]["verdict"] == "PASS"
    assert t["test_org_is_within_the_telephony_limit[phone lines]"]["verdict"] == "PASS"
    assert t["test_org_is_within_the_telephony_limit[trunks]"]["verdict"] == "PASS"
    assert t["test_macs_on_the_wire_and_phone_records_match"]["verdict"] == "PASS"
    assert t["test_trunks_in_the_org_and_on_the_wire_match"]["verdict"] == "PASS"
    assert t["test_edge_records_match_the_edges_on_the_wire[edge1]"]["verdict"] == "PASS"


def test_a_phone_record_with_another_hardware_id_fails_station_and_data(twin, lab_path, out):
    twin.fault("cloud", "phone-record-mac", "phone2:00:04:f2:99:99:99")
    allure_dir = out / "allure"
    r = run_scenarios(lab_path, out, "--duty=CFG-STATION", "--duty=DATA-ACCURACY", f"--alluredir={allure_dir}")
    # the phone records are read once; each failing test carries the API transcript that read them
    got = _transcripts(allure_dir)
    for test in ("test_phone_record_hardware_id_is_the_mac_on_the_port[phone2]",
                 "test_macs_on_the_wire_and_phone_records_match"):
        api = [text for name, text in got[test].items() if name.startswith("transcript cloud api ")]
        assert any("GET /api/v2/telephony/providers/edges/phones" in text for text in api), (test, list(got[test]))
    r.fails("test_phone_record_hardware_id_is_the_mac_on_the_port[phone2]", "[CFG-STATION] sw1 GigabitEthernet1/0/2 "
            "(phone2)", "= 0.0 %", "limit >= 100 % (API-TF-PHONEBASE)", "00:04:f2:00:00:02: no phone record",
            "the record named phone2 holds hardware ID 0004f2999999")
    r.fails("test_macs_on_the_wire_and_phone_records_match", "[DATA-ACCURACY] cloud site", "= 2 MACs",
            "limit <= 0 MACs", "00:04:f2:00:00:02 on sw1 GigabitEthernet1/0/2 has no phone record",
            "phone record phone2 (00:04:f2:99:99:99) is on no phone port")
    side = {m["device"]: m for m in r.tests()["test_macs_on_the_wire_and_phone_records_match"]["measurements"]}
    assert side["sw1 GigabitEthernet1/0/1 (phone1)"]["passed"], side  # org and wire side by side, per phone
    bad = side["sw1 GigabitEthernet1/0/2 (phone2)"]
    assert (bad["measured"], bad["limit"], bad["passed"]) == ("00:04:f2:00:00:02", None, False), bad
    assert side["phone record phone2"]["limit"] == "00:04:f2:99:99:99", side
    _passes_but(r, "CFG-STATION", "test_phone_record_hardware_id_is_the_mac_on_the_port[phone2]")
    assert r.verdict("CFG-STATION") == "FAIL" and r.verdict("DATA-ACCURACY") == "FAIL"


def test_a_phone_swapped_on_the_wire_has_no_record(twin, lab_path, out):
    twin.fault("phone3", "swapped-phone", "80:5e:c0:99:99:99")
    r = run_scenarios(lab_path, out, "--duty=CFG-STATION", "-k", "record")
    r.fails("test_phone_record_hardware_id_is_the_mac_on_the_port[phone3]", "sw1 GigabitEthernet1/0/3 (phone3)",
            "80:5e:c0:99:99:99: no phone record")


def test_a_carrier_did_missing_from_the_pools_and_an_extra_did_fail(twin, lab_path, out):
    twin.fault("cloud", "did-not-pooled", "+13175550101")
    twin.fault("cloud", "did-extra", "+13175550150")
    r = run_scenarios(lab_path, out, "--duty=DATA-ACCURACY")
    r.fails("test_carrier_dids_and_did_pools_match", "[DATA-ACCURACY] cloud DIDs", "= 2 DIDs",
            "limit <= 0 DIDs (API-TF-DIDPOOL)", "+13175550101 (delivered by pstn1) is in no DID pool",
            "DID +13175550150 of the org is not delivered by the carrier")
    side = {m["device"]: m for m in r.tests()["test_carrier_dids_and_did_pools_match"]["measurements"]}
    assert (side["DID +13175550101"]["measured"], side["DID +13175550101"]["limit"]) == (True, False), side
    assert (side["DID +13175550150"]["measured"], side["DID +13175550150"]["limit"]) == (False, True), side
    assert side["DID +13175550100"]["passed"], side
    _passes_but(r, "DATA-ACCURACY", "test_carrier_dids_and_did_pools_match")


def test_an_edge_trunk_missing_from_the_org_fails_naming_the_edge(twin, lab_path, out):
    twin.fault("cloud", "trunk-missing", "edge1")
    r = run_scenarios(lab_path, out, "--duty=DATA-ACCURACY", "-k", "trunks")
    r.fails("test_trunks_in_the_org_and_on_the_wire_match", "[DATA-ACCURACY] cloud trunks", "= 1 trunks",
            "limit <= 0 trunks (project choice)", "edge1: no external trunk in the org (its SIP trunk to ")
    side = {m["device"]: m for m in r.tests()["test_trunks_in_the_org_and_on_the_wire_match"]["measurements"]}
    assert side["trunk edge1"]["limit"] == "none" and side["trunk edge1"]["measured"].endswith(":5060"), side


def test_an_org_trunk_pointed_at_another_carrier_fails_naming_the_server(twin, lab_path, out):
    twin.fault("cloud", "trunk-server", "edge1:sbc.carrier.example:5060")
    r = run_scenarios(lab_path, out, "--duty=DATA-ACCURACY", "-k", "trunks")
    r.fails("test_trunks_in_the_org_and_on_the_wire_match", "[DATA-ACCURACY] cloud trunks", "= 1 trunks",
            "edge1: the org's trunk servers sbc.carrier.example:5060 are not the routes ")


def test_an_edge_record_with_another_version_than_its_sip_shows_fails(twin, lab_path, out):
    # The org's record of edge1 says 2026.12.0 while the Edge runs 2026.11.1 and its SIP Server header says so.
    healthy = run_scenarios(lab_path, out / "ok", "--duty=DATA-ACCURACY", "-k", "edge_records")
    test = "test_edge_records_match_the_edges_on_the_wire[edge1]"
    rec = healthy.tests()[test]
    assert rec["verdict"] == "PASS", rec
    side = {m["what"].split(":")[0]: m for m in rec["measurements"] if m["device"] == "edge1"}
    assert (side["software version"]["measured"], side["software version"]["limit"]) == ("2026.11.1", "2026.11.1"), side
    assert side["online"]["passed"] and side["external trunk servers"]["passed"], side
    twin.fault("cloud", "edge-record-version", "edge1:2026.12.0")
    allure_dir = out / "allure"
    r = run_scenarios(lab_path, out / "bad", "--duty=DATA-ACCURACY", "-k", "edge_records", f"--alluredir={allure_dir}")
    r.fails(test, "[DATA-ACCURACY] edge1: values of the Edge's record in Genesys Cloud that the Edge on the wire "
            "contradicts = 1 values", "limit <= 0 values (project choice)",
            "Genesys Cloud gives software 2026.12.0, its SIP shows 2026.11.1")
    side = {m["what"].split(":")[0]: m for m in r.tests()[test]["measurements"] if m["device"] == "edge1"}
    bad = side["software version"]
    assert (bad["measured"], bad["limit"], bad["passed"]) == ("2026.11.1", "2026.12.0", False), bad
    assert side["online"]["passed"], side  # one fault, one disagreement
    # the side-by-side table is CSV (Allure shows it as a table): what, org, wire, verdict
    rows = [r for p in allure_dir.glob("*-attachment.csv") for r in csv.reader(io.StringIO(p.read_text()))]
    version = [r for r in rows if r and r[0] == "software version"]
    assert any(r[1] == "2026.12.0" and r[2].startswith("2026.11.1 (") and r[3] == "DISAGREE" for r in version), rows


def test_an_edge_offline_in_the_org_while_its_sip_answers_fails(twin, lab_path, out):
    twin.fault("edge1", "edge-offline")
    r = run_scenarios(lab_path, out, "--duty=DATA-ACCURACY", "-k", "edge_records")
    r.fails("test_edge_records_match_the_edges_on_the_wire[edge1]", "[DATA-ACCURACY] edge1:", "= 1 values",
            "OFFLINE in Genesys Cloud while its SIP answers on 5060 and 8060")
    side = {m["what"].split(":")[0]: m for m in r.tests()["test_edge_records_match_the_edges_on_the_wire[edge1]"][
        "measurements"] if m["device"] == "edge1"}
    assert (side["online"]["measured"], side["online"]["limit"]) == ("ONLINE", "OFFLINE"), side["online"]


def test_a_location_without_an_emergency_number_fails(twin, lab_path, out):
    twin.fault("cloud", "no-emergency-number")
    r = run_scenarios(lab_path, out, "--duty=DATA-ACCURACY", "-k", "emergency")
    r.fails("test_every_location_has_an_emergency_number", "[DATA-ACCURACY] cloud", "= 1 locations",
            "limit <= 0 locations (G-POLYCCX)", "no emergency number: Lab Site A")


def test_a_duplicated_hardware_id_fails(twin, lab_path, out):
    twin.fault("cloud", "phone-record-mac", "phone3:00:04:f2:00:00:01")  # phone3's record claims phone1's MAC
    r = run_scenarios(lab_path, out, "--duty=DATA-ACCURACY", "-k", "unique")
    r.fails("test_every_address_is_unique", "[DATA-ACCURACY] cloud", "= 1 addresses",
            "limit <= 0 addresses (G-PHADDR)", "hardware ID 00:04:f2:00:00:01")


def test_an_org_at_its_limit_fails_and_near_it_warns(twin, lab_path, out):
    twin.fault("cloud", "telephony-limit", "phone.lines:4")  # the lab's 4 phones: 100 %
    r = run_scenarios(lab_path, out, "--duty=CFG-TELEPHONY", "-k", "limit")
    r.fails("test_org_is_within_the_telephony_limit[phone lines]", "[CFG-TELEPHONY] cloud",
            "share of the phone lines limit in use = 100.0 %", "limit < 90 % (G-LIMITS)",
            "4 lines of 4: the org's limit phone.lines = 4")
    _passes_but(r, "CFG-TELEPHONY", "test_org_is_within_the_telephony_limit[phone lines]")
    twin.heal("cloud")
    twin.fault("cloud", "telephony-limit", "phone.lines:5")  # 80 %: a warning, still PASS
    r = run_scenarios(lab_path, out, "--duty=CFG-TELEPHONY", "-k", "limit")
    rec = r.tests()["test_org_is_within_the_telephony_limit[phone lines]"]
    assert rec["verdict"] == "PASS", rec
    assert "WARNING: 80.0 % of the phone lines limit in use" in str(rec), rec


def test_an_org_at_its_trunk_limit_fails(twin, lab_path, out):
    twin.fault("cloud", "telephony-limit", "trunks:2")  # edge1's external and phone trunks: 100 %
    r = run_scenarios(lab_path, out, "--duty=CFG-TELEPHONY", "-k", "limit")
    r.fails("test_org_is_within_the_telephony_limit[trunks]", "[CFG-TELEPHONY] cloud",
            "share of the trunks limit in use = 100.0 %", "limit < 90 % (G-LIMITS)",
            "2 trunks of 2: the org's limit trunks = 2")
    _passes_but(r, "CFG-TELEPHONY", "test_org_is_within_the_telephony_limit[trunks]")


def test_a_caller_id_not_in_e164_fails(twin, lab_path, out):
    twin.fault("cloud", "site-caller-id", "3175550199")
    r = run_scenarios(lab_path, out, "--duty=CFG-TELEPHONY", "-k", "e164")
    r.fails("test_site_numbers_are_e164", "[CFG-TELEPHONY] cloud site Lab Site A", "= 1 numbers",
            "limit <= 0 numbers (API-TF-SITE)", "site caller ID '3175550199'")


def test_a_missing_number_plan_misclassifies_its_dial_strings(twin, lab_path, out):
    twin.fault("cloud", "numberplan-missing", "National")
    r = run_scenarios(lab_path, out, "--duty=CFG-DIALPLAN")
    r.fails("test_number_plans_classify_dial_strings[National]", "[CFG-DIALPLAN] cloud site Lab Site A",
            "dial strings not classified National = ", "limit <= 0 dial strings (G-NUMPLAN)",
            "+13175559000 -> no plan", "3175559000 -> no plan")
    # the Edge classifies by the org's plans too: it refuses what no plan classifies, as a real one would
    called = "test_dialled_classification_reaches_the_carrier_in_e164[edge1-National]"
    r.fails(called, "[CFG-DIALPLAN] edge1", "National calls from phone1 that never reached pstn1 = 3 calls",
            "3175559000 -> 404")
    _passes_but(r, "CFG-DIALPLAN", "test_number_plans_classify_dial_strings[National]", called)
    (f,) = r.summary["findings"]  # one finding: the plans; the refused calls its consequence
    assert f["root"]["nodeid"].endswith("test_number_plans_classify_dial_strings[National]"), f
    assert [c["nodeid"].split("::")[-1] for c in f["consequences"]] == [called], f


def test_an_emergency_classification_without_a_route_fails(twin, lab_path, out):
    twin.fault("cloud", "outbound-route-drops", "Emergency")
    r = run_scenarios(lab_path, out, "--duty=CFG-DIALPLAN", "-k", "routes")
    r.fails("test_outbound_routes_carry_what_leaves_the_site", "[CFG-DIALPLAN] cloud site Lab Site A",
            "= 1 classifications", "limit <= 0 classifications (G-NUMPLAN)",
            "no enabled outbound route carries Emergency")
