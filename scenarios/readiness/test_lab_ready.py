"""Lab readiness: every device answers on every transport the inventory declares, with its
credentials. A device that does not is BROKEN (lab infrastructure), and is quarantined so later
scenarios spend no more time on it."""

import allure
import pytest

from harness.devices.switch_provision import Provisioner, journal_dir
from harness.evidence.check import observe


@pytest.mark.duty("LAB-READY")
def test_device_answers_on_every_declared_transport(device):
    transports = device.transports()
    if not transports:
        pytest.skip(f"{device.name}: the inventory declares no transport")
    for transport in transports:
        with allure.step(f"{device.name} over {transport}"):
            identity = device.probe(transport)
            observe(identity, duty="LAB-READY", device=device.name, what=f"answers on {transport}")
            allure.attach(identity, name=f"{device.name} {transport} identity",
                          attachment_type=allure.attachment_type.TEXT)


@pytest.mark.duty("LAB-READY")
def test_no_switch_change_left_by_an_earlier_run(switch, lab, pytestconfig):
    """A provisioning run that died mid-change left a journal: report what is still applied, and
    undo it when writing is allowed. Still applied and not undone: BROKEN, naming every line."""
    found = Provisioner(switch, journal_dir(lab.loaded)).settle_leftover(pytestconfig.getoption("allow_destructive"))
    observe(found.describe() if found else "no journal", duty="LAB-READY", device=switch.name,
            what="unfinished provisioning")
