"""NET-BANDWIDTH's pacing guard, without a twin: a load the harness offered more than
PACING_TOLERANCE_PCT (3 %) short of the rate under test did not test the WAN (the scenario makes it
BROKEN once every call is known answered); a load within it is judged."""

from __future__ import annotations

import pytest

from harness.checks.qos import PACING_TOLERANCE_PCT, LoadResult

NEEDED_KBPS = 4 * 87.2  # 4 G.711 20 ms calls on Ethernet (DUTIES.md §2.4)


def offered(short_pct: float) -> LoadResult:
    rate = NEEDED_KBPS * (1 - short_pct / 100.0)
    return LoadResult(calls=(), window_s=2.0, offered_kbps=rate, carried_kbps=rate, loss_pct=0.0)


def test_the_tolerance_is_3_percent() -> None:
    assert PACING_TOLERANCE_PCT == 3.0


def test_an_offer_5_percent_short_did_not_load_the_wan() -> None:
    why = offered(5.0).offer_shortfall(NEEDED_KBPS)
    assert why == ("the harness offered only 331.4 kbit/s per direction of the 348.8 kbit/s under test (its own "
                   "sending fell behind): the WAN was not loaded to the rate the duty asks about")


@pytest.mark.parametrize("short_pct", [0.0, 1.0, 2.99])
def test_an_offer_within_3_percent_is_judged(short_pct: float) -> None:
    assert offered(short_pct).offer_shortfall(NEEDED_KBPS) is None


def test_an_offer_above_the_rate_is_judged() -> None:
    assert offered(-2.0).offer_shortfall(NEEDED_KBPS) is None
