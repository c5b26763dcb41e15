"""Device clocks on the twin, read through the drivers: the switch's ``show clock`` (CLI) and
CISCO-NTP-MIB cntpSysClock (SNMP), a phone's HOST-RESOURCES-MIB hrSystemDate; each agrees with this
host's clock, and the switch's ``clock-offset`` moves both of its faces and nothing else."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.devices.drivers.phone import Phone
from harness.devices.drivers.switch import Switch
from harness.devices.session import LabSession
from harness.inventory import LoadedLab
from harness.twin.manager import TwinControl


@pytest.fixture
def lab(twin: TwinControl, loaded: LoadedLab) -> Iterator[LabSession]:
    s = LabSession(loaded)
    yield s
    s.close()


def _offset(r) -> float:
    return r.device_time - r.harness_time


def test_clocks_agree_with_this_host(lab: LabSession) -> None:
    sw = lab.driver("sw1", Switch)
    cli, snmp = sw.cli_clock(), sw.snmp_clock()
    assert abs(_offset(cli)) <= cli.uncertainty_s + 0.05 and cli.source == "cli show clock", cli
    assert abs(_offset(snmp)) <= snmp.uncertainty_s + 0.15 and snmp.source == "snmp cntpSysClock", snmp
    phone = lab.driver("phone1", Phone).snmp_clock()
    assert abs(_offset(phone)) <= phone.uncertainty_s + 0.05 and phone.source == "snmp hrSystemDate", phone


def test_clock_offset_moves_the_switch_clock_on_both_faces(twin: TwinControl, lab: LabSession) -> None:
    twin.fault("sw1", "clock-offset", "-2.5")
    sw = lab.driver("sw1", Switch)
    assert _offset(sw.cli_clock()) == pytest.approx(-2.5, abs=0.2)
    assert _offset(sw.snmp_clock()) == pytest.approx(-2.5, abs=0.2)
    assert abs(_offset(lab.driver("phone1", Phone).snmp_clock())) < 0.3  # the phones keep their time
    twin.heal("sw1")
    assert abs(_offset(sw.cli_clock())) < 0.2


def test_a_bad_clock_offset_is_refused(twin: TwinControl) -> None:
    with pytest.raises(Exception, match="needs SECONDS"):
        twin.fault("sw1", "clock-offset", "a while")
