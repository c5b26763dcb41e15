"""PSTN-CAPACITY: the trunk holds its Max Calls and refuses the next call with the configured code;
a sustained call rate holds with zero failed calls.

(a) With the trunk's ``max_calls`` N from the inventory, N concurrent calls through the trunk are all
answered and the Edge's live count (its external trunk's ``TrunkMetricsCalls`` in Genesys Cloud,
[API-TRUNKMETRICS]) says N; call N+1,
placed by the harness as the carrier to a DID, is refused with ``max_calls_code`` (Genesys default
503 [G-MAXCALLS]). The N calls must not depend on which station answers: they go to the carrier's
echo line (its first test number, from a station's extension on the Edge's phone trunk), or, when the
carrier lists none, to the DIDs of stations the run has not found dead (declared relied on). The
trunk must be idle first: calls already up (another run, a person) make the test BROKEN ("lab busy"),
not FAIL. Max Calls 0 means unlimited (Genesys Premises): the check is SKIPPED with that reason,
since no limit exists to hit.
(b) SIPp, run for the carrier (the PSTN simulator driver), originates calls at ``sustained_cps`` for
``sustained_s`` seconds to the DID of a station the run has not found dead (declared relied on); every
call must succeed (project choice: 10 calls/s for 5 s, overridable in the requirement profile). Judged
by SIPp's counts, not its exit code.
"""

from collections.abc import Callable

import pytest

from harness.checks.trunk import TrunkPlan, attach_ladder, call_answer
from harness.devices.drivers.edge import Edge
from harness.devices.drivers.pstn import PstnSimulator
from harness.devices.procedures.trunk_calls import TrunkProbe
from harness.duties.profile import Profile
from harness.errors import LabBusy
from harness.evidence.attach import attach
from harness.evidence.check import check, intent, observe
from harness.transports.sip.ua import CallHandle

DUTY = "PSTN-CAPACITY"


def _capacity_calls(trunk_plan: TrunkPlan, trunk_probe: TrunkProbe) -> tuple[str, Callable[[], CallHandle]]:
    """What the N calls are (for messages) and how to place one: to the carrier's echo line, else
    inbound to the DIDs of live stations in turn (a SKIP when neither exists)."""
    numbers = trunk_plan.first_route.facts.test_numbers
    if numbers and trunk_plan.stations:
        _, phone = trunk_plan.any_station()
        ext = phone.facts.extension
        return (f"outbound {ext} -> {numbers[0]} (the carrier's echo line)",
                lambda: trunk_probe.outbound(ext, numbers[0]))
    if not trunk_plan.dids:
        pytest.skip(f"the dial plan of {trunk_plan.edge} lists no DIDs and {trunk_plan.routes[0]} no test number")
    dids = [trunk_plan.call_to(d) for d in trunk_plan.live_dids()]
    placed: list[str] = []

    def inbound() -> CallHandle:
        placed.append(dids[len(placed) % len(dids)])
        return trunk_probe.inbound(placed[-1])
    return f"inbound to {', '.join(dids)}", inbound


@pytest.mark.duty(DUTY)
def test_max_calls_held_and_next_call_refused(edge: Edge, trunk_plan: TrunkPlan, trunk_probe: TrunkProbe,
                                              profile: Profile) -> None:
    n = trunk_plan.trunk.max_calls
    if n == 0:
        pytest.skip(f"{edge.name}'s trunk has max_calls 0 (unlimited): no limit to reach")
    if not trunk_plan.dids:
        pytest.skip(f"the dial plan of {edge.name} lists no DIDs: no call N+1 to place as the carrier")
    what, place = _capacity_calls(trunk_plan, trunk_probe)
    up = edge.trunk_status()
    baseline = up.calls
    observe(baseline, duty=DUTY, device=edge.name, what="trunk calls up before the test (trunk metrics)",
            detail=f"the test places {n} calls ({what}) to reach max_calls {n}")
    if baseline:
        raise LabBusy(edge.name, "api", edge.device.host,
                      f"{baseline} call{'' if baseline == 1 else 's'} already up on {edge.name} before the test "
                      f"(trunk metrics: inbound "
                      f"{up.inbound_calls}, outbound {up.outbound_calls}): the trunk must be idle to be filled "
                      f"to max_calls {n}")
    held: list[CallHandle] = []
    try:
        for i in range(n):
            call = place()
            held.append(call)
            detail, used = call_answer(call.result(), trunk_probe.dialled(call), trunk_plan)
            check(call.result().final_code, profile.threshold(DUTY, "call_status"), duty=DUTY,
                  device=edge.name, what=f"call {i + 1} of {n} (max_calls), {what}", detail=detail, inputs_used=used)
        status = edge.trunk_status()
        check(status.calls, intent("live trunk calls", n, "calls"), duty=DUTY,
              device=edge.name, what=f"live call count with {n} calls up (trunk metrics)",
              detail=f"inbound {status.inbound_calls}, outbound {status.outbound_calls}")
        did = next(iter(trunk_plan.dids))  # refused before any routing: no station answers it
        extra = trunk_probe.inbound(did)
        held.append(extra)
        attach_ladder(f"call {n + 1} (over Max Calls)", extra.ladder())
        limit = profile.threshold(DUTY, "over_capacity_status")
        expected = trunk_plan.trunk.max_calls_code
        check(extra.result().final_code, limit, expected=expected if expected != limit.value else None, duty=DUTY,
              device=edge.name, what=f"answer to call {n + 1} with {n} calls up (max_calls {n}), inbound to {did}",
              detail=extra.result().final_reason)
    finally:
        for call in held:
            if call.state == "confirmed":
                call.bye()


@pytest.mark.duty(DUTY)
def test_sustained_call_rate_has_no_failed_call(edge: Edge, trunk_plan: TrunkPlan, carrier: PstnSimulator,
                                                profile: Profile) -> None:
    did = trunk_plan.ringing_did()
    cps = profile.threshold(DUTY, "sustained_cps").number
    seconds = profile.threshold(DUTY, "sustained_s").number
    calls = max(1, int(cps * seconds))
    host, port = edge.sip_address()  # the trunk's SIP port
    concurrency = trunk_plan.trunk.max_calls or None
    result = carrier.sipp().originate(f"{host}:{port}", did, calls=calls, rate_cps=cps,
                                      concurrency=concurrency, caller="+13175557777", timeout_s=seconds + 30.0)
    attach(f"SIPp {result.scenario} statistics", result.summary() + "\n\n" + result.screen)
    check(result.calls_requested - result.calls_successful, profile.threshold(DUTY, "sustained_failed_calls"),
          duty=DUTY, device=edge.name, what=f"calls to {did} at {cps:g} calls/s for {seconds:g} s that did not succeed",
          detail=result.summary())
