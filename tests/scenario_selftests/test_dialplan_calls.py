"""The org's prefix blocking and CFG-DIALPLAN's calling half against the twin: SEC-TOLL-FRAUD holds the
org's Block List to the inventory and to the wire, CFG-DIALPLAN dials each classification that leaves
the site and keeps emergency numbers clear of prefix blocks. PASS on the healthy twin; FAIL under each
fault, naming the device, the duty, what was measured and the limit."""

from __future__ import annotations

import pytest

from tests.scenario_runner import run_scenarios

pytestmark = pytest.mark.timeout(300)

ORG_BLOCKS = "test_org_block_list_holds_every_prefix_barred_for_all_stations[edge1]"
ORG_REFUSED = "test_org_blocked_prefixes_are_refused_by_the_org_and_on_the_wire[edge1]"
EMERGENCY_CLEAR = "test_emergency_number_is_never_caught_by_prefix_blocking"
WIRE = "test_blocked_prefixes_never_reach_the_carrier[edge1]"


def called(classification: str) -> str:
    return f"test_dialled_classification_reaches_the_carrier_in_e164[edge1-{classification}]"


def test_the_healthy_twin_passes_the_org_and_calling_checks(healthy_run):
    r = healthy_run.run  # the session's one full run on the healthy twin (tests/conftest.py)
    assert r.returncode == 0, r.output[-3000:]
    t = r.tests()
    for test in (ORG_BLOCKS, ORG_REFUSED, EMERGENCY_CLEAR, called("Emergency"), called("National"),
                 called("International")):
        assert t[test]["verdict"] == "PASS", (test, t[test])
    assert r.verdict("CFG-DIALPLAN") == "PASS" and r.verdict("SEC-TOLL-FRAUD") == "PASS", r.summary["duties"]
    national = {m["what"]: m for m in t[called("National")]["measurements"]}
    assert any("Request-URI is not E.164 (+1" in w and m["measured"] == 0 for w, m in national.items()), national



def test_a_national_request_uri_fails_the_calling_half(twin, lab_path, out):
    twin.fault("edge1", "ruri-national")
    r = run_scenarios(lab_path, out, "--duty=CFG-DIALPLAN", "-k", "reaches_the_carrier")
    r.fails(called("National"), "[CFG-DIALPLAN] edge1", "National INVITEs at pstn1 whose Request-URI is not E.164 "
            "(+13175559000) = 3 INVITEs", "limit <= 0 INVITEs (G-E164)", "sip:3175559000@")
    r.fails(called("International"), "= 2 INVITEs", "sip:2079460000@")
    assert r.tests()[called("Emergency")]["verdict"] == "PASS"  # 911 as dialled is what a carrier takes


def test_an_international_call_without_a_route_must_be_refused(twin, lab_path, out):
    # an Edge on stale configuration (it never got the org's change) keeps routing what the org dropped
    twin.fault("edge1", "config-stale")
    twin.fault("cloud", "outbound-route-drops", "International")
    r = run_scenarios(lab_path, out, "--duty=CFG-DIALPLAN", "-k", "reaches_the_carrier")
    r.fails(called("International"), "[CFG-DIALPLAN] edge1", "International calls from phone3 that should be "
            "refused (no enabled outbound route carries it) and were not = 2 calls", "limit <= 0 calls (G-NUMPLAN)",
            "reached pstn1 as sip:+442079460000@")
    assert r.tests()[called("National")]["verdict"] == "PASS"


def test_an_org_without_an_international_route_has_its_edge_refuse_the_calls(twin, lab_path, out):
    twin.fault("cloud", "outbound-route-drops", "International")
    r = run_scenarios(lab_path, out, "--duty=CFG-DIALPLAN", "-k", "reaches_the_carrier or outbound_routes")
    r.fails("test_outbound_routes_carry_what_leaves_the_site", "[CFG-DIALPLAN] cloud site Lab Site A",
            "= 1 classifications", "no enabled outbound route carries International")
    rec = r.tests()[called("International")]  # the Edge follows the org: it refuses what no route carries
    assert rec["verdict"] == "PASS", rec
    (m,) = [m for m in rec["measurements"] if "should be refused" in m["what"]]
    assert m["measured"] == 0 and "+442079460000 -> 404" in m["detail"], m
    assert r.tests()[called("National")]["verdict"] == "PASS"


def test_a_prefix_missing_from_the_org_block_list_fails_toll_fraud(twin, lab_path, out):
    twin.fault("cloud", "prefix-block-missing", "+1900")
    r = run_scenarios(lab_path, out, "--duty=SEC-TOLL-FRAUD")
    r.fails(ORG_BLOCKS, "[SEC-TOLL-FRAUD] cloud prefix Block List", "the org does not block = 1 prefixes",
            "limit <= 0 prefixes (G-PREFIX)", "+1900 not on the org's Block List (+1976)")
    assert r.tests()[ORG_REFUSED]["verdict"] == "PASS"  # what the org does list is refused everywhere
    # the Edge takes the org's Block List: +1900 reaches the carrier, as on a real site
    msg = r.fails(WIRE, "[SEC-TOLL-FRAUD] edge1", "INVITEs at the carrier", "limit <= 0 INVITEs",
                  "premium +1900 reached pstn1 as sip:+19002345678@")
    assert "+1976 reached" not in msg, msg
    # one finding: the org's Block List, the wire's leaks its consequences
    (f,) = r.summary["findings"]
    assert f["root"]["nodeid"].endswith(ORG_BLOCKS) and f["inputs"] == ["org block list +1900"], f
    assert f["consequences"] and all(c["nodeid"].endswith(WIRE) and c["because"] == ["org block list +1900"]
                                     for c in f["consequences"]), f


def test_an_org_blocked_prefix_the_edge_lets_through_fails_toll_fraud(twin, lab_path, out):
    twin.fault("edge1", "allow-prefix", "+1976")
    r = run_scenarios(lab_path, out, "--duty=SEC-TOLL-FRAUD", "-k", "org_")
    msg = r.fails(ORG_REFUSED, "[SEC-TOLL-FRAUD] edge1", "calls to prefixes the org blocks = 3 INVITEs",
                  "limit <= 0 INVITEs (G-PREFIX)", "phone3 dialled 9762345678: org-blocked +1976 reached pstn1 as "
                  "sip:+19762345678@")
    assert "+1900 reached" not in msg, msg
    assert r.tests()[ORG_BLOCKS]["verdict"] == "PASS"


def test_an_org_that_blocks_the_emergency_number_fails_the_dial_plan(twin, lab_path, out):
    twin.fault("cloud", "emergency-blocked")
    r = run_scenarios(lab_path, out, "--duty=CFG-DIALPLAN", "--duty=SEC-TOLL-FRAUD", "-k",
                      "emergency or Emergency or org_blocked")
    r.fails(EMERGENCY_CLEAR, "[CFG-DIALPLAN] cloud prefix Block List", "the org's call simulation of the "
            "emergency number 911 = False", "limit == True (G-PREFIX)", "level BlockPrefix, matched prefix +1911")
    # the Edge takes the org's Block List and refuses 911, as a real one would: a consequence of the org's
    r.fails(called("Emergency"), "[CFG-DIALPLAN] edge1", "Emergency calls from phone1 that never reached pstn1 "
            "= 1 calls", "911 -> 403")
    (f,) = [f for f in r.summary["findings"] if f["root"]["nodeid"].endswith(EMERGENCY_CLEAR)]
    assert f["inputs"] == ["org block list +1911"], f
    assert [c["nodeid"].split("::")[-1] for c in f["consequences"]] == [called("Emergency")], f
    assert len(r.summary["findings"]) == 1, r.summary["findings"]
    # toll fraud never dials a number that begins with 911 (+1911 on the Block List): it says so instead
    refused = r.tests()[ORG_REFUSED]
    assert refused["verdict"] == "PASS", refused
    skipped = [m for m in refused["measurements"] if m["measured"] == "not dialled"]
    assert {m["what"] for m in skipped} == {"test call to +19112345678", "test call to 19112345678",
                                            "test call to 9112345678"}, skipped


def test_an_emergency_call_without_a_route_is_dialled_only_to_the_lab_s_own_carrier(twin, lab_path, out):
    # no route carries Emergency: the call is to be refused, and every trunk of the org leads to the lab's carrier
    # simulator (the guard's fallback), so it is dialled and the Edge's refusal is the check
    twin.fault("cloud", "outbound-route-drops", "Emergency")
    r = run_scenarios(lab_path, out, "--duty=CFG-DIALPLAN", "-k", "reaches_the_carrier and Emergency")
    rec = r.tests()[called("Emergency")]
    assert rec["verdict"] == "PASS", rec
    refused = "should be refused (no enabled outbound route carries it)"
    assert any(refused in m["what"] for m in rec["measurements"]), rec


def test_an_org_without_an_emergency_plan_has_its_refused_emergency_call_under_the_plans(twin, lab_path, out):
    # no Emergency number plan: the Edge, taking the org's plans, refuses 911. The call check names the plan
    # its refusal hung on (not the Block List, which passes): one finding, the plans'
    twin.fault("cloud", "numberplan-missing", "Emergency")
    r = run_scenarios(lab_path, out, "--duty=CFG-DIALPLAN", "-k", "Emergency or emergency")
    r.fails("test_number_plans_classify_dial_strings[Emergency]", "[CFG-DIALPLAN] cloud site Lab Site A",
            "dial strings not classified Emergency = 1 dial strings", "limit <= 0 dial strings (G-NUMPLAN)",
            "911 -> no plan")
    r.fails(called("Emergency"), "[CFG-DIALPLAN] edge1", "Emergency calls from phone1 that never reached pstn1 "
            "= 1 calls", "limit <= 0 calls (G-NUMPLAN)", "911 -> 404")
    assert r.tests()[EMERGENCY_CLEAR]["verdict"] == "PASS"  # the Block List does not cover 911
    (f,) = r.summary["findings"]
    assert f["root"]["nodeid"].endswith("test_number_plans_classify_dial_strings[Emergency]"), f
    assert f["inputs"] == ["number plan classification of 911"], f
    (c,) = f["consequences"]
    assert c["nodeid"].endswith(called("Emergency")) and c["because"] == f["inputs"], c
    assert c["inputs_used"] == ["number plan classification of 911"], c  # not the Block List's +1911
    assert r.returncode == 1


def test_no_costly_test_call_over_a_trunk_to_a_real_carrier(twin, lab_path, out):
    """The org's external trunk still points at a production carrier: no emergency, international or
    blocked-prefix test call is placed (SKIP, asking for an attestation) and nothing reaches the lab's
    carrier; SEC-TOLL-FRAUD, whose core check that is, is PARTIAL; the National call still goes."""
    twin.fault("cloud", "trunk-server", "edge1:sbc.carrier.example:5060")
    r = run_scenarios(lab_path, out, "--duty=CFG-DIALPLAN", "--duty=SEC-TOLL-FRAUD", "-k",
                      "reaches_the_carrier or never_reach or refused_by_the_org")
    t = r.tests()
    for test in (called("Emergency"), called("International"), WIRE, ORG_REFUSED):
        assert t[test]["verdict"] == "SKIPPED", (test, t[test])
        assert "sbc.carrier.example:5060, not the lab's carrier simulator" in t[test]["message"], t[test]
        assert "could reach a real carrier: attest it instead" in t[test]["message"], t[test]
    assert t[called("National")]["verdict"] == "PASS", t[called("National")]
    assert r.verdict("SEC-TOLL-FRAUD") == "PARTIAL", r.summary["duties"]["SEC-TOLL-FRAUD"]
    # the emergency and international calls held back are CFG-DIALPLAN's core too: PARTIAL, not PASS
    assert r.verdict("CFG-DIALPLAN") == "PARTIAL", r.summary["duties"]["CFG-DIALPLAN"]
    assert any("core check not run: each classification that leaves the site dialled from a station" in why
               for why in r.summary["duties"]["CFG-DIALPLAN"]["reasons"]), r.summary["duties"]["CFG-DIALPLAN"]
    assert any("core check not run: blocked prefixes dialled from every station class" in why
               for why in r.summary["duties"]["SEC-TOLL-FRAUD"]["reasons"]), r.summary["duties"]["SEC-TOLL-FRAUD"]


def test_toll_fraud_without_the_telephony_permission_is_broken_naming_it(twin, lab_path, out):
    """The OAuth client lacks telephony:plugin:all: where the org's trunks lead cannot be read, so no
    blocked-prefix call is placed and the wire checks are BROKEN naming the permission (the Block List
    read, which Genesys publishes no permission for, still passes)."""
    twin.fault("cloud", "missing-permission", "telephony:plugin:all")
    r = run_scenarios(lab_path, out, "--duty=SEC-TOLL-FRAUD")
    t = r.tests()
    for test in (WIRE, ORG_REFUSED):
        assert t[test]["verdict"] == "BROKEN", (test, t[test])
        assert "HTTP 403" in t[test]["message"] and "telephony:plugin:all" in t[test]["message"], t[test]
    assert t[ORG_BLOCKS]["verdict"] == "PASS", t[ORG_BLOCKS]
    assert r.verdict("SEC-TOLL-FRAUD") == "BROKEN", r.summary["duties"]["SEC-TOLL-FRAUD"]
