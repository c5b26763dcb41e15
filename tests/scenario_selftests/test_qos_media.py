"""QOS-MEDIA against the twin: PASS on the healthy twin with every leg's figures attached, FAIL when
the Edge sends unmarked or wrongly marked media and SIP, naming the Edge, the leg, the DSCP measured
and the limit (the org's trunk base settings on the inbound leg); an org marking other than Genesys'
default that the devices apply PASSES with an observation; a phone's SIP and RTP marking FAIL under
its ``no-dscp`` / ``wrong-dscp`` faults; BROKEN (not FAIL) when the phone an inbound leg rings is gone."""

from __future__ import annotations

import io
import json

import dpkt
import pytest

from tests.scenario_runner import run_scenarios

pytestmark = pytest.mark.timeout(300)

INBOUND = "test_inbound_leg_carrier_to_phone[edge1]"
OUTBOUND = "test_outbound_leg_phone_to_carrier[edge1]"


def test_qos_media_passes_on_the_healthy_twin_with_figures_attached(healthy_run):
    # the session's one full run on the healthy twin (tests/conftest.py)
    r, allure_dir = healthy_run.run, healthy_run.allure_dir
    assert r.returncode == 0, r.output[-4000:]
    assert r.verdict("QOS-MEDIA") == "PASS", r.summary["duties"]["QOS-MEDIA"]
    t = r.tests("QOS-MEDIA")
    assert t[INBOUND]["verdict"] == "PASS" and t[OUTBOUND]["verdict"] == "PASS", t
    figures = []
    for f in allure_dir.glob("*-result.json"):
        res = json.loads(f.read_text())
        figures += [(allure_dir / a["source"]).read_text() for a in res.get("attachments", [])
                    if a["name"].startswith("QoS: ")]
    assert len(figures) == 2, figures
    for text in figures:
        assert "RTP DSCP 46, SIP DSCP 24" in text and "R " in text and "MOS " in text, text
        assert "far end -> probe" in text and "first packet" in text and "jitter" in text, text


def test_no_dscp_on_the_edge_fails_both_legs_leaving_pcaps(twin, lab_path, out):
    twin.fault("edge1", "no-dscp")
    allure_dir = out / "allure"
    r = run_scenarios(lab_path, out, "--duty=QOS-MEDIA", f"--alluredir={allure_dir}")
    pcaps, stats = [], []
    for f in allure_dir.glob("*-result.json"):
        for a in json.loads(f.read_text()).get("attachments", []):
            if a["name"].startswith("pcap: "):
                pcaps.append((allure_dir / a["source"]).read_bytes())
            elif a["name"].startswith("RTP statistics: "):
                stats.append((allure_dir / a["source"]).read_text())
    assert len(pcaps) == 2 and len(stats) == 2, (len(pcaps), stats)
    for raw in pcaps:  # the Edge's RTP in it carries ToS 0, its SIP is there too
        ips = [dpkt.ethernet.Ethernet(buf).data for _, buf in dpkt.pcap.Reader(io.BytesIO(raw))]
        assert any(ip.data.data.startswith(b"INVITE ") for ip in ips)
        rtp_in = [ip for ip in ips if len(ip.data.data) == 172 and ip.data.sport >= 16384]
        assert len(rtp_in) > 50 and {ip.tos for ip in rtp_in} == {0}, len(rtp_in)
    assert all("far end -> probe: " in t and "first packet" in t for t in stats), stats
    t = r.tests("QOS-MEDIA")
    for test in (INBOUND, OUTBOUND):
        rec = t[test]
        assert rec["verdict"] == "FAIL", (test, rec)
        base = "'edge1 external trunk' of Edge edge1's external" if test == INBOUND else \
            "'Genesys Cloud - CDM SIP Phone Trunk' of Edge edge1's phone"
        limit = f"limit == 46 DSCP (org: trunk base settings {base} trunk, trunk_media_dscpValue)"
        for part in ("[QOS-MEDIA] edge1", "DSCP of the RTP it sent = 0 DSCP", limit):
            assert part in rec["message"], (test, part, rec["message"])
    assert r.verdict("QOS-MEDIA") == "FAIL"


def test_wrong_dscp_on_the_edge_fails(twin, lab_path, out):
    twin.fault("edge1", "wrong-dscp", "34")
    r = run_scenarios(lab_path, out, "--duty=QOS-MEDIA", "-k", "outbound")
    rec = r.tests("QOS-MEDIA")[OUTBOUND]
    assert rec["verdict"] == "FAIL", rec
    assert "DSCP of the RTP it sent = 34 DSCP" in rec["message"] and "limit == 46" in rec["message"], rec["message"]


def test_wrong_dscp_on_the_edge_fails_against_the_org_inbound(twin, lab_path, out):
    twin.fault("edge1", "wrong-dscp", "34")
    r = run_scenarios(lab_path, out, "--duty=QOS-MEDIA", "-k", "inbound")
    rec = r.tests("QOS-MEDIA")[INBOUND]
    assert rec["verdict"] == "FAIL", rec
    for part in ("[QOS-MEDIA] edge1", "DSCP of the RTP it sent = 34 DSCP", "limit == 46 DSCP (org: trunk base "
                 "settings 'edge1 external trunk'", "trunk_media_dscpValue)"):
        assert part in rec["message"], (part, rec["message"])
    assert rec["message"].count("trunk base settings 'edge1 external trunk'") == 1, rec["message"]


def test_org_marking_other_than_the_default_is_observed_not_failed(twin, lab_path, out):
    # the org's base settings give RTP 34 (AF41) and the Edge and phones apply it: the devices are
    # judged against 34, and the org's choice is reported
    twin.fault("cloud", "base-media-dscp", "34")
    allure_dir = out / "allure"
    r = run_scenarios(lab_path, out, "--duty=QOS-MEDIA", "-k", "leg or phone_marks_its_rtp",
                      f"--alluredir={allure_dir}")
    t = r.tests("QOS-MEDIA")
    assert t[INBOUND]["verdict"] == "PASS" and t[OUTBOUND]["verdict"] == "PASS", (t[INBOUND], t[OUTBOUND])
    rtp = {n: v for n, v in t.items() if n.startswith("test_phone_marks_its_rtp[")}
    assert rtp and all(v["verdict"] == "PASS" for v in rtp.values()), rtp
    seen = set()
    for f in allure_dir.glob("*-attachment*"):
        try:
            data = json.loads(f.read_text())
        except (ValueError, UnicodeDecodeError):
            continue
        if isinstance(data, list):
            seen |= {(m["device"], m["what"], m["measured"], m["op"]) for m in data
                     if isinstance(m, dict) and "what" in m}
    default = " the org configures, not Genesys' default 46 (G-DSCP)"
    assert ("edge1", "trunk_media_dscpValue" + default, 34, "observed") in seen, seen
    assert ("phone1", "phone_media_dscp" + default, 34, "observed") in seen, seen


def test_dead_phone_breaks_the_inbound_leg(twin, lab_path, out):
    twin.fault("phone1", "down")
    r = run_scenarios(lab_path, out, "--duty=QOS-MEDIA", "-k", "inbound")
    rec = r.tests("QOS-MEDIA")[INBOUND]
    assert rec["verdict"] == "BROKEN", rec
    assert "phone1" in rec["message"], rec["message"]


def test_dead_carrier_breaks_the_outbound_leg_naming_it(twin, lab_path, out):
    # the carrier's echo line answers the outbound call: its 503 is not the Edge's finding
    twin.fault("pstn1", "down")
    r = run_scenarios(lab_path, out, "--duty=QOS-MEDIA", "-k", "outbound")
    rec = r.tests("QOS-MEDIA")["test_outbound_leg_phone_to_carrier[edge1]"]
    assert rec["verdict"] == "BROKEN", rec
    assert "pstn1" in rec["message"], rec["message"]


@pytest.mark.parametrize(("fault", "value", "figure", "limit"), [
    ("wan-loss", "5", "round-trip packet loss = ", "limit <= 1 % (IND-QOS-RULES)"),
    ("wan-delay", "200", "one-way delay (half the echo round trip) = ", "limit <= 150 ms (STD-G114)"),
    ("wan-jitter", "100", "RFC 3550 jitter = ", "limit <= 30 ms (IND-QOS-RULES)"),
    ("wan-shape", "64", "round-trip packet loss = ", "limit <= 1 % (IND-QOS-RULES)"),  # below one G.711 call
])
def test_wan_impairment_fails_the_leg_on_its_figure(twin, lab_path, out, fault, value, figure, limit):
    twin.fault("wan", fault, value)
    r = run_scenarios(lab_path, out, "--duty=QOS-MEDIA", "-k", "inbound")
    rec = r.tests("QOS-MEDIA")[INBOUND]
    assert rec["verdict"] == "FAIL", rec
    for part in ("[QOS-MEDIA] edge1", figure, limit):
        assert part in rec["message"], (part, rec["message"])


def test_no_dscp_on_a_phone_fails_its_sip_marking(twin, lab_path, out):
    twin.fault("phone1", "no-dscp")
    r = run_scenarios(lab_path, out, "--duty=QOS-MEDIA", "-k", "phone_marks")
    t = r.tests("QOS-MEDIA")
    rec = t["test_phone_marks_its_sip[phone1]"]
    assert rec["verdict"] == "FAIL", rec
    for part in ("[QOS-MEDIA] phone1", "DSCP of the phone's SIP (its answer to OPTIONS) = 0 DSCP",
                 "limit == 24 DSCP (org: phone base settings", "phone_sip_dscp)"):
        assert part in rec["message"], (part, rec["message"])
    others = [n for n in t if n.startswith("test_phone_marks_its_sip[") and n != "test_phone_marks_its_sip[phone1]"]
    assert others and all(t[n]["verdict"] == "PASS" for n in others), {n: t[n]["verdict"] for n in others}
    rec = t["test_phone_marks_its_rtp[phone1]"]
    assert rec["verdict"] == "FAIL", rec
    for part in ("[QOS-MEDIA] phone1", "DSCP of the phone's RTP (a call straight to the phone) = 0 DSCP",
                 "limit == 46 DSCP (org: phone base settings"):
        assert part in rec["message"], (part, rec["message"])


def test_wrong_dscp_on_a_phone_fails_its_rtp_marking(twin, lab_path, out):
    twin.fault("phone1", "wrong-dscp", "34")
    r = run_scenarios(lab_path, out, "--duty=QOS-MEDIA", "-k", "phone_marks_its_rtp")
    t = r.tests("QOS-MEDIA")
    rec = t["test_phone_marks_its_rtp[phone1]"]
    assert rec["verdict"] == "FAIL", rec
    assert "RTP (a call straight to the phone) = 34 DSCP" in rec["message"] and "limit == 46" in rec["message"], rec
    others = [n for n in t if n != "test_phone_marks_its_rtp[phone1]"]
    assert others and all(t[n]["verdict"] == "PASS" for n in others), {n: t[n]["verdict"] for n in others}


def test_dead_phone_breaks_its_rtp_marking(twin, lab_path, out):
    twin.fault("phone1", "down")
    r = run_scenarios(lab_path, out, "--duty=QOS-MEDIA", "-k", "phone_marks_its_rtp")
    rec = r.tests("QOS-MEDIA")["test_phone_marks_its_rtp[phone1]"]
    assert rec["verdict"] == "BROKEN", rec
    assert "phone1" in rec["message"], rec["message"]


def test_org_api_down_breaks_the_legs_that_read_it(twin, lab_path, out):
    # the expected marking comes from the org: an org that cannot be read is a broken lab, not the Edge's FAIL
    twin.fault("cloud", "api-down")
    r = run_scenarios(lab_path, out, "--duty=QOS-MEDIA", "-k", "leg or phone_marks_its_sip")
    t = r.tests("QOS-MEDIA")
    assert t[INBOUND]["verdict"] == "BROKEN" and t[OUTBOUND]["verdict"] == "BROKEN", (t[INBOUND], t[OUTBOUND])
    sip = {n: v for n, v in t.items() if n.startswith("test_phone_marks_its_sip[")}
    assert sip and all(v["verdict"] == "BROKEN" for v in sip.values()), sip
    assert "cloud" in t[INBOUND]["message"], t[INBOUND]["message"]


def test_a_phone_taking_calls_from_its_registrar_only_leaves_its_rtp_unread(twin, lab_path, out):
    # a phone set to take calls from its proxy alone refuses the harness's direct call: its RTP marking
    # is not read (SKIPPED, saying why), which is no finding against the phone
    twin.fault("phone1", "registrar-only")
    r = run_scenarios(lab_path, out, "--duty=QOS-MEDIA", "-k", "inbound or phone_marks_its_rtp")
    t = r.tests("QOS-MEDIA")
    rec = t["test_phone_marks_its_rtp[phone1]"]
    assert rec["verdict"] == "SKIPPED", rec
    assert "phone1 did not take a call straight to" in rec["message"] and "403" in rec["message"], rec["message"]
    assert "its RTP marking is not read" in rec["message"], rec["message"]
    assert t[INBOUND]["verdict"] == "PASS", t[INBOUND]  # the Edge's calls to the phone still go through


def test_a_phone_marking_genesys_default_fails_where_the_org_configures_another(twin, lab_path, out):
    # the org's base settings say RTP 34; phone1 marks 46 (the catalogue's default) all the same: FAIL
    # against the org's value, which only reading the org can tell
    twin.fault("cloud", "base-media-dscp", "34")
    twin.fault("phone1", "wrong-dscp", "46")
    r = run_scenarios(lab_path, out, "--duty=QOS-MEDIA", "-k", "phone_marks_its_rtp")
    t = r.tests("QOS-MEDIA")
    rec = t["test_phone_marks_its_rtp[phone1]"]
    assert rec["verdict"] == "FAIL", rec
    for part in ("[QOS-MEDIA] phone1", "RTP (a call straight to the phone) = 46 DSCP",
                 "limit == 34 DSCP (org: phone base settings", "phone_media_dscp)"):
        assert part in rec["message"], (part, rec["message"])
    others = [n for n in t if n != "test_phone_marks_its_rtp[phone1]"]
    assert others and all(t[n]["verdict"] == "PASS" for n in others), {n: t[n]["verdict"] for n in others}
