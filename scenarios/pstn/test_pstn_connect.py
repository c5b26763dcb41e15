"""PSTN-CONNECT: the trunk peer answers SIP OPTIONS with 200 within 2 s.

Limits: status 200 (Genesys carrier checklist, G-CARRIER); round trip <= 2000 ms (project choice,
overridable in the requirement profile). Silence from a device whose management plane answers is
a duty failure; silence from a device that is gone altogether is a broken lab."""

import pytest

from harness.evidence.check import check

DUTY = "PSTN-CONNECT"


@pytest.mark.duty(DUTY)
def test_trunk_peer_answers_sip_options(pstn, profile):
    rtt_limit = profile.threshold(DUTY, "options_rtt_ms")
    result = pstn.options(timeout_s=float(rtt_limit.value) / 1000.0)
    if result.status is None:
        pstn.ensure_alive()  # raises LabUnreachable (BROKEN) when the whole device is gone
        check(None, rtt_limit, duty=DUTY, device=pstn.name, what="SIP OPTIONS round trip",
              detail=f"no response within {rtt_limit.value} ms")
    check(result.status, profile.threshold(DUTY, "options_status"), duty=DUTY, device=pstn.name,
          what="SIP OPTIONS status", detail=result.reason)
    check(result.rtt_ms, rtt_limit, duty=DUTY, device=pstn.name, what="SIP OPTIONS round trip")
