"""MAINT-VERSION-MATRIX: the Edge and every phone run a version the requirement profile approves,
and every phone's firmware is compatible with its Edge's version.

Thresholds: the approved list in the requirement profile, and its compatibility matrix (rows of
Edge version ranges x phone-platform firmware ranges, PEP 440 specifiers): zero incompatible
Edge/phone pairs (project choice: Genesys publishes no Edge/phone compatibility matrix; see
docs/duties.md). A pair the matrix does not cover (the Edge's version in no row, or the phone's
platform in none of its rows) counts as incompatible: unknown is not certified. A platform the
profile approves nothing for is SKIPPED with that reason, never passed."""

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


@pytest.mark.duty(DUTY)
def test_edge_and_its_phones_are_compatible(edge, lab, profile):
    """Every phone registering with the Edge runs firmware the requirement profile's compatibility
    matrix allows beside the Edge's version; each incompatible pair is named with both versions."""
    if not profile.compatibility:
        pytest.skip(f"requirement profile {profile.name} has no compatibility matrix")
    edge_version = edge.version().firmware
    phones = [n for n, d in lab.lab.devices.items() if d.role == "phone" and d.sip and d.sip.registrar == edge.name]
    if not phones:
        pytest.skip(f"no phone of the inventory registers with {edge.name}")
    pairs, problems = [], []
    for name in phones:
        phone = lab.driver(name)
        firmware = phone.firmware().firmware
        c = profile.compatibility_of(edge_version, phone.platform, firmware)
        pairs.append(f"{edge.name} {edge_version} + {name} ({phone.platform}) {firmware}: {c.verdict}")
        if c.verdict != "compatible":
            why = f"allowed {c.allowed}" if c.allowed else c.verdict
            problems.append(f"{edge.name} {edge_version} with {name} {phone.platform} {firmware} ({why})")
    check(len(problems), profile.threshold(DUTY, "incompatible_pairs"), duty=DUTY, device=edge.name,
          what=f"Edge/phone pairs outside the compatibility matrix of profile {profile.name}",
          detail="; ".join(problems) or "; ".join(pairs))
