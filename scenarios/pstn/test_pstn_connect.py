"""PSTN-CONNECT: the trunk is in service and carries calls with audio both ways.

* SIP OPTIONS are answered 200 within 2 s on both ends of the trunk: by the carrier's peer (the
  PSTN simulator) and by every Edge's trunk interface (the carrier sends OPTIONS to each Edge for
  failover, Genesys carrier checklist item 2); and the Edge's own OPTIONS pings reach each route and
  are answered, as Genesys Cloud reports them (the Edge's external trunk, ``GET
  …/edges/{edgeId}/trunks``: ``optionsStatus[].optionState`` per server, matched to the route by its
  SIP ``host:port``; the API gives the state, not the status code).
* An inbound call to every DID of the dial plan, placed by the harness as the carrier, and an
  outbound call from a station to the carrier's test number are answered, with audio both ways:
  the lab's far ends (phones, the carrier's test line) echo what they receive, and the carrier's
  call log shows what reached it. Each inbound call relies on the phone its DID rings: a phone
  found dead makes the test BROKEN naming it, not FAIL.

Limits: status 200 (G-CARRIER); round trip <= 2000 ms and >= 5 audio packets back (project
choices, overridable in the requirement profile). Silence from a device whose management plane
answers is a duty failure; silence from a device that is gone altogether is a broken lab.

An Edge trunk that does not answer judges the Edge's SIP on that port
(:func:`~harness.checks.trunk.edge_sip_input`, :mod:`harness.evidence.findings`): DATA-ACCURACY's Edge
comparison, which finds the org's ONLINE beside a silent SIP, is reported as its consequence."""

import pytest

from harness.checks.trunk import TrunkPlan, edge_sip_input, judge_answered, judge_audio_back, new_carrier_rows, rows_for
from harness.devices.capabilities import SipEndpoint
from harness.devices.drivers.edge import Edge
from harness.devices.drivers.pstn import PstnSimulator
from harness.devices.facts import dialplan
from harness.devices.procedures.trunk_calls import TrunkProbe
from harness.devices.session import LabSession
from harness.duties.profile import Profile
from harness.evidence.check import check, intent
from harness.inventory.models import PstnDevice

DUTY = "PSTN-CONNECT"


def _options_answered(driver: SipEndpoint, profile: Profile, what: str, silence: tuple[str, ...] = ()) -> None:
    """OPTIONS answered 200 within the limit; ``silence``: the shared inputs an unanswered OPTIONS
    judges (:mod:`harness.evidence.findings`)."""
    rtt_limit = profile.threshold(DUTY, "options_rtt_ms")
    result = driver.options(timeout_s=rtt_limit.number / 1000.0)
    if result.status is None:
        driver.ensure_alive()  # raises LabUnreachable (BROKEN) when the whole device is gone
        check(None, rtt_limit, duty=DUTY, device=driver.name, what=f"{what} round trip",
              detail=f"no response within {rtt_limit.value} ms", inputs_checked=silence)
    check(result.status, profile.threshold(DUTY, "options_status"), duty=DUTY, device=driver.name,
          what=f"{what} status", detail=result.reason)
    check(result.rtt_ms, rtt_limit, duty=DUTY, device=driver.name, what=f"{what} round trip")


@pytest.mark.duty(DUTY)
def test_trunk_peer_answers_sip_options(pstn: PstnSimulator, profile: Profile) -> None:
    _options_answered(pstn, profile, "SIP OPTIONS")


@pytest.mark.duty(DUTY)
def test_edge_trunk_answers_sip_options(edge: Edge, profile: Profile) -> None:
    port = edge.device.sip.port if edge.device.sip else 5060
    _options_answered(edge, profile, "SIP OPTIONS to the Edge trunk", (edge_sip_input(edge.name, port),))


@pytest.mark.duty(DUTY)
def test_edge_options_pings_answered_by_every_route(edge: Edge, trunk_plan: TrunkPlan, lab: LabSession,
                                                    profile: Profile) -> None:
    status = edge.trunk_status()
    answered = intent("OPTIONS ping answered (optionState)", True, source="Genesys Cloud trunk optionsStatus")
    for route in trunk_plan.routes:
        pstn = lab.entry(route, PstnDevice)
        address = f"{pstn.host}:{pstn.sip.port if pstn.sip else 5060}"
        r = status.route(address)
        if r is None or not r.answered:
            lab.driver(route, PstnSimulator).ensure_alive()  # a carrier simulator that is gone altogether: BROKEN
        check(r.answered if r else None, answered, duty=DUTY, device=edge.name,
              what=f"OPTIONS ping from the Edge to route {route} ({address})",
              detail=(f"{', '.join(status.trunks)}: {'in service' if status.in_service else 'out of service'}"
                      if r else f"the org lists no server {address} on {', '.join(status.trunks)}"))


@pytest.mark.duty(DUTY)
def test_inbound_call_to_every_did_has_audio_both_ways(edge: Edge, trunk_plan: TrunkPlan, trunk_probe: TrunkProbe,
                                                       profile: Profile) -> None:
    if not trunk_plan.dids:
        pytest.skip(f"the dial plan of {edge.name} lists no DIDs")
    for did, ext in trunk_plan.dids.items():
        label = f"inbound {did} -> {ext} ({trunk_plan.station(ext)})"
        tc = trunk_probe.exercise(trunk_probe.inbound(trunk_plan.call_to(did)), label)
        judge_answered(tc, profile, duty=DUTY, device=edge, item="inbound test call")
        judge_audio_back(tc, profile, duty=DUTY, device=edge.name, item="inbound test call")


@pytest.mark.duty(DUTY)
def test_outbound_call_to_the_carrier_has_audio_both_ways(edge: Edge, trunk_plan: TrunkPlan, trunk_probe: TrunkProbe,
                                                          carrier: PstnSimulator, profile: Profile) -> None:
    station, phone = trunk_plan.any_station()
    number = trunk_plan.test_number()
    before = len(carrier.call_log())
    label = f"outbound {phone.facts.extension} ({station}) -> {number}"
    tc = trunk_probe.exercise(trunk_probe.outbound(phone.facts.extension, number), label)
    judge_answered(tc, profile, duty=DUTY, device=edge, item="outbound test call", plan=trunk_plan)
    judge_audio_back(tc, profile, duty=DUTY, device=edge.name, item="outbound test call")
    e164 = dialplan.normalize(number, trunk_plan.plan.country) or number
    rows = rows_for(new_carrier_rows(carrier, before), e164)
    check(max((r.rtp_received for r in rows), default=None), profile.threshold(DUTY, "audio_packets"), duty=DUTY,
          device=carrier.name, what=f"outbound test call: audio received by the carrier from {station}",
          detail=f"{len(rows)} INVITE(s) for {e164} in the carrier's call log")
