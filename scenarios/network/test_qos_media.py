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
(:mod:`harness.checks.qos` says how and why). Limits: the DSCP the org configures for the Edge's
trunk the leg's probe side sits on (the base settings of its external trunk on the inbound leg, of
its phone trunk on the outbound one, read through the Platform API); the requirement profile's,
else the duty catalogue's, for what the org does not say and everything else: RTP DSCP 46 and SIP
DSCP 24 (G-DSCP), delay <= 150 ms (G.114), jitter <= 30 ms and
loss <= 1 % (IND-QOS-RULES), MOS >= 3.5 (G-MOS), R >= 70 (project choice). Every leg's figures and
per-direction RTP statistics are attached to the report, passed or not; a failing leg also leaves a
pcap of its SIP and RTP as the probe saw them.

Per phone, against what the org's phone base settings of its phone record configure (else the
profile's): the DSCP of its own SIP (its answer to the harness's OPTIONS), CS3 24, and of its own
RTP on a call the harness places straight to the phone's SIP address (not through the Edge, which
re-marks what it relays), EF 46. A phone that refuses such a call (some take calls from their
registrar only) leaves its RTP marking unread: the test is skipped, saying so. An org marking other
than Genesys' default is recorded as an observation, never failed by itself.
"""

import pytest

from harness.checks.qos import (
    OrgDscp,
    dscp_seen,
    edge_org_dscp,
    evidence_on_failure,
    expected_dscp,
    judge_answered_leg,
    judge_leg,
    leg_of,
    observe_org_choice,
    phone_org_dscp,
)
from harness.checks.trunk import TrunkPlan
from harness.devices.drivers.cloud_telephony import OrgTelephony
from harness.devices.drivers.edge import Edge
from harness.devices.drivers.phone import Phone
from harness.devices.facts.switch_ports import normal_mac
from harness.devices.procedures.trunk_calls import MediaSample, TrunkProbe
from harness.duties.profile import Profile
from harness.evidence.attach import attach
from harness.evidence.check import check
from harness.evidence.reliance import relies_on

DUTY = "QOS-MEDIA"


def _judge(sample: MediaSample, edge: Edge, profile: Profile, item: str, org: OrgDscp, plan: TrunkPlan) -> None:
    leg = leg_of(sample)
    attach(f"QoS: {sample.label}", leg.summary())
    observe_org_choice(org, device=edge.name)
    limits = {name: expected_dscp(profile, name, org) for name in ("rtp_dscp", "sip_dscp")}
    with evidence_on_failure([sample], [leg]):  # a failing leg leaves its pcap and RTP statistics
        judge_answered_leg(sample, edge, DUTY, item, plan)
        judge_leg(leg, profile, device=edge.name, item=item, sip=sample.result.transport == "udp", limits=limits)


@pytest.mark.duty(DUTY)
@pytest.mark.core("the inbound leg's QoS")
def test_inbound_leg_carrier_to_phone(edge: Edge, trunk_plan: TrunkPlan, trunk_probe: TrunkProbe,
                                      profile: Profile, org_telephony_if_any: OrgTelephony | None) -> None:
    org = edge_org_dscp(org_telephony_if_any, edge.name)  # an API that cannot be read is BROKEN
    did = trunk_plan.ringing_did()
    label = f"inbound {did} -> {trunk_plan.dids[did]}"
    sample = trunk_probe.measure(trunk_probe.inbound(did), label, inbound=True)
    _judge(sample, edge, profile, "Edge trunk leg toward the carrier", org, trunk_plan)


@pytest.mark.duty(DUTY)
@pytest.mark.core("the outbound leg's QoS")
def test_outbound_leg_phone_to_carrier(edge: Edge, trunk_plan: TrunkPlan, trunk_probe: TrunkProbe,
                                       profile: Profile, org_telephony_if_any: OrgTelephony | None) -> None:
    org = edge_org_dscp(org_telephony_if_any, edge.name, "PHONE")
    station, phone = trunk_plan.any_station()
    number = trunk_plan.test_number()
    relies_on(*trunk_plan.routes[:1])  # the carrier's echo line answers: a dead carrier is BROKEN, not the Edge's FAIL
    label = f"outbound {phone.facts.extension} ({station}) -> {number}"
    sample = trunk_probe.measure(trunk_probe.outbound(phone.facts.extension, number), label,
                                 inbound=False)
    _judge(sample, edge, profile, "Edge phone leg toward the station", org, trunk_plan)


def _phone_org(phone: Phone, tel: OrgTelephony | None) -> OrgDscp:
    org = phone_org_dscp(tel, normal_mac(phone.device.facts.mac) or phone.device.facts.mac)
    observe_org_choice(org, device=phone.name)
    return org


@pytest.mark.duty(DUTY)
def test_phone_marks_its_sip(phone: Phone, profile: Profile, org_telephony_if_any: OrgTelephony | None) -> None:
    """The phone's own SIP leaves it marked (its answer to the harness's OPTIONS, read with
    ``IP_RECVTOS`` from the voice VLAN), as its phone base settings say."""
    limit, note = expected_dscp(profile, "sip_dscp", _phone_org(phone, org_telephony_if_any))
    r = phone.options()
    if r.status is None:
        phone.ensure_alive()  # a gone phone is BROKEN
    seen = phone.sip_tos_seen()
    check(dscp_seen(seen), limit, duty=DUTY, device=phone.name,
          what="DSCP of the phone's SIP (its answer to OPTIONS)",
          detail="; ".join(filter(None, (note, f"OPTIONS {r.status} from {r.address}",
                                         f"packets per ToS byte: {seen or 'none read'}"))))


@pytest.mark.duty(DUTY)
def test_phone_marks_its_rtp(phone: Phone, profile: Profile, org_telephony_if_any: OrgTelephony | None) -> None:
    """The phone's own RTP leaves it marked, as its phone base settings say: read on a call the
    harness places straight to the phone (``IP_RECVTOS`` of the echo it sends back)."""
    limit, note = expected_dscp(profile, "rtp_dscp", _phone_org(phone, org_telephony_if_any))
    c = phone.direct_call()
    if c.final_code is None:
        phone.ensure_alive()  # a gone phone is BROKEN
    if not c.answered:
        pytest.skip(f"{phone.name} did not take a call straight to {c.address} ({c.final_code} {c.final_reason}): "
                    "its RTP marking is not read")
    check(dscp_seen(c.rtp_tos), limit, duty=DUTY, device=phone.name,
          what="DSCP of the phone's RTP (a call straight to the phone)",
          detail="; ".join(filter(None, (note, f"{c.audio_packets} audio packets from the phone",
                                         f"packets per ToS byte: {c.rtp_tos or 'none read'}"))))
