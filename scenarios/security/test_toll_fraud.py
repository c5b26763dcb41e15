"""SEC-TOLL-FRAUD: from every station class, numbers with blocked prefixes are refused by the Edge
and never produce an INVITE at the carrier [G-PREFIX].

For each station class of the Edge's dial plan that a phone of the inventory has, the harness dials
as that phone (on the Edge's phone trunk) one number per blocked prefix, in every form a station may
dial it (E.164, the international or long-distance form dialled from the plan's country, the national
form), then reads the carrier's call log: zero INVITEs for those numbers, in whatever form the Request-URI
writes them, may reach it (``blocked_invites_at_carrier``), and each attempt must get a final reject (>= 400,
``blocked_call_status``).

No test call dials a string that begins with the emergency number (``9112345678`` from a North
American station, ``+19112345678``: a switch or carrier may act on its first digits); such forms are
observed as "not dialled" and the org's call simulation still judges them.

Before any of these calls, every server of every trunk the org lists must be one of the lab's carrier
simulators (:func:`harness.checks.trunk.guard_call`): a broken block is what this duty looks for, and
on a trunk to a real carrier it would place premium-rate calls. Otherwise the calls are not placed
(SKIP: "could reach a real carrier: attest it instead"), and the duty, whose core check that is, is
PARTIAL.

A control call from the same station to the carrier's test number must show up in the call log: a
log that shows nothing cannot prove that nothing leaked, so a missing control row is a broken lab
(LabProtocolError), not a pass; when the Edge refused the control call, the error names the Edge and its
answer (with the org's reason when its configuration refuses the number), not the carrier.

The org's prefix blocking (Genesys Cloud's Block List, G-PREFIX; read through the Platform API):

* every prefix the inventory bars for every station class (``dialplan.org_wide_blocked``: the org's
  list is one for the whole org) is on the org's Block List, or covered by a shorter prefix there
  (``barred_prefixes_unlisted``). An Edge takes its Block List from the org, so a prefix missing there
  also reaches the carrier in the per-class calls above: those failures are reported as consequences
  of the org's finding (``inputs_used``, :mod:`harness.evidence.findings`), while a prefix only some
  station classes bar is the inventory's station class rule and a leak of it stands on its own;
* every prefix on the org's Block List is refused by the API's own call simulation (``GET
  /api/v2/telephony/prefixes/simulate/call``: ``allowed: false``, ``blocked_prefixes_simulated_allowed``)
  and, dialled on the wire from the least restricted station in every form, never reaches the carrier
  (``blocked_invites_at_carrier``; a control call proves the log sees calls). A prefix the org blocks
  and the Edge lets through FAILs here, judging that the Edge applies the org's Block List: the
  per-class leak of a prefix on the org's list is reported as its consequence. Genesys documents
  prefix blocking for Genesys Cloud Voice; the wire half holds an Edge on a BYOC trunk to the org's
  list just the same: a number the org says is blocked and the carrier receives is a leak either way.
"""

import pytest

from harness.checks.trunk import (
    TrunkPlan,
    attach_ladder,
    block_list_input,
    control_refused,
    edge_block_list_input,
    guard_call,
    new_carrier_rows,
    rows_dialling,
    station_class_input,
)
from harness.devices.drivers.cloud_telephony import OrgTelephony
from harness.devices.drivers.edge import Edge
from harness.devices.drivers.pstn import PstnSimulator
from harness.devices.facts import dialplan
from harness.devices.facts.cloud_prefixes import covers
from harness.devices.procedures.trunk_calls import TrunkProbe
from harness.devices.session import LabSession
from harness.duties.profile import Profile
from harness.errors import LabProtocolError
from harness.evidence.attach import attach
from harness.evidence.check import check, observe
from harness.inventory.models import CLOUD_NAME, DialPlan, PhoneDevice

DUTY = "SEC-TOLL-FRAUD"


def _dialable(forms: list[str], country: str, device: str) -> list[str]:
    """``forms`` without those that begin with the emergency number (never dialled: a switch or carrier
    may act on the first digits; :func:`~harness.devices.facts.dialplan.emergency_like`), each left-out
    form observed in the evidence."""
    kept = [f for f in forms if not dialplan.emergency_like(f, country)]
    for f in forms:
        if f not in kept:
            observe("not dialled", duty=DUTY, device=device, what=f"test call to {f}",
                    detail=f"it begins with the emergency number {dialplan.emergency_number(country)}")
    return kept


def _attempts(plan: DialPlan, station_class: str, device: str) -> list[tuple[str, str, str, str]]:
    """``(prefix class, prefix, E.164 number, dialled form)`` for every barred prefix of the class,
    without the forms that begin with the emergency number (:func:`_dialable`)."""
    out: list[tuple[str, str, str, str]] = []
    for cls in dialplan.station_policy(plan, station_class).blocked:
        for prefix in plan.prefix_classes.get(cls, []):
            number = dialplan.test_number(prefix)
            out.extend((cls, prefix, number, form)
                       for form in _dialable(dialplan.dial_forms(number, plan.country), plan.country, device))
    return out


@pytest.mark.duty(DUTY)
@pytest.mark.core("blocked prefixes dialled from every station class")
def test_blocked_prefixes_never_reach_the_carrier(edge: Edge, trunk_plan: TrunkPlan, trunk_probe: TrunkProbe,
                                                  carrier: PstnSimulator, profile: Profile, lab: LabSession,
                                                  org_telephony_if_any: OrgTelephony | None) -> None:
    plan = trunk_plan.plan
    by_class: dict[str, tuple[str, PhoneDevice]] = {}
    for name, phone in trunk_plan.stations.items():
        by_class.setdefault(phone.facts.station_class, (name, phone))
    for cls in sorted(set(plan.station_classes) - set(by_class)):
        observe("not tested", duty=DUTY, device=edge.name, what=f"station class {cls}",
                detail="no phone of the inventory has this station class")
    tested = {c: s for c, s in by_class.items() if dialplan.station_policy(plan, c).blocked}
    if not tested:
        pytest.skip(f"no station class of {edge.name}'s phones blocks any prefix class")
    control = trunk_plan.test_number()
    control_e164 = dialplan.normalize(control, plan.country) or control
    guard_call(lab.lab, org_telephony_if_any, "a test call to a blocked prefix")
    before = len(carrier.call_log())
    outcomes: list[tuple[str, str, str, str, str, str, int | None, str]] = []
    controls = []
    for cls, (station, phone) in sorted(tested.items()):
        for prefix_class, prefix, number, form in _attempts(plan, cls, edge.name):
            call = trunk_probe.outbound(phone.facts.extension, form, timeout_s=4.0)
            if call.state == "confirmed":
                call.bye()
            r = call.result()
            outcomes.append((cls, station, prefix_class, prefix, number, form, r.final_code, r.final_reason))
            if r.final_code is None or r.final_code < 400:
                attach_ladder(f"{station} ({cls}) dials {form}", call.ladder())
        ctl = trunk_probe.outbound(phone.facts.extension, control, timeout_s=6.0)
        if ctl.state == "confirmed":
            ctl.bye()
        controls.append(ctl.result())
    if not outcomes:
        pytest.skip("every number the station classes bar begins with the emergency number: none is dialled")
    rows = new_carrier_rows(carrier, before)
    attach("attempts", "\n".join(f"{c:10} {s:8} {pc:14} {p:7} {n:16} dialled {f:18} -> {code} {why}"
                                 for c, s, pc, p, n, f, code, why in outcomes))
    if len(rows_dialling(rows, control_e164, plan.country)) < len(tested):
        if (refused := control_refused(trunk_plan, trunk_probe, control, controls)) is not None:
            raise refused
        raise LabProtocolError(carrier.name, carrier.call_log_transport, carrier.device.host,
                               f"the call log shows {len(rows_dialling(rows, control_e164, plan.country))} INVITE(s) "
                               f"for the control "
                               f"number {control_e164}, expected {len(tested)}: it cannot prove that nothing leaked")
    org_wide = set(dialplan.org_wide_blocked(plan))

    def rule(cls: str, prefix: str) -> str:
        """What bars ``prefix`` for ``cls``: the org's Block List (a prefix every class bars) or the class."""
        return trunk_plan.block_list_rule(prefix) if prefix in org_wide else station_class_input(cls, prefix)

    leaks, leak_rules = [], []
    for cls, station, prefix_class, prefix, number, form, _, _ in outcomes:
        for row in rows_dialling(rows, number, plan.country):
            leaks.append(f"{station} ({cls}) dialled {form}: {prefix_class} {prefix} reached {carrier.name} as "
                         f"{row.request_uri}")
            leak_rules.append(rule(cls, prefix))
    check(len(set(leaks)), profile.threshold(DUTY, "blocked_invites_at_carrier"), duty=DUTY, device=edge.name,
          what=f"INVITEs at the carrier for {len(outcomes)} calls to blocked prefixes",
          detail="; ".join(sorted(set(leaks))[:10]) or f"station classes {', '.join(sorted(tested))}",
          inputs_used=leak_rules)
    for cls, station, prefix_class, prefix, _, form, code, why in outcomes:
        check(code, profile.threshold(DUTY, "blocked_call_status"), duty=DUTY, device=edge.name,
              what=f"answer to {station} ({cls}) dialling {form} ({prefix_class} {prefix})",
              detail=why or "no final answer", inputs_used=[rule(cls, prefix)])


@pytest.mark.duty(DUTY)
def test_org_block_list_holds_every_prefix_barred_for_all_stations(edge: Edge, trunk_plan: TrunkPlan,
                                                                   org_telephony: OrgTelephony,
                                                                   profile: Profile) -> None:
    barred = dialplan.org_wide_blocked(trunk_plan.plan)
    if not barred:
        pytest.skip(f"no prefix class of {edge.name}'s dial plan is barred for every station class")
    listed = [p.e164 for p in org_telephony.blocked_prefixes()]
    attach("the org's Block List", "\n".join(listed) or "(empty)")
    unlisted = [p for p in barred if not any(covers(b, p) for b in listed)]
    check(len(unlisted), profile.threshold(DUTY, "barred_prefixes_unlisted"), duty=DUTY,
          device=f"{CLOUD_NAME} prefix Block List",
          what=f"prefixes {edge.name}'s dial plan bars for every station and the org does not block",
          detail=(f"{', '.join(unlisted)} not on the org's Block List ({', '.join(listed) or 'empty'})"
                  if unlisted else f"{', '.join(barred)} covered by {', '.join(listed)}"),
          inputs_checked=[block_list_input(p) for p in unlisted])


def _least_restricted(trunk_plan: TrunkPlan) -> tuple[str, PhoneDevice]:
    """The station whose class bars the fewest prefix classes (the likeliest to leak), or a SKIP."""
    trunk_plan.any_station()
    return min(trunk_plan.stations.items(), key=lambda s: (
        len(dialplan.station_policy(trunk_plan.plan, s[1].facts.station_class).blocked), s[0]))


@pytest.mark.duty(DUTY)
def test_org_blocked_prefixes_are_refused_by_the_org_and_on_the_wire(edge: Edge, trunk_plan: TrunkPlan,
                                                                     trunk_probe: TrunkProbe,
                                                                     carrier: PstnSimulator,
                                                                     org_telephony: OrgTelephony,
                                                                     profile: Profile, lab: LabSession) -> None:
    blocks = [p.e164 for p in org_telephony.blocked_prefixes()]
    if not blocks:
        pytest.skip("the org's prefix Block List is empty")
    plan = trunk_plan.plan
    numbers = {b: dialplan.test_number(b) for b in blocks}
    simulated = {b: org_telephony.simulate_call(n) for b, n in numbers.items()}
    attach("call simulation", "\n".join(f"{b:8} {n:16} allowed={s.allowed} level={s.level} matched={s.matched_prefix}"
                                        for (b, n), s in zip(numbers.items(), simulated.values(), strict=True)))
    allowed = [f"{numbers[b]} ({b}): allowed" + (f" at level {s.level}" if s.level else "")
               for b, s in simulated.items() if s.allowed]
    check(len(allowed), profile.threshold(DUTY, "blocked_prefixes_simulated_allowed"), duty=DUTY,
          device=f"{CLOUD_NAME} prefix Block List", what="blocked prefixes the org's call simulation allows",
          detail="; ".join(allowed) or f"{len(blocks)} prefixes refused: {', '.join(blocks)}")
    station, phone = _least_restricted(trunk_plan)
    control = trunk_plan.test_number()
    control_e164 = dialplan.normalize(control, plan.country) or control
    before = len(carrier.call_log())
    outcomes: list[tuple[str, str, str, int | None, str]] = []
    dialled = {n: _dialable(dialplan.dial_forms(n, plan.country), plan.country, edge.name) for n in numbers.values()}
    if not any(dialled.values()):
        pytest.skip(f"every prefix the org blocks begins with the emergency number: none is dialled "
                    f"({', '.join(blocks)}); the call simulation above is the check")
    guard_call(lab.lab, org_telephony, "a test call to a prefix the org blocks")
    for prefix, number in numbers.items():
        for form in dialled[number]:
            call = trunk_probe.outbound(phone.facts.extension, form, timeout_s=4.0)
            if call.state == "confirmed":
                call.bye()
            r = call.result()
            outcomes.append((prefix, number, form, r.final_code, r.final_reason))
            if r.final_code is None or r.final_code < 400:
                attach_ladder(f"{station} dials {form}", call.ladder())
    ctl = trunk_probe.outbound(phone.facts.extension, control, timeout_s=6.0)
    if ctl.state == "confirmed":
        ctl.bye()
    rows = new_carrier_rows(carrier, before)
    attach("attempts", "\n".join(f"{station:8} {p:8} {n:16} dialled {f:18} -> {code} {why}"
                                 for p, n, f, code, why in outcomes))
    if not rows_dialling(rows, control_e164, plan.country):
        if (refused := control_refused(trunk_plan, trunk_probe, control, [ctl.result()])) is not None:
            raise refused
        raise LabProtocolError(carrier.name, carrier.call_log_transport, carrier.device.host,
                               f"the call log shows no INVITE for the control number {control_e164}: it cannot "
                               "prove that nothing leaked")
    leaks = sorted({f"{station} dialled {form}: org-blocked {prefix} reached {carrier.name} as {row.request_uri}"
                    for prefix, number, form, _, _ in outcomes for row in rows_dialling(rows, number, plan.country)})
    # the org blocks these (its call simulation judged above): a leak is the Edge not applying the org's list
    check(len(leaks), profile.threshold(DUTY, "blocked_invites_at_carrier"), duty=DUTY, device=edge.name,
          what=f"INVITEs at the carrier for {len(outcomes)} calls to prefixes the org blocks",
          detail=(f"{edge.name} does not apply the org's Block List: " + "; ".join(leaks[:10])) if leaks
          else f"from {station} ({phone.facts.station_class}): {', '.join(blocks)}",
          inputs_checked=[edge_block_list_input(edge.name)] if leaks else [])
