"""CFG-STATION: every station's hardware ID is the phone really on its port.

The MAC the switch sees on the phone's port (LLDP chassis ID or the bridge forwarding table, in the
CLI and the SNMP view) equals the phone's MAC in the inventory, and the phone's own SNMP-reported
MAC (IF-MIB ifPhysAddress) agrees. A phone found on another port is named with both ports. And the
org agrees with the wire: every MAC of the phone on its port (its LLDP chassis ID, else the port's
forwarding table) has a phone record of the lab's site whose
hardware ID is that MAC (the org's phone records read through the Platform API; inventory phones are
matched to their records by MAC, never by name). Limit: exact match for 100 % of stations
(API-TF-PHONEBASE), i.e. every phone passes.

The record check is the root of the org's phone-record findings (:mod:`harness.evidence.findings`):
it judges the record of each MAC on the port (``inputs_checked``,
:func:`~harness.checks.org_records.phone_record_input`), and, when one has none, the record named
after the phone that holds another hardware ID (that record is the station's, set to the wrong
hardware ID, as the detail says). DATA-ACCURACY's MAC reconciliation, which sees the same records
from the site's side (a MAC on the wire without a record, a record on no phone port), relies on them
and is listed under this finding as its consequence (each still FAIL).
"""

import pytest

from harness.checks.org_records import phone_macs, phone_record_input
from harness.checks.switch_ports import PhonePort, SwitchAudits
from harness.devices.drivers.cloud_telephony import OrgTelephony
from harness.devices.drivers.phone import Phone
from harness.devices.facts.switch_ports import normal_mac
from harness.devices.session import LabSession
from harness.duties.catalogue import duty as duty_of
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
    on_port = sorted({m for v in phone_port.views("macs", "lldp") for m in
                      (*v.macs, *([v.lldp.chassis_mac] if v.lldp and v.lldp.chassis_mac else []))})
    named = [f"{m} ({owners[m]}'s)" if m in owners else f"{m} (in no inventory entry)" for m in on_port]
    found = ", ".join(seen) if seen else "not seen on any switch port"
    detail = f"inventory says {expected}; MACs on {phone_port.interface}: {', '.join(named) or 'none'}"
    if len(seen) > 1:
        detail += "; the same MAC on several ports is a cloned or duplicated hardware ID"
    check(found, intent("port of the phone's MAC", expected), duty=DUTY, device=phone_port.where,
          what=f"port where {phone_port.phone}'s MAC {mac} is seen", detail=detail)


@pytest.mark.duty(DUTY)
def test_phone_record_hardware_id_is_the_mac_on_the_port(phone_port: PhonePort, lab: LabSession,
                                                          org_telephony: OrgTelephony) -> None:
    records = org_telephony.phones()
    by_mac: dict[str, list[str]] = {}
    for r in records:
        if r.mac:
            by_mac.setdefault(r.mac, []).append(r.name)
    on_port = phone_macs(phone_port.views("macs", "lldp"))
    matched = [m for m in on_port if len(by_mac.get(m, [])) == 1]
    pct = 100.0 * len(matched) / len(on_port) if on_port else 0.0
    notes = []
    for m in on_port:
        names = by_mac.get(m, [])
        notes.append(f"{m}: phone record {names[0]}" if len(names) == 1 else
                     f"{m}: no phone record" if not names else f"{m}: {len(names)} phone records ({', '.join(names)})")
    mac = lab.entry(phone_port.phone, PhoneDevice).facts.mac
    same_name = [r for r in records if r.name == phone_port.phone and r.mac != mac]
    if same_name:
        notes.append(f"the record named {phone_port.phone} holds hardware ID {same_name[0].hardware_id}")
    unmatched = [m for m in on_port if m not in matched]
    # the records judged: each MAC's on the port and, when one has none, the phone's own record by name
    judged = unmatched + ([r.hardware_id for r in same_name if r.hardware_id] if unmatched else [])
    site = org_telephony.site().name
    check(pct, duty_of(DUTY).threshold("mac_match_pct"), duty=DUTY, device=phone_port.where,
          what=f"phone MACs on the port with a phone record of site {site!r} of that hardware ID",
          detail="; ".join(notes) or "no MAC on the port", inputs_checked=[phone_record_input(m) for m in judged])


@pytest.mark.duty(DUTY)
def test_phone_reports_its_inventory_mac(phone: Phone) -> None:
    reported = phone.info().mac
    mac = normal_mac(reported or "") or reported
    check(mac, intent("phone MAC", phone.device.facts.mac), duty=DUTY, device=phone.name,
          what="MAC the phone reports over SNMP (ifPhysAddress)")
