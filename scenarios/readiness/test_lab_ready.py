"""Lab readiness: every device answers on every transport the inventory declares, with its
credentials. A device that does not is BROKEN (lab infrastructure), and is quarantined so later
scenarios spend no more time on it."""

import allure
import pytest

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
