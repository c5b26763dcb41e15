"""CFG-STATION: every station's hardware ID is the phone really on its port.

The MAC the switch sees on the phone's port (LLDP chassis ID or the bridge forwarding table, in the
CLI and the SNMP view) equals the phone's MAC in the inventory, and the phone's own SNMP-reported
MAC (IF-MIB ifPhysAddress) agrees. A phone found on another port is named with both ports. Limit:
exact match for 100 % of stations (API-TF-PHONEBASE), i.e. every phone passes.
"""

import pytest

from harness.checks.switch_ports import PhonePort, SwitchAudits
from harness.devices.drivers.phone import Phone
from harness.devices.facts.switch_ports import normal_mac
from harness.devices.session import LabSession
from harness.evidence.check import check, intent
from harness.inventory.models import PhoneDevice

DUTY = "CFG-STATION"


def _owners(lab: LabSession) -> dict[str, str]:
    """MAC -> phone name, from the inventory."""
    return {d.facts.mac: n for n, d in lab.lab.devices.items() if isinstance(d, PhoneDevice)}


@pytest.mark.duty(DUTY)
def test_phone_mac_is_seen_on_its_switch_port(phone_port: PhonePort, lab: LabSession,
                                              switch_audits: SwitchAudits) -> None:
    mac = lab.entry(phone_port.phone, PhoneDevice).facts.mac
    expected = f"{phone_port.switch} {phone_port.interface}"
    seen = []
    for name, d in lab.lab.devices.items():
        if d.role == "switch":
            seen += [f"{name} {port}" for port in switch_audits(name).find_mac(mac)]
    owners = _owners(lab)
    on_port = sorted({m for v in phone_port.views() for m in
                      (*v.macs, *([v.lldp.chassis_mac] if v.lldp and v.lldp.chassis_mac else []))})
    named = [f"{m} ({owners[m]}'s)" if m in owners else f"{m} (in no inventory entry)" for m in on_port]
    found = ", ".join(seen) if seen else "not seen on any switch port"
    detail = f"inventory says {expected}; MACs on {phone_port.interface}: {', '.join(named) or 'none'}"
    if len(seen) > 1:
        detail += "; the same MAC on several ports is a cloned or duplicated hardware ID"
    check(found, intent("port of the phone's MAC", expected), duty=DUTY, device=phone_port.where,
          what=f"port where {phone_port.phone}'s MAC {mac} is seen", detail=detail)


@pytest.mark.duty(DUTY)
def test_phone_reports_its_inventory_mac(phone: Phone) -> None:
    reported = phone.info().mac
    mac = normal_mac(reported or "") or reported
    check(mac, intent("phone MAC", phone.device.facts.mac), duty=DUTY, device=phone.name,
          what="MAC the phone reports over SNMP (ifPhysAddress)")
