"""MAINT-VERSION-MATRIX: the Edge and every phone run a version the requirement profile approves.

Threshold: the approved list in the requirement profile (project choice: Genesys publishes no
Edge/phone compatibility matrix; see docs/duties.md). A platform the profile approves nothing for
is SKIPPED with that reason, never passed."""

import pytest

from harness.evidence.check import check

DUTY = "MAINT-VERSION-MATRIX"


def _check_approved(driver, firmware, profile):
    approved = profile.approved(driver.platform)
    if not approved:
        pytest.skip(f"requirement profile {profile.name} approves no version for platform {driver.platform}")
    check(firmware, profile.threshold(DUTY, "approved_firmware"), expected=approved, duty=DUTY,
          device=driver.name, what="firmware version")


@pytest.mark.duty(DUTY)
def test_edge_runs_an_approved_version(edge, profile):
    _check_approved(edge, edge.version().firmware, profile)


@pytest.mark.duty(DUTY)
def test_phone_runs_an_approved_version(phone, profile):
    _check_approved(phone, phone.firmware().firmware, profile)
