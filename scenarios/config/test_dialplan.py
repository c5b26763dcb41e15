"""CFG-DIALPLAN: the site's number plans classify dial strings as the lab intends, and the
classifications that leave the site are carried by an outbound route (G-NUMPLAN).

Read through the Platform API (the site's number plans and outbound routes). The dial strings and the
classification each should get come from the inventory: every phone's extension (``Extension``), the
emergency number of the dial plan's country (``Emergency``: 911 in North America, else 112), the
carrier's test numbers and the DIDs in every form a station may dial them (E.164, with the trunk
prefix, national: ``National``), and an international number in its forms (``International``: +44 20
7946 0000, from the range Ofcom keeps for drama, a project choice). Each string is classified as
Genesys does it (the plans by priority, each by its match type: ``harness/devices/facts/cloud_dialplan.py``).

The calling half: each classification that leaves the site has its test number dialled from a
station on the Edge's phone trunk (the harness's trunk probe, as PSTN-CONNECT and SEC-TOLL-FRAUD call),
in every form a station dials it: ``National`` the carrier's first test number, ``International`` the
Ofcom drama number, ``Emergency`` the emergency number. Where the org routes the classification (an
enabled outbound route carries it), no org prefix block covers the number and some station's class may
dial it (an emergency call: wherever it is routed, whatever blocks and classes say), each call must
reach the carrier (its INVITEs in the carrier's call log; ``classified_calls_astray``) with the number
in E.164 as Request-URI user (``non_e164_request_uris``; an emergency call may also carry the
emergency number as dialled, a project choice: carriers take 911/112 either way); otherwise each must
be refused (>= 400) and nothing reach the carrier. The emergency number and the international number
are dialled only when every trunk the org routes that classification to has only the lab's carrier
simulators as servers (the inventory's ``pstn`` devices; :func:`harness.checks.trunk.guard_call`): a
site whose route reaches a live carrier is told so (SKIP, for a person to attest), never sent a test
call to an emergency service or an international number.

Emergency numbers and prefix blocking: the org's call simulation allows the emergency number, and no
prefix on the org's Block List covers it (``emergency_blocks``). A Genesys Edge takes its configuration
(number plans, outbound routes, the Block List) from the org, so an org that blocks the emergency
number has its Edge refuse the emergency call too: the calling half's failure is then reported as a
consequence of the org's finding (``inputs_used``, :mod:`harness.evidence.findings`), one root cause;
likewise a call the Edge refused because the site's number plans misclassify what was dialled (an
emergency number with no Emergency plan included). The calling check names only what its refusals
hung on, read from the org as the Edge takes it: the number plan of each refused form the plans
misclassify, the Block List where it covers the emergency number; a refusal neither explains is the
Edge's own and stands as its own finding.
"""

from collections.abc import Sequence

import pytest

from harness.checks.trunk import (
    LEAVE_THE_SITE,
    TrunkPlan,
    attach_ladder,
    block_list_input,
    guard_call,
    new_carrier_rows,
    number_plan_input,
    outbound_route_input,
    uri_user,
)
from harness.devices.drivers.cloud_telephony import OrgTelephony
from harness.devices.drivers.edge import Edge
from harness.devices.drivers.pstn import PstnSimulator
from harness.devices.facts import dialplan
from harness.devices.facts.cloud_dialplan import NumberPlan, classify
from harness.devices.facts.cloud_prefixes import covers
from harness.devices.procedures.trunk_calls import TrunkProbe
from harness.devices.session import LabSession
from harness.duties.catalogue import duty
from harness.evidence.attach import attach
from harness.evidence.check import check, intent
from harness.inventory.models import CLOUD_NAME, EdgeDevice, PhoneDevice, PstnDevice

DUTY = "CFG-DIALPLAN"
INTERNATIONAL_SAMPLE = "+442079460000"  # Ofcom's drama range (020 7946 0xxx): never a real line (project choice)
COSTLY = ("Emergency", "International")  # those whose test call could cost money or reach a service (guard_call)


def _country(lab: LabSession) -> str:
    plans = [d.facts.dial_plan for d in lab.lab.devices.values() if isinstance(d, EdgeDevice) and d.facts.dial_plan]
    return plans[0].country if plans else "US"


def intended(lab: LabSession) -> dict[str, list[str]]:
    """Classification -> the dial strings that should get it, from the inventory."""
    country = _country(lab)
    out: dict[str, list[str]] = {"Extension": [], "Emergency": [dialplan.emergency_number(country)],
                                 "National": [], "International": []}
    for d in lab.lab.devices.values():
        if isinstance(d, PhoneDevice):
            out["Extension"].append(d.facts.extension)
        elif isinstance(d, PstnDevice):
            for n in (*d.facts.test_numbers, *d.facts.dids):
                out["National"] += dialplan.dial_forms(n, country)
    out["International"] += dialplan.dial_forms(INTERNATIONAL_SAMPLE, country)
    return {k: list(dict.fromkeys(v)) for k, v in out.items()}


@pytest.mark.duty(DUTY)
@pytest.mark.core("the number plans")
@pytest.mark.parametrize("classification", ["Extension", "Emergency", "National", "International"])
def test_number_plans_classify_dial_strings(classification: str, lab: LabSession,
                                            org_telephony: OrgTelephony) -> None:
    strings = intended(lab)[classification]
    if not strings:
        pytest.skip(f"the inventory gives no dial string that should be {classification}")
    plans = org_telephony.number_plans()
    country = _country(lab)
    got = {s: (p.classification if (p := classify(plans, s, country)) else None) for s in strings}
    attach(f"{classification} dial strings", "\n".join(f"{s:18} -> {c or 'no plan'}" for s, c in got.items()))
    wrong = [f"{s} -> {c or 'no plan'}" for s, c in got.items() if (c or "").lower() != classification.lower()]
    site = org_telephony.site().name
    check(len(wrong), duty(DUTY).threshold("misclassified_dial_strings"), duty=DUTY,
          device=f"{CLOUD_NAME} site {site}", what=f"dial strings not classified {classification}",
          detail=(f"{', '.join(wrong)}; the site's plans: "
                  + ", ".join(f"{p.name} ({p.match_type}, priority {p.priority})" for p in plans))
          if wrong else f"{len(strings)} dial strings: {', '.join(strings)}",
          inputs_checked=[number_plan_input(s) for s, c in got.items() if (c or "").lower() != classification.lower()])


@pytest.mark.duty(DUTY)
def test_outbound_routes_carry_what_leaves_the_site(org_telephony: OrgTelephony) -> None:
    routes = [r for r in org_telephony.outbound_routes() if r.enabled is not False]
    planned = {p.classification for p in org_telephony.number_plans() if p.classification}
    carried = {c.lower() for r in routes for c in r.classification_types}
    missing = [c for c in LEAVE_THE_SITE if c in planned and c.lower() not in carried]
    site = org_telephony.site().name
    check(len(missing), duty(DUTY).threshold("unrouted_classifications"), duty=DUTY,
          device=f"{CLOUD_NAME} site {site}", what="classifications that leave the site without an outbound route",
          detail=(f"no enabled outbound route carries {', '.join(missing)}; routes: "
                  + "; ".join(f"{r.name}: {', '.join(r.classification_types)}" for r in routes))
          if missing else f"{len(routes)} route(s) carry {', '.join(sorted(carried))}",
          inputs_checked=[outbound_route_input(c) for c in missing])


@pytest.mark.duty(DUTY)
def test_emergency_number_is_never_caught_by_prefix_blocking(lab: LabSession, org_telephony: OrgTelephony) -> None:
    country = _country(lab)
    number = dialplan.emergency_number(country)
    e164 = dialplan.normalize(number, country) or number
    sim = org_telephony.simulate_call(number)
    blocks = [p.e164 for p in org_telephony.blocked_prefixes()]
    caught = [b for b in blocks if covers(b, e164)]
    device = f"{CLOUD_NAME} prefix Block List"
    check(sim.allowed, intent("allowed by the call simulation", True, source="G-PREFIX"), duty=DUTY, device=device,
          what=f"the org's call simulation of the emergency number {number}",
          detail=f"level {sim.level}, matched prefix {sim.matched_prefix}" if not sim.allowed else "allowed",
          inputs_checked=[block_list_input(e164)])
    check(len(caught), duty(DUTY).threshold("emergency_blocks"), duty=DUTY, device=device,
          what=f"Block List prefixes that cover the emergency number {number} ({e164})",
          detail=", ".join(caught) or f"none of {len(blocks)}: {', '.join(blocks) or 'empty list'}",
          inputs_checked=[block_list_input(e164)])


def _test_number(classification: str, trunk_plan: TrunkPlan) -> str:
    if classification == "Emergency":
        return dialplan.emergency_number(trunk_plan.plan.country)
    if classification == "National":
        return trunk_plan.test_number()
    return INTERNATIONAL_SAMPLE


def _refused_because(classification: str, answers: Sequence[tuple[str, int | None, str]], plans: list[NumberPlan],
                     country: str, block: str | None) -> list[str]:
    """The shared inputs the refusals among ``answers`` (dial string, final code, reason) hung on
    (:mod:`harness.evidence.findings`): the Edge takes the org's configuration, so a form the site's
    number plans do not classify ``classification`` was refused for its plan (``number_plan_input``), an
    emergency number the org's Block List covers for that (``block``: ``block_list_input``, both when
    both hold). ``[]`` when some refusal has neither (the Edge's own: its own finding) or none was refused."""
    refused = [f for f, code, _ in answers if code is None or code >= 400]
    used: list[str] = []
    for form in refused:
        got = (p.classification or "") if (p := classify(plans, form, country)) else ""
        why = [number_plan_input(form)] if got.lower() != classification.lower() else []
        why += [block] if block else []
        if not why:
            return []
        used += why
    return list(dict.fromkeys(used))


@pytest.mark.duty(DUTY)
@pytest.mark.core("each classification that leaves the site dialled from a station")
@pytest.mark.parametrize("classification", LEAVE_THE_SITE)
def test_dialled_classification_reaches_the_carrier_in_e164(classification: str, edge: Edge, trunk_plan: TrunkPlan,
                                                            trunk_probe: TrunkProbe, carrier: PstnSimulator,
                                                            lab: LabSession, org_telephony: OrgTelephony) -> None:
    plan = trunk_plan.plan
    number = _test_number(classification, trunk_plan)
    e164 = dialplan.normalize(number, plan.country) or number
    if classification in COSTLY:  # the harness chose the number: only the lab's carriers may get it
        guard_call(lab.lab, org_telephony, f"an {classification.lower()} test call to {number}", classification)
    routed = any(r.carries(classification) for r in org_telephony.outbound_routes())
    org_blocked = [p.e164 for p in org_telephony.blocked_prefixes() if covers(p.e164, e164)]
    may = [(n, p) for n, p in trunk_plan.stations.items()
           if dialplan.blocked(plan, p.facts.station_class, e164) is None]
    blocks_emergency = bool(org_blocked) and classification == "Emergency"
    if classification == "Emergency":  # an emergency call routes whatever blocks and station classes say
        org_blocked, may = [], list(trunk_plan.stations.items())
    reach = routed and not org_blocked and bool(may)
    station, phone = may[0] if may else trunk_plan.any_station()
    forms = [number] if classification == "Emergency" else dialplan.dial_forms(e164, plan.country)
    before = len(carrier.call_log())
    answers: list[tuple[str, int | None, str]] = []
    for form in forms:
        call = trunk_probe.outbound(phone.facts.extension, form, timeout_s=4.0)
        if call.state == "confirmed":
            call.bye()
        r = call.result()
        answers.append((form, r.final_code, r.final_reason))
        attach_ladder(f"{station} ({phone.facts.station_class}) dials {form}", call.ladder())
    rows = new_carrier_rows(carrier, before)  # the probe's calls only: the trunk_probe fixture guards the test
    attach(f"{classification} calls", "\n".join(f"{station:8} dialled {f:18} -> {c} {why}" for f, c, why in answers)
           + "\n" + ("\n".join(f"at {carrier.name}: {r.request_uri}" for r in rows) or f"nothing at {carrier.name}"))
    why_not = ("" if reach else "no enabled outbound route carries it" if not routed
               else f"the org blocks {', '.join(org_blocked)}" if org_blocked
               else "every station class bars it")
    if reach:
        astray = len(forms) - min(len(rows), len(forms))
        used = _refused_because(classification, answers, org_telephony.number_plans(), plan.country,
                                block_list_input(e164) if blocks_emergency else None) if astray else []
        check(astray, duty(DUTY).threshold("classified_calls_astray"), duty=DUTY,
              device=edge.name, what=f"{classification} calls from {station} that never reached {carrier.name}",
              detail=(f"{len(rows)} INVITE(s) at the carrier for {len(forms)} calls to {e164}; answers: "
                      + "; ".join(f"{f} -> {c} {why}".strip() for f, c, why in answers)), inputs_used=used)
        allowed = {e164, number} if classification == "Emergency" else {e164}
        wrong = [r.request_uri for r in rows if uri_user(r.request_uri) not in allowed]
        check(len(wrong), duty(DUTY).threshold("non_e164_request_uris"), duty=DUTY, device=edge.name,
              what=f"{classification} INVITEs at {carrier.name} whose Request-URI is not E.164 ({e164})",
              detail="; ".join(sorted(set(wrong))[:5]) or f"{len(rows)} INVITE(s) for {e164}")
    else:
        through = [f"{f} -> {c}" for f, c, _ in answers if c is None or c < 400]
        check(max(len(rows), len(through)), duty(DUTY).threshold("classified_calls_astray"), duty=DUTY,
              device=edge.name,
              what=f"{classification} calls from {station} that should be refused ({why_not}) and were not",
              detail="; ".join([*through, *(f"reached {carrier.name} as {r.request_uri}" for r in rows)])
              or f"{len(forms)} calls refused: " + ", ".join(f"{f} -> {c}" for f, c, _ in answers))
