"""NET-BANDWIDTH: the site's WAN carries its planned voice load.

The harness, as a station on the Edge's phone trunk, places ``network.media.bandwidth_calls`` (N)
concurrent calls to the carrier's test number (an echo line), so N G.711 streams cross the Edge's
carrier media and the WAN both ways, and measures them over one 2 s window:

* when the inventory states the voice class's rate (``network.media.wan_voice_kbps``), it must be at
  least N x 87.2 kbit/s (G.711 at 20 ms per direction on Ethernet: DUTIES.md §2.4, IND-CISCO-BW);
* the rate that came back (layer 2, per direction) must be N x 87.2 kbit/s (or the rate the harness
  really offered, when its own sending fell up to :data:`~harness.checks.qos.PACING_TOLERANCE_PCT`
  (3 %) short of it) less at most the loss allowed, and the round-trip loss over all calls at most 1 %
  (IND-QOS-RULES). A harness that offered less than that, every call answered, did not load the WAN
  to the rate under test: BROKEN, not a finding (:meth:`~harness.checks.qos.LoadResult.offer_shortfall`).

And when the inventory names the switch port toward the WAN router (``network.media.wan_port``),
its IF-MIB octet counters (RFC 2863 ``ifHCOutOctets`` / ``ifHCInOctets``, read over SNMP just before
the calls and just after they hang up) must have counted the load: out, the frames the probe sent
(each crossed the port toward the carrier), in, the echoed frames that came back to it, each 218
octets on Ethernet (G.711 20 ms). Limit: at least 95 % of it each way (project choice: a counter
read a moment early or a frame lost beyond the port, not a switch that does not count). More is
not a failure: the port carries the site's other traffic too; the surplus is in the evidence.

Every call's figures are attached; when the check fails, every call also leaves a pcap of its SIP
and RTP as the probe saw them, and its per-direction RTP statistics.
"""

import pytest

from harness.checks.qos import (
    LoadResult,
    evidence_on_failure,
    judge_answered_leg,
    leg_of,
    load_result,
    port_count,
)
from harness.checks.trunk import TrunkPlan
from harness.devices.drivers.edge import Edge
from harness.devices.drivers.switch import OctetCounters, Switch
from harness.devices.procedures.trunk_calls import TrunkProbe
from harness.devices.session import LabSession
from harness.duties.catalogue import Threshold
from harness.duties.profile import Profile
from harness.errors import LabProtocolError
from harness.evidence.attach import attach
from harness.evidence.check import check, intent
from harness.evidence.reliance import relies_on

DUTY = "NET-BANDWIDTH"


@pytest.mark.duty(DUTY)
@pytest.mark.core("the voice load through the WAN")
def test_planned_voice_load_crosses_the_wan(edge: Edge, trunk_plan: TrunkPlan, trunk_probe: TrunkProbe,
                                            lab: LabSession, profile: Profile) -> None:
    media = lab.lab.network.media
    if media is None:
        pytest.skip("the inventory has no network.media (the WAN's voice class and the calls to offer)")
    n = media.bandwidth_calls
    per_call = profile.threshold(DUTY, "g711_20ms_bandwidth_kbps")
    loss_limit = profile.threshold(DUTY, "loss_pct")
    needed = n * float(per_call.number)
    if media.wan_voice_kbps is not None:
        check(media.wan_voice_kbps, intent("wan_voice_kbps", round(needed, 1), "kbit/s", ">=",
                                           f"{n} x {per_call.value} kbit/s ({per_call.source})"),
              duty=DUTY, device="network.media", what="voice class rate the inventory states for the WAN")
    station, phone = trunk_plan.any_station()
    number = trunk_plan.test_number()
    relies_on(*trunk_plan.routes[:1])  # the carrier's echo line answers: a dead carrier is BROKEN, not the Edge's FAIL
    wan = media.wan_port
    switch = lab.driver(wan.switch, Switch) if wan is not None else None
    before = switch.octet_counters(wan.port) if switch is not None and wan is not None else None
    ext = phone.facts.extension
    calls = [(trunk_probe.outbound(ext, number, codecs=("PCMU",)), f"call {i + 1}/{n}: {ext} ({station}) -> {number}")
             for i in range(n)]
    samples = trunk_probe.measure_many(calls, inbound=False)
    after = switch.octet_counters(wan.port) if switch is not None and wan is not None else None
    legs = [leg_of(s) for s in samples]
    result = load_result(legs, samples[0].window)
    attach(f"NET-BANDWIDTH: {n} calls", result.summary())
    # the link is judged on what it was given: the probe's pacing may fall a frame short of the nominal rate
    allowed = round(min(needed, result.offered_kbps) * (1 - float(loss_limit.number) / 100.0), 1)
    with evidence_on_failure(samples, legs):  # failing calls leave their pcaps and RTP statistics
        for s in samples:
            judge_answered_leg(s, edge, DUTY, "load call", trunk_plan)
        if (short := result.offer_shortfall(needed)) is not None:  # every call answered
            raise LabProtocolError(edge.name, "rtp", trunk_probe.local_host, short)
        _judge_load(result, edge, n, allowed, per_call.value, per_call.source, loss_limit)
        if switch is not None and before is not None and after is not None:
            sent = sum(len(smp.sent_s) for smp in samples)
            back = sum(smp.rtp.audio_packets for smp in samples)
            _judge_port(switch.name, before, after, sent, back, n, profile)


def _judge_port(switch: str, before: OctetCounters, after: OctetCounters, sent: int, back: int, n: int,
                profile: Profile) -> None:
    """The WAN router's switch port counted the load both ways (see the module docstring). Each
    direction's line names the switch and port once (as its device) and gives the octets behind its
    percentage; the attachment holds both directions."""
    counts = [port_count("out", before.out_octets, after.out_octets, sent),
              port_count("in", before.in_octets, after.in_octets, back)]
    apart = f"read {after.at_s - before.at_s:.1f} s apart"
    attach(f"NET-BANDWIDTH: {switch} {after.interface} IF-MIB octets",
           f"{after.interface} (ifIndex {after.if_index}), {apart}; " + "; ".join(c.line() for c in counts))
    limit = profile.threshold(DUTY, "wan_port_counted_pct")
    what = {"out": f"ifHCOutOctets toward the WAN over {n} calls, % of the octets of the {sent} frames sent",
            "in": f"ifHCInOctets from the WAN over {n} calls, % of the octets of the {back} frames echoed"}
    stuck = ("; a counter that did not move while the load crossed: the switch's counters are stuck, "
             "or network.media.wan_port names a port the voice traffic does not take"
             if any(c.counted == 0 for c in counts) else "")
    failed: list[AssertionError] = []
    for c in counts:
        counted = "no counter" if c.counted is None else f"{c.counted} octets counted"
        try:
            check(c.counted_pct, limit, duty=DUTY, device=f"{switch} {after.interface}", what=what[c.direction],
                  detail=f"ifIndex {after.if_index}, {apart}; {counted} of the load's {c.expected}{stuck}")
        except AssertionError as e:
            failed.append(e)
    if failed:
        raise failed[0]


def _judge_load(result: LoadResult, edge: Edge, n: int, allowed: float, per_call: object,
                per_call_source: str, loss_limit: Threshold) -> None:
    nominal = f"{n} x {per_call} kbit/s ({per_call_source})"
    basis = nominal if result.offered_kbps >= n * float(str(per_call)) else \
        f"the {result.offered_kbps:.1f} kbit/s the harness offered of {nominal}"
    check(result.carried_kbps, intent("carried_kbps", allowed, "kbit/s", ">=",
                                      f"{basis} less {loss_limit.value} % loss ({loss_limit.source})"),
          duty=DUTY, device=edge.name, what=f"voice rate carried per direction by {n} concurrent calls over the WAN",
          detail=result.summary())
    check(result.loss_pct, loss_limit, duty=DUTY, device=edge.name,
          what=f"round-trip loss of {n} concurrent calls over the WAN", detail=result.summary())
