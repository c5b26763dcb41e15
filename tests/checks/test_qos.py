"""QOS-MEDIA leg arithmetic: DSCP seen, one-way delay from echo round trips, round-trip loss in the
window, and the G.107 rating; the judgement names the figure and the limit."""

import pytest

from harness.checks.qos import (
    OrgDscp,
    dscp_seen,
    expected_dscp,
    judge_leg,
    leg_qos,
    observe_org_choice,
    port_count,
)
from harness.duties.profile import Profile
from harness.evidence.check import RECORD, DutyNotMet


def _leg(rtt_s=0.100, lost_every=0, rtp_tos=None, sip_tos=None, jitter_ms=1.0):
    sent = [i * 0.02 for i in range(100)]
    echoes = [(s, s + rtt_s) for i, s in enumerate(sent) if not (lost_every and i % lost_every == 0)]
    return leg_qos("inbound +1 -> 1001", "PCMU", rtp_tos=rtp_tos or {0xB8: 100}, sip_tos=sip_tos or {0x60: 3},
                   sent_s=[-1.0, *sent, 5.0], echoes=echoes, window=(0.0, 1.99), received=len(echoes),
                   return_lost=0, return_expected=len(echoes), jitter_ms=jitter_ms, first_media_ms=40.0)


def test_dscp_seen() -> None:
    assert dscp_seen({}) is None
    assert dscp_seen({0xB8: 5, 0xB9: 1}) == 46  # ECN bits are not DSCP
    assert dscp_seen({0xB8: 5, 0x00: 1}) == (0, 46)


def test_delay_is_half_the_round_trip_and_loss_counts_frames_in_the_window() -> None:
    q = _leg(rtt_s=0.100, lost_every=25)
    assert q.sent == 100 and q.echoed == 96
    assert q.latency_ms == pytest.approx(50.0) and q.loss_pct == pytest.approx(4.0)
    assert q.rating is not None and q.rating.r_factor < 93.2
    assert "round-trip loss 4.00 % (96/100 frames back)" in q.summary()


def test_judge_names_the_figure_and_limit() -> None:
    profile = Profile(name="t")
    judge_leg(_leg(), profile, device="edge1", item="leg")  # healthy: no raise
    with pytest.raises(DutyNotMet, match=r"DSCP of the RTP it sent = 0 DSCP; limit == 46 DSCP \(G-DSCP\)"):
        judge_leg(_leg(rtp_tos={0: 100}), profile, device="edge1", item="leg")
    with pytest.raises(DutyNotMet, match=r"one-way delay .* = 200.0 ms; limit <= 150 ms \(STD-G114\)"):
        judge_leg(_leg(rtt_s=0.400), profile, device="edge1", item="leg")
    with pytest.raises(DutyNotMet, match=r"round-trip packet loss = 5.0 %; limit <= 1 %"):
        judge_leg(_leg(lost_every=20), profile, device="edge1", item="leg")
    with pytest.raises(DutyNotMet, match=r"RFC 3550 jitter = 45.0 ms; limit <= 30 ms"):
        judge_leg(_leg(jitter_ms=45.0), profile, device="edge1", item="leg")


def test_load_rate_is_layer_two_g711_per_direction() -> None:
    from harness.checks.qos import G711_20MS_L2_BITS, load_result

    assert G711_20MS_L2_BITS * 50 == 87_200  # DUTIES.md §2.4: 87.2 kbit/s per call on Ethernet
    full = load_result([_leg(), _leg()], (0.0, 2.0))
    assert full.offered_kbps == pytest.approx(174.4) and full.carried_kbps == pytest.approx(174.4)
    lossy = load_result([_leg(), _leg(lost_every=10)], (0.0, 2.0))
    assert lossy.loss_pct == pytest.approx(5.0) and lossy.carried_kbps == pytest.approx(174.4 * 0.95)
    assert lossy.summary().startswith("2 calls over 2.00 s: offered 174.4 kbit/s, carried 165.7 kbit/s")


def test_a_call_without_media_still_summarises() -> None:
    q = leg_qos("inbound +1 -> 1001", None, rtp_tos={}, sip_tos={}, sent_s=[], echoes=[], window=(0.0, 0.0),
                received=0, return_lost=0, return_expected=0, jitter_ms=0.0, first_media_ms=None)
    assert q.latency_ms is None and q.loss_pct is None and q.rating is None and q.rtp_dscp is None
    assert "one-way delay unknown" in q.summary() and "probe -> far end (echoed back): 0 packets" in q.summary()


ORG = OrgDscp(34, 24, "trunk base settings 'edge1 external trunk'", "trunk_media_dscpValue",
              "trunk_transport_sipDscpValue")


def test_expected_dscp_is_the_org_s_else_the_profile_s() -> None:
    profile = Profile(name="site", thresholds={"QOS-MEDIA.sip_dscp": 26})
    limit, note = expected_dscp(profile, "rtp_dscp", ORG)
    assert (limit.value, limit.op) == (34, "==")
    assert limit.source == "org: trunk base settings 'edge1 external trunk', trunk_media_dscpValue"
    assert note == "", "the limit's source names the base settings: the note does not say it again"
    none = OrgDscp(None, None, "the inventory has no cloud: section")
    limit, note = expected_dscp(profile, "rtp_dscp", none)
    assert (limit.value, limit.source) == (46, "G-DSCP")
    assert note == "the org gives none (the inventory has no cloud: section)"
    limit, _ = expected_dscp(profile, "sip_dscp", none)
    assert (limit.value, limit.source) == (26, "requirement profile site")


def test_judge_takes_the_org_s_marking() -> None:
    limits = {n: expected_dscp(Profile(name="t"), n, ORG) for n in ("rtp_dscp", "sip_dscp")}
    judge_leg(_leg(rtp_tos={34 << 2: 100}), Profile(name="t"), device="edge1", item="leg", limits=limits)
    with pytest.raises(DutyNotMet, match=r"RTP it sent = 46 DSCP; limit == 34 DSCP \(org: trunk base settings"):
        judge_leg(_leg(), Profile(name="t"), device="edge1", item="leg", limits=limits)


def test_an_org_choice_other_than_the_default_is_observed() -> None:
    RECORD.reset()
    observe_org_choice(ORG, device="edge1")
    observe_org_choice(OrgDscp(46, 24, "x", "a", "b"), device="edge1")
    got = RECORD.reset()
    assert [(m.what, m.measured, m.passed, m.op) for m in got] == [
        ("trunk_media_dscpValue the org configures, not Genesys' default 46 (G-DSCP)", 34, True, "observed")]


def test_port_count_is_the_counter_rise_against_the_load_s_octets() -> None:
    c = port_count("out", 1000, 1000 + 218 * 400, 400)
    assert (c.counted, c.expected, c.counted_pct) == (87200, 87200, 100.0)
    assert c.line() == "out: 87200 octets counted, 87200 octets of the load (100.0 % of it)"
    wrapped = port_count("in", 2**64 - 100, 218 * 10 - 100, 10)  # Counter64 wrapped between the reads
    assert wrapped.counted == 2180 and wrapped.counted_pct == 100.0
    frozen = port_count("out", 5, 5, 10)
    assert frozen.counted == 0 and frozen.counted_pct == 0.0
    none = port_count("in", None, 5, 10)
    assert none.counted is None and none.counted_pct is None and "no counter" in none.line()
