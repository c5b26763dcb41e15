"""NET-VOIP-HW audit (read only): the access switch carries voice the way the lab intends.

Per switch: the voice VLAN exists with its name; the CLI and the SNMP view of every phone port
agree. Per phone port, in every view that shows the value (CLI and SNMP): an access port in the
data VLAN with the voice VLAN; QoS trust of DSCP (or of the phone); link up at full duplex and at
least 100 Mb/s; input errors that do not rise during the test; PoE delivered in the phone's class
with an 802.3af budget; an LLDP-MED voice network policy with the voice VLAN, DSCP 46 and CoS 5.
Limits: the inventory's intent and the NET-VOIP-HW thresholds of the requirement profile (the duty
catalogue's where the profile does not override them; each check names the source it used).
"""

import time

import pytest

from harness.checks.switch_ports import PhonePort, SwitchAudits
from harness.devices.drivers.switch import Switch
from harness.devices.facts.switch_ports import POE_CLASS_PSE_W, PortView
from harness.devices.session import LabSession
from harness.duties.profile import Profile
from harness.evidence.check import check, intent
from harness.inventory.models import PhoneDevice, SwitchDevice, SwitchFacts

DUTY = "NET-VOIP-HW"
#: project choice: input errors are sampled at least this far apart (the audit read is the first sample)
ERROR_WINDOW_S = 1.0


def _voice_vlan(switch_device: SwitchDevice) -> int:
    vid = switch_device.facts.voice_vlan
    if vid is None:
        pytest.skip("the inventory sets no voice_vlan for this switch")
    return vid


def _facts(lab: LabSession, phone_port: PhonePort) -> SwitchFacts:
    return lab.entry(phone_port.switch, SwitchDevice).facts


@pytest.mark.duty(DUTY)
def test_voice_vlan_exists_on_access_switch(switch: Switch, switch_audits: SwitchAudits, lab: LabSession) -> None:
    phones = sorted(n for n, d in lab.lab.devices.items() if isinstance(d, PhoneDevice) and d.facts.switch_port
                    and d.facts.switch_port.switch == switch.name)
    if switch.device.facts.voice_vlan is None and phones:
        check("not set", intent("voice VLAN in the lab's intent", "set"), duty=DUTY, device=switch.name,
              what="voice_vlan of a switch with phones",
              detail=f"phones cabled to it: {', '.join(phones)}; set facts.voice_vlan in the inventory")
    vid = _voice_vlan(switch.device)
    audit = switch_audits(switch.name)
    unread = audit.cli_error("vlans")
    if unread is not None:  # the VLAN table did not parse: BROKEN, naming the command
        raise unread
    vlans = audit.vlans
    check("present" if vid in vlans else "absent", intent("voice VLAN", "present"), duty=DUTY,
          device=switch.name, what=f"voice VLAN {vid} in the VLAN table",
          detail=f"VLANs found: {', '.join(str(v) for v in sorted(vlans))}")
    name = switch.device.facts.voice_vlan_name
    if name:
        check(vlans[vid].name, intent("voice VLAN name", name), duty=DUTY, device=switch.name,
              what=f"name of VLAN {vid}")


@pytest.mark.duty(DUTY)
def test_cli_and_snmp_views_agree(switch: Switch, switch_audits: SwitchAudits) -> None:
    audit = switch_audits(switch.name)
    if audit.snmp is None:
        pytest.skip(f"{switch.name}: the inventory declares no SNMP, so there is no second view")
    gaps = [str(g) for g in audit.disagreements]
    check(len(gaps), intent("ports where CLI and SNMP disagree", 0, "fields"), duty=DUTY, device=switch.name,
          what="fields on which the CLI and the SNMP view disagree", detail="; ".join(gaps))
    unread = audit.cli_error()
    if unread is not None:  # what was compared agrees, but a CLI output did not parse: BROKEN
        raise unread


def _each_view(phone_port: PhonePort, field: str) -> list[PortView]:
    if not phone_port.views(field):
        pytest.skip(f"{phone_port.switch} has no port {phone_port.interface} (the inventory's switch_port of "
                    f"{phone_port.phone}): see test_phone_port_carries_voice_vlan")
    views = [v for v in phone_port.views() if getattr(v, field) is not None]
    if not views:
        pytest.skip(f"{phone_port.where}: no view reports {field}")
    return views


@pytest.mark.duty(DUTY)
def test_phone_port_carries_voice_vlan(phone_port: PhonePort, lab: LabSession) -> None:
    vid = _voice_vlan(lab.entry(phone_port.switch, SwitchDevice))
    views = phone_port.views("voice_vlan")
    if not views:
        check(None, intent("voice VLAN on phone port", vid), duty=DUTY, device=phone_port.where,
              what=f"voice VLAN on the port of {phone_port.phone}",
              detail=f"{phone_port.switch} has no port {phone_port.interface}: the inventory's switch_port is wrong "
                     "or the switch is another model")
    for v in views:
        check(v.voice_vlan, intent("voice VLAN on phone port", vid), duty=DUTY, device=phone_port.where,
              what=f"voice VLAN on the port of {phone_port.phone} ({v.source})")


@pytest.mark.duty(DUTY)
def test_phone_port_is_access_port_in_data_vlan(phone_port: PhonePort, lab: LabSession) -> None:
    facts = _facts(lab, phone_port)
    for v in _each_view(phone_port, "mode"):
        check(v.mode, intent("switchport mode", "access"), duty=DUTY, device=phone_port.where,
              what=f"switchport mode ({v.source})")
    for v in _each_view(phone_port, "access_vlan") if facts.data_vlan else []:
        check(v.access_vlan, intent("access (data) VLAN", facts.data_vlan), duty=DUTY, device=phone_port.where,
              what=f"access VLAN ({v.source})")


@pytest.mark.duty(DUTY)
def test_phone_port_trusts_dscp(phone_port: PhonePort, profile: Profile) -> None:
    t = profile.threshold(DUTY, "port_trust")
    for v in _each_view(phone_port, "trust"):
        check(v.trust, t, expected=t.choices, duty=DUTY, device=phone_port.where,
              what=f"QoS trust ({v.source})")


@pytest.mark.duty(DUTY)
def test_phone_port_runs_full_duplex_at_100mbps_or_more(phone_port: PhonePort, profile: Profile) -> None:
    for v in phone_port.views("oper_up"):
        check(v.oper_up, intent("link up", True), duty=DUTY, device=phone_port.where, what=f"link up ({v.source})")
    for v in _each_view(phone_port, "duplex"):
        check(v.duplex, profile.threshold(DUTY, "port_duplex"), duty=DUTY, device=phone_port.where,
              what=f"duplex ({v.source})")
    for v in _each_view(phone_port, "speed_mbps"):
        check(v.speed_mbps, profile.threshold(DUTY, "port_speed_mbps"), duty=DUTY, device=phone_port.where,
              what=f"speed ({v.source})")


@pytest.mark.duty(DUTY)
def test_phone_port_input_errors_do_not_rise(phone_port: PhonePort, lab: LabSession, profile: Profile) -> None:
    first = {v.source: v.in_errors for v in _each_view(phone_port, "in_errors")}
    wait = ERROR_WINDOW_S - (time.time() - phone_port.audit.read_at)
    if wait > 0:
        time.sleep(wait)
    cli, snmp = lab.driver(phone_port.switch, Switch).input_errors(phone_port.interface)
    window = time.time() - phone_port.audit.read_at
    for source, now in (("cli", cli), ("snmp", snmp)):
        was = first.get(source)
        if was is None or now is None:
            continue
        check(now - was, profile.threshold(DUTY, "input_errors_rise"), duty=DUTY, device=phone_port.where,
              what=f"input errors added in {window:.1f} s ({source})", detail=f"{was} -> {now}")


@pytest.mark.duty(DUTY)
def test_phone_port_delivers_poe_in_the_phone_class(phone_port: PhonePort, lab: LabSession, profile: Profile) -> None:
    want_class = lab.entry(phone_port.phone, PhoneDevice).facts.poe_class
    budget = profile.threshold(DUTY, "poe_per_port_w")
    for v in _each_view(phone_port, "poe"):
        poe = v.poe
        if poe is None:  # _each_view keeps the views that report PoE
            continue
        check(poe.oper, intent("PoE state", "on"), duty=DUTY, device=phone_port.where,
              what=f"PoE delivered ({v.source})", detail=f"admin {poe.admin}")
        if want_class is not None:
            check(poe.power_class, intent("PoE class", want_class), duty=DUTY, device=phone_port.where,
                  what=f"PoE class granted ({v.source})")
        if poe.max_w is not None:
            need = max(budget.number, POE_CLASS_PSE_W.get(want_class or 0, 0.0))
            check(poe.max_w, budget, expected=need, duty=DUTY, device=phone_port.where,
                  what=f"PoE budget of the port ({v.source})")


@pytest.mark.duty(DUTY)
def test_phone_port_advertises_lldp_med_voice_policy(phone_port: PhonePort, lab: LabSession,
                                                      profile: Profile) -> None:
    vid = _voice_vlan(lab.entry(phone_port.switch, SwitchDevice))
    views = phone_port.views("lldp")
    if not views:
        pytest.skip(f"{phone_port.where}: the port is in no view (see test_phone_port_carries_voice_vlan)")
    for v in views:
        policy = v.lldp.policies.get("voice") if v.lldp is not None else None
        found = "no LLDP neighbour" if v.lldp is None else "no voice policy" if policy is None else "present"
        check(found, intent("LLDP-MED voice network policy", "present"), duty=DUTY, device=phone_port.where,
              what=f"LLDP-MED voice policy ({v.source})")
        if policy is None:  # the check above failed already
            continue
        check(policy.vlan, intent("LLDP-MED voice VLAN", vid), duty=DUTY, device=phone_port.where,
              what=f"LLDP-MED voice VLAN ({v.source})")
        check(policy.dscp, profile.threshold(DUTY, "lldp_med_dscp"), duty=DUTY, device=phone_port.where,
              what=f"LLDP-MED voice DSCP ({v.source})")
        check(policy.cos, profile.threshold(DUTY, "lldp_med_cos"), duty=DUTY, device=phone_port.where,
              what=f"LLDP-MED voice CoS ({v.source})")
