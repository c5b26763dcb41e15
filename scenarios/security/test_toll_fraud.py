"""SEC-TOLL-FRAUD: from every station class, numbers with blocked prefixes are refused by the Edge
and never produce an INVITE at the carrier [G-PREFIX].

For each station class of the Edge's dial plan that a phone of the inventory has, the harness dials
as that phone (on the Edge's phone trunk) one number per blocked prefix, in every form a station may
dial it (E.164, the international or long-distance form dialled from the plan's country, the national
form), then reads the carrier's call log: zero INVITEs for those numbers may reach it
(``blocked_invites_at_carrier``), and each attempt must get a final reject (>= 400,
``blocked_call_status``).

A control call from the same station to the carrier's test number must show up in the call log: a
log that shows nothing cannot prove that nothing leaked, so a missing control row is a broken lab
(LabProtocolError), not a pass.
"""

import pytest

from harness.checks.trunk import TrunkPlan, attach_ladder, new_carrier_rows, rows_for
from harness.devices.drivers.edge import Edge
from harness.devices.drivers.pstn import PstnSimulator
from harness.devices.facts import dialplan
from harness.devices.procedures.trunk_calls import TrunkProbe
from harness.duties.profile import Profile
from harness.errors import LabProtocolError
from harness.evidence.attach import attach
from harness.evidence.check import check, observe
from harness.inventory.models import DialPlan, PhoneDevice

DUTY = "SEC-TOLL-FRAUD"


def _attempts(plan: DialPlan, station_class: str) -> list[tuple[str, str, str, str]]:
    """``(prefix class, prefix, E.164 number, dialled form)`` for every barred prefix of the class."""
    out: list[tuple[str, str, str, str]] = []
    for cls in dialplan.station_policy(plan, station_class).blocked:
        for prefix in plan.prefix_classes.get(cls, []):
            number = dialplan.test_number(prefix)
            out.extend((cls, prefix, number, form) for form in dialplan.dial_forms(number, plan.country))
    return out


@pytest.mark.duty(DUTY)
def test_blocked_prefixes_never_reach_the_carrier(edge: Edge, trunk_plan: TrunkPlan, trunk_probe: TrunkProbe,
                                                  carrier: PstnSimulator, profile: Profile) -> None:
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
    before = len(carrier.call_log())
    outcomes: list[tuple[str, str, str, str, str, str, int | None, str]] = []
    for cls, (station, phone) in sorted(tested.items()):
        for prefix_class, prefix, number, form in _attempts(plan, cls):
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
    rows = new_carrier_rows(carrier, before)
    attach("attempts", "\n".join(f"{c:10} {s:8} {pc:14} {p:7} {n:16} dialled {f:18} -> {code} {why}"
                                 for c, s, pc, p, n, f, code, why in outcomes))
    if len(rows_for(rows, control_e164)) < len(tested):
        raise LabProtocolError(carrier.name, carrier.call_log_transport, carrier.device.host,
                               f"the call log shows {len(rows_for(rows, control_e164))} INVITE(s) for the control "
                               f"number {control_e164}, expected {len(tested)}: it cannot prove that nothing leaked")
    leaks = []
    for cls, station, prefix_class, prefix, number, form, _, _ in outcomes:
        for row in rows_for(rows, number):
            leaks.append(f"{station} ({cls}) dialled {form}: {prefix_class} {prefix} reached {carrier.name} as "
                         f"{row.request_uri}")
    check(len(set(leaks)), profile.threshold(DUTY, "blocked_invites_at_carrier"), duty=DUTY, device=edge.name,
          what=f"INVITEs at the carrier for {len(outcomes)} calls to blocked prefixes",
          detail="; ".join(sorted(set(leaks))[:10]) or f"station classes {', '.join(sorted(tested))}")
    for cls, station, prefix_class, prefix, _, form, code, why in outcomes:
        check(code, profile.threshold(DUTY, "blocked_call_status"), duty=DUTY, device=edge.name,
              what=f"answer to {station} ({cls}) dialling {form} ({prefix_class} {prefix})",
              detail=why or "no final answer")
