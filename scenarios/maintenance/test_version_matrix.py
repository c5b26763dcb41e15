"""MAINT-VERSION-MATRIX: the Edge and every phone run a version the requirement profile approves.

Threshold: the approved list in the requirement profile (project choice: Genesys publishes no
Edge/phone compatibility matrix; see docs/duties.md)."""

import pytest

from harness.evidence.check import check

DUTY = "MAINT-VERSION-MATRIX"


def _approved(profile, platform):
    versions = profile.approved(platform)
    if not versions:
        pytest.skip(f"requirement profile {profile.name} approves no version for platform {platform}")
    return versions


@pytest.mark.duty(DUTY)
def test_edge_runs_an_approved_version(edge, profile):
    approved = _approved(profile, edge.platform)
    firmware = edge.version().firmware
    check(firmware, profile.threshold(DUTY, "approved_firmware"), expected=approved, duty=DUTY,
          device=edge.name, what="firmware version")


@pytest.mark.duty(DUTY)
def test_phone_runs_an_approved_version(phone, profile):
    approved = _approved(profile, phone.platform)
    firmware = phone.info().firmware
    check(firmware, profile.threshold(DUTY, "approved_firmware"), expected=approved, duty=DUTY,
          device=phone.name, what="firmware version")
