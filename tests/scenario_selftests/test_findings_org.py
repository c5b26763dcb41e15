"""One root cause, one finding, for the Edge and the org's records: under each fault that breaks one
record or the Edge's link to Genesys Cloud, the run's summary has ONE root finding, the check that
judges the input itself, with every other failure it caused listed under it as a consequence (each
still FAIL, every failed test in the findings); the healthy twin has no findings.

* ``edge-offline``: INET-ACCESS's ``online_status`` check is the root; DATA-ACCURACY's Edge comparison
  (OFFLINE in the org while its SIP answers) is its consequence; the checks that need the Edge online
  are BROKEN, not grouped.
* ``phone-record-mac``: CFG-STATION's record check of the phone's port is the root; DATA-ACCURACY's
  MAC reconciliation (the MAC on the wire without a record, the record on no phone port) is its
  consequence.
* ``edge-record-version``: DATA-ACCURACY's comparison of the record's ``softwareVersion`` with the
  version the Edge's SIP shows is the root; MAINT-VERSION-MATRIX's Edge checks judged on the record's
  version (the Edge's own would pass) are its consequences.
* ``options-silent`` on the Edge (ONLINE in the org, its SIP silent): PSTN-CONNECT's OPTIONS to the Edge
  trunk, the check that measures the Edge's SIP itself, is the root; DATA-ACCURACY's Edge comparison
  (ONLINE while its SIP is silent, and its count) is its consequence, listed once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.scenario_runner import ScenarioRun, run_scenarios

# the duties that read the Edge or the org's records (the others cannot fail under these faults)
DUTIES = tuple(f"--duty={d}" for d in ("LAB-READY", "CFG-STATION", "DATA-ACCURACY", "INET-ACCESS", "ENV-EDGE",
                                        "NET-DHCP-DNS", "MAINT-VERSION-MATRIX", "MAINT-EDGE-UPDATE"))
DATA = "scenarios/data/test_data_accuracy.py::"
EDGE_ROW = f"{DATA}test_edge_records_match_the_edges_on_the_wire[edge1]"
MACS = f"{DATA}test_macs_on_the_wire_and_phone_records_match"
ONLINE = "scenarios/network/test_internet.py::test_edge_is_online_and_traces_to_genesys[edge1]"
STATION = "scenarios/config/test_station.py::test_phone_record_hardware_id_is_the_mac_on_the_port[phone2]"
MATRIX = "scenarios/maintenance/test_version_matrix.py::"
PHONES = ("phone1", "phone2", "phone3", "phone4")


def _failed(r: ScenarioRun) -> set[str]:
    return {t["nodeid"] for t in r.summary["tests"] if t["verdict"] == "FAIL"}


def _one_finding(r: ScenarioRun, out: Path) -> dict[str, Any]:
    """The run's only finding; every failed test is in it once (root or consequence), each still FAIL;
    one heading under summary.md's Findings."""
    (f,) = r.summary["findings"]
    listed = [f["root"]["nodeid"]] + [c["nodeid"] for c in f["consequences"]]
    assert sorted(listed) == sorted(_failed(r)), (listed, _failed(r))  # each test once
    assert r.returncode == 1, r.output[-3000:]  # grouping changes no exit code
    md = (out / "summary.md").read_text()
    findings = md[md.index("## Findings"):md.index("\n## ", md.index("## Findings"))]
    assert findings.count("\n### ") == 1, findings
    return f


def test_the_healthy_twin_has_no_findings(healthy_run):
    # the session's one full run on the healthy twin (tests/conftest.py): every duty, these DUTIES among them
    r = healthy_run.run
    assert r.returncode == 0, r.output[-3000:]
    assert _failed(r) == set() and r.summary["findings"] == [], r.summary["findings"]
    assert "## Findings" not in (healthy_run.reports / "summary.md").read_text()


def test_an_offline_edge_is_one_finding_the_online_status(twin, lab_path, out):
    twin.fault("edge1", "edge-offline")
    r = run_scenarios(lab_path, out, *DUTIES)
    assert _failed(r) == {ONLINE, EDGE_ROW}, _failed(r)
    f = _one_finding(r, out)
    root = f["root"]
    assert root["nodeid"] == ONLINE and root["duty"] == "INET-ACCESS" and root["measured"] == "OFFLINE", root
    assert root["limit"] == "ONLINE" and root["device"] == "edge1", root
    assert f["inputs"] == ["genesys cloud record of edge edge1: onlineStatus"], f
    # the Edge comparison once: the org's OFFLINE against the SIP that answers, and the count of that one
    # disagreement (the check that failed the test) inside it
    (c,) = f["consequences"]
    assert c["nodeid"] == EDGE_ROW and c["because"] == f["inputs"] and c["duty"] == "DATA-ACCURACY", f
    assert "OFFLINE in Genesys Cloud while its SIP answers" in c["message"], c
    assert [k["what"].split(":")[0] for k in c["checks"]] == ["online", "values of the Edge's record in Genesys "
                                                             "Cloud that the Edge on the wire contradicts"], c
    assert all(k["because"] == f["inputs"] for k in c["checks"]), c
    # the checks that need the Edge online are BROKEN, not findings
    t = r.tests()
    assert t["test_edge_runs_within_its_limits[edge1]"]["verdict"] == "BROKEN", t
    assert t["test_edge_is_online_in_genesys_cloud[edge1]"]["verdict"] == "BROKEN", t
    md = (out / "summary.md").read_text()
    head = md.index("### 1. \\[INET-ACCESS\\] edge1: online\\_status in Genesys Cloud")
    assert md.index("  - \\[DATA-ACCURACY\\] edge1: values of the Edge's record", head) > head, md


def test_a_phone_record_with_another_mac_is_one_finding_the_station_record(twin, lab_path, out):
    twin.fault("cloud", "phone-record-mac", "phone2:00:04:f2:00:00:99")
    r = run_scenarios(lab_path, out, *DUTIES)
    assert _failed(r) == {STATION, MACS}, _failed(r)
    f = _one_finding(r, out)
    root = f["root"]
    assert root["nodeid"] == STATION and root["duty"] == "CFG-STATION" and root["measured"] == 0.0, root
    assert root["limit"] == 100 and "GigabitEthernet1/0/2 (phone2)" in root["device"], root
    assert sorted(f["inputs"]) == ["phone record of hardware id 00:04:f2:00:00:02",
                                   "phone record of hardware id 00:04:f2:00:00:99"], f
    # the MAC reconciliation once, as the count that failed it: the MAC on phone2's port without a record,
    # the record on no port, and the count of both inside it
    (macs,) = f["consequences"]
    assert macs["nodeid"] == MACS and macs["what"].startswith("MACs on the wire without"), macs
    assert macs["measured"] == 2 and macs["limit"] == 0 and sorted(macs["because"]) == f["inputs"], macs
    got = {c["device"]: c for c in macs["checks"]}
    assert got["sw1 GigabitEthernet1/0/2 (phone2)"]["because"] == ["phone record of hardware id 00:04:f2:00:00:02"]
    assert got["phone record phone2"]["because"] == ["phone record of hardware id 00:04:f2:00:00:99"]
    assert len(macs["checks"]) == 3, macs
    md = (out / "summary.md").read_text()
    assert md.count("test\\_macs\\_on\\_the\\_wire\\_and\\_phone\\_records\\_match") == 1, md
    assert "- consequences (1 test, 3 failed checks):" in md, md


def test_an_edge_record_with_another_version_is_one_finding_the_record(twin, lab_path, out):
    twin.fault("cloud", "edge-record-version", "edge1:2026.1.0")
    allure_dir = out / "allure"
    r = run_scenarios(lab_path, out, *DUTIES, f"--alluredir={allure_dir}")
    edge_checks = {f"{MATRIX}test_edge_runs_an_approved_version[edge1]"} | {
        f"{MATRIX}test_phone_is_compatible_with_its_edge[{p}]" for p in PHONES}
    assert _failed(r) == {EDGE_ROW} | edge_checks, _failed(r)
    f = _one_finding(r, out)
    root = f["root"]
    assert root["nodeid"] == EDGE_ROW and root["duty"] == "DATA-ACCURACY" and root["device"] == "edge1", root
    assert root["measured"] == "2026.11.1" and root["limit"] == "2026.1.0", root  # the wire's vs the org's
    assert f["inputs"] == ["genesys cloud record of edge edge1: softwareVersion"], f
    # the Edge comparison once, as the root's test: its count (a consequence of its version row) inside it
    assert [(c["what"].split(":")[0], c["because"]) for c in root["checks"]] == [
        ("software version", []), ("values of the Edge's record in Genesys Cloud that the Edge on the wire contradicts",
                                   f["inputs"])], root
    assert {c["nodeid"] for c in f["consequences"]} == edge_checks, f
    for c in f["consequences"]:
        assert c["because"] == f["inputs"], c
        if c["duty"] == "MAINT-VERSION-MATRIX":
            assert "2026.1.0" in c["message"], c
    # the test's message is still the check that failed it (its count), not its root row's
    message = r.tests()["test_edge_records_match_the_edges_on_the_wire[edge1]"]["message"]
    assert message.startswith("[DATA-ACCURACY] edge1: values of the Edge's record in Genesys Cloud that the Edge on "
                              "the wire contradicts = 1 values"), message
    # Allure: the version matrix ran after its root, so each of its failures names it
    results = [json.loads(p.read_text()) for p in allure_dir.glob("*-result.json")]
    for res in results:
        if res["fullName"].startswith("scenarios.maintenance.test_version_matrix") and res["status"] == "failed":
            details = res["statusDetails"]["message"]
            assert "consequence of: [DATA-ACCURACY] edge1: software version" in details, details
    assert sum(res["status"] == "failed" and "test_version_matrix" in res["fullName"] for res in results) == 5
    # the Edge comparison holds the root (its version row): never tagged a consequence of its own finding
    (edge_row,) = [res for res in results if res["fullName"].endswith("test_edge_records_match_the_edges_on_the_wire")
                   and res["status"] == "failed"]
    assert "consequence of:" not in edge_row["statusDetails"]["message"], edge_row
    assert not [a for a in edge_row["attachments"] if a["name"] == "root cause"], edge_row


def test_an_edge_running_an_unapproved_version_is_one_finding_the_edge_version(twin, lab_path, out):
    # the Edge runs it, and its record and SIP agree: DATA-ACCURACY passes, the approval check is the root
    twin.fault("edge1", "firmware", "2026.1.0")
    r = run_scenarios(lab_path, out, "--duty=MAINT-VERSION-MATRIX", "--duty=DATA-ACCURACY")
    approved = f"{MATRIX}test_edge_runs_an_approved_version[edge1]"
    pairs = {f"{MATRIX}test_phone_is_compatible_with_its_edge[{p}]" for p in PHONES}
    assert _failed(r) == {approved} | pairs, _failed(r)
    f = _one_finding(r, out)
    assert f["root"]["nodeid"] == approved and f["root"]["measured"] == "2026.1.0", f["root"]
    assert f["inputs"] == ["genesys cloud record of edge edge1: softwareVersion"], f
    assert {c["nodeid"] for c in f["consequences"]} == pairs, f
    assert all(c["measured"] == "edge-not-listed" for c in f["consequences"]), f


def test_a_phone_out_of_the_matrix_is_its_own_finding(twin, lab_path, out):
    # the phone's own firmware fails the matrix beside an approved Edge: nothing to group
    twin.fault("phone2", "firmware", "5.9.0")
    r = run_scenarios(lab_path, out, "--duty=MAINT-VERSION-MATRIX")
    failed = _failed(r)
    assert f"{MATRIX}test_phone_is_compatible_with_its_edge[phone2]" in failed, failed
    assert len(r.summary["findings"]) == len(failed), r.summary["findings"]
    assert all(f["consequences"] == [] for f in r.summary["findings"]), r.summary["findings"]


def test_an_online_edge_whose_sip_is_silent_is_one_finding_the_edge_trunk(twin, lab_path, out):
    twin.fault("edge1", "options-silent")
    r = run_scenarios(lab_path, out, "--duty=LAB-READY", "--duty=PSTN-CONNECT", "--duty=DATA-ACCURACY",
                      "--duty=MAINT-VERSION-MATRIX", "-k", "options or edge_records or version or transport")
    trunk = "scenarios/pstn/test_pstn_connect.py::test_edge_trunk_answers_sip_options[edge1]"
    assert _failed(r) == {trunk, EDGE_ROW}, _failed(r)
    f = _one_finding(r, out)
    root = f["root"]
    assert root["nodeid"] == trunk and root["duty"] == "PSTN-CONNECT" and root["device"] == "edge1", root
    assert root["measured"] is None and root["limit"] == 2000 and root["unit"] == "ms", root
    assert f["inputs"] == ["sip options answered by edge edge1 on port 5060"], f
    (c,) = f["consequences"]  # the Edge comparison once, its online row and its count inside it
    assert c["nodeid"] == EDGE_ROW and c["because"] == f["inputs"], c
    assert "ONLINE in Genesys Cloud while its SIP is silent on 5060, 8060" in c["message"], c
    assert [k["what"].split(":")[0] for k in c["checks"]] == ["online", "values of the Edge's record in Genesys "
                                                             "Cloud that the Edge on the wire contradicts"], c
    assert r.tests()["test_device_answers_on_every_declared_transport[edge1]"]["verdict"] == "PASS"

