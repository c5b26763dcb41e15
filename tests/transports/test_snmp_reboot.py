"""An SNMPv3 agent that reboots (the twin process restarts) is found again by the client that
knew it before, as with a real device: same engine ID, snmpEngineBoots one higher."""

from __future__ import annotations

import pytest

from harness.devices.drivers.phone import Phone, firmware_audit
from harness.inventory import load
from harness.twin import manager
from tests.conftest import REPO, make_test_lab, other_net

#: these tests start labs of their own (tests/conftest.py marks those that use the session twin)
pytestmark = pytest.mark.twin


def test_v3_client_recovers_after_agent_reboot(tmp_path):
    text = (REPO / "lab_inventory.yaml").read_text().replace("127.0.", f"{other_net(3)}.")
    inv = make_test_lab(tmp_path / "lab", text)
    loaded = load(inv)
    phones = [Phone(n, d, loaded) for n, d in loaded.lab.devices.items() if d.role == "phone"]
    try:
        manager.up(inv)
        assert all(getattr(r, "firmware", None) == "6.4.3" for r in firmware_audit(phones).values())
        manager.down(inv)
        manager.up(inv)
        after = firmware_audit(phones)
        assert all(getattr(r, "firmware", None) == "6.4.3" for r in after.values()), after
    finally:
        manager.down(inv)
