"""Lab readiness: every device answers on every transport the inventory declares, with its
credentials. A transport that does not is BROKEN (lab infrastructure), and is quarantined so later
scenarios spend no more time on it; the device's other transports stay in use (a switch whose SNMP
agent is silent still answers over SSH). The transports of a device are probed at the same time, so
a dead device costs one timeout. The Genesys Cloud org (the inventory's ``cloud:``) answers its
Platform API: the OAuth client logs in and the lab's site is read (a dead API costs one timeout,
and the plugin quarantines it; a rate limit is waited out)."""

import allure
import pytest

from harness.devices.driver import Driver
from harness.devices.drivers.edge import Edge
from harness.devices.drivers.switch import Switch
from harness.devices.liveness import is_silence, probe_transports
from harness.devices.procedures.switch_provisioning import Provisioner, journal_dir
from harness.devices.session import LabSession
from harness.errors import LabError
from harness.evidence.check import observe


@pytest.mark.duty("LAB-READY")
def test_device_answers_on_every_declared_transport(device: Driver, lab: LabSession) -> None:
    if not device.transports():
        pytest.skip(f"{device.name}: the inventory declares no transport")
    errors: list[LabError] = []
    for transport, answer in probe_transports(device).items():
        with allure.step(f"{device.name} over {transport}"):
            if isinstance(answer, LabError):
                errors.append(answer)
                if is_silence(answer):
                    lab.quarantine(device.name, answer)
                continue
            observe(answer, duty="LAB-READY", device=device.name, what=f"answers on {transport}")
            allure.attach(answer, name=f"{device.name} {transport} identity",
                          attachment_type=allure.attachment_type.TEXT)
    if errors:
        first = errors[0]
        also = "".join(f"; also {e.kind} on {e.transport} {e.address}: {e.detail}" for e in errors[1:])
        raise type(first)(first.device, first.transport, first.address, first.detail + also)


@pytest.mark.duty("LAB-READY")
def test_no_switch_change_left_by_an_earlier_run(switch: Switch, lab: LabSession, pytestconfig: pytest.Config) -> None:
    """A provisioning run that died mid-change left a journal: report what is still applied, and
    undo it when writing is allowed. Still applied and not undone: BROKEN, naming every line."""
    found = Provisioner(switch, journal_dir(lab.loaded)).settle_leftover(pytestconfig.getoption("allow_destructive"))
    observe(found.describe() if found else "no journal", duty="LAB-READY", device=switch.name,
            what="unfinished provisioning")


@pytest.mark.duty("LAB-READY")
def test_cloud_api_answers(lab: LabSession) -> None:
    if lab.lab.cloud is None:
        pytest.skip("the inventory has no cloud: section (no Genesys Cloud org to reach)")
    org = lab.cloud()
    with allure.step(f"{org.name} over the Platform API"):
        answer = org.probe_api()
    observe(answer, duty="LAB-READY", device=org.name, what="answers on the Platform API")
    allure.attach(answer, name=f"{org.name} api identity", attachment_type=allure.attachment_type.TEXT)


@pytest.mark.duty("LAB-READY")
def test_edge_is_online_in_genesys_cloud(edge: Edge, lab: LabSession) -> None:
    """A Genesys Edge is managed through Genesys Cloud: its record is read and the org sees it ONLINE
    (an OFFLINE Edge, or one the site lacks, is BROKEN naming the call). After the org's own probe,
    so a dead API costs one timeout there and is quarantined before the Edges are asked."""
    if lab.lab.cloud is None:
        pytest.skip("the inventory has no cloud: section (a Genesys Edge is reached through Genesys Cloud)")
    with allure.step(f"{edge.name} through the Platform API"):
        answer = edge.probe_api()
    observe(answer, duty="LAB-READY", device=edge.name, what="online in Genesys Cloud")
    allure.attach(answer, name=f"{edge.name} api identity", attachment_type=allure.attachment_type.TEXT)
