"""MAINT-VERSION-MATRIX: the Edge and every phone run a version the requirement profile approves,
and every phone's firmware is compatible with its Edge's version.

Thresholds: the approved list in the requirement profile, and its compatibility matrix (rows of
Edge version ranges x phone-platform firmware ranges, PEP 440 specifiers): zero incompatible
Edge/phone pairs (project choice: Genesys publishes no Edge/phone compatibility matrix; see
docs/duties.md). A pair the matrix does not cover (the Edge's version in no row, or the phone's
platform in none of its rows) counts as incompatible: unknown is not certified. A platform the
profile approves nothing for is SKIPPED with that reason, never passed."""

import pytest

from harness.devices.drivers.edge import Edge
from harness.devices.drivers.phone import Phone
from harness.devices.session import LabSession
from harness.duties.profile import Profile
from harness.evidence.check import check, intent

DUTY = "MAINT-VERSION-MATRIX"


def _check_approved(driver: Edge | Phone, firmware: str, profile: Profile) -> None:
    approved = profile.approved(driver.platform)
    if not approved:
        pytest.skip(f"requirement profile {profile.name} approves no version for platform {driver.platform}")
    check(firmware, profile.threshold(DUTY, "approved_firmware"), expected=approved, duty=DUTY,
          device=driver.name, what="firmware version")


@pytest.mark.duty(DUTY)
def test_edge_runs_an_approved_version(edge: Edge, profile: Profile) -> None:
    _check_approved(edge, edge.version().firmware, profile)


@pytest.mark.duty(DUTY)
def test_phone_runs_an_approved_version(phone: Phone, profile: Profile) -> None:
    _check_approved(phone, phone.firmware().firmware, profile)


@pytest.mark.duty(DUTY)
def test_phone_is_compatible_with_its_edge(phone: Phone, lab: LabSession, profile: Profile) -> None:
    """The phone runs firmware the requirement profile's compatibility matrix allows beside the
    version its registrar Edge runs; an incompatible pair is named with both devices and versions."""
    if not profile.compatibility:
        pytest.skip(f"requirement profile {profile.name} has no compatibility matrix")
    registrar = phone.device.sip.registrar if phone.device.sip else None
    if not registrar:
        pytest.skip(f"{phone.name} names no registrar Edge")
    edge = lab.driver(registrar, Edge)
    edge_version, firmware = edge.version().firmware, phone.firmware().firmware
    c = profile.compatibility_of(edge_version, phone.platform, firmware)
    pair = f"{edge.name} {edge_version} with {phone.name} {phone.platform} {firmware}"
    check(c.verdict, intent("compatibility matrix verdict", "compatible", source=f"requirement profile {profile.name}"),
          duty=DUTY, device=phone.name,
          what=f"{pair} in the matrix of profile {profile.name}",
          detail=f"allowed beside {edge.name} {edge_version}: {c.allowed}" if c.allowed else "")
