"""LAB-READY's Genesys Cloud probe on the twin: PASS on the healthy org, BROKEN naming the call when
the API is down or silent (one timeout), PASS under a rate limit it waits out."""

from __future__ import annotations

import pytest

from tests.scenario_runner import run_scenarios

PROBE = "test_cloud_api_answers"


def test_the_cloud_api_answers_on_the_healthy_twin(healthy_run):
    r = healthy_run.run  # the session's one full run on the healthy twin (tests/conftest.py)
    probe = r.tests()[PROBE]
    assert probe["verdict"] == "PASS", probe
    seen = probe["measurements"][0]
    assert seen["device"] == "cloud" and "site Lab Site A (emulated)" in str(seen["measured"]), seen
    assert r.verdict("LAB-READY") == "PASS" and r.returncode == 0


@pytest.mark.parametrize(("fault", "said"), [
    ("api-down", "unreachable: cloud api"),
    ("api-silent", "timeout: cloud api"),
])
def test_a_dead_cloud_api_is_broken_naming_the_call(twin, lab_path, out, fault, said):
    twin.fault("cloud", fault)
    r = run_scenarios(lab_path, out, "--duty=LAB-READY")
    probe = r.tests()[PROBE]
    assert probe["verdict"] == "BROKEN", probe
    assert said in probe["message"] and "POST /oauth/token" in probe["message"], probe["message"]
    assert probe["duration_s"] < 7.0  # one timeout (the lab's cloud.timeout_s is 5 s), no retries of a POST
    edge = r.tests()["test_edge_is_online_in_genesys_cloud[edge1]"]  # the Edge is reached through the API
    assert edge["verdict"] == "BROKEN" and "quarantined" in edge["message"] and edge["duration_s"] < 1.0, edge
    others = [t for n, t in r.tests().items() if n != PROBE and not n.startswith("test_edge_is_online_in_genesys")]
    assert others and all(t["verdict"] == "PASS" for t in others)  # the devices are fine
    assert r.verdict("LAB-READY") == "BROKEN" and r.summary["exit_code"] == 3


def test_a_rate_limited_cloud_api_still_passes(twin, lab_path, out):
    twin.fault("cloud", "rate-limit", "1")
    r = run_scenarios(lab_path, out, "--duty=LAB-READY")
    probe = r.tests()[PROBE]
    assert probe["verdict"] == "PASS", probe
    assert probe["duration_s"] >= 1.0  # the site read waited out one Retry-After


def test_a_retry_after_past_the_deadline_is_broken_as_busy_not_a_dead_api(twin, lab_path, out):
    twin.fault("cloud", "rate-limit", "60")  # the lab's cloud.timeout_s is 5 s
    r = run_scenarios(lab_path, out, "--duty=LAB-READY")
    probe = r.tests()[PROBE]
    assert probe["verdict"] == "BROKEN", probe
    assert "rate-limited by Genesys Cloud: Retry-After 60 s exceeds the call's 5 s deadline" in probe["message"], probe
    assert "lab busy" in probe["message"] and probe["duration_s"] < 2.0, probe  # no timeout spent
    edge = r.tests()["test_edge_is_online_in_genesys_cloud[edge1]"]  # before the Retry-After: refused, not sent
    assert edge["verdict"] == "BROKEN" and "so this call was not sent" in edge["message"], edge
    assert "quarantined" not in edge["message"] and edge["duration_s"] < 1.0, edge
    assert not any(t["verdict"] == "FAIL" for t in r.tests().values())
    assert r.verdict("LAB-READY") == "BROKEN"
