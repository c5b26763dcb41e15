"""Outbound calls the Edge refuses because of the org's configuration are consequences, not findings of
their own: a Genesys Edge routes by the org's number plans, outbound routes and prefix Block List, so
every duty whose outbound test call the Edge refused names the Edge's answer (its status and Warning)
and, when the org's configuration refuses that number and the org's own check failed, is listed under
that check's finding (each still FAIL).

* ``outbound-route-drops=National``: CFG-DIALPLAN's outbound route check is the one root; the outbound
  calls of PSTN-CONNECT, PSTN-INTEROP, PSTN-CAPACITY, QOS-MEDIA and NET-BANDWIDTH (404 "no outbound
  route carries National") are its consequences; SEC-TOLL-FRAUD cannot prove anything without its control
  call (BROKEN), named on the Edge's answer, not on the carrier.
* ``numberplan-missing=National``: CFG-DIALPLAN's number plan check is the root.
* ``prefix-block-missing=+1900`` while ``config-stale`` holds edge1, then the org healed: the org blocks
  +1900 again and edge1 lets it through; SEC-TOLL-FRAUD's wire check of the prefixes the org blocks is
  the root (edge1 does not apply the org's Block List), the station-class leak of +1900 its consequence.
* an Edge that refuses what the org routes (its configuration stale after the org's route came back):
  the refused call names the Edge's answer and the org's route, and stands as its own finding."""

from __future__ import annotations

import pytest

from tests.scenario_runner import ScenarioRun, run_scenarios

pytestmark = pytest.mark.timeout(300)

ROUTES = "test_outbound_routes_carry_what_leaves_the_site"
PLANS = "test_number_plans_classify_dial_strings[National]"
CONNECT_OUT = "test_outbound_call_to_the_carrier_has_audio_both_ways[edge1]"
QOS_OUT = "test_outbound_leg_phone_to_carrier[edge1]"
WIRE = "test_blocked_prefixes_never_reach_the_carrier[edge1]"
ORG_WIRE = "test_org_blocked_prefixes_are_refused_by_the_org_and_on_the_wire[edge1]"
NO_ROUTE = '404 Not Found (Warning: 399 edge1 "no outbound route carries National")'


def _failed(r: ScenarioRun) -> set[str]:
    return {t["nodeid"].split("::")[-1] for t in r.summary["tests"] if t["verdict"] == "FAIL"}


def _one_finding(r: ScenarioRun) -> dict:
    """The run's only finding, every failed test in it (root or consequence)."""
    assert len(r.summary["findings"]) == 1, [f["root"]["message"] for f in r.summary["findings"]]
    (f,) = r.summary["findings"]
    listed = {f["root"]["nodeid"].split("::")[-1]} | {c["nodeid"].split("::")[-1] for c in f["consequences"]}
    assert listed == _failed(r), (listed, _failed(r))
    return f


def test_an_org_without_a_national_route_is_one_finding(twin, lab_path, out):
    twin.fault("cloud", "outbound-route-drops", "National")
    r = run_scenarios(lab_path, out, *(f"--duty={d}" for d in (
        "CFG-DIALPLAN", "PSTN-CONNECT", "PSTN-INTEROP", "PSTN-CAPACITY", "QOS-MEDIA", "NET-BANDWIDTH",
        "SEC-TOLL-FRAUD")))
    r.fails(ROUTES, "no enabled outbound route carries National")
    f = _one_finding(r)
    assert f["root"]["nodeid"].endswith(ROUTES) and f["inputs"] == ["outbound route for National"], f
    duties = {c["duty"] for c in f["consequences"]}
    assert {"PSTN-CONNECT", "PSTN-INTEROP", "PSTN-CAPACITY", "QOS-MEDIA", "NET-BANDWIDTH"} <= duties, duties
    outbound = [c for c in f["consequences"] if c["measured"] == 404]
    assert len(outbound) >= 8, [c["message"] for c in f["consequences"]]
    for c in outbound:  # each says what the Edge answered and why the org has it refuse the number
        assert c["because"] == ["outbound route for National"], c
        assert NO_ROUTE in c["message"] and "no enabled outbound route carries National" in c["message"], c
    r.fails(CONNECT_OUT, "[PSTN-CONNECT] edge1", "= 404 SIP status; limit == 200 SIP status", NO_ROUTE)
    r.fails(QOS_OUT, "[QOS-MEDIA] edge1", NO_ROUTE)
    # SEC-TOLL-FRAUD cannot prove that nothing leaked without its control call: BROKEN, on the Edge's answer
    for test in (WIRE, ORG_WIRE):
        rec = r.tests()[test]
        assert rec["verdict"] == "BROKEN", rec
        msg = str(rec["message"])
        assert "lab error: edge1 sip " in msg and "control call(s) to +13175559000 " + NO_ROUTE in msg, msg
        assert "cannot prove that nothing leaked" in msg and "protocol error" not in msg and "pstn1" not in msg, msg


def test_an_org_without_a_national_number_plan_is_one_finding(twin, lab_path, out):
    twin.fault("cloud", "numberplan-missing", "National")
    r = run_scenarios(lab_path, out, "--duty=CFG-DIALPLAN", "--duty=PSTN-CONNECT", "--duty=QOS-MEDIA")
    f = _one_finding(r)
    assert f["root"]["nodeid"].endswith(PLANS) and "number plan classification of +13175559000" in f["inputs"], f
    msg = r.fails(CONNECT_OUT, "= 404 SIP status", "404 Not Found (Warning: 399 edge1 ",
                  "the org's number plans classify +13175559000 by no plan")
    assert {c["nodeid"].split("::")[-1] for c in f["consequences"]} >= {CONNECT_OUT, QOS_OUT}, msg


def test_an_edge_that_does_not_apply_the_org_block_list_is_the_root(twin, lab_path, out):
    twin.fault("cloud", "prefix-block-missing", "+1900")
    twin.fault("edge1", "config-stale")  # edge1 keeps the org's list without +1900
    twin.heal("cloud")  # the org blocks +1900 again (its call simulation refuses it); edge1 does not know
    r = run_scenarios(lab_path, out, "--duty=SEC-TOLL-FRAUD", "--duty=CFG-DIALPLAN")
    assert _failed(r) == {WIRE, ORG_WIRE}, _failed(r)
    f = _one_finding(r)
    assert f["root"]["nodeid"].endswith(ORG_WIRE) and f["inputs"] == ["edge1 applies the org's Block List"], f
    assert "edge1 does not apply the org's Block List" in f["root"]["message"], f["root"]
    assert "+1900 reached pstn1" in f["root"]["message"], f["root"]
    (c,) = f["consequences"]
    assert c["nodeid"].endswith(WIRE) and c["because"] == ["edge1 applies the org's Block List"], c
    assert "calls to blocked prefixes = 9 INVITEs" in c["message"], c


def test_a_refusal_the_org_does_not_explain_stands_alone(twin, lab_path, out):
    twin.fault("cloud", "outbound-route-drops", "National")
    twin.fault("edge1", "config-stale")  # edge1 keeps the routes without National
    twin.heal("cloud")  # the org routes National again: its checks pass, the Edge still refuses
    r = run_scenarios(lab_path, out, "--duty=CFG-DIALPLAN", "--duty=PSTN-CONNECT", "-k", "outbound or routes")
    assert r.tests()[ROUTES]["verdict"] == "PASS"
    r.fails(CONNECT_OUT, NO_ROUTE, "the org routes +13175559000 (National)")
    roots = {f["root"]["nodeid"].split("::")[-1]: f for f in r.summary["findings"]}
    assert roots[CONNECT_OUT]["consequences"] == [] and roots[CONNECT_OUT]["root"]["inputs_used"] == [], roots
