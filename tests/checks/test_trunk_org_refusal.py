"""TrunkPlan.org_refusal / outbound_answer: which of the org's settings has an Edge refuse an outbound
number, and the input a refused call's status check then uses (no twin: a fake org)."""

from __future__ import annotations

from typing import Any, cast

from harness.checks.trunk import TrunkPlan, control_refused
from harness.devices.drivers.cloud_telephony import OrgTelephony
from harness.devices.facts.cloud_dialplan import NumberPlan, OutboundRoute
from harness.devices.facts.cloud_prefixes import Prefix
from harness.errors import LabError, LabTimeout
from harness.inventory.models import DialPlan, PstnDevice, Trunk
from harness.transports.rtp import RtpStats
from harness.transports.sip.call_base import CallResult

NATIONAL = NumberPlan(name="National", classification="National", match_type="intraCountryCode", priority=3)
EXTENSION = NumberPlan(name="Extension", classification="Extension", match_type="digitLength", priority=2,
                       digit_length={"start": "4", "end": "4"})
ROUTE = OutboundRoute(id="r1", name="out", classification_types=("National", "International"))


class FakeOrg:
    def __init__(self, plans: list[NumberPlan], routes: list[OutboundRoute], blocks: list[str],
                 error: LabError | None = None) -> None:
        self.plans, self.routes, self.error = plans, routes, error
        self.blocks = [Prefix(country_code=b[1:2], number=b[2:]) for b in blocks]

    def _read(self, v: Any) -> Any:
        if self.error is not None:
            raise self.error
        return v

    def number_plans(self) -> list[NumberPlan]:
        return cast(list[NumberPlan], self._read(self.plans))

    def outbound_routes(self) -> list[OutboundRoute]:
        return cast(list[OutboundRoute], self._read(self.routes))

    def blocked_prefixes(self) -> list[Prefix]:
        return cast(list[Prefix], self._read(self.blocks))


def plan(org: FakeOrg | None) -> TrunkPlan:
    pstn = cast(PstnDevice, None)  # not read by what is tested here
    return TrunkPlan("edge1", Trunk(), DialPlan(country="US"), {}, ("pstn1",), pstn,
                     org=cast(OrgTelephony | None, org))


def result(code: int | None, phrase: str = "", warning: str = "") -> CallResult:
    return CallResult("c1", "uac", "failed", "udp", code, phrase, None, None, False, None, None, None, 0,
                      RtpStats(), False, "", "", None, None, "", None, (), (), "", (), warning)


def test_an_unrouted_classification_is_the_route_input():
    inputs, why = plan(FakeOrg([NATIONAL], [OutboundRoute(id="r", name="o", classification_types=("International",))],
                               [])).org_refusal("+13175559000")
    assert inputs == ["outbound route for National"], inputs
    assert why == "the org classifies +13175559000 National and no enabled outbound route carries National"


def test_a_number_no_plan_classifies_is_the_number_plan_input():
    inputs, why = plan(FakeOrg([EXTENSION], [ROUTE], [])).org_refusal("3175559000")
    assert inputs == ["number plan classification of 3175559000"]
    assert why == "the org's number plans classify 3175559000 by no plan"


def test_a_blocked_prefix_is_the_block_list_input_the_longest_one():
    inputs, why = plan(FakeOrg([NATIONAL], [ROUTE], ["+1", "+1317"])).org_refusal("3175559000")
    assert inputs == ["org block list +1317"] and why == "the org's Block List holds +1317"


def test_a_number_the_org_routes_uses_no_input():
    assert plan(FakeOrg([NATIONAL], [ROUTE], ["+1900"])).org_refusal("+13175559000") == (
        [], "the org routes +13175559000 (National)")
    assert plan(None).org_refusal("+13175559000") == ([], "")


def test_an_org_that_cannot_be_read_uses_no_input_and_says_so():
    org = FakeOrg([], [], [], error=LabTimeout("cloud", "https", "api.example.test", "no answer in 10 s"))
    inputs, why = plan(org).org_refusal("+13175559000")
    assert inputs == [] and why.startswith("the org's outbound configuration could not be read (timeout: cloud")


def test_only_a_refusal_uses_the_org_and_the_edge_answer_comes_first():
    p = plan(FakeOrg([NATIONAL], [], []))
    warning = '399 edge1 "no outbound route carries National"'
    detail, used = p.outbound_answer("+13175559000", result(404, "Not Found", warning))
    assert used == ["outbound route for National"], used
    assert detail == (f"404 Not Found (Warning: {warning}); the org classifies +13175559000 National and no "
                      "enabled outbound route carries National"), detail
    assert p.outbound_answer("+13175559000", result(None, "no answer within 8 s")) == ("no answer within 8 s", [])
    assert p.outbound_answer("+13175559000", result(200, "OK")) == ("200 OK", [])


def test_a_refused_control_call_is_a_lab_error_on_the_edge():
    class Probe:
        phone_trunk = ("192.0.2.1", 8060)

    p = plan(FakeOrg([NATIONAL], [], []))
    e = control_refused(p, cast(Any, Probe()), "+13175559000", [result(404, "Not Found")])
    assert e is not None and type(e) is LabError and e.device == "edge1", e
    assert str(e) == ("lab error: edge1 sip 192.0.2.1:8060: edge1 answered 1 of 1 control call(s) to +13175559000 "
                      "404 Not Found; the org classifies +13175559000 National and no enabled outbound route carries "
                      "National: with no control call at the carrier, its call log cannot prove that nothing leaked")
    assert control_refused(p, cast(Any, Probe()), "+13175559000", [result(200, "OK")]) is None
