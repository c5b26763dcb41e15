"""The E-model (harness/checks/emodel.py) against the values ITU-T G.107 and G.113 give.

Anchors: G.107 clause 7 says all default values give R = 93.2; Annex B's R -> MOS formula gives the
table of ../shared/docs/DUTIES.md (90 -> 4.34 … 50 -> 2.58); G.113 Appendix I's Ie and Bpl make a
loss-free leg lose exactly Ie and a lossy one Ie,eff = Ie + (95 - Ie) Ppl / (Ppl / BurstR + Bpl).
"""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from harness.checks.emodel import CODECS, EModelInputs, mos_from_r, r_factor, rate_leg


def test_all_defaults_give_the_rating_g107_states() -> None:
    assert r_factor(EModelInputs()) == pytest.approx(93.2, abs=0.05)


@pytest.mark.parametrize(("r", "mos"), [(100, 4.5), (90, 4.34), (80, 4.02), (70, 3.60), (60, 3.10), (50, 2.58),
                                        (0, 1.0), (-5, 1.0), (120, 4.5)])
def test_mos_from_r_follows_annex_b(r: float, mos: float) -> None:
    assert mos_from_r(r) == pytest.approx(mos, abs=0.005)


def test_loss_costs_what_the_effective_equipment_impairment_says() -> None:
    base = r_factor(EModelInputs())
    for codec in CODECS.values():
        clean = r_factor(EModelInputs(ie=codec.ie, bpl=codec.bpl))
        assert base - clean == pytest.approx(codec.ie)
        for loss_pct, burst in ((1.0, 1.0), (3.0, 1.0), (2.0, 2.5)):
            lossy = r_factor(EModelInputs(ie=codec.ie, bpl=codec.bpl, ppl_pct=loss_pct, burst_ratio=burst))
            expected = (95 - codec.ie) * loss_pct / (loss_pct / burst + codec.bpl)
            assert clean - lossy == pytest.approx(expected)


def test_concealment_and_a_better_codec_rate_higher() -> None:
    plc, no_plc, g729 = (rate_leg(c, 150, 1) for c in ("pcmu", "pcmu-noplc", "g729"))
    assert plc.r_factor == pytest.approx(86.0, abs=0.2) and plc.mos == pytest.approx(4.23, abs=0.01)
    assert no_plc.r_factor == pytest.approx(71.7, abs=0.2) and no_plc.mos == pytest.approx(3.67, abs=0.01)
    assert g729.r_factor == pytest.approx(74.4, abs=0.2)
    assert plc.r_factor > g729.r_factor > no_plc.r_factor


def test_delay_below_100_ms_costs_little_and_then_more_and_more() -> None:
    r = [rate_leg("pcma", d, 0).r_factor for d in (0, 50, 100, 150, 200, 300, 400, 600)]
    assert all(a > b for a, b in itertools.pairwise(r)), r
    assert r[0] - r[2] < 3 < r[4] - r[5]  # echo alone below 100 ms; above 200 ms the delay itself weighs
    # G.114's planning figures: 150 ms keeps users very satisfied, 400 ms is well below R 70
    assert rate_leg("pcma", 150, 0).r_factor > 80 > 70 > rate_leg("pcma", 400, 0).r_factor


def test_the_round_trip_and_echo_delays_follow_the_one_way_delay() -> None:
    leg = rate_leg("PCMU", 120, 0.5, 1.5)
    assert (leg.inputs.t_ms, leg.inputs.tr_ms, leg.inputs.ta_ms) == (120, 240, 120)
    assert leg.codec == "pcmu" and leg.r_factor == pytest.approx(r_factor(leg.inputs))


def test_a_weak_sidetone_adds_itself_to_talker_echo() -> None:
    far = EModelInputs(t_ms=200, tr_ms=400, ta_ms=200)
    assert r_factor(dataclasses.replace(far, stmr=25)) < r_factor(dataclasses.replace(far, stmr=20))


@pytest.mark.parametrize("bad", [{"ppl_pct": -1}, {"ppl_pct": 101}, {"ta_ms": -1}, {"burst_ratio": 0.5}])
def test_inputs_out_of_range_are_refused(bad: dict) -> None:
    with pytest.raises(ValueError, match="out of range"):
        r_factor(EModelInputs(**bad))


def test_an_unknown_codec_is_refused() -> None:
    with pytest.raises(KeyError):
        rate_leg("opus", 100, 0)
