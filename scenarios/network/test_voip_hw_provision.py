"""NET-VOIP-HW provisioning (destructive, ``--allow-destructive``): from a port in the wrong state,
provision to the lab's intent, verify through both views, restore.

Steps: undo what an earlier interrupted run left (journal); take a spare port (not cabled to a
phone in the inventory, link down, no LLDP neighbour: the highest-numbered one) and put it in the
wrong state (PoE off, no voice VLAN, no trust, no portfast, no network policy), as a port fresh
from the box is — live phone ports are never stripped, so no phone loses power; apply the plan for
every phone port plus the spare one (one batch) and see a second apply send nothing; verify in the
CLI and the SNMP view (access and voice VLAN, trust, portfast, PoE; on phone ports also PoE
delivered and the LLDP-MED voice policy VLAN/DSCP 46/CoS 5); restore, and see the running-config
equal the one before line for line. A line the switch refuses is FAIL (the hardware cannot carry
the voice configuration) after the batch was rolled back; a switch that stops answering is BROKEN,
and the journal tells the next run what to undo. Without a spare port the phone ports alone are
provisioned (usually nothing to send). Limits: the inventory's intent, and DSCP and CoS of the
LLDP-MED policy from the requirement profile (the duty catalogue's where it does not override them).
"""

import dataclasses
import re

import pytest

from harness.devices.drivers.switch import Switch
from harness.devices.procedures.switch_provisioning import (
    ConfigRejected,
    PortIntent,
    Provisioner,
    SwitchIntent,
    journal_dir,
    switch_intent,
)
from harness.devices.session import LabSession
from harness.duties.profile import Profile
from harness.errors import LabError, LabProtocolError
from harness.evidence.check import check, intent, observe

DUTY = "NET-VOIP-HW"
SPARE = "spare port"


def _wrong_state(port: str) -> list[str]:
    return [f"interface {port}", "power inline never", "no switchport voice vlan", "no mls qos trust",
            "no spanning-tree portfast", "no network-policy"]


def _spare_port(switch: Switch, want: SwitchIntent) -> str | None:
    """The highest-numbered access port no phone uses, link down and without LLDP neighbour; or None."""
    used = {p.interface for p in want.ports}
    free = [n for n, v in switch.audit().cli.items()
            if n not in used and v.oper_up is False and v.lldp is None and v.mode == "access"]
    return max(free, key=lambda n: [int(x) for x in re.findall(r"\d+", n)], default=None)


def _verify(switch: Switch, want: SwitchIntent, profile: Profile) -> None:
    dscp, cos = profile.threshold(DUTY, "lldp_med_dscp"), profile.threshold(DUTY, "lldp_med_cos")
    audit = switch.audit()
    for port in want.ports:
        spare = port.phone == SPARE
        for views in (audit.cli, audit.snmp or {}):
            v = views.get(port.interface)
            where = f"{switch.name} {port.interface} ({port.phone})"
            if v is None:
                check(None, intent("port present", port.interface), duty=DUTY, device=where, what="port in the view")
                continue
            check(v.voice_vlan, intent("voice VLAN", want.voice_vlan), duty=DUTY, device=where,
                  what=f"voice VLAN after provisioning ({v.source})")
            if port.access_vlan and v.access_vlan is not None:
                check(v.access_vlan, intent("access VLAN", port.access_vlan), duty=DUTY, device=where,
                      what=f"access VLAN after provisioning ({v.source})")
            if v.trust is not None:
                check(v.trust, intent("QoS trust", port.trust), duty=DUTY, device=where,
                      what=f"QoS trust after provisioning ({v.source})")
            if v.portfast is not None:
                check(v.portfast, intent("portfast", True), duty=DUTY, device=where,
                      what=f"portfast after provisioning ({v.source})")
            if v.poe is not None and spare:
                check(v.poe.admin, intent("PoE admin", "auto"), duty=DUTY, device=where,
                      what=f"PoE enabled after provisioning ({v.source})")
            if v.poe is not None and not spare:
                check(v.poe.oper, intent("PoE state", "on"), duty=DUTY, device=where,
                      what=f"PoE delivered after provisioning ({v.source})")
            if spare:
                continue  # nothing is cabled: no power drawn, no LLDP neighbour to echo a policy
            policy = v.lldp.policies.get("voice") if v.lldp else None
            check(f"VLAN {policy.vlan}, DSCP {policy.dscp}, CoS {policy.cos}" if policy else None,
                  intent("LLDP-MED voice policy", f"VLAN {want.voice_vlan}, DSCP {dscp.value}, CoS {cos.value}",
                         source=_sources(dscp.source, cos.source)),
                  duty=DUTY, device=where, what=f"LLDP-MED voice policy after provisioning ({v.source})")


def _sources(*sources: str) -> str:
    """``"inventory"`` and each distinct threshold source, in order (``"inventory, STD-RFC4594"``)."""
    return ", ".join(dict.fromkeys(("inventory", *sources)))


@pytest.mark.duty(DUTY)
@pytest.mark.destructive
def test_phone_ports_provision_verify_and_restore(switch: Switch, lab: LabSession, profile: Profile) -> None:
    if switch.device.facts.voice_vlan is None:
        pytest.skip("the inventory sets no voice_vlan for this switch")
    want = switch_intent(lab.lab, switch.name)
    if not want.ports:
        pytest.skip(f"{switch.name}: no phone is cabled to this switch in the inventory")
    prov = Provisioner(switch, journal_dir(lab.loaded))
    earlier = prov.recover(write=True)
    if earlier is not None:
        observe(earlier.describe(), duty=DUTY, device=switch.name, what="change left by an earlier run")
    spare = _spare_port(switch, want)
    if spare is not None:
        port = PortIntent(spare, SPARE, want.data_vlan, want.voice_vlan)
        want = dataclasses.replace(want, ports=(*want.ports, port))
    restore_needed = True
    try:
        if spare is not None:
            prov.send_lines(_wrong_state(spare))
        first = prov.apply(want)
        observe(len(first.lines), duty=DUTY, device=switch.name, what="config lines sent in one batch",
                detail=f"{first.seconds:.2f} s: " + "; ".join(first.lines))
        second = prov.apply(want)
        check(len(second.lines), intent("lines a second apply sends", 0), duty=DUTY, device=switch.name,
              what="config lines a second apply sends (idempotence)", detail="; ".join(second.lines))
        _verify(switch, want, profile)
    except ConfigRejected as e:
        restore_needed = False  # apply rolled back already
        if not e.restored:
            raise LabProtocolError(switch.name, "cli", switch.device.host, str(e)) from None
        where = f" under {e.section!r}" if e.section else ""
        check(f"{e.line!r}{where} rejected: {e.message}", intent("every config line accepted", "accepted"), duty=DUTY,
              device=switch.name, what="provisioning batch", detail="rolled back; running-config equals the one before")
    except LabError as e:
        restore_needed = False  # the switch stopped answering: the journal stays for the next run
        raise type(e)(e.device, e.transport, e.address,
                      f"{e.detail}; journal {prov.journal} kept: the next run names what stayed applied "
                      "and undoes it when it may write") from None
    finally:
        try:
            if restore_needed:
                r = prov.restore()
                if not r.exact:
                    raise LabProtocolError(switch.name, "cli", switch.device.host,
                                           f"restore left the running-config different: {'; '.join(r.remaining)}")
                observe(f"{len(r.lines)} undo line(s); running-config equals the one before, line for line",
                        duty=DUTY, device=switch.name, what="restore")
        finally:
            prov.release()
