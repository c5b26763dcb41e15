"""MAINT-VERSION-MATRIX: the Edge and every phone run a version the requirement profile approves,
and every phone's firmware is compatible with its Edge's version.

Thresholds: the approved list in the requirement profile, and its compatibility matrix (rows of
Edge version ranges x phone-platform firmware ranges, PEP 440 specifiers): zero incompatible
Edge/phone pairs (project choice: Genesys publishes no Edge/phone compatibility matrix; see
docs/duties.md). A pair the matrix does not cover (the Edge's version in no row, or the phone's
platform in none of its rows) counts as incompatible: unknown is not certified. A platform the
profile approves nothing for is SKIPPED with that reason, never passed.

The Edge's version is its record's in Genesys Cloud (``softwareVersion``). When an Edge check fails on
it while the Edge on the wire (the ``Server`` header of its answer to an OPTIONS on the carrier port,
as DATA-ACCURACY reads it) shows another version that would have passed, the failure relies on the
record (``inputs_used``, :func:`~harness.checks.org_records.edge_record_input`): DATA-ACCURACY judges
that record against the wire, and the failure is listed under that finding as its consequence
(:mod:`harness.evidence.findings`; each still FAIL). Otherwise the Edge's approval check judges that
version itself (``inputs_checked``): an Edge that runs an unapproved version is one finding, and each
phone's compatibility check that failed because the Edge's version is in no row of the matrix
(``edge-not-listed``) is its consequence; a phone's own firmware out of range is a finding of its own."""

from collections.abc import Callable

import pytest

from harness.checks.org_records import edge_record_input, version_in_header
from harness.devices.drivers.edge import Edge
from harness.devices.drivers.phone import Phone
from harness.devices.session import LabSession
from harness.duties.profile import Profile
from harness.errors import LabError
from harness.evidence.check import check, intent

DUTY = "MAINT-VERSION-MATRIX"


def _record_relied_on(edge: Edge, org_version: str, passes: Callable[[str], bool]) -> list[str]:
    """``[the input of edge's softwareVersion record]`` when the Edge on the wire shows a version other
    than its record's ``org_version`` and that version ``passes`` the check at hand (the failure is the
    record's), else ``[]``. An Edge whose SIP does not answer or shows no version relies on nothing."""
    sip = edge.device.sip
    if sip is None:
        return []
    try:
        header = edge.options(port=sip.port).user_agent
    except LabError:
        return []
    wire = version_in_header(header, org_version)
    return [edge_record_input(edge.name, "softwareVersion")] if wire and wire != org_version and passes(wire) else []


def _check_approved(driver: Edge | Phone, firmware: str, profile: Profile) -> None:
    approved = profile.approved(driver.platform)
    if not approved:
        pytest.skip(f"requirement profile {profile.name} approves no version for platform {driver.platform}")
    used: list[str] = []
    checked: list[str] = []
    if isinstance(driver, Edge) and firmware not in approved:  # the record's version, unless the wire's passes
        used = _record_relied_on(driver, firmware, lambda v: v in approved)
        checked = [] if used else [edge_record_input(driver.name, "softwareVersion")]
    check(firmware, profile.threshold(DUTY, "approved_firmware"), expected=approved, duty=DUTY,
          device=driver.name, what="firmware version", inputs_checked=checked, inputs_used=used)


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
    used = [] if c.verdict == "compatible" else _record_relied_on(
        edge, edge_version, lambda v: profile.compatibility_of(v, phone.platform, firmware).verdict == "compatible")
    if not used and c.verdict == "edge-not-listed":  # the Edge's version, which its approval check judges
        used = [edge_record_input(edge.name, "softwareVersion")]
    check(c.verdict, intent("compatibility matrix verdict", "compatible", source=f"requirement profile {profile.name}"),
          duty=DUTY, device=phone.name,
          what=f"{pair} in the matrix of profile {profile.name}",
          detail=f"allowed beside {edge.name} {edge_version}: {c.allowed}" if c.allowed else "", inputs_used=used)
