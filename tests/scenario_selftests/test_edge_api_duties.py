"""The Edge's duties through the Genesys Cloud API on the twin: LAB-READY's Edge probe,
MAINT-EDGE-LOGS' log job and MAINT-VERSION-MATRIX's Edge version, each PASS on the healthy twin and
FAIL (or BROKEN, or handed to attestation) under the fault that breaks it."""

from __future__ import annotations

import re

from tests.scenario_runner import run_scenarios

LOGS = "test_edge_logs_through_the_api[edge1]"
READY = "test_edge_is_online_in_genesys_cloud[edge1]"


def test_lab_ready_edge_probe_passes_online_and_is_broken_offline(twin, lab_path, out):
    r = run_scenarios(lab_path, out / "ok", "--duty=LAB-READY", "-k", "online_in_genesys_cloud")
    t = r.tests()[READY]
    assert t["verdict"] == "PASS", t
    seen = str(t["measurements"][0]["measured"])
    assert seen.startswith("edge1 Genesys Edge (virtual) serial VE-000001 software 2026.11.1: ONLINE, ACTIVE"), seen
    twin.fault("edge1", "edge-offline")
    r = run_scenarios(lab_path, out / "offline", "--duty=LAB-READY", "-k", "online_in_genesys_cloud")
    t = r.tests()[READY]
    assert t["verdict"] == "BROKEN" and "edge1 is OFFLINE in Genesys Cloud" in t["message"], t
    # the API answered: the Edge is offline in Genesys Cloud, not unreachable
    assert t["message"].startswith("offline: edge1 api ") and "unreachable" not in t["message"], t["message"]


def test_log_job_passes_on_the_healthy_twin(healthy_run):
    r, out = healthy_run.run, healthy_run.reports  # the session's one full run on the healthy twin (tests/conftest.py)
    t = r.tests()[LOGS]
    assert t["verdict"] == "PASS", (t, r.output[-2000:])
    whats = {m["what"]: m for m in t["measurements"]}
    fetched = next(m for w, m in whats.items() if w.startswith("log file /logs/edge1-logs-"))
    assert str(fetched["measured"]).startswith("SHA-256 ") and len(str(fetched["measured"]).split()[1]) == 65
    size = next(m for w, m in whats.items() if w.startswith("bytes of /logs/"))
    assert size["measured"] == size["limit"] and size["measured"] > 1000, size
    files = next(m for w, m in whats.items() if w.startswith("files in /logs/"))
    assert files["measured"] == 5, files
    assert sorted((out / "edge-logs" / "edge1").glob("*.tar.gz")), "the fetched file is kept beside the summary"


def test_log_job_fails_on_a_damaged_file(twin, lab_path, out):
    twin.fault("edge1", "log-corrupt")
    r = run_scenarios(lab_path, out, "--duty=MAINT-EDGE-LOGS", "-k", "through_the_api")
    t = r.tests()[LOGS]
    msg = t["message"]
    assert t["verdict"] == "FAIL", t
    assert msg.startswith("[MAINT-EDGE-LOGS] edge1: damage found reading /logs/edge1-logs-"), msg
    # the flipped bytes land at random: in the deflate stream (zlib's error) or past it (the CRC-32 check)
    assert re.search(r"\(gzip CRC-32\) = (BadGzipFile: CRC check failed|error: Error -3)", msg), msg
    assert "limit == none (STD-RFC1952)" in msg, msg
    assert r.verdict("MAINT-EDGE-LOGS") == "FAIL"


def test_log_job_of_an_offline_edge_falls_to_attestation(twin, lab_path, out):
    twin.fault("edge1", "edge-offline")
    r = run_scenarios(lab_path, out, "--duty=MAINT-EDGE-LOGS", "-k", "through_the_api")
    t = r.tests()[LOGS]
    assert t["verdict"] == "SKIPPED", t
    assert "edge1 is OFFLINE in Genesys Cloud: no log job can run" in t["message"], t
    assert "no public Genesys procedure" in t["message"] and "falls to attestation" in t["message"], t
    assert t["skipped_for"] == "edge1 offline", t
    assert r.verdict("MAINT-EDGE-LOGS") == "PARTIAL", r.summary["duties"]["MAINT-EDGE-LOGS"]


def test_version_matrix_reads_the_edge_version_from_the_api(twin, lab_path, out):
    r = run_scenarios(lab_path, out / "ok", "--duty=MAINT-VERSION-MATRIX", "--device=edge1")
    assert r.tests()["test_edge_runs_an_approved_version[edge1]"]["verdict"] == "PASS"
    twin.fault("edge1", "firmware", "2025.1.0")
    twin.fault("edge1", "wan-down")  # OFFLINE: the version comes through Genesys Cloud or not at all
    r = run_scenarios(lab_path, out / "bad", "--duty=MAINT-VERSION-MATRIX", "--device=edge1")
    bad = r.tests()["test_edge_runs_an_approved_version[edge1]"]
    assert bad["verdict"] == "FAIL" and "[MAINT-VERSION-MATRIX] edge1: firmware version = 2025.1.0" in bad["message"]
    org = twin.state("cloud")
    assert any("/api/v2/telephony/providers/edges/" in p for _, p, _ in org["requests"]), "read through the API"


ENV = "test_edge_runs_within_its_limits[edge1]"


def test_edge_metrics_pass_on_the_healthy_twin_and_fail_when_hot(twin, lab_path, out):
    r = run_scenarios(lab_path, out / "ok", "--duty=ENV-EDGE")
    t = r.tests()[ENV]
    assert t["verdict"] == "PASS", (t, r.output[-2000:])
    cpu = next(m for m in t["measurements"] if m["what"].startswith("busiest processor"))
    assert cpu["measured"] < 80 and cpu["limit"] == 80 and cpu["source"] == "project choice", cpu
    assert r.summary["duties"]["ENV-EDGE"]["automated"] == "PASS"
    assert r.verdict("ENV-EDGE") == "PARTIAL"  # hybrid: room conditions are an attestation the test lab lacks
    twin.fault("edge1", "edge-hot", "95")
    r = run_scenarios(lab_path, out / "hot", "--duty=ENV-EDGE")
    t = r.tests()[ENV]
    msg = t["message"]
    assert t["verdict"] == "FAIL", t
    assert msg.startswith("[ENV-EDGE] edge1: busiest processor's active time (Edge metrics) = 95.0") and \
        "limit <= 80" in msg and "project choice" in msg, msg


def test_edge_metrics_of_an_offline_edge_are_broken(twin, lab_path, out):
    twin.fault("edge1", "edge-offline")
    r = run_scenarios(lab_path, out, "--duty=ENV-EDGE")
    t = r.tests()[ENV]
    assert t["verdict"] == "BROKEN" and "edge1 is OFFLINE in Genesys Cloud" in t["message"], t
