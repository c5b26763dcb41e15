"""What trunk scenarios share (PSTN-CONNECT, PSTN-INTEROP, PSTN-CAPACITY, SEC-TOLL-FRAUD):
:class:`TrunkPlan` (the inventory's view of one Edge's trunk, built by the plugin's ``trunk_plan``
fixture), the judges of an answered call and of echoed audio, the SIP ladder attachment, the
reading of the carrier's call log, and the guard before a test call that could cost money or reach a
service (:func:`real_carrier_risk`, :func:`guard_call`)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sipmessage import URI

from ..devices.capabilities import SipEndpoint
from ..devices.drivers.cloud_telephony import OrgTelephony
from ..devices.drivers.pstn import CarrierRecord, PstnSimulator
from ..devices.facts.dialplan import normalize
from ..devices.procedures.trunk_calls import TestCall
from ..duties.profile import Profile
from ..evidence.attach import attach
from ..evidence.check import check
from ..evidence.reliance import relies_on
from ..evidence.skips import skip_for_run
from ..inventory.models import DialPlan, Lab, PhoneDevice, PstnDevice, Trunk

#: the run condition a call held back by :func:`guard_call` names (``skipped_for``)
REAL_CARRIER = "a trunk that could reach a real carrier"


@dataclass(frozen=True)
class TrunkPlan:
    """The inventory's view of one Edge's trunk.

    ``stations``: phone name -> its inventory entry, for the phones registered with this Edge.
    ``routes``: PSTN device names in failover order. ``first_route``: the inventory entry of the
    first one. ``dids``: DID -> extension from the dial plan. ``dead``: stations the run had found
    dead when the plan was made (quarantined on every transport).
    """

    edge: str
    trunk: Trunk
    plan: DialPlan
    stations: dict[str, PhoneDevice]
    routes: tuple[str, ...]
    first_route: PstnDevice
    dead: frozenset[str] = frozenset()

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

    def test_number(self) -> str:
        """The carrier's first test number (an echo line), or a SKIP."""
        if not self.first_route.facts.test_numbers:
            pytest.skip(f"{self.routes[0]} lists no test_numbers: nothing to call outbound")
        return self.first_route.facts.test_numbers[0]


def attach_ladder(label: str, ladder: str) -> None:
    """The SIP ladder of one test call, as an Allure text attachment."""
    attach(f"SIP ladder: {label}", ladder or "(no message)")


def judge_answered(tc: TestCall, profile: Profile, *, duty: str, device: SipEndpoint, item: str) -> None:
    """The call was answered 2xx (``call_status``). Attaches the ladder first. A call the Edge left
    without any final answer while its management plane is gone is BROKEN (LabUnreachable), not FAIL.

    Raises DutyNotMet naming the checklist ``item``, the call, the status and the Edge's reason."""
    attach_ladder(tc.label, tc.ladder)
    r = tc.result
    if r.final_code is None:
        device.ensure_alive()
    check(r.final_code, profile.threshold(duty, "call_status"), duty=duty, device=device.name,
          what=f"{item}: final answer to {tc.label}", detail=r.final_reason or (r.error or "no final answer"))


def judge_audio_back(tc: TestCall, profile: Profile, *, duty: str, device: str, item: str) -> None:
    """Audio came back on an answered call (``audio_packets``): the lab's far ends echo what they
    receive, so nothing back means one direction of the media path (or both) is broken."""
    check(tc.audio_back, profile.threshold(duty, "audio_packets"), duty=duty, device=device,
          what=f"{item}: audio echoed back on {tc.label}",
          detail=f"codec {tc.result.codec}, {tc.result.rtp_sent_packets} RTP packets sent by the probe; "
                 "the far end echoes what reaches it")


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
