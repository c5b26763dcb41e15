"""Provisioning: the plan and restore as pure functions over running-config text, then against the
twin's switch (idempotence, exact restore after success and after a rejected line, recovery)."""

from __future__ import annotations

import pytest

from harness.devices.procedures.switch_provisioning import (
    ConfigRejected,
    Provisioner,
    config_diff,
    config_lines,
    plan,
    remediation,
    switch_intent,
)
from harness.devices.session import LabSession
from harness.errors import LabError

BEFORE = """Building configuration...

Current configuration : 900 bytes
! Last configuration change at 10:00:00 UTC Tue Dec 1 2026 by admin
!
hostname sw1
!
vlan 10
 name DATA
!
interface GigabitEthernet1/0/1
 switchport access vlan 10
 switchport mode access
 switchport voice vlan 100
 network-policy 1
 mls qos trust dscp
 spanning-tree portfast
!
interface GigabitEthernet1/0/2
 switchport access vlan 20
 switchport mode access
 power inline never
 mls qos trust cos
 shutdown
!
end
"""


def test_intent_lists_every_phone_port_of_the_switch(loaded):
    intent = switch_intent(loaded.lab, "sw1")
    assert [p.interface for p in intent.ports] == [f"GigabitEthernet1/0/{n}" for n in range(1, 5)]
    assert intent.voice_vlan == 100 and intent.voice_vlan_name == "VOICE" and intent.data_vlan == 10
    assert {p.phone for p in intent.ports} == {"phone1", "phone2", "phone3", "phone4"}
    assert switch_intent(loaded.lab, "sw1", ["GigabitEthernet1/0/3"]).ports[0].phone == "phone3"


def test_plan_writes_only_what_is_missing(loaded):
    intent = switch_intent(loaded.lab, "sw1", ["GigabitEthernet1/0/1", "GigabitEthernet1/0/2"])
    lines = plan(BEFORE, intent)
    # the voice VLAN and the policy profile are missing; port 1 is already right and is not touched
    assert lines[:2] == ["vlan 100", "name VOICE"]
    assert "network-policy profile 1" in lines and "voice vlan 100 cos 5" in lines and "voice vlan 100 dscp 46" in lines
    assert "interface GigabitEthernet1/0/1" not in lines
    port2 = lines[lines.index("interface GigabitEthernet1/0/2") + 1:]
    assert port2 == ["switchport access vlan 10", "switchport voice vlan 100", "network-policy 1",
                     "mls qos trust dscp", "spanning-tree portfast", "power inline auto", "no shutdown"]


def test_plan_of_a_config_as_intended_is_empty(loaded):
    intent = switch_intent(loaded.lab, "sw1", ["GigabitEthernet1/0/1"])
    done = BEFORE.replace("vlan 10\n name DATA\n!", "vlan 10\n name DATA\n!\nvlan 100\n name VOICE\n!\n"
                          "network-policy profile 1\n voice vlan 100 cos 5\n voice vlan 100 dscp 46\n!")
    assert plan(done, intent) == []


def test_remediation_undoes_a_change_line_for_line():
    after = BEFORE.replace(" switchport access vlan 20\n", " switchport access vlan 10\n switchport voice vlan 100\n")
    after = after.replace(" mls qos trust cos\n", " mls qos trust dscp\n").replace(" shutdown\n", "")
    after = after.replace("! Last configuration change at 10:00:00", "! Last configuration change at 11:11:11")
    undo = remediation(after, BEFORE)
    assert "interface GigabitEthernet1/0/2" in undo and "no switchport voice vlan 100" in undo
    assert "switchport access vlan 20" in undo and "shutdown" in undo
    assert config_diff(BEFORE, after) and not config_diff(BEFORE, BEFORE.replace("10:00:00", "23:59:59"))


def test_config_lines_ignore_volatile_header_lines():
    lines = config_lines(BEFORE)
    assert lines[0] == "!" and "hostname sw1" in lines
    assert not any(x.startswith(("Building", "Current configuration", "! Last")) for x in lines)


# --- against the twin's switch ----------------------------------------------------------------------

WRONG = ["no switchport voice vlan", "no switchport access vlan", "no mls qos trust", "no spanning-tree portfast",
         "no network-policy 1", "power inline never"]


@pytest.fixture
def sw1(twin, loaded):
    session = LabSession(loaded)
    yield session.driver("sw1")
    session.close()


def _disturb(prov, *ports):
    lines = []
    for p in ports:
        lines += [f"interface {p}", *WRONG]
    prov.send_lines(lines)


def test_healthy_twin_needs_no_change(sw1, loaded, tmp_path):
    prov = Provisioner(sw1, tmp_path)
    assert prov.apply(switch_intent(loaded.lab, "sw1")).lines == []
    assert not (tmp_path / "sw1.json").exists()


def test_apply_is_idempotent_and_restore_is_exact(sw1, loaded, tmp_path):
    setup = Provisioner(sw1, tmp_path / "setup")  # puts two ports in the wrong state, undone at the end
    original = config_lines(setup.running_config())
    _disturb(setup, "GigabitEthernet1/0/1", "GigabitEthernet1/0/3")
    prov = Provisioner(sw1, tmp_path)
    wrong = config_lines(prov.running_config())
    want = switch_intent(loaded.lab, "sw1")
    first = prov.apply(want)
    assert (tmp_path / "sw1.json").exists()
    assert "interface GigabitEthernet1/0/1" in first.lines and "interface GigabitEthernet1/0/3" in first.lines
    assert "interface GigabitEthernet1/0/2" not in first.lines
    assert not any(a.rejected for a in first.answers)
    assert prov.apply(want).lines == []  # a second apply changes nothing
    audit = sw1.audit()
    for port in ("GigabitEthernet1/0/1", "GigabitEthernet1/0/3"):
        assert audit.cli[port].voice_vlan == 100 and audit.cli[port].trust == "dscp" and audit.cli[port].portfast
        assert audit.snmp is not None and audit.snmp[port].voice_vlan == 100
    r = prov.restore()
    assert r.exact and "no switchport voice vlan 100" in r.lines, r
    assert config_lines(prov.running_config()) == wrong  # back to the wrong state it started from
    assert not (tmp_path / "sw1.json").exists()
    assert prov.state == "restored" and [e for e, _ in prov.history] == ["journal", "batch accepted", "undone"]
    assert setup.restore().exact and config_lines(sw1.send("show running-config")) == original


def test_rejected_line_mid_batch_rolls_back_exactly(twin, sw1, loaded, tmp_path):
    prov = Provisioner(sw1, tmp_path)
    before = config_lines(prov.running_config())
    _disturb(prov, "GigabitEthernet1/0/2")
    twin.fault("sw1", "reject-config", "power inline auto")  # the plan's last line for the port
    with pytest.raises(ConfigRejected) as e:
        prov.apply(switch_intent(loaded.lab, "sw1"))
    assert e.value.line == "power inline auto" and e.value.restored, e.value
    assert "% Invalid input detected at '^' marker." in e.value.message
    assert "rejected config line 'power inline auto'" in str(e.value)
    assert config_lines(prov.running_config()) == before  # the disturbance is undone too: back to the start
    assert not (tmp_path / "sw1.json").exists()
    assert [e for e, _ in prov.history] == ["journal", "batch accepted", "journal", "line refused", "undone"]
    assert prov.state == "restored"


def test_recover_reports_lines_left_by_a_dead_run(sw1, loaded, tmp_path):
    dead = Provisioner(sw1, tmp_path)
    before = config_lines(dead.running_config())
    _disturb(dead, "GigabitEthernet1/0/4")  # and then the run "dies": no restore …
    with pytest.raises(LabError, match="is provisioning switch sw1"):  # … while it lives, it holds the switch
        Provisioner(sw1, tmp_path).recover(write=True)
    dead.release()  # … and its lock dies with its process
    found = Provisioner(sw1, tmp_path).recover(write=False)
    assert found is not None and "switchport voice vlan 100" in found.remaining
    assert "not restored" in found.describe() and "- switchport voice vlan 100" in found.changed
    fixed = Provisioner(sw1, tmp_path).recover(write=True)
    assert fixed is not None and fixed.restore is not None and fixed.restore.exact
    assert config_lines(sw1.send("show running-config")) == before
    assert Provisioner(sw1, tmp_path).recover(write=False) is None
