"""NET-BANDWIDTH against the twin: PASS on the healthy twin (4 G.711 calls through the WAN), FAIL
when the WAN's voice class is shaped below N x 87.2 kbit/s or loses packets, naming the Edge, the
rate or loss measured and the limit."""

from __future__ import annotations

import json

import pytest

from tests.scenario_runner import run_scenarios

pytestmark = pytest.mark.timeout(300)

TEST = "test_planned_voice_load_crosses_the_wan[edge1]"


@pytest.fixture
def out(tmp_path):
    return tmp_path / "reports"


def test_planned_load_passes_on_the_healthy_twin(twin, lab_path, out):
    allure_dir = out / "allure"
    r = run_scenarios(lab_path, out, "--duty=NET-BANDWIDTH", f"--alluredir={allure_dir}")
    assert r.returncode == 0, r.output[-4000:]
    assert r.verdict("NET-BANDWIDTH") == "PASS", r.summary["duties"]["NET-BANDWIDTH"]
    texts = [(allure_dir / a["source"]).read_text() for f in allure_dir.glob("*-result.json")
             for a in json.loads(f.read_text()).get("attachments", []) if a["name"].startswith("NET-BANDWIDTH")]
    assert len(texts) == 1 and texts[0].startswith("4 calls over "), texts
    assert "round-trip loss 0.00 %" in texts[0] and texts[0].count("call ") == 4, texts[0]


@pytest.mark.parametrize(("fault", "value", "part"), [
    ("wan-shape", "300", "voice rate carried per direction by 4 concurrent calls over the WAN = "),
    ("wan-loss", "5", "by 4 concurrent calls over the WAN = "),  # lost packets are rate not carried
])
def test_wan_below_the_load_fails(twin, lab_path, out, fault, value, part):
    twin.fault("wan", fault, value)
    r = run_scenarios(lab_path, out, "--duty=NET-BANDWIDTH")
    rec = r.tests("NET-BANDWIDTH")[TEST]
    assert rec["verdict"] == "FAIL", rec
    assert "[NET-BANDWIDTH] edge1" in rec["message"] and part in rec["message"], rec["message"]
    assert "limit >= 345.3 kbit/s" in rec["message"] and "round-trip loss " in rec["message"], rec["message"]


def test_dead_carrier_is_broken_naming_it(twin, lab_path, out):
    # the load calls go to the carrier's echo line: a dead carrier is not the WAN's finding
    twin.fault("pstn1", "down")
    r = run_scenarios(lab_path, out, "--duty=NET-BANDWIDTH")
    rec = r.tests("NET-BANDWIDTH")["test_planned_voice_load_crosses_the_wan[edge1]"]
    assert rec["verdict"] == "BROKEN", rec
    assert "pstn1" in rec["message"], rec["message"]
