"""PSTN-INTEROP: the carrier checklist (docs/duties.md, Genesys [G-CARRIER] §2.5), one test per item,
each a call flow on the wire with its SIP ladder attached.

The harness plays the carrier toward the Edge's trunk port for inbound calls, and a station on the
Edge's phone trunk for outbound calls to the carrier (the PSTN simulator of the trunk's first route,
whose call log shows what reached it). The lab's far ends echo audio and RFC 4733 events, so what
comes back proves both directions.

Items: 5 (inbound with and without ANI, outbound with E.164 ANI), 11 (G.711 offered and agreed),
3 (RFC 4733 DTMF both ways, on the negotiated payload type), 6 (early media: 183 with SDP), 7 (hold
and resume by re-INVITE, sendonly and c=0.0.0.0), 9 (a carrier 503 ends in a retry or a clean
failure), 14 (Record-Route honoured, RFC 3261 §12), 10 (the same transport both ways), 4 (fax as
G.711 pass-through: a 2100 Hz answer tone comes back byte for byte).
Limits: see each test; sources G-CARRIER, G-BYOC-CARRIER, RFC 3261, RFC 4733, project choices
(named in the catalogue)."""

import time

import pytest

from harness.checks.trunk import (
    TrunkPlan,
    attach_ladder,
    judge_answered,
    judge_audio_back,
    new_carrier_rows,
    rows_for,
    uri_user,
)
from harness.devices.drivers.edge import Edge
from harness.devices.drivers.pstn import PstnSimulator
from harness.devices.facts import dialplan
from harness.devices.procedures import trunk_calls
from harness.devices.procedures.trunk_calls import DEFAULT_ANI, TrunkProbe
from harness.duties.profile import Profile
from harness.evidence.check import check, intent
from harness.transports.rtp import HANGUP_DIGIT, TONE_HZ
from harness.transports.sip.call import ENDED
from harness.transports.sip.proxy import LooseProxy

DUTY = "PSTN-INTEROP"
DIGITS = "1234567890*#"  # every DTMF key but A-D (D clears the call at the lab's far ends)
CED_HZ = 2100.0  # the fax answer tone (ITU-T T.30 CED; V.25 answer tone)
DIRECTIONS = ("inbound", "outbound")


def _first_did(trunk_plan: TrunkPlan) -> str:
    """The DID inbound items call: the first whose phone the run has not found dead, relied on."""
    return trunk_plan.ringing_did()


def _call(direction: str, trunk_plan: TrunkPlan, trunk_probe: TrunkProbe, *, digits: str = "",
          caller: str | None = DEFAULT_ANI, transport: str = "udp",
          tone_hz: float = TONE_HZ) -> trunk_calls.TestCall:
    """Place and exercise one test call in ``direction``; returns the TestCall. ``caller``: the ANI
    of an inbound call (``None``: anonymous); ``tone_hz``: the tone the probe sends."""
    if direction == "inbound":
        did = _first_did(trunk_plan)
        handle = trunk_probe.inbound(did, caller=caller, transport=transport, tone_hz=tone_hz)
        label = f"inbound {did}"
    else:
        station, phone = trunk_plan.any_station()
        number = trunk_plan.test_number()
        handle = trunk_probe.outbound(phone.facts.extension, number, transport=transport, tone_hz=tone_hz)
        label = f"outbound {phone.facts.extension} ({station}) -> {number}"
    return trunk_probe.exercise(handle, label, digits=digits)


@pytest.mark.duty(DUTY)
@pytest.mark.parametrize("ani", ["with ANI", "without ANI"])
def test_item5_inbound_call_with_and_without_caller_id(edge: Edge, trunk_plan: TrunkPlan, trunk_probe: TrunkProbe,
                                                       profile: Profile, ani: str) -> None:
    tc = _call("inbound", trunk_plan, trunk_probe, caller=DEFAULT_ANI if ani == "with ANI" else None)
    judge_answered(tc, profile, duty=DUTY, device=edge, item=f"item 5, inbound {ani}")
    judge_audio_back(tc, profile, duty=DUTY, device=edge.name, item=f"item 5, inbound {ani}")


@pytest.mark.duty(DUTY)
def test_item5_outbound_call_sends_e164_caller_id(edge: Edge, trunk_plan: TrunkPlan, trunk_probe: TrunkProbe,
                                                  carrier: PstnSimulator, profile: Profile) -> None:
    station, phone = trunk_plan.any_station()
    expected = dialplan.caller_id(trunk_plan.plan, phone.facts.extension)
    if expected is None:
        pytest.skip(f"{station} has no DID and the dial plan of {edge.name} no caller_id")
    before = len(carrier.call_log())
    tc = _call("outbound", trunk_plan, trunk_probe)
    judge_answered(tc, profile, duty=DUTY, device=edge, item="item 5, outbound with ANI", plan=trunk_plan)
    number = dialplan.normalize(trunk_plan.test_number(), trunk_plan.plan.country)
    rows = rows_for(new_carrier_rows(carrier, before), number or "")
    sent = sorted({uri_user(r.pai or r.from_uri) for r in rows})
    check(sent[0] if len(sent) == 1 else (sent or None), intent("caller ID at the carrier", expected), duty=DUTY,
          device=edge.name, what=f"item 5: ANI of the outbound call from {station} as the carrier saw it",
          detail=f"From/P-Asserted-Identity of {len(rows)} INVITE(s) in {carrier.name}'s call log")


@pytest.mark.duty(DUTY)
@pytest.mark.parametrize("direction", DIRECTIONS)
def test_item11_g711_offered_and_agreed(edge: Edge, trunk_plan: TrunkPlan, trunk_probe: TrunkProbe, profile: Profile,
                                        direction: str) -> None:
    tc = _call(direction, trunk_plan, trunk_probe)
    judge_answered(tc, profile, duty=DUTY, device=edge, item=f"item 11, G.711 {direction}", plan=trunk_plan)
    check(tc.result.codec, profile.threshold(DUTY, "codec"), duty=DUTY, device=edge.name,
          what=f"item 11: codec agreed on {tc.label}", detail=tc.result.media_error)


@pytest.mark.duty(DUTY)
@pytest.mark.parametrize("direction", DIRECTIONS)
def test_item3_dtmf_rfc4733_both_ways(edge: Edge, trunk_plan: TrunkPlan, trunk_probe: TrunkProbe,
                                      carrier: PstnSimulator, profile: Profile, direction: str) -> None:
    before = len(carrier.call_log())
    tc = _call(direction, trunk_plan, trunk_probe, digits=DIGITS)
    item = f"item 3, RFC 4733 DTMF {direction}"
    judge_answered(tc, profile, duty=DUTY, device=edge, item=item, plan=trunk_plan)
    r = tc.result
    check("RFC 4733 telephone-event" if r.telephone_event_pt is not None else "no telephone-event in the SDP",
          profile.threshold(DUTY, "dtmf"), duty=DUTY, device=edge.name, what=f"{item}: DTMF negotiated",
          detail=f"codec {r.codec}; {r.media_error}".rstrip("; "))
    check(tc.digits_back or "(none)", intent("digits echoed back", DIGITS, source="sent by the probe"), duty=DUTY,
          device=edge.name,
          what=f"{item}: digits received back on payload type {r.telephone_event_pt}",
          detail=f"packets on payload types not negotiated: {tc.unexpected_pts}" if tc.unexpected_pts else
          "the far end echoes the RFC 4733 events it receives")
    if direction == "outbound":
        number = dialplan.normalize(trunk_plan.test_number(), trunk_plan.plan.country) or ""
        rows = rows_for(new_carrier_rows(carrier, before), number)
        check((rows[-1].dtmf_received or "(none)") if rows else None,
              intent("digits at the carrier", DIGITS, source="sent by the probe"),
              duty=DUTY, device=carrier.name, what=f"{item}: digits the carrier received from the station")


@pytest.mark.duty(DUTY)
@pytest.mark.parametrize("direction", DIRECTIONS)
def test_item4_fax_g711_pass_through(edge: Edge, trunk_plan: TrunkPlan, trunk_probe: TrunkProbe, profile: Profile,
                                     direction: str) -> None:
    """Fax over G.711 needs the media path to carry every byte as it is: no transcoding, no gain, no
    comfort noise. The probe sends the fax answer tone (CED, 2100 Hz, ITU-T T.30) and the far end
    echoes it; the share of frames that come back byte for byte equal to a frame sent is judged."""
    tc = _call(direction, trunk_plan, trunk_probe, tone_hz=CED_HZ)
    item = f"item 4, fax G.711 pass-through {direction}"
    judge_answered(tc, profile, duty=DUTY, device=edge, item=item, plan=trunk_plan)
    judge_audio_back(tc, profile, duty=DUTY, device=edge.name, item=item)
    check(round(100.0 * tc.audio_exact / tc.audio_back, 1), profile.threshold(DUTY, "fax_bit_exact_pct"),
          duty=DUTY, device=edge.name, what=f"{item}: 2100 Hz frames echoed back unchanged on {tc.label}",
          detail=f"{tc.audio_exact} of {tc.audio_back} audio packets byte for byte equal to one sent "
                 f"(codec {tc.result.codec}); a changed byte is a transcoding or voice-processing step")


@pytest.mark.duty(DUTY)
@pytest.mark.parametrize("direction", DIRECTIONS)
def test_item6_early_media(edge: Edge, trunk_plan: TrunkPlan, trunk_probe: TrunkProbe, profile: Profile,
                           direction: str) -> None:
    tc = _call(direction, trunk_plan, trunk_probe)
    item = f"item 6, early media {direction}"
    judge_answered(tc, profile, duty=DUTY, device=edge, item=item, plan=trunk_plan)
    r = tc.result
    provisional = [line.split()[1] for d, line in r.messages if d == "<" and line.startswith("SIP/2.0 18")]
    check(183 if r.early_sdp and "183" in provisional else (int(provisional[0]) if provisional else None),
          profile.threshold(DUTY, "early_media_status"), duty=DUTY, device=edge.name,
          what=f"{item}: provisional answer with SDP",
          detail=f"provisional answers: {', '.join(provisional) or 'none'}; SDP in one: {r.early_sdp}")
    if direction == "outbound":  # the carrier's test line plays audio before it answers
        early = r.first_media_ms is not None and r.setup_ms is not None and r.first_media_ms < r.setup_ms
        check(early, intent("audio before the answer", True), duty=DUTY, device=edge.name,
              what=f"{item}: audio relayed before the 200",
              detail=f"first RTP after {r.first_media_ms} ms, 200 after {r.setup_ms} ms")


@pytest.mark.duty(DUTY)
@pytest.mark.parametrize("mode", ["sendonly", "zero"])
def test_item7_hold_and_resume_by_reinvite(edge: Edge, trunk_plan: TrunkPlan, trunk_probe: TrunkProbe,
                                           profile: Profile, mode: str) -> None:
    did = _first_did(trunk_plan)
    call = trunk_probe.inbound(did)
    label = f"inbound {did}, hold by {'a=sendonly' if mode == 'sendonly' else 'c=0.0.0.0'}"
    try:
        if call.state != "confirmed":
            judge_answered(trunk_probe.exercise(call, label), profile, duty=DUTY, device=edge, item="item 7, hold")
        item = f"item 7, hold ({'sendonly' if mode == 'sendonly' else 'c=0.0.0.0'})"
        check(call.hold(mode), profile.threshold(DUTY, "hold_status"), duty=DUTY, device=edge.name,
              what=f"{item}: answer to the hold re-INVITE")
        check(call.resume(), profile.threshold(DUTY, "hold_status"), duty=DUTY, device=edge.name,
              what=f"{item}: answer to the resume re-INVITE")
        tc = trunk_probe.exercise(call, label)
        attach_ladder(label, tc.ladder)
        judge_audio_back(tc, profile, duty=DUTY, device=edge.name, item=f"{item}: after resume")
    finally:
        attach_ladder(label, call.ladder())
        if call.state == "confirmed":
            call.bye()


@pytest.mark.duty(DUTY)
def test_item9_carrier_503_retried_or_failed_cleanly(edge: Edge, trunk_plan: TrunkPlan, trunk_probe: TrunkProbe,
                                                     carrier: PstnSimulator, profile: Profile) -> None:
    _, phone = trunk_plan.any_station()
    numbers = trunk_plan.first_route.facts.unavailable_numbers
    if not numbers:
        pytest.skip(f"{trunk_plan.routes[0]} lists no unavailable_numbers (answered 503 by the carrier)")
    limit = profile.threshold(DUTY, "carrier_503_final_ms")
    before = len(carrier.call_log())
    t0 = time.monotonic()
    handle = trunk_probe.outbound(phone.facts.extension, numbers[0], timeout_s=limit.number / 1000.0 + 4.0)
    elapsed_ms = (time.monotonic() - t0) * 1000.0
    tc = trunk_probe.exercise(handle, f"outbound {phone.facts.extension} -> {numbers[0]} (carrier answers 503)")
    attach_ladder(tc.label, tc.ladder)
    rows = rows_for(new_carrier_rows(carrier, before), numbers[0])
    if not any(r.status == 503 for r in rows):
        pytest.skip(f"{carrier.name} did not answer {numbers[0]} with 503 "
                    f"(statuses {[r.status for r in rows]}): the item was not exercised")
    code = tc.result.final_code
    check(round(elapsed_ms) if code is not None else None, limit, duty=DUTY, device=edge.name,
          what="item 9: time from the station's INVITE to the Edge's final answer after a carrier 503",
          detail=f"final answer {code} {tc.result.final_reason}" if code else "the Edge never answered the station")
    check(code is not None and (code < 300 or code >= 400), intent("a retry (2xx) or a clean failure (4xx-6xx)", True),
          duty=DUTY, device=edge.name, what="item 9: outcome of the call after a carrier 503",
          detail=f"final answer {code}")


@pytest.mark.duty(DUTY)
def test_item14_record_route_honoured(edge: Edge, trunk_plan: TrunkPlan, trunk_probe: TrunkProbe, profile: Profile,
                                      ) -> None:
    did = _first_did(trunk_plan)
    with LooseProxy(trunk_probe.local_host) as proxy:
        call = trunk_probe.inbound(did, via=(proxy.host, proxy.port))
        label = f"inbound {did} through a record-routing proxy {proxy.host}:{proxy.port}"
        tc = trunk_probe.exercise(call, label, digits=HANGUP_DIGIT, hang_up=False)
        judge_answered(tc, profile, duty=DUTY, device=edge, item="item 14, Record-Route")
        ended = call.wait_ended(4.0)
        if ended != ENDED and call.state == "confirmed":
            call.bye()  # through the proxy, which is still up: the Edge must not keep the call
        attach_ladder(label, call.ladder())
        seen = proxy.requests()
    rr = f"<{proxy.uri}>"
    check("honoured" if rr in tc.result.route_set else f"the 2xx route set is {list(tc.result.route_set)}",
          profile.threshold(DUTY, "record_route"), duty=DUTY, device=edge.name,
          what=f"item 14: Record-Route {rr} copied into the Edge's 2xx (RFC 3261 §12.1.1)")
    from_edge = [s for s in seen if s.in_dialog and s.source.startswith(edge.device.host + ":")]
    byes = [s for s in from_edge if s.method == "BYE"]
    if ended != ENDED and not byes:
        pytest.skip(f"the far end never cleared the call on RFC 4733 {HANGUP_DIGIT!r} (DTMF toward it failed, "
                    "see item 3): the Edge's in-dialog BYE could not be observed")
    bye_route = "honoured" if any(proxy.uri in " ".join(s.routes) for s in byes) else (
        f"the Edge's BYE reached the proxy without a Route to it: {byes[0].routes}" if byes else
        "the Edge's BYE did not come through the recorded route (the proxy saw none)")
    check(bye_route, profile.threshold(DUTY, "record_route"), duty=DUTY, device=edge.name,
          what="item 14: the Edge's BYE toward the carrier follows the route set (RFC 3261 §12.2)",
          detail=f"call ended: {ended}")


@pytest.mark.duty(DUTY)
@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_item10_same_transport_both_ways_inbound(edge: Edge, trunk_plan: TrunkPlan, trunk_probe: TrunkProbe,
                                                 profile: Profile, transport: str) -> None:
    tc = _call("inbound", trunk_plan, trunk_probe, transport=transport)
    item = f"item 10, inbound over {transport.upper()}"
    judge_answered(tc, profile, duty=DUTY, device=edge, item=item, plan=trunk_plan)
    other = "UDP " if transport == "tcp" else "TCP "
    check(other.strip().lower() if other in tc.ladder else transport, intent("transport of every message", transport),
          duty=DUTY, device=edge.name, what=f"{item}: transport of the Edge's messages on {tc.label}")


@pytest.mark.duty(DUTY)
def test_item10_same_transport_both_ways_outbound(edge: Edge, trunk_plan: TrunkPlan, trunk_probe: TrunkProbe,
                                                  carrier: PstnSimulator, profile: Profile) -> None:
    before = len(carrier.call_log())
    tc = _call("outbound", trunk_plan, trunk_probe)
    judge_answered(tc, profile, duty=DUTY, device=edge, item="item 10, outbound transport", plan=trunk_plan)
    want = trunk_plan.first_route.sip.transport if trunk_plan.first_route.sip else "udp"
    number = dialplan.normalize(trunk_plan.test_number(), trunk_plan.plan.country) or ""
    rows = rows_for(new_carrier_rows(carrier, before), number)
    check(rows[-1].transport if rows else None, intent("trunk transport", want), duty=DUTY, device=edge.name,
          what=f"item 10: transport of the Edge's INVITE at {carrier.name}",
          detail=f"the inventory gives {carrier.name} sip.transport {want}")
