"""NET-VOIP-HW (read only): the voice VLAN exists on the access switch and every phone's port
carries it. Limits come from the lab's intent in the inventory (switch facts.voice_vlan and the
phone's facts.switch_port). The port check reads only the switch: a phone that is down does not
stop it."""

import pytest

from harness.evidence.check import check, intent

DUTY = "NET-VOIP-HW"


def _voice_vlan(switch_device):
    vid = switch_device.facts.voice_vlan
    if vid is None:
        pytest.skip("the inventory sets no voice_vlan for this switch")
    return vid


@pytest.mark.duty(DUTY)
def test_voice_vlan_exists_on_access_switch(switch):
    vid = _voice_vlan(switch.device)
    vlans = switch.vlans()
    check("present" if vid in vlans else "absent", intent("voice VLAN", "present"), duty=DUTY,
          device=switch.name, what=f"voice VLAN {vid} in the VLAN table",
          detail=f"VLANs found: {', '.join(str(v) for v in sorted(vlans))}")
    name = switch.device.facts.voice_vlan_name
    if name:
        check(vlans[vid].name, intent("voice VLAN name", name), duty=DUTY, device=switch.name,
              what=f"name of VLAN {vid}")


@pytest.mark.duty(DUTY)
def test_phone_port_carries_voice_vlan(phone_record, lab):
    where = phone_record.device.facts.switch_port
    if where is None:
        pytest.skip(f"{phone_record.name}: the inventory names no switch port")
    switch = lab.driver(where.switch)
    vid = _voice_vlan(switch.device)
    port = switch.switchports().get(where.port)
    check(port.voice_vlan if port else None, intent("voice VLAN on phone port", vid), duty=DUTY,
          device=f"{where.switch} {where.port}", what=f"voice VLAN on the port of {phone_record.name}",
          detail="port not found on the switch" if port is None else "")
