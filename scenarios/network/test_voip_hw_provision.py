"""NET-VOIP-HW provisioning (destructive, ``--allow-destructive``): from a port in the wrong state,
provision every phone port of the switch to the lab's intent, verify through both views, restore.

Steps: undo what an earlier interrupted run left (journal); put the first phone port in the wrong
state (no voice VLAN, no trust, no portfast, VLAN 1), as a port fresh from the box is; apply the
plan (one batch) and see a second apply send nothing; verify in the CLI and the SNMP view (access
and voice VLAN, trust, portfast, PoE delivered, LLDP-MED voice policy VLAN/DSCP 46/CoS 5); restore,
and see the running-config equal the one before line for line. A line the switch refuses is FAIL
(the hardware cannot carry the voice configuration) after the batch was rolled back; a switch that
stops answering is BROKEN, and the journal tells the next run what to undo.
"""

import pytest

from harness.devices.switch_provision import ConfigRejected, Provisioner, journal_dir, switch_intent
from harness.duties.catalogue import duty
from harness.errors import LabError, LabProtocolError
from harness.evidence.check import check, intent, observe

DUTY = "NET-VOIP-HW"
LIMITS = duty(DUTY)


def _wrong_state(port):
    return [f"interface {port}", "no switchport voice vlan", "no switchport access vlan", "no mls qos trust",
            "no spanning-tree portfast", "no network-policy 1", "power inline never"]


def _verify(switch, want):
    audit = switch.audit()
    for port in want.ports:
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
            if v.poe is not None:
                check(v.poe.oper, intent("PoE state", "on"), duty=DUTY, device=where,
                      what=f"PoE delivered after provisioning ({v.source})")
            policy = v.lldp.policies.get("voice") if v.lldp else None
            dscp, cos = LIMITS.threshold("lldp_med_dscp").value, LIMITS.threshold("lldp_med_cos").value
            check(f"VLAN {policy.vlan}, DSCP {policy.dscp}, CoS {policy.cos}" if policy else None,
                  intent("LLDP-MED voice policy", f"VLAN {want.voice_vlan}, DSCP {dscp}, CoS {cos}"),
                  duty=DUTY, device=where, what=f"LLDP-MED voice policy after provisioning ({v.source})")


@pytest.mark.duty(DUTY)
@pytest.mark.destructive
def test_phone_ports_provision_verify_and_restore(switch, lab):
    if switch.device.facts.voice_vlan is None:
        pytest.skip("the inventory sets no voice_vlan for this switch")
    want = switch_intent(lab.lab, switch.name)
    if not want.ports:
        pytest.skip(f"{switch.name}: no phone is cabled to this switch in the inventory")
    prov = Provisioner(switch, journal_dir(lab.loaded))
    earlier = prov.recover(write=True)
    if earlier is not None:
        observe(earlier.describe(), duty=DUTY, device=switch.name, what="change left by an earlier run")
    restore_needed = True
    try:
        prov.send_lines(_wrong_state(want.ports[0].interface))
        first = prov.apply(want)
        observe(len(first.lines), duty=DUTY, device=switch.name, what="config lines sent in one batch",
                detail=f"{first.seconds:.2f} s: " + "; ".join(first.lines))
        second = prov.apply(want)
        check(len(second.lines), intent("lines a second apply sends", 0), duty=DUTY, device=switch.name,
              what="config lines a second apply sends (idempotence)", detail="; ".join(second.lines))
        _verify(switch, want)
    except ConfigRejected as e:
        restore_needed = False  # apply rolled back already
        if not e.restored:
            raise LabProtocolError(switch.name, "cli", switch.device.host, str(e)) from None
        check(f"{e.line!r} rejected: {e.message}", intent("every config line accepted", "accepted"), duty=DUTY,
              device=switch.name, what="provisioning batch", detail="rolled back; running-config equals the one before")
    except LabError:
        restore_needed = False  # the switch stopped answering: the journal stays for the next run
        raise
    finally:
        if restore_needed:
            r = prov.restore()
            if not r.exact:
                raise LabProtocolError(switch.name, "cli", switch.device.host,
                                       f"restore left the running-config different: {'; '.join(r.remaining)}")
            observe(f"{len(r.lines)} undo line(s); running-config equals the one before, line for line",
                    duty=DUTY, device=switch.name, what="restore")
