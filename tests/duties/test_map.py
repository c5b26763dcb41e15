"""The duty map (harness/duties/map.py): what it finds in a scenarios folder of its own and in the real tree."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harness.duties.catalogue import CATALOGUE
from harness.duties.map import DutyRoute, MapError, SourceMap, duty_map
from tests.conftest import REPO

ROLES = {"Edge", "Phone", "ProvisioningServer", "PstnSimulator", "Switch"}

SCENARIO = '''
import pytest

from harness.devices.driver import Driver
from harness.devices.drivers.edge import Edge
from harness.devices.procedures.image_check import check_image
from harness.devices.session import LabSession

DUTY = "NET-NTP"


def _edge_of(lab: LabSession, name: str) -> Edge:
    return lab.driver(name, Edge)


@pytest.mark.duty(DUTY)
def test_clock_of_the_edge(lab: LabSession) -> None:
    """Mentions Phone and "Switch" in words only."""
    _edge_of(lab, "edge1")


class TestClocks:
    @pytest.mark.duty("NET-NTP")
    def test_clock_of_a_switch(self, site_switch) -> None:
        pass


@pytest.mark.duty("SEC-EXPOSURE")
def test_every_device(device: Driver) -> None:
    pass


@pytest.mark.duty("CFG-IVR")
def test_image(lab: LabSession) -> None:
    check_image(lab, None, None)


def test_without_a_duty_marker(pstn) -> None:
    pass
'''

CONFTEST = '''
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from harness.devices.drivers.switch import Switch


@pytest.fixture
def site_switch(lab) -> "Switch":
    raise NotImplementedError
'''


@pytest.fixture
def own_map(tmp_path: Path) -> dict[str, DutyRoute]:
    area = tmp_path / "scenarios" / "clock"
    area.mkdir(parents=True)
    (area / "test_clock.py").write_text(textwrap.dedent(SCENARIO))
    (tmp_path / "scenarios" / "conftest.py").write_text(textwrap.dedent(CONFTEST))
    return {r.duty.id: r for r in duty_map(SourceMap(tmp_path / "scenarios"))}


@pytest.fixture(scope="module")
def real_map() -> dict[str, DutyRoute]:
    return {r.duty.id: r for r in duty_map()}


def names(route: DutyRoute) -> set[str]:
    return {d.name for d in route.drivers}


def test_duty_constants_classes_helpers_and_conftest_fixtures_are_followed(own_map):
    ntp = own_map["NET-NTP"]
    assert [(s.path, s.tests) for s in ntp.scenarios] == [
        ("scenarios/clock/test_clock.py", ("test_clock_of_the_edge", "TestClocks.test_clock_of_a_switch"))]
    assert names(ntp) == {"Edge", "Switch"}  # lab.driver in a helper; a conftest fixture's quoted return type
    assert ntp.procedures == ()


def test_the_driver_base_stands_for_every_role_class(own_map):
    assert names(own_map["SEC-EXPOSURE"]) == ROLES  # no platform subclass (NxosSwitch …) among them


def test_a_procedure_brings_its_drivers(own_map):
    ivr = own_map["CFG-IVR"]
    assert ivr.procedures == ("harness/devices/procedures/image_check.py",)
    assert names(ivr) == {"ProvisioningServer"}
    assert set(ivr.transports()) == {"http"}, ivr.transports()  # what the procedure's calls reach
    assert own_map["NET-NTP"].transports() == {}  # no call on a driver: no transport


def test_every_duty_is_listed_and_a_test_without_marker_is_not(own_map):
    assert list(own_map) == list(CATALOGUE)
    assert all(not r.scenarios and not r.drivers for d, r in own_map.items() if d not in
               {"NET-NTP", "SEC-EXPOSURE", "CFG-IVR"})


def test_missing_scenarios_folder_is_a_map_error(tmp_path):
    with pytest.raises(MapError, match="no scenarios folder"):
        SourceMap(tmp_path / "nowhere")


def test_drivers_reach_their_transports_through_their_capabilities(real_map):
    drivers = {d.name: d for r in real_map.values() for d in r.drivers}
    assert set(drivers) == ROLES
    switch = drivers["Switch"]
    assert switch.path == "harness/devices/drivers/switch.py"
    assert {(c.name, c.transport, c.modules) for c in switch.capabilities} == {
        ("CliDevice", "ssh", ("harness/transports/cli.py", "harness/transports/cli_text.py")),
        ("SnmpAgent", "snmp", ("harness/transports/snmp.py",))}
    edge = drivers["Edge"].transports()
    # a Genesys Edge is cloud-managed: no SSH command line or console; its SIP side and SNMP agent remain
    assert set(edge) == {"sip", "snmp"}, edge
    assert "harness/transports/sipp/runner.py" in drivers["PstnSimulator"].transports()["other"]
    assert drivers["ProvisioningServer"].transports() == {"http": ("harness/transports/http.py",)}


def test_real_duties_map_to_their_scenarios_and_drivers(real_map):
    voip = real_map["NET-VOIP-HW"]
    assert [s.path for s in voip.scenarios] == ["scenarios/network/test_voip_hw.py",
                                                "scenarios/network/test_voip_hw_provision.py"]
    assert names(voip) == {"Switch", "Phone"}  # Phone: the phone_port fixture asks whether a phone is alive
    assert names(real_map["LAB-READY"]) == ROLES
    assert names(real_map["MAINT-PHONE-FIRMWARE"]) == {"Phone", "ProvisioningServer", "Edge"}
    assert "harness/devices/procedures/firmware_rollout.py" in real_map["MAINT-PHONE-FIRMWARE"].procedures
    assert names(real_map["PSTN-CAPACITY"]) == {"Edge", "PstnSimulator"}
    assert [s.path for s in real_map["QOS-MEDIA"].scenarios] == ["scenarios/network/test_qos_media.py"]
    assert names(real_map["QOS-MEDIA"]) == {"Edge", "Phone"}
    assert not real_map["PSTN-TDM"].scenarios


def test_a_duty_reaches_the_transports_its_code_uses_not_all_its_drivers_can(real_map):
    capacity = real_map["PSTN-CAPACITY"]
    # the trunk plan carries the org (a refused outbound call is judged on its configuration)
    assert capacity.fixtures == ("fixtures/cloud_org.py", "fixtures/trunk.py"), capacity.fixtures
    assert capacity.checks == ("harness/checks/trunk.py",)
    tr = capacity.transports()
    # what trunk_calls.py imports, not only what a driver's capability names
    assert {"harness/transports/sip/call.py", "harness/transports/sip/call_base.py",
            "harness/transports/sip/ua.py"} <= set(tr["sip"]), tr
    assert tr["rtp"] == ("harness/transports/rtp.py",)
    assert "harness/transports/sipp/runner.py" in tr["sipp"]  # PstnSimulator.sipp(), called by the procedure
    assert not {"console", "console_xfer", "other"} & set(tr), tr
    # an Edge's logs come through its org's log jobs only (no console, no SFTP on a Genesys Edge)
    logs = real_map["MAINT-EDGE-LOGS"].transports()
    assert set(logs) == {"cloud", "transcript"}, logs
    # an Edge's record is read through its org: the cloud transport, reached from Edge.record()
    assert real_map["ENV-EDGE"].transports() == {"cloud": ("harness/transports/cloud/client.py",),
                                                 "transcript": ("harness/transports/transcript.py",)}
    # the org's telephony reads (a fixture's OrgTelephony, not a driver) reach the org's API
    assert "harness/transports/cloud/client.py" in real_map["CFG-DIALPLAN"].transports()["cloud"]
    # LAB-READY probes every declared transport: Driver.probe stands for every probe_<transport>
    assert {"cloud", "http", "sip", "snmp", "ssh"} <= set(real_map["LAB-READY"].transports())


def test_every_test_with_a_duty_marker_is_counted(real_map):
    counted: dict[str, int] = {}
    for r in real_map.values():
        for s in r.scenarios:
            counted[s.path] = counted.get(s.path, 0) + len(s.tests)
    marked = {p.relative_to(REPO).as_posix(): len(re.findall(r"@pytest\.mark\.duty\(", p.read_text()))
              for p in (REPO / "scenarios").rglob("test_*.py")}
    assert counted == marked


def test_the_map_imports_no_scenario_driver_transport_or_plugin():
    code = ("import sys; from harness.duties.map import duty_map; duty_map(); "
            "print([m for m in sys.modules if m.startswith(('harness.devices', 'harness.transports', 'harness.twin', "
            "'hil_pytest', 'scenarios', 'netmiko', 'pysnmp', 'paramiko'))])")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert r.stdout.strip() == "[]"
