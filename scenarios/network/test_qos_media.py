"""QOS-MEDIA: calls through the Edge keep voice quality, and the Edge marks what it sends.

Two legs per Edge, each a call placed by the harness's probe and echoed back by the lab's far end:

* **inbound** (carrier -> Edge -> phone): the probe plays the carrier on the Edge's trunk port and
  calls a DID; it reads the DSCP of the RTP and SIP the Edge sends toward the carrier. Relies on
  the phone the DID rings (a dead phone makes the test BROKEN, not FAIL).
* **outbound** (phone -> Edge -> carrier): the probe plays a station on the Edge's phone trunk and
  calls the carrier's test number (an echo line); it reads the DSCP of what the Edge sends toward
  the station.

On each leg, over a 2 s window of G.711 at 20 ms: one-way delay (half the echo round trip of the
probe's own frames), RFC 3550 jitter, round-trip loss, and G.107 R and MOS
(:mod:`harness.checks.qos` says how and why). Limits (the requirement profile's, else the duty
catalogue's): RTP DSCP 46 and SIP DSCP 24 (G-DSCP), delay <= 150 ms (G.114), jitter <= 30 ms and
loss <= 1 % (IND-QOS-RULES), MOS >= 3.5 (G-MOS), R >= 70 (project choice). Every leg's figures and
per-direction RTP statistics are attached to the report, passed or not; a failing leg also leaves a
pcap of its SIP and RTP as the probe saw them.

Per phone: the DSCP of its own SIP (its answer to the harness's OPTIONS), CS3 24. Its RTP marking
is not read (that needs a call straight to the phone).
"""

import pytest

from harness.checks.qos import dscp_seen, evidence_on_failure, judge_answered_leg, judge_leg, leg_of
from harness.checks.trunk import TrunkPlan
from harness.devices.drivers.edge import Edge
from harness.devices.drivers.phone import Phone
from harness.devices.procedures.trunk_calls import MediaSample, TrunkProbe
from harness.duties.profile import Profile
from harness.evidence.attach import attach
from harness.evidence.check import check
from harness.evidence.reliance import relies_on

DUTY = "QOS-MEDIA"


def _judge(sample: MediaSample, edge: Edge, profile: Profile, item: str) -> None:
    leg = leg_of(sample)
    attach(f"QoS: {sample.label}", leg.summary())
    with evidence_on_failure([sample], [leg]):  # a failing leg leaves its pcap and RTP statistics
        judge_answered_leg(sample, edge, DUTY, item)
        judge_leg(leg, profile, device=edge.name, item=item, sip=sample.result.transport == "udp")


@pytest.mark.duty(DUTY)
@pytest.mark.core("the inbound leg's QoS")
def test_inbound_leg_carrier_to_phone(edge: Edge, trunk_plan: TrunkPlan, trunk_probe: TrunkProbe,
                                      profile: Profile) -> None:
    did = trunk_plan.ringing_did()
    label = f"inbound {did} -> {trunk_plan.dids[did]}"
    sample = trunk_probe.measure(trunk_probe.inbound(did), label, inbound=True)
    _judge(sample, edge, profile, "Edge trunk leg toward the carrier")


@pytest.mark.duty(DUTY)
@pytest.mark.core("the outbound leg's QoS")
def test_outbound_leg_phone_to_carrier(edge: Edge, trunk_plan: TrunkPlan, trunk_probe: TrunkProbe,
                                       profile: Profile) -> None:
    station, phone = trunk_plan.any_station()
    number = trunk_plan.test_number()
    relies_on(*trunk_plan.routes[:1])  # the carrier's echo line answers: a dead carrier is BROKEN, not the Edge's FAIL
    label = f"outbound {phone.facts.extension} ({station}) -> {number}"
    sample = trunk_probe.measure(trunk_probe.outbound(phone.facts.extension, number), label,
                                 inbound=False)
    _judge(sample, edge, profile, "Edge phone leg toward the station")


@pytest.mark.duty(DUTY)
def test_phone_marks_its_sip(phone: Phone, profile: Profile) -> None:
    """The phone's own SIP leaves it marked (its answer to the harness's OPTIONS, read with
    ``IP_RECVTOS`` from the voice VLAN). The phone's RTP marking is not read: that needs a call
    straight to the phone, which not every phone model takes."""
    r = phone.options()
    if r.status is None:
        phone.ensure_alive()  # a gone phone is BROKEN
    seen = phone.sip_tos_seen()
    check(dscp_seen(seen), profile.threshold(DUTY, "sip_dscp"), duty=DUTY, device=phone.name,
          what="DSCP of the phone's SIP (its answer to OPTIONS)",
          detail=f"OPTIONS {r.status} from {r.address}; packets per ToS byte: {seen or 'none read'}")
