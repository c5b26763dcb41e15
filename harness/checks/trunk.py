"""What trunk scenarios share (PSTN-CONNECT, PSTN-INTEROP, PSTN-CAPACITY, SEC-TOLL-FRAUD):
:class:`TrunkPlan` (the inventory's view of one Edge's trunk, built by the plugin's ``trunk_plan``
fixture), the judges of an answered call and of echoed audio, the SIP ladder attachment, the
reading of the carrier's call log, and the guard before a test call that could cost money or reach a
service (:func:`real_carrier_risk`, :func:`guard_call`).

An outbound test call hangs on the org's configuration as well as on the trunk: a Genesys Edge takes
the org's number plans, outbound routes and prefix Block List from the org (G-NUMPLAN, G-PREFIX).
:meth:`TrunkPlan.org_refusal` reads them through the Platform API (the same reads and the same
classification CFG-DIALPLAN judges them with) and says which of them has the Edge refuse a number;
:meth:`TrunkPlan.outbound_answer` turns a refused call's answer into the detail and the ``inputs_used``
of its status check, so a call refused because of a failed org check is reported as a consequence of
that finding (:mod:`harness.evidence.findings`), once, in this one place for every duty that calls
out."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sipmessage import URI

from ..devices.capabilities import SipEndpoint
from ..devices.drivers.cloud_telephony import OrgTelephony
from ..devices.drivers.pstn import CarrierRecord, PstnSimulator
from ..devices.facts.cloud_dialplan import classify
from ..devices.facts.cloud_prefixes import covers
from ..devices.facts.dialplan import normalize
from ..devices.procedures.trunk_calls import TestCall, TrunkProbe
from ..duties.profile import Profile
from ..errors import LabError
from ..evidence.attach import attach
from ..evidence.check import check
from ..evidence.reliance import relies_on
from ..evidence.skips import skip_for_run
from ..inventory.models import DialPlan, Lab, PhoneDevice, PstnDevice, Trunk
from ..transports.sip.call_base import CallResult

LEAVE_THE_SITE = ("Emergency", "National", "International")  # the classifications a site dials out (G-NUMPLAN)
#: the run condition a call held back by :func:`guard_call` names (``skipped_for``)
REAL_CARRIER = "a trunk that could reach a real carrier"


@dataclass(frozen=True)
class TrunkPlan:
    """The inventory's view of one Edge's trunk.

    ``stations``: phone name -> its inventory entry, for the phones registered with this Edge.
    ``routes``: PSTN device names in failover order. ``first_route``: the inventory entry of the
    first one. ``dids``: DID -> extension from the dial plan. ``dead``: stations the run had found
    dead when the plan was made (quarantined on every transport). ``org``: the lab's Genesys Cloud
    org (its reads cached for the run), ``None`` without ``cloud:`` in the inventory.
    """

    edge: str
    trunk: Trunk
    plan: DialPlan
    stations: dict[str, PhoneDevice]
    routes: tuple[str, ...]
    first_route: PstnDevice
    dead: frozenset[str] = frozenset()
    org: OrgTelephony | None = None

    @property
    def dids(self) -> dict[str, str]:
        return self.plan.dids

    def station(self, extension: str) -> str:
        """Name of the phone with ``extension``."""
        return next(n for n, p in self.stations.items() if p.facts.extension == extension)

    def station_for(self, did: str) -> str | None:
        """The phone an inbound call to ``did`` rings (the dial plan's extension), or None when no
        station of this Edge has that extension."""
        ext = self.dids.get(did)
        return next((n for n, p in self.stations.items() if p.facts.extension == ext), None)

    def call_to(self, did: str) -> str:
        """``did``, declared as what the running check relies on: an inbound call to it is answered by
        the phone the Edge routes it to, so that phone dead makes a failing check BROKEN, not FAIL."""
        if (station := self.station_for(did)) is not None:
            relies_on(station)
        return did

    def live_dids(self) -> list[str]:
        """The DIDs whose station the run has not found dead (all of them when every one is dead: a
        call to a dead station then breaks the test, naming it), in dial-plan order."""
        live = [d for d in self.dids if self.station_for(d) not in self.dead]
        return live or list(self.dids)

    def ringing_did(self) -> str:
        """A DID to call inbound, its station not found dead and declared relied on (:meth:`call_to`);
        a SKIP when the dial plan lists none."""
        if not self.dids:
            pytest.skip(f"the dial plan of {self.edge} lists no DIDs")
        return self.call_to(self.live_dids()[0])

    def any_station(self) -> tuple[str, PhoneDevice]:
        """The first station of this Edge (a SKIP when it has none)."""
        if not self.stations:
            pytest.skip(f"no phone in the inventory registers with {self.edge}")
        return next(iter(self.stations.items()))

    def org_refusal(self, dialled: str) -> tuple[list[str], str]:
        """Why the org's configuration has the Edge refuse an outbound call to ``dialled`` (as a station
        dials it): ``(inputs, reason)``, ``inputs`` the shared inputs of the org checks that judge that
        part of it, in the order an Edge applies them (G-NUMPLAN, G-PREFIX):

        * no number plan classifies ``dialled``, or classifies it as something that does not leave the
          site: ``[number_plan_input(dialled)]`` (CFG-DIALPLAN's number plan check);
        * no enabled outbound route carries its classification: ``[outbound_route_input(c)]``
          (CFG-DIALPLAN's outbound route check);
        * a prefix on the org's Block List covers it: ``[block_list_input(prefix)]``.

        ``([], why)`` when the org routes it (or has no ``cloud:``, or cannot be read: ``why`` says so)."""
        if self.org is None:
            return [], ""
        try:
            plan = classify(self.org.number_plans(), dialled, self.plan.country)
            routes = self.org.outbound_routes()
            blocks = [p.e164 for p in self.org.blocked_prefixes()]
        except LabError as e:
            return [], f"the org's outbound configuration could not be read ({e})"
        c = plan.classification if plan is not None else None
        if not c or c.lower() not in (x.lower() for x in LEAVE_THE_SITE):
            what = f"as {c} (plan {plan.name})" if plan is not None and c else "by no plan"
            return [number_plan_input(dialled)], f"the org's number plans classify {dialled} {what}"
        if not any(r.carries(c) for r in routes):
            return [outbound_route_input(c)], (f"the org classifies {dialled} {c} and no enabled outbound route "
                                               f"carries {c}")
        e164 = normalize(dialled, self.plan.country) or dialled
        hits = [b for b in blocks if covers(b, e164)]
        if hits:
            prefix = max(hits, key=len)
            return [block_list_input(prefix)], f"the org's Block List holds {prefix}"
        return [], f"the org routes {dialled} ({c})"

    def outbound_answer(self, dialled: str, result: CallResult) -> tuple[str, list[str]]:
        """The detail and ``inputs_used`` of the status check of an outbound call to ``dialled``: what the
        Edge answered (:func:`answer_of`) and, when it refused the call (>= 400) and the org's
        configuration refuses that number (:meth:`org_refusal`), the org's reason and its inputs. A call
        the Edge refused although the org routes it, or left unanswered, uses no org input: its failure
        stands as its own finding."""
        answer = answer_of(result)
        if result.final_code is None or result.final_code < 400:
            return answer, []
        inputs, why = self.org_refusal(dialled)
        return (f"{answer}; {why}" if why else answer), inputs

    def block_list_rule(self, prefix: str) -> str:
        """The shared input a leak of a number under ``prefix`` that every station class bars hangs on: the
        org's Block List when it lacks the prefix (``block_list_input``), else this Edge applying the list
        the org holds (``edge_block_list_input``). The org's list is read through the API; without an org
        (or when it cannot be read) the org's list is what is named."""
        try:
            listed = self.org is not None and any(covers(p.e164, prefix) for p in self.org.blocked_prefixes())
        except LabError:
            listed = False
        return edge_block_list_input(self.edge) if listed else block_list_input(prefix)

    def test_number(self) -> str:
        """The carrier's first test number (an echo line), or a SKIP."""
        if not self.first_route.facts.test_numbers:
            pytest.skip(f"{self.routes[0]} lists no test_numbers: nothing to call outbound")
        return self.first_route.facts.test_numbers[0]


def attach_ladder(label: str, ladder: str) -> None:
    """The SIP ladder of one test call, as an Allure text attachment."""
    attach(f"SIP ladder: {label}", ladder or "(no message)")


def answer_of(result: CallResult) -> str:
    """What the far side answered a call, for a message: ``404 Not Found (Warning: 399 edge1 "no outbound
    route carries National")``, the phrase alone without a Warning, else why no answer came."""
    if result.final_code is None:
        return result.final_reason or result.error or "no final answer"
    head = f"{result.final_code} {result.final_reason}".strip()
    return f"{head} (Warning: {result.final_warning})" if result.final_warning else head


def call_answer(result: CallResult, dialled: str = "", plan: TrunkPlan | None = None) -> tuple[str, list[str]]:
    """The detail and ``inputs_used`` of the status check of a call: :meth:`TrunkPlan.outbound_answer` for
    an outbound call (``dialled`` given, with the ``plan``), else what the far side answered alone."""
    return plan.outbound_answer(dialled, result) if plan is not None and dialled else (answer_of(result), [])


def judge_answered(tc: TestCall, profile: Profile, *, duty: str, device: SipEndpoint, item: str,
                   plan: TrunkPlan | None = None) -> None:
    """The call was answered 2xx (``call_status``). Attaches the ladder first. A call the Edge left
    without any final answer while its management plane is gone is BROKEN (LabUnreachable), not FAIL.
    Given the ``plan``, an outbound call the Edge refused as the org's configuration has it refuse that
    number names the org's reason and uses its input (:meth:`TrunkPlan.outbound_answer`).

    Raises DutyNotMet naming the checklist ``item``, the call, the status and the Edge's answer."""
    attach_ladder(tc.label, tc.ladder)
    r = tc.result
    if r.final_code is None:
        device.ensure_alive()
    detail, used = call_answer(r, tc.dialled, plan)
    check(r.final_code, profile.threshold(duty, "call_status"), duty=duty, device=device.name,
          what=f"{item}: final answer to {tc.label}", detail=detail, inputs_used=used)


def judge_audio_back(tc: TestCall, profile: Profile, *, duty: str, device: str, item: str) -> None:
    """Audio came back on an answered call (``audio_packets``): the lab's far ends echo what they
    receive, so nothing back means one direction of the media path (or both) is broken."""
    check(tc.audio_back, profile.threshold(duty, "audio_packets"), duty=duty, device=device,
          what=f"{item}: audio echoed back on {tc.label}",
          detail=f"codec {tc.result.codec}, {tc.result.rtp_sent_packets} RTP packets sent by the probe; "
                 "the far end echoes what reaches it")


def control_refused(plan: TrunkPlan, probe: TrunkProbe, control: str, results: list[CallResult]) -> LabError | None:
    """Why a control call to the carrier's test number ``control`` (``results``: the probe's calls to it)
    cannot show in the carrier's call log: the Edge refused one (>= 300) and its answer, with the org's
    reason when its configuration has the Edge refuse that number (:meth:`TrunkPlan.org_refusal`), as a
    LabError on the Edge's phone trunk (a check that needs the control row cannot judge; the Edge, not the
    carrier, is what stopped it). ``None`` when the Edge refused none."""
    refused = [r for r in results if r.final_code is not None and r.final_code >= 300]
    if not refused:
        return None
    inputs, why = plan.org_refusal(control)
    host, port = probe.phone_trunk
    return LabError(plan.edge, "sip", f"{host}:{port}",
                    f"{plan.edge} answered {len(refused)} of {len(results)} control call(s) to {control} "
                    f"{answer_of(refused[0])}" + (f"; {why}" if inputs else "")
                    + ": with no control call at the carrier, its call log cannot prove that nothing leaked")


def new_carrier_rows(carrier: PstnSimulator, before: int, method: str = "INVITE") -> list[CarrierRecord]:
    """Rows of the carrier's call log after the first ``before`` rows, of ``method``."""
    return [r for r in carrier.call_log()[before:] if r.method == method]


def rows_for(rows: list[CarrierRecord], e164: str) -> list[CarrierRecord]:
    """Rows whose Request-URI user is ``e164`` (``sip:+1317…@host;user=phone``)."""
    return [r for r in rows if uri_user(r.request_uri) == e164]


def rows_dialling(rows: list[CarrierRecord], e164: str, country: str) -> list[CarrierRecord]:
    """Rows whose Request-URI user, read as a number from ``country`` (E.164 or not), is ``e164``: a
    number that reached the carrier in any form (``sip:3175559000@…`` as well as ``sip:+13175559000@…``)."""
    return [r for r in rows if normalize(uri_user(r.request_uri), country) == e164]


def uri_user(uri: str) -> str:
    """The user part of a SIP URI (``sip:+1317…@host;user=phone`` gives ``+1317…``) or the number of a
    tel URI; ``""`` when the URI has none or does not parse (RFC 3261 section 19.1, RFC 3966)."""
    try:
        return URI.parse(uri.strip().removeprefix("<").removesuffix(">")).user or ""
    except ValueError:
        return ""


def block_list_input(prefix: str) -> str:
    """The shared input a call to a number starting with ``prefix`` (E.164) relies on, as CFG-DIALPLAN's
    and SEC-TOLL-FRAUD's checks name it (:mod:`harness.evidence.findings`): what the org's prefix Block
    List does with it, which the org pushes to its Edges (``"org block list +1900"``). The org's checks
    judge it; a call an Edge put through or refused by it only used it."""
    return f"org block list {prefix}"


def outbound_route_input(classification: str) -> str:
    """The shared input a call the org classifies ``classification`` relies on, as CFG-DIALPLAN's outbound
    route check names it: an enabled outbound route of the org carries it (``"outbound route for
    National"``). The org pushes its routes to its Edges; an Edge refuses what no route carries."""
    return f"outbound route for {classification}"


def edge_block_list_input(edge: str) -> str:
    """The shared input a call to a prefix the org blocks relies on once the org's list holds it:
    the Edge applies the org's Block List (``"edge1 applies the org's Block List"``), as SEC-TOLL-FRAUD's
    wire check of the org's prefixes judges it."""
    return f"{edge} applies the org's Block List"


def station_class_input(station_class: str, prefix: str) -> str:
    """The shared input a call to ``prefix`` from a station of ``station_class`` relies on when the
    inventory's station class (not the org) bars it (``"station class lobby bars +4"``): no check judges
    it on its own, so a leak it explains stands as its own finding."""
    return f"station class {station_class} bars {prefix}"


def number_plan_input(dialled: str) -> str:
    """The shared input a call to ``dialled`` relies on, as CFG-DIALPLAN's checks name it: the
    classification the site's number plans give the dial string, which the org pushes to its Edges
    (``"number plan classification of 3175559000"``)."""
    return f"number plan classification of {dialled}"


def edge_sip_input(edge: str, port: int) -> str:
    """The shared input a check of whether Edge ``edge``'s SIP answers on ``port`` judges or relies on
    (:mod:`harness.evidence.findings`): ``"sip options answered by edge edge1 on port 5060"``.
    PSTN-CONNECT judges it for the trunk port (an OPTIONS from the carrier's side, no answer within
    its limit); DATA-ACCURACY's Edge comparison relies on it when the org shows the Edge ONLINE while
    its SIP is silent (the Edge's SIP is at fault there, not the org's record)."""
    return f"sip options answered by edge {edge} on port {port}"


def lab_carriers(lab: Lab) -> set[tuple[str, int]]:
    """The SIP ``(host, port)`` of every carrier simulator of the inventory (its ``pstn`` devices; port
    5060 where the inventory gives none)."""
    return {(d.host, d.sip.port if d.sip else 5060) for d in lab.devices.values() if isinstance(d, PstnDevice)}


def real_carrier_risk(lab: Lab, org: OrgTelephony | None, classification: str | None = None) -> str | None:
    """Why a test call the harness chose to a number that could cost money or reach a service (an
    emergency number, a premium or blocked prefix, an international number) may not be placed; None
    when it may: every server (``trunk_transport_serverProxyList``, ``host`` or ``host:port``) of every
    trunk base the org's outbound routes carrying ``classification`` use (of every trunk base of the org
    when ``classification`` is None or no route carries it: a number the Edge should refuse, which a
    broken Edge may send over any trunk) is one of the lab's
    carrier simulators (:func:`lab_carriers`). Where the org cannot be read (no ``cloud:`` section) the
    harness cannot know where the site sends the call, and says so.

    Reads the org's outbound routes and trunk base settings (:class:`OrgTelephony`); a failed read
    raises as that read does (LabUnreachable, CloudApiError). Project choice: the lab's own carrier
    simulators are the only far end a test call to such a number may reach."""
    if org is None:
        return "the inventory has no cloud: section, so where the site's trunks lead is not known"
    routes = [r for r in org.outbound_routes() if r.carries(classification)] if classification else []
    if routes:
        bases = {b.id for route in routes for b in route.external_trunk_bases}
        servers = [s for b in org.trunk_base_settings() if b.id in bases for s in b.servers]
        what = f"the org routes {classification}"
    else:  # a call no route carries is to be refused; an Edge that does not refuse it may take any trunk
        servers = [s for b in org.trunk_base_settings() for s in b.servers]
        what = "the org's trunks lead"
    sims = lab_carriers(lab)

    def lab_carrier(server: str) -> bool:
        host, _, port = server.partition(":")
        return any(host == h and (not port or port == str(p)) for h, p in sims)

    if not servers:
        return f"{what} to no trunk whose servers it lists"
    foreign = sorted({s for s in servers if not lab_carrier(s)})
    if foreign:
        return f"{what} to {', '.join(foreign)}, not the lab's carrier simulator"
    return None


def guard_call(lab: Lab, org: OrgTelephony | None, what: str, classification: str | None = None) -> None:
    """SKIP the running test before ``what`` (``"a test call to +19002345678"``) is placed when
    :func:`real_carrier_risk` finds a reason: the skip names it and the run condition
    (:data:`REAL_CARRIER`, so a core check skipped this way leaves its duty PARTIAL,
    :mod:`harness.evidence.skips`), and asks for an attestation instead."""
    if (why := real_carrier_risk(lab, org, classification)) is not None:
        skip_for_run(f"{why}: {what} could reach a real carrier: attest it instead", REAL_CARRIER)
