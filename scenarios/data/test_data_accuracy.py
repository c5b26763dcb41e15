"""DATA-ACCURACY: the org's records of the site agree with the devices and the carrier.

Reconciled both ways (G-POLYCCX, API-TF-DIDPOOL, G-PHADDR), the org read through the Platform API:

* **MACs**: every MAC of a phone on the wire at its switch port (the LLDP chassis ID the phone
  announces, else the port's forwarding table; both views of the switch audit) has a phone record of
  the lab's site with that hardware ID, and every phone record of the site has its MAC on the wire:
  0 unmatched (project choice, as DUTIES.md).
* **DIDs**: every DID the carrier delivers (the inventory's ``pstn`` devices, ``facts.dids``: the
  carrier's list) lies in a DID pool of the org and is a DID of the org, and every DID of the org is
  delivered by the carrier: 0 unmatched.
* **Trunks**: every Edge whose trunk the inventory routes to a carrier (``facts.trunk.routes``: the
  SIP trunk the harness's calls cross on the wire) has an external trunk in the org
  (``GET …/edges/trunks?trunkType=EXTERNAL``) whose servers (``optionsStatus[].proxyAddress``) are
  those routes' SIP addresses, and every external trunk of the org's Edges is such a trunk: 0
  unmatched (project choice).
* **Edges**: per Edge, its record in the org beside what the Edge shows on the wire: the software
  version (``softwareVersion``) and the version in the ``Server`` (else ``User-Agent``) header of its
  answer to an OPTIONS on the carrier port (:func:`~harness.checks.org_records.version_in_header`);
  online (``onlineStatus`` ONLINE) and its SIP answering OPTIONS on the carrier port (5060) and the
  phone port (8060); the servers of the external trunks the org lists on the Edge (``GET
  …/edges/{edgeId}/trunks?trunkType=EXTERNAL``) and the carrier routes the inventory gives its trunk.
  0 disagreements (project choice). A version the header does not show is not counted (said so in
  the table and the detail). The phones the org sees registered with the Edge (phone status
  ``edgesStatus``) are listed beside the inventory's phones homed on it, in the table only: an Edge's
  registrar shows its bindings to no one on the wire.
* **Addresses**: every phone record's hardware ID, every DID and every extension is unique in the org
  (Genesys requires unique phone addresses, G-PHADDR).
* **Side by side**: per phone, per Edge, per DID and per trunk, the wire's (or the carrier's) value beside the org's and
  whether they agree, as measurements of their own (summary and Allure) and an Allure table.
* **E911**: every location of the org has an emergency number (Poly's default 911, G-POLYCCX).
  Whether the street address is truly right is for a person to attest.

**One root cause, one finding** (:mod:`harness.evidence.findings`; the inputs are named by
:mod:`harness.checks.org_records`). A phone record's hardware ID is judged by CFG-STATION (the record
of the MAC on the phone's port); the MAC reconciliation relies on it (each MAC without a record, each
record on no phone port), so a record with a wrong hardware ID is one finding, CFG-STATION's, with
these failures under it. An Edge's ``onlineStatus`` is judged by INET-ACCESS (the Edge reaches the
cloud); the Edge comparison relies on it when the org sees the Edge OFFLINE while its SIP answers.
When the org sees it ONLINE while its SIP is silent, the record is not what is wrong: the Edge's SIP
is, and PSTN-CONNECT judges it on the trunk port (the Edge trunk answers OPTIONS,
:func:`~harness.checks.trunk.edge_sip_input`): the comparison relies on that when the trunk port is
silent, and a silent phone port alone (which nothing else judges) stands as its own finding.
The Edge comparison itself judges the record's ``softwareVersion`` and external trunk servers against
the wire: MAINT-VERSION-MATRIX's failures that the version the Edge shows would pass are its
consequences. Each count check relies on the rows it counts.
"""

import csv
import io
from collections.abc import Sequence

import allure
import pytest

from harness.checks.org_records import (
    duplicates,
    edge_record_input,
    phone_macs,
    phone_record_input,
    reconcile,
    version_in_header,
)
from harness.checks.switch_ports import SwitchAudits
from harness.checks.trunk import edge_sip_input
from harness.devices.drivers.cloud_telephony import OrgTelephony
from harness.devices.drivers.edge import Edge
from harness.devices.facts.switch_ports import normal_mac
from harness.devices.session import LabSession
from harness.duties.catalogue import duty
from harness.evidence.check import RECORD, Measurement, check
from harness.evidence.reliance import relies_on
from harness.inventory.models import CLOUD_NAME, EdgeDevice, PhoneDevice, PstnDevice

DUTY = "DATA-ACCURACY"


def side_by_side(device: str, what: str, wire: object, org: object, source: str, *,
                 inputs_checked: Sequence[str] = (), inputs_used: Sequence[str] = ()) -> bool:
    """Record the wire's value beside the org's for one phone, DID or trunk (a measurement of its own in
    the summary and the Allure report, passed when they agree); the test's verdict is its count check.
    ``inputs_checked`` / ``inputs_used``: the shared inputs the row judges / relies on
    (:func:`~harness.evidence.check.check`). Returns whether they agree."""
    agree = wire == org
    RECORD.add(Measurement(DUTY, device, what, wire, "==", org, "", source, agree, "",
                           tuple(dict.fromkeys(inputs_checked)), tuple(dict.fromkeys(inputs_used))))
    return agree


def _table(title: str, header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> None:
    """Attach ``rows`` under ``header`` as CSV, which the Allure report shows as a table."""
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows([header, *rows])
    allure.attach(text.getvalue(), name=title, attachment_type=allure.attachment_type.CSV)


def _list(items: list[str], limit: int = 10) -> str:
    return ", ".join(items[:limit]) + (f" and {len(items) - limit} more" if len(items) > limit else "")


@pytest.mark.duty(DUTY)
@pytest.mark.core("the MAC reconciliation")
def test_macs_on_the_wire_and_phone_records_match(lab: LabSession, switch_audits: SwitchAudits,
                                                   org_telephony: OrgTelephony) -> None:
    phones = {n: d for n, d in lab.lab.devices.items() if isinstance(d, PhoneDevice) and d.facts.switch_port}
    if not phones:
        pytest.skip("the inventory cables no phone to a switch port (facts.switch_port)")
    relies_on(*phones)  # a dead phone leaves its port dark: BROKEN, not an unmatched record
    wire: dict[str, str] = {}
    for d in phones.values():
        where = d.facts.switch_port
        assert where is not None
        audit = switch_audits(where.switch)
        unread = audit.cli_error("macs", "lldp")
        if unread is not None:  # the switch's MAC or LLDP table did not parse: BROKEN, naming the command
            raise unread
        views = (audit.cli.get(where.port), audit.snmp.get(where.port) if audit.snmp else None)
        for m in phone_macs(views):
            wire.setdefault(m, f"{where.switch} {where.port}")
    records = {r.mac or (r.hardware_id or ""): r.name for r in org_telephony.phones()}
    rows = []
    for name, d in phones.items():
        where = d.facts.switch_port
        assert where is not None
        macs = sorted(m for m, w in wire.items() if w == f"{where.switch} {where.port}")
        for m in macs or [""]:
            org = m if m in records else None
            ok = side_by_side(f"{where.switch} {where.port} ({name})", "MAC on the port (wire) vs its phone record's "
                              "hardware ID (org)", m or None, org, "org: phone record, Platform API",
                              inputs_used=[phone_record_input(m)] if m else [])
            rows.append((name, f"{where.switch} {where.port}", m or "none", f"{records[m]} ({m})" if org else "none",
                         "agree" if ok else "DISAGREE"))
    for m, rec in sorted(records.items()):
        if m not in wire:
            side_by_side(f"phone record {rec}", "MAC on a phone port (wire) vs the record's hardware ID (org)", None, m,
                         "org: phone record, Platform API", inputs_used=[phone_record_input(m)] if m else [])
            rows.append(("", "", "none", f"{rec} ({m})", "DISAGREE"))
    _table("phones: org vs wire", ("phone", "port", "MAC on the wire", "phone record (org)", "verdict"), rows)
    on_wire_only, in_org_only = reconcile(wire, records)
    found = [f"{m} on {wire[m]} has no phone record" for m in on_wire_only]
    found += [f"phone record {records[m]} ({m}) is on no phone port" for m in in_org_only]
    site = org_telephony.site().name
    unmatched = [*on_wire_only, *in_org_only]
    check(len(found), duty(DUTY).threshold("unmatched_macs"), duty=DUTY, device=f"{CLOUD_NAME} site {site}",
          what="MACs on the wire without a phone record, and phone records without their MAC on the wire",
          detail=_list(found) if found else f"{len(wire)} MACs on {len(phones)} phone ports, {len(records)} records",
          inputs_used=[phone_record_input(m) for m in unmatched] if all(unmatched) else [])


@pytest.mark.duty(DUTY)
@pytest.mark.core("the DID reconciliation")
def test_carrier_dids_and_did_pools_match(lab: LabSession, org_telephony: OrgTelephony) -> None:
    carrier = {n: name for name, d in lab.lab.devices.items() if isinstance(d, PstnDevice) for n in d.facts.dids}
    if not carrier:
        pytest.skip("the inventory lists no carrier DIDs (pstn facts.dids)")
    pools = org_telephony.did_pools()
    org = {d.phone_number for d in org_telephony.dids()}
    found = [f"{n} (delivered by {carrier[n]}) is in no DID pool" for n in sorted(carrier)
             if not any(p.holds(n) for p in pools)]
    found += [f"{n} (delivered by {carrier[n]}) is not a DID of the org" for n in sorted(carrier)
              if n not in org and any(p.holds(n) for p in pools)]
    found += [f"DID {n} of the org is not delivered by the carrier" for n in reconcile(org, carrier)[0]]
    rows = []
    for n in sorted(set(carrier) | org):
        in_org = n in org and any(p.holds(n) for p in pools)
        ok = side_by_side(f"DID {n}", "delivered by the carrier (wire) vs a DID in a pool of the org (org)",
                          n in carrier, in_org, "org: DIDs and DID pools, Platform API")
        rows.append((n, carrier.get(n, "no"), "yes" if in_org else "no", "agree" if ok else "DISAGREE"))
    _table("DIDs: org vs carrier", ("DID", "delivered by", "in a pool of the org", "verdict"), rows)
    check(len(found), duty(DUTY).threshold("unmatched_dids"), duty=DUTY, device=f"{CLOUD_NAME} DIDs",
          what="DIDs live at the carrier and missing from the org's pools, and the reverse",
          detail=_list(found) if found else f"{len(carrier)} carrier DIDs, {len(org)} org DIDs, {len(pools)} pools")


def _route_addresses(lab: LabSession, edge: EdgeDevice) -> list[str]:
    """The SIP ``host:port`` of each carrier route of ``edge``'s trunk, as the inventory gives them."""
    out = []
    for route in edge.facts.trunk.routes if edge.facts.trunk else []:
        pstn = lab.lab.devices.get(route)
        if isinstance(pstn, PstnDevice):
            out.append(f"{pstn.host}:{pstn.sip.port if pstn.sip else 5060}")
    return sorted(out)


@pytest.mark.duty(DUTY)
def test_trunks_in_the_org_and_on_the_wire_match(lab: LabSession, org_telephony: OrgTelephony) -> None:
    wire = {name: _route_addresses(lab, d) for name, d in lab.lab.devices.items()
            if isinstance(d, EdgeDevice) and _route_addresses(lab, d)}
    if not wire:
        pytest.skip("the inventory routes no Edge's trunk to a carrier (facts.trunk.routes)")
    org: dict[str, list[str]] = {}
    for t in org_telephony.trunks():
        edge = t.edge.name if t.edge else f"(no Edge) {t.name or t.id}"
        org.setdefault(edge, []).extend(o.proxy_address for o in t.options_status if o.proxy_address)
    found = [f"{e}: no external trunk in the org (its SIP trunk to {', '.join(wire[e])} runs on the wire)"
             for e in sorted(wire) if e not in org]
    found += [f"{e}: an external trunk of the org with no carrier route in the inventory" for e in sorted(org)
              if e not in wire]
    found += [f"{e}: the org's trunk servers {', '.join(sorted(org[e])) or 'none'} are not the routes "
              f"{', '.join(wire[e])}" for e in sorted(wire) if e in org and sorted(org[e]) != wire[e]]
    rows = []
    for e in sorted(set(wire) | set(org)):
        w, o = ", ".join(wire.get(e, [])) or "none", ", ".join(sorted(org.get(e, []))) or "none"
        ok = side_by_side(f"trunk {e}", "carrier servers of the Edge's trunk: the inventory's routes vs the "
                          "org's external trunk (org)", w, o, "org: trunks, Platform API")
        rows.append((e, w, o, "agree" if ok else "DISAGREE"))
    _table("trunks: org vs inventory", ("Edge", "routes (inventory)", "external trunk servers (org)", "verdict"), rows)
    check(len(found), duty(DUTY).threshold("unmatched_trunks"), duty=DUTY, device=f"{CLOUD_NAME} trunks",
          what="Edge trunks on the wire without their external trunk in the org, and the reverse",
          detail=_list(found) if found else f"{len(wire)} Edge trunks, {len(org)} external trunks in the org")


def _answers(edge: Edge, port: int) -> tuple[bool, str | None]:
    """Whether the Edge's SIP ``port`` answered an OPTIONS (any final status), and its Server header."""
    r = edge.options(port=port)
    return r.status is not None, r.user_agent


@pytest.mark.duty(DUTY)
def test_edge_records_match_the_edges_on_the_wire(edge: Edge, lab: LabSession, org_telephony: OrgTelephony) -> None:
    sip = edge.device.sip
    if sip is None:
        pytest.skip(f"the inventory declares no sip settings for {edge.name}: nothing of it on the wire")
    rec = edge.record()
    org_version = rec.software_version or None
    ports = [sip.port] + ([sip.phone_port] if sip.phone_port else [])
    heard = {p: _answers(edge, p) for p in ports}
    header = next((ua for ok, ua in heard.values() if ok and ua), None)
    wire_version = version_in_header(header, org_version)
    answering = all(ok for ok, _ in heard.values())
    org_servers = sorted(o.proxy_address for t in edge.trunks("EXTERNAL") for o in t.options_status if o.proxy_address)
    routes = _route_addresses(lab, edge.device)
    source = "org: the Edge's record and trunks, Platform API; wire: OPTIONS to the Edge"
    rows, found = [], []
    because: list[str | None] = []  # per disagreement found, the input it is (None: none named)
    version_key = edge_record_input(edge.name, "softwareVersion")
    online_key = edge_record_input(edge.name, "onlineStatus")
    trunks_key = edge_record_input(edge.name, "external trunk servers")
    if wire_version is None:
        rows.append(("software version", org_version or "none", f"not shown ({header or 'no Server header'})",
                     "not compared"))
    else:
        ok = side_by_side(edge.name, "software version: Server header of its OPTIONS answer (wire) vs softwareVersion "
                          "(org)", wire_version, org_version, source, inputs_checked=[version_key])
        rows.append(("software version", org_version or "none", f"{wire_version} ({header})", "agree" if ok else
                     "DISAGREE"))
        if not ok:
            found.append(f"Genesys Cloud gives software {org_version}, its SIP shows {wire_version} ({header!r})")
            because.append(version_key)
    port_list = " and ".join(str(p) for p in ports)
    silent = [p for p, (a, _) in heard.items() if not a]  # the trunk port first
    # the org sees it OFFLINE while its SIP answers: the record's onlineStatus, INET-ACCESS's to judge; ONLINE
    # while its SIP is silent: the Edge's SIP, not the record, PSTN-CONNECT's to judge on the trunk port (silence
    # there alone makes the row disagree; the phone port's alone stands as its own finding: nothing else judges it)
    why_row = ([online_key] if answering and not rec.online else
               [edge_sip_input(edge.name, silent[0])] if rec.online and silent else [])
    # each side as it showed itself: the wire ONLINE when SIP answered on every port, the org its onlineStatus
    ok = side_by_side(edge.name, f"online: the Edge's SIP on {port_list} (wire: ONLINE when it answers OPTIONS on "
                      "every port) vs onlineStatus (org)", "ONLINE" if answering else "OFFLINE",
                      "ONLINE" if rec.online else (rec.online_status or "none"), source, inputs_used=why_row)
    rows.append(("online", rec.online_status or "none", "SIP answers on " + port_list if answering else
                 f"SIP silent on {', '.join(map(str, silent))}", "agree" if ok else "DISAGREE"))
    if not ok:
        found.append(f"{rec.online_status} in Genesys Cloud while its SIP " + (
            f"answers on {port_list}" if answering else f"is silent on {', '.join(map(str, silent))}"))
        because.append(why_row[0] if why_row else None)
    if routes or org_servers:
        w, o = ", ".join(routes) or "none", ", ".join(org_servers) or "none"
        ok = side_by_side(edge.name, "external trunk servers: the inventory's routes vs the Edge's external trunks "
                          "(org)", w, o, source, inputs_checked=[trunks_key])
        rows.append(("external trunk servers", o, w, "agree" if ok else "DISAGREE"))
        if not ok:
            found.append(f"the org's external trunk servers on it are {o}, its trunk's routes {w}")
            because.append(trunks_key)
    homed = sorted(n for n, d in lab.lab.devices.items()
                   if isinstance(d, PhoneDevice) and d.sip is not None and d.sip.registrar == edge.name)
    registered = edge.registered_phones()
    names = ", ".join(sorted(r.name or m for m, r in registered.items())) or "none"
    rows.append(("phones registered", f"{len(registered)} ({names})",
                 f"not shown on the wire; the inventory homes {len(homed)} on it ({', '.join(homed) or 'none'})",
                 "not compared"))
    _table(f"Edge {edge.name}: org vs wire", ("what", "Genesys Cloud (org)", "the Edge on the wire", "verdict"), rows)
    check(len(found), duty(DUTY).threshold("unmatched_edge_values"), duty=DUTY, device=edge.name,
          what="values of the Edge's record in Genesys Cloud that the Edge on the wire contradicts",
          detail="; ".join(found) if found else
          f"software {org_version} " + ("on both" if wire_version else "in the org (not shown on the wire)")
          + f"; {rec.online_status} and SIP answering on {port_list}" * answering
          + f"; {len(registered)} phone(s) registered in the org",
          inputs_used=[k for k in because if k] if all(because) else [])


@pytest.mark.duty(DUTY)
def test_every_address_is_unique(org_telephony: OrgTelephony) -> None:
    hw = [normal_mac(r.hardware_id) or r.hardware_id for r in org_telephony.phones() if r.hardware_id]
    found = [f"hardware ID {a}" for a in duplicates(hw)]
    found += [f"DID {a}" for a in duplicates(d.phone_number for d in org_telephony.dids())]
    found += [f"extension {a}" for a in duplicates(e.number for e in org_telephony.extensions())]
    check(len(found), duty(DUTY).threshold("duplicate_addresses"), duty=DUTY, device=CLOUD_NAME,
          what="addresses held by more than one record (hardware IDs, DIDs, extensions)",
          detail=_list(found) if found else "every hardware ID, DID and extension is unique")


@pytest.mark.duty(DUTY)
def test_every_location_has_an_emergency_number(org_telephony: OrgTelephony) -> None:
    locations = org_telephony.locations()
    missing = [loc.name for loc in locations if loc.emergency_number is None or not loc.emergency_number.number]
    check(len(missing), duty(DUTY).threshold("locations_without_emergency_number"), duty=DUTY,
          device=CLOUD_NAME, what="locations without an emergency number",
          detail=f"no emergency number: {_list(missing)}" if missing else
          f"{len(locations)} location(s), each with an emergency number")
