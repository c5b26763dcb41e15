"""NET-BANDWIDTH against the twin: PASS on the healthy twin (4 G.711 calls through the WAN, counted
by the WAN router's switch port), FAIL when the WAN's voice class is shaped below N x 87.2 kbit/s or
loses packets, naming the Edge, the rate or loss measured and the limit, and when the switch port's
IF-MIB octet counters do not count the load (naming the switch, the counter, the share counted and
the limit); BROKEN when the carrier or the switch is dead."""

from __future__ import annotations

import json
import re

import pytest

from tests.scenario_runner import run_scenarios

pytestmark = pytest.mark.timeout(300)

TEST = "test_planned_voice_load_crosses_the_wan[edge1]"


def test_planned_load_passes_on_the_healthy_twin(healthy_run):
    # the session's one full run on the healthy twin (tests/conftest.py)
    r, allure_dir = healthy_run.run, healthy_run.allure_dir
    assert r.returncode == 0, r.output[-4000:]
    assert r.verdict("NET-BANDWIDTH") == "PASS", r.summary["duties"]["NET-BANDWIDTH"]
    texts = {a["name"]: (allure_dir / a["source"]).read_text() for f in allure_dir.glob("*-result.json")
             for a in json.loads(f.read_text()).get("attachments", []) if a["name"].startswith("NET-BANDWIDTH")}
    load = texts.pop("NET-BANDWIDTH: 4 calls")
    assert load.startswith("4 calls over ") and "round-trip loss 0.00 %" in load and load.count("call ") == 4, load
    port = texts.pop("NET-BANDWIDTH: sw1 GigabitEthernet1/0/48 IF-MIB octets")
    assert not texts, texts
    assert "GigabitEthernet1/0/48 (ifIndex 48)" in port, port
    # every frame counted once each way (an echo may reach the port after the probe stopped counting)
    shares = [float(x) for x in re.findall(r"\(([0-9.]+) % of it\)", port)]
    assert len(shares) == 2 and all(99.0 <= x <= 101.0 for x in shares), port


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
    # 4 x 87.2 kbit/s less 1 %: 345.3, or less when the harness's own sending fell a frame short (said so)
    limit = re.search(r"limit >= (\d+\.\d) kbit/s \((4 x 87.2|the \d+\.\d kbit/s the harness offered of 4 x 87.2)",
                      rec["message"])
    assert limit and 338.3 <= float(limit.group(1)) <= 345.3, rec["message"]
    assert "round-trip loss " in rec["message"], rec["message"]


def test_dead_carrier_is_broken_naming_it(twin, lab_path, out):
    # the load calls go to the carrier's echo line: a dead carrier is not the WAN's finding
    twin.fault("pstn1", "down")
    r = run_scenarios(lab_path, out, "--duty=NET-BANDWIDTH")
    rec = r.tests("NET-BANDWIDTH")["test_planned_voice_load_crosses_the_wan[edge1]"]
    assert rec["verdict"] == "BROKEN", rec
    assert "pstn1" in rec["message"], rec["message"]


def test_frozen_switch_counters_fail_naming_the_switch_and_counter(twin, lab_path, out):
    twin.fault("sw1", "counters-frozen")
    r = run_scenarios(lab_path, out, "--duty=NET-BANDWIDTH")
    rec = r.tests("NET-BANDWIDTH")[TEST]
    assert rec["verdict"] == "FAIL", rec
    for part in ("[NET-BANDWIDTH] sw1 GigabitEthernet1/0/48: ifHCOutOctets toward the WAN over 4 calls, % of the "
                 "octets of the", "= 0.0 %", "limit >= 95 % (project choice)", "; ifIndex 48, read ",
                 "0 octets counted of the load's ", "the switch's counters are stuck"):
        assert part in rec["message"], (part, rec["message"])
    assert rec["message"].count("GigabitEthernet1/0/48") == 1 and rec["message"].count("0.0 %") == 1, rec["message"]


def test_dead_switch_is_broken_naming_it(twin, lab_path, out):
    # the counters are read from the switch: a dead switch is a broken lab, not the WAN's finding
    twin.fault("sw1", "down")
    r = run_scenarios(lab_path, out, "--duty=NET-BANDWIDTH")
    rec = r.tests("NET-BANDWIDTH")[TEST]
    assert rec["verdict"] == "BROKEN", rec
    assert "sw1" in rec["message"], rec["message"]
