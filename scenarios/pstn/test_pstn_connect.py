"""PSTN-CONNECT: SIP OPTIONS are answered with 200 within 2 s on both ends of the trunk — by the
carrier's peer (the PSTN simulator) and by every Edge's trunk interface (the carrier sends
OPTIONS to each Edge for failover, Genesys carrier checklist item 2).

Limits: status 200 (G-CARRIER); round trip <= 2000 ms (project choice, overridable in the
requirement profile). Silence from a device whose management plane answers is a duty failure;
silence from a device that is gone altogether is a broken lab. Test calls with audio come with the
PSTN trunk issue."""

import pytest

from harness.evidence.check import check

DUTY = "PSTN-CONNECT"


def _options_answered(driver, profile, what):
    rtt_limit = profile.threshold(DUTY, "options_rtt_ms")
    result = driver.options(timeout_s=float(rtt_limit.value) / 1000.0)
    if result.status is None:
        driver.ensure_alive()  # raises LabUnreachable (BROKEN) when the whole device is gone
        check(None, rtt_limit, duty=DUTY, device=driver.name, what=f"{what} round trip",
              detail=f"no response within {rtt_limit.value} ms")
    check(result.status, profile.threshold(DUTY, "options_status"), duty=DUTY, device=driver.name,
          what=f"{what} status", detail=result.reason)
    check(result.rtt_ms, rtt_limit, duty=DUTY, device=driver.name, what=f"{what} round trip")


@pytest.mark.duty(DUTY)
def test_trunk_peer_answers_sip_options(pstn, profile):
    _options_answered(pstn, profile, "SIP OPTIONS")


@pytest.mark.duty(DUTY)
def test_edge_trunk_answers_sip_options(edge, profile):
    _options_answered(edge, profile, "SIP OPTIONS to the Edge trunk")
