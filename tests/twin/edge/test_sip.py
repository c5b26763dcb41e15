"""The twin Edge's SIP side (harness/twin/edge/sip.py): registrar, OPTIONS, routing by the dial plan,
Max Calls, media relay, early media, re-INVITE, BYE/CANCEL, Record-Route, faults, the trunk through
the API, malformed input and SIPp interop. The carrier and the phones are the probe's SipUserAgent (bound on
this module's part of the test net, or on a twin device's own address after taking it ``down``) or
the twin's own phones and PSTN simulator.

Run with your own test net: ``HIL_TEST_NET=127.81 .venv/bin/pytest tests/twin/edge/test_sip.py``.
"""

from __future__ import annotations

import contextlib
import csv
import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sipmessage import Message, Request, Response

from harness.devices.drivers.edge import Edge
from harness.devices.drivers.edge_api import RouteStatus, TrunkStatus
from harness.devices.session import LabSession
from harness.errors import LabProtocolError, LabUnreachable
from harness.inventory import LoadedLab
from harness.transports.sdp import parse_sdp
from harness.transports.sip.call import CANCELLED, CONFIRMED, EARLY, ENDED, FAILED, UasPolicy
from harness.transports.sip.message import build_request, new_branch, new_call_id, new_tag
from harness.transports.sip.stack import Peer
from harness.transports.sip.ua import CallHandle, SipUserAgent
from harness.transports.sipp.hosts import LocalHost
from harness.transports.sipp.runner import SippRunner
from harness.transports.transcript import Transcript
from harness.twin.manager import TwinControl
from tests.conftest import grows, wait_for

TEST_NET = os.environ.get("HIL_TEST_NET", "127.77")
NET = f"{TEST_NET}.252"  # this module's side of the test net (loopback routes all of 127/8)
SIPP = shutil.which("sipp")
DID = "+13175550100"  # rings extension 1001 (phone1)
CARRIER_NUMBER = "+13175559000"  # the PSTN simulator's echo line

pytestmark = pytest.mark.timeout(120)


def addr(n: int) -> str:
    return f"{NET}.{n}"


@pytest.fixture
def edge_host(loaded: LoadedLab) -> str:
    return loaded.lab.devices["edge1"].host




def register(ua: SipUserAgent, ext: str, edge: str, expires: int = 120) -> Response | None:
    """REGISTER ``ua`` as ``ext`` at the Edge's phone port; the final answer."""
    async def go() -> Response | None:
        stack = ua.core.stack
        req = build_request("REGISTER", f"sip:{edge}:8060", via=stack.via("udp", new_branch()),
                            from_=f"<sip:{ext}@{edge}>;tag={new_tag()}", to=f"<sip:{ext}@{edge}>",
                            call_id=new_call_id(ua.local_host), cseq=1,
                            contact=f"<sip:{ext}@{ua.local_host}:{stack.udp_port}>",
                            extra=(("Expires", str(expires)),))
        txn = await stack.request(req, Peer("udp", edge, 8060), 4.0)
        return await txn.wait_final()

    return ua.run(go(), 6.0)


@pytest.fixture
def phone_probe(twin: TwinControl, loaded: LoadedLab, agents: Callable[..., SipUserAgent], edge_host: str
                ) -> Callable[..., SipUserAgent]:
    """``make(device, n, **kw)``: the twin phone ``device`` taken down and a probe UA on ``NET.n``
    registered in its place (its extension); the twin heals the phone after the test."""
    def make(device: str, n: int, **kw: Any) -> SipUserAgent:
        ext = loaded.lab.devices[device].facts.extension  # type: ignore[union-attr]
        twin.fault(device, "down")
        assert wait_for(lambda: ext not in twin.state("edge1")["registrations"], 3.0)
        ua = agents(n, device, user=ext, **kw)
        r = register(ua, ext, edge_host)
        assert r is not None and r.code == 200, r
        return ua

    return make


@pytest.fixture
def carrier_probe(twin: TwinControl, loaded: LoadedLab, agents: Callable[..., SipUserAgent]
                  ) -> Callable[..., SipUserAgent]:
    """``make(**kw)``: pstn1 taken down and a probe UA bound on its address, port 5060 (UDP and TCP)."""
    def make(**kw: Any) -> SipUserAgent:
        twin.fault("pstn1", "down")
        host = loaded.lab.devices["pstn1"].host
        for attempt in range(20):  # the simulator closes its sockets a loop turn after the fault's answer
            try:
                return agents(host, "carrier", udp_port=5060, tcp_port=5060, user="carrier", **kw)
            except LabUnreachable:
                if attempt == 19:
                    raise
                time.sleep(0.05)
        raise AssertionError("unreachable")

    return make


def dial_in(carrier: SipUserAgent, edge: str, number: str = DID, transport: str = "udp", **kw: Any) -> CallHandle:
    return carrier.call(f"sip:{number}@{edge}:5060", transport=transport,
                        from_uri=f"sip:+13175551234@{carrier.local_host}", timeout_s=10.0, **kw)


def dial_out(phone: SipUserAgent, edge: str, number: str, ext: str = "1001", **kw: Any) -> CallHandle:
    return phone.call(f"sip:{number}@{edge}:8060", from_uri=f"sip:{ext}@{edge}", timeout_s=10.0, **kw)


def invite_of(call: CallHandle) -> Request:
    inv = call._call.invite
    assert inv is not None
    return inv


def edge_state(twin: TwinControl) -> dict[str, Any]:
    return twin.state("edge1")


def settle(twin: TwinControl, timeout_s: float = 5.0) -> None:
    """Wait until the Edge holds no call and no relay."""
    def idle() -> bool:
        st = edge_state(twin)
        return (st["trunk_inbound_calls"] == 0 and st["trunk_outbound_calls"] == 0 and st["station_calls"] == 0
                and st["media_relays"] == 0)

    assert wait_for(idle, timeout_s), edge_state(twin)




# -- OPTIONS, methods, registrar -------------------------------------------------------------------

def test_both_ports_answer_options_and_refuse_other_methods(agents: Callable[..., SipUserAgent], edge_host: str,
                                                            twin: TwinControl) -> None:
    ua = agents(1)
    for port, has_register in ((5060, False), (8060, True)):
        for transport in ("udp", "tcp"):
            r = ua.options(f"sip:{edge_host}:{port}", transport=transport)
            assert r is not None and r.code == 200, (port, transport)
            allow = {m.strip() for m in (r.headers.get("Allow") or "").split(",")}
            assert {"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS"} <= allow
            assert ("REGISTER" in allow) == has_register
            assert "2026.11.1" in (r.headers.get("Server") or "")

    async def send(method: str, port: int) -> Response | None:
        stack = ua.core.stack
        req = build_request(method, f"sip:{edge_host}:{port}", via=stack.via("udp", new_branch()),
                            from_=f"<sip:x@{ua.local_host}>;tag={new_tag()}", to=f"<sip:{edge_host}>",
                            call_id=new_call_id(ua.local_host), cseq=1)
        txn = await stack.request(req, Peer("udp", edge_host, port), 3.0)
        return await txn.wait_final()

    codes = {(m, p): (ua.run(send(m, p), 5.0) or Response(0, "none")).code
             for m in ("REGISTER", "SUBSCRIBE", "FOO", "BYE") for p in (5060, 8060)}
    assert codes[("REGISTER", 5060)] == 405 and codes[("SUBSCRIBE", 5060)] == 405
    assert codes[("SUBSCRIBE", 8060)] == 405
    assert codes[("FOO", 5060)] == 501 and codes[("FOO", 8060)] == 501
    assert codes[("BYE", 5060)] == 481
    assert codes[("REGISTER", 8060)] == 404  # no user 'x'


def test_options_silent_drops_options_only(agents: Callable[..., SipUserAgent], edge_host: str,
                                           twin: TwinControl) -> None:
    twin.fault("edge1", "options-silent")
    ua = agents(1)
    assert ua.options(f"sip:{edge_host}:5060", timeout_s=0.8) is None
    assert ua.options(f"sip:{edge_host}:8060", timeout_s=0.8) is None
    call = dial_in(ua, edge_host, "+13175550999")
    assert call.wait_ended(5.0) == FAILED and call.result().final_code == 404


def test_registrar_binds_refreshes_and_removes(agents: Callable[..., SipUserAgent], edge_host: str,
                                               twin: TwinControl) -> None:
    twin.fault("phone2", "down")
    ua = agents(2, user="1002")
    assert wait_for(lambda: "1002" not in edge_state(twin)["registrations"], 3.0)
    r = register(ua, "1002", edge_host, expires=30)
    assert r is not None and r.code == 423 and r.headers.get("Min-Expires") == "60"
    r = register(ua, "1002", edge_host, expires=7200)
    assert r is not None and r.code == 200 and r.headers.get("Expires") == "3600"
    ip, port, until = edge_state(twin)["registrations"]["1002"]
    assert (ip, port) == (ua.local_host, ua.udp_port) and 3500 < until - time.time() <= 3600
    r = register(ua, "1002", edge_host, expires=0)
    assert r is not None and r.code == 200 and "1002" not in edge_state(twin)["registrations"]
    assert (register(ua, "4321", edge_host) or Response(0, "")).code == 404


def test_edge_pings_its_carrier_with_options(twin: TwinControl) -> None:
    assert wait_for(lambda: edge_state(twin)["trunk_options"].get("pstn1") == 200, 5.0), edge_state(twin)
    routes = edge_state(twin)["trunk_routes"]
    assert [r["name"] for r in routes] == ["pstn1"] and routes[0]["transport"] == "udp"


# -- inbound --------------------------------------------------------------------------------------------

def test_inbound_did_rings_the_twin_phone_with_media_and_dtmf(agents: Callable[..., SipUserAgent],
                                                              edge_host: str, twin: TwinControl) -> None:
    assert wait_for(lambda: "1001" in edge_state(twin)["registrations"], 5.0)
    carrier = agents(3, "carrier")
    call = dial_in(carrier, edge_host)
    assert call.wait(CONFIRMED, timeout_s=8.0) == CONFIRMED, call.ladder()
    st = edge_state(twin)
    assert st["trunk_inbound_calls"] == 1 and st["media_relays"] == 1
    call.send_dtmf("159#")
    assert wait_for(lambda: call.result().dtmf_received == "159#" and call.result().media_received, 5.0), \
        call.result()
    res = call.result()
    assert res.codec == "PCMU" and res.telephone_event_pt == 101
    codes = [line for d, line in res.messages if d == "<"]
    assert any(" 183 " in c for c in codes), codes  # early media offered by the Edge (phone rang 180)
    assert call.bye() == 200
    settle(twin)


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_inbound_to_probe_phone_relays_media_through_the_edge(transport: str,
                                                              phone_probe: Callable[..., SipUserAgent],
                                                              agents: Callable[..., SipUserAgent], edge_host: str,
                                                              twin: TwinControl) -> None:
    phone = phone_probe("phone1", 10)
    carrier = agents(3, "carrier")
    call = dial_in(carrier, edge_host, "3175550100", transport=transport)  # national form
    assert call.result().transport == transport
    assert call.wait(CONFIRMED, timeout_s=8.0) == CONFIRMED, call.ladder()
    far = phone.next_incoming(3.0)
    assert far.wait(CONFIRMED, timeout_s=3.0) == CONFIRMED
    inv = invite_of(far)
    assert inv.uri.user == "1001" and inv.from_address.uri.user == "+13175551234"
    # both sides see the Edge's relay, never each other
    offer = parse_sdp(inv.body).audio
    assert offer is not None and offer.connection == edge_host and 16384 <= offer.port <= 32767
    assert wait_for(lambda: call.result().media_received and far.result().media_received, 3.0)
    far.send_dtmf("42")
    call.send_dtmf("7*")
    assert wait_for(lambda: call.result().dtmf_received == "42" and far.result().dtmf_received == "7*", 4.0)
    assert far.bye() == 200  # the phone hangs up: the carrier gets the BYE
    assert call.wait_ended(3.0) == ENDED and call.result().ended_by == "remote"
    settle(twin)


def test_inbound_refusals(phone_probe: Callable[..., SipUserAgent], agents: Callable[..., SipUserAgent],
                          edge_host: str, twin: TwinControl) -> None:
    carrier = agents(3, "carrier")
    before = edge_state(twin)
    unknown = dial_in(carrier, edge_host, "+13175550999")
    assert unknown.wait_ended(5.0) == FAILED and unknown.result().final_code == 404
    twin.fault("phone3", "down")  # +13175550102 rings 1003
    assert wait_for(lambda: "1003" not in edge_state(twin)["registrations"], 3.0)
    absent = dial_in(carrier, edge_host, "+13175550102")
    assert absent.wait_ended(5.0) == FAILED and absent.result().final_code == 480
    nocodec = dial_in(carrier, edge_host, codecs=("PCMU",), telephone_event_pt=None)
    assert nocodec.wait(CONFIRMED, timeout_s=5.0) == CONFIRMED  # PCMU alone is fine
    nocodec.bye()
    st = edge_state(twin)
    assert st["trunk_calls_total"] == before["trunk_calls_total"] + 3
    assert st["trunk_calls_refused"].get("404", 0) == before["trunk_calls_refused"].get("404", 0) + 1
    assert st["trunk_calls_refused"].get("480", 0) == before["trunk_calls_refused"].get("480", 0) + 1
    settle(twin)


def test_max_calls_refuses_the_next_call_with_a_warning(phone_probe: Callable[..., SipUserAgent],
                                                       agents: Callable[..., SipUserAgent], edge_host: str,
                                                       twin: TwinControl) -> None:
    phone = phone_probe("phone1", 10)
    twin.fault("edge1", "max-calls", "2")
    carrier = agents(3, "carrier")
    held = [dial_in(carrier, edge_host) for _ in range(2)]
    for c in held:
        assert c.wait(CONFIRMED, timeout_s=5.0) == CONFIRMED
    assert edge_state(twin)["trunk_inbound_calls"] == 2
    over = dial_in(carrier, edge_host)
    assert over.wait_ended(5.0) == FAILED and over.result().final_code == 503
    final = [m for d, m in over.result().messages if d == "<" and " 503 " in m]
    assert final
    # the Warning names the limit
    assert any('399 edge1 "max calls 2 reached"' in line for line in over.ladder().splitlines()), over.ladder()
    # a station-to-station call is no trunk call: not refused
    caller = agents(11, "caller", user="1003")
    s2s = caller.call(f"sip:1001@{edge_host}:8060", from_uri=f"sip:1003@{edge_host}", timeout_s=8.0)
    assert s2s.wait(CONFIRMED, timeout_s=5.0) == CONFIRMED
    assert edge_state(twin)["station_calls"] == 1
    s2s.bye()
    held[0].bye()
    again = dial_in(carrier, edge_host)
    assert again.wait(CONFIRMED, timeout_s=5.0) == CONFIRMED
    for c in (held[1], again):
        c.bye()
    assert len(phone.calls()) == 4
    settle(twin)


# -- outbound -------------------------------------------------------------------------------------------

def test_outbound_to_the_twin_carrier_with_media_and_dtmf(agents: Callable[..., SipUserAgent], edge_host: str,
                                                          twin: TwinControl) -> None:
    phone = agents(12, "phone", user="1001")
    call = dial_out(phone, edge_host, "3175559000")  # national form, normalised to E.164
    assert call.wait(CONFIRMED, timeout_s=8.0) == CONFIRMED, call.ladder()
    assert edge_state(twin)["trunk_outbound_calls"] == 1
    res = call.result()
    assert any(" 183 " in m for d, m in res.messages if d == "<"), res.messages  # carrier early media relayed
    call.send_dtmf("0#")
    assert wait_for(lambda: call.result().dtmf_received == "0#" and call.result().media_received, 5.0), \
        call.result()
    assert call.bye() == 200
    settle(twin)


def test_outbound_invite_at_the_carrier(carrier_probe: Callable[..., SipUserAgent],
                                        agents: Callable[..., SipUserAgent], edge_host: str, loaded: LoadedLab,
                                        twin: TwinControl) -> None:
    carrier = carrier_probe()
    pstn = loaded.lab.devices["pstn1"].host
    phone = agents(12, "phone", user="1001")
    call = dial_out(phone, edge_host, "1-317-555-9000")
    assert call.wait(CONFIRMED, timeout_s=8.0) == CONFIRMED, call.ladder()
    far = carrier.next_incoming(3.0)
    inv = invite_of(far)
    assert str(inv.uri) == f"sip:+13175559000@{pstn}:5060;user=phone"
    assert inv.headers["To"] == f"<sip:+13175559000@{pstn}:5060;user=phone>"
    assert inv.from_address.uri.user == "+13175550100" and inv.from_address.uri.host == edge_host  # 1001's DID
    assert inv.headers["P-Asserted-Identity"] == f"<sip:+13175550100@{edge_host}>"
    assert far.result().transport == "udp"
    offer = parse_sdp(inv.body).audio
    assert offer is not None and offer.connection == edge_host and [c.name for c in offer.codecs] == \
        ["PCMU", "PCMA", "telephone-event"]
    assert wait_for(lambda: call.result().media_received and far.result().media_received, 3.0)
    assert far.bye() == 200
    assert call.wait_ended(3.0) == ENDED
    # a station without DID sends the site caller ID
    call = dial_out(phone, edge_host, "+13175559000", ext="1004")
    assert call.wait(CONFIRMED, timeout_s=8.0) == CONFIRMED
    assert invite_of(carrier.next_incoming(3.0)).from_address.uri.user == "+13175550199"
    call.bye()
    settle(twin)


def test_outbound_refusals_send_nothing_to_the_carrier(carrier_probe: Callable[..., SipUserAgent],
                                                       agents: Callable[..., SipUserAgent], edge_host: str,
                                                       twin: TwinControl) -> None:
    carrier = carrier_probe()
    phone = agents(12, "phone")
    cases = [("1001", "+19005551234", 403, "\"blocked prefix +1900 (the org's Block List)\""),
             ("1004", "011442079460000", 403, '"blocked prefix class international (+4)"'),
             ("1003", "+19765550000", 403, "\"blocked prefix +1976 (the org's Block List)\""),
             ("1003", "55555", 404, '"no outbound route carries Extension"'),
             ("1001", "abc", 484, ""),
             ("5555", "+13175559000", 403, '"unknown station 5555"')]
    for ext, number, code, warning in cases:
        call = dial_out(phone, edge_host, number, ext=ext)
        assert call.wait_ended(5.0) == FAILED and call.result().final_code == code, (number, call.ladder())
        assert warning in call.ladder(), call.ladder()
    # the executive class may call abroad
    ok = dial_out(phone, edge_host, "+442079460000", ext="1003")
    assert ok.wait(CONFIRMED, timeout_s=5.0) == CONFIRMED
    assert invite_of(carrier.next_incoming(3.0)).uri.user == "+442079460000"
    ok.bye()
    with pytest.raises(Exception, match="no result"):
        carrier.next_incoming(0.3)
    settle(twin)


def test_allow_prefix_leaks_a_blocked_number(carrier_probe: Callable[..., SipUserAgent],
                                             agents: Callable[..., SipUserAgent], edge_host: str,
                                             twin: TwinControl) -> None:
    carrier = carrier_probe()
    twin.fault("edge1", "allow-prefix", "+1900")
    phone = agents(12, "phone")
    call = dial_out(phone, edge_host, "19005551234")
    assert call.wait(CONFIRMED, timeout_s=5.0) == CONFIRMED
    assert invite_of(carrier.next_incoming(3.0)).uri.user == "+19005551234"
    call.bye()
    blocked = dial_out(phone, edge_host, "+19765550000")  # the other premium prefix stays barred
    assert blocked.wait_ended(5.0) == FAILED and blocked.result().final_code == 403
    settle(twin)


def test_the_edge_follows_the_org_s_routes_and_block_list(carrier_probe: Callable[..., SipUserAgent],
                                                        agents: Callable[..., SipUserAgent], edge_host: str,
                                                        twin: TwinControl) -> None:
    carrier = carrier_probe()
    phone = agents(12, "phone")
    twin.fault("cloud", "outbound-route-drops", "International")
    abroad = dial_out(phone, edge_host, "+442079460000", ext="1003")  # executive: its class may call abroad
    assert abroad.wait_ended(5.0) == FAILED and abroad.result().final_code == 404, abroad.ladder()
    assert '"no outbound route carries International"' in abroad.ladder()
    twin.fault("cloud", "prefix-block-missing", "+1900")
    leak = dial_out(phone, edge_host, "+19005551234", ext="1001")  # the org no longer blocks it: it leaks
    assert leak.wait(CONFIRMED, timeout_s=5.0) == CONFIRMED, leak.ladder()
    assert invite_of(carrier.next_incoming(3.0)).uri.user == "+19005551234"
    leak.bye()
    twin.fault("cloud", "emergency-blocked")
    sos = dial_out(phone, edge_host, "911", ext="1001")
    assert sos.wait_ended(5.0) == FAILED and sos.result().final_code == 403, sos.ladder()
    assert "\"blocked prefix +1911 (the org's Block List)\"" in sos.ladder()
    twin.heal("cloud")  # the org pushes its healthy configuration again
    ok = dial_out(phone, edge_host, "+442079460000", ext="1003")
    assert ok.wait(CONFIRMED, timeout_s=5.0) == CONFIRMED, ok.ladder()
    carrier.next_incoming(3.0)
    ok.bye()
    settle(twin)


def test_a_stale_edge_keeps_the_configuration_it_had(carrier_probe: Callable[..., SipUserAgent],
                                                     agents: Callable[..., SipUserAgent], edge_host: str,
                                                     twin: TwinControl) -> None:
    carrier = carrier_probe()
    phone = agents(12, "phone")
    twin.fault("edge1", "config-stale")
    twin.fault("cloud", "outbound-route-drops", "International")
    stale = dial_out(phone, edge_host, "+442079460000", ext="1003")  # the Edge never got the change
    assert stale.wait(CONFIRMED, timeout_s=5.0) == CONFIRMED, stale.ladder()
    assert invite_of(carrier.next_incoming(3.0)).uri.user == "+442079460000"
    stale.bye()
    twin.heal("edge1")  # back in touch: the Edge takes the org's configuration as it is now
    fresh = dial_out(phone, edge_host, "+442079460000", ext="1003")
    assert fresh.wait_ended(5.0) == FAILED and fresh.result().final_code == 404, fresh.ladder()
    settle(twin)


def test_station_to_station_is_no_trunk_call(phone_probe: Callable[..., SipUserAgent],
                                             agents: Callable[..., SipUserAgent], edge_host: str,
                                             twin: TwinControl) -> None:
    callee = phone_probe("phone2", 13)
    caller = agents(12, "phone", user="1001")
    before = edge_state(twin)["trunk_calls_total"]
    call = dial_out(caller, edge_host, "1002")
    assert call.wait(CONFIRMED, timeout_s=5.0) == CONFIRMED
    far = callee.next_incoming(3.0)
    assert invite_of(far).from_address.uri.user == "1001"
    assert wait_for(lambda: call.result().media_received and far.result().media_received, 3.0)
    st = edge_state(twin)
    assert st["station_calls"] == 1 and st["trunk_outbound_calls"] == 0 and st["trunk_calls_total"] == before
    call.bye()
    assert far.wait_ended(3.0) == ENDED
    settle(twin)


def test_carrier_503_is_a_clean_failure_and_swallow_503_is_not(agents: Callable[..., SipUserAgent],
                                                               edge_host: str, twin: TwinControl) -> None:
    phone = agents(12, "phone")
    call = dial_out(phone, edge_host, "+13175559503")  # the twin carrier answers 503
    assert call.wait_ended(5.0) == FAILED and call.result().final_code == 503
    assert "no trunk route answered" in call.ladder()
    twin.fault("edge1", "swallow-503")
    call = dial_out(phone, edge_host, "+13175559503")
    time.sleep(1.5)
    assert call.state != FAILED and call.result().final_code is None, call.ladder()
    settle(twin)


@pytest.mark.twin  # a lab of its own
def test_route_failover_on_503_silence_and_tcp(tmp_path: Path) -> None:
    """A lab of its own: edge1 with three routes (silent, 503, answering over TCP)."""
    from harness.twin import manager
    from tests.conftest import REPO, make_test_lab, other_net

    net = other_net(1)
    base = REPO / "lab_inventory.yaml"
    text = base.read_text().replace("routes: [pstn1]", "routes: [pstn9, pstn1, pstn2]")
    text += ("\n  pstn2:\n    role: pstn\n    platform: twin_pstn\n    host: 127.0.4.2\n    snmp: null\n"
             "    ssh: null\n    sip:\n      port: 5060\n      transport: tcp\n    facts:\n      carrier: Second\n"
             "  pstn9:\n    role: pstn\n    platform: twin_pstn\n    host: 127.0.4.9\n    snmp: null\n"
             "    ssh: null\n    sip:\n      port: 5060\n      timeout_s: 0.5\n    facts:\n      carrier: Gone\n")
    lab = make_test_lab(tmp_path / "lab", text)  # addresses on TEST_NET: move them to the lab's own net
    lab.write_text(lab.read_text().replace(f"{TEST_NET}.", f"{net}."))
    manager.up(lab)
    ctl = manager.TwinControl(lab)
    try:
        ctl.fault("pstn9", "down")
        ctl.fault("pstn1", "trunk-503")
        ua = SipUserAgent("phone", Transcript("phone"), f"{net}.252.12")
        try:
            call = ua.call(f"sip:+13175559000@{net}.1.1:8060", from_uri=f"sip:1001@{net}.1.1", timeout_s=10.0)
            assert call.wait(CONFIRMED, timeout_s=8.0) == CONFIRMED, call.ladder()
            call.bye()
        finally:
            ua.close()
        st = ctl.state("edge1")
        assert [r["transport"] for r in st["trunk_routes"]] == ["udp", "udp", "tcp"]
        p2 = ctl.state("pstn2")
        assert p2["calls_answered"] == 1
        assert ctl.state("pstn1")["calls_refused"].get("503") == 1
    finally:
        manager.down(lab)


# -- early media, re-INVITE, CANCEL ---------------------------------------------------------------------

def early_audio(call: CallHandle) -> int:
    """Audio packets the call received while still ringing (0 when it was answered first)."""
    call.wait(EARLY, timeout_s=3.0)
    assert call.state == EARLY, call.state
    time.sleep(0.5)
    return call.rtp_stats().audio_packets if call.state == EARLY else -1


def test_early_media_both_ways(phone_probe: Callable[..., SipUserAgent], carrier_probe: Callable[..., SipUserAgent],
                               agents: Callable[..., SipUserAgent], edge_host: str, twin: TwinControl) -> None:
    policy = UasPolicy(early_media=True, ring_s=1.5)
    phone = phone_probe("phone1", 10, policy=policy)
    carrier = carrier_probe(policy=policy)
    inbound = dial_in(agents(3, "caller"), edge_host)
    assert early_audio(inbound) > 5  # the phone's early media, through the relay
    assert inbound.wait(CONFIRMED, timeout_s=3.0) == CONFIRMED
    outbound = dial_out(phone, edge_host, CARRIER_NUMBER)
    assert early_audio(outbound) > 5  # the carrier's 183 with SDP and its media
    assert outbound.wait(CONFIRMED, timeout_s=3.0) == CONFIRMED
    assert any(" 183 " in m for d, m in outbound.result().messages if d == "<")
    for c in (inbound, outbound):
        c.bye()
    assert carrier.calls()
    settle(twin)


def test_no_early_media_fault(phone_probe: Callable[..., SipUserAgent], carrier_probe: Callable[..., SipUserAgent],
                              edge_host: str, twin: TwinControl) -> None:
    policy = UasPolicy(early_media=True, ring_s=1.5)
    phone = phone_probe("phone1", 10)
    carrier_probe(policy=policy)
    twin.fault("edge1", "no-early-media")
    call = dial_out(phone, edge_host, CARRIER_NUMBER)
    assert early_audio(call) == 0
    seen = [m for d, m in call.result().messages if d == "<"]
    assert any(" 180 " in m for m in seen) and not any(" 183 " in m for m in seen), seen
    assert call.result().media_error == "" and call.wait(CONFIRMED, timeout_s=3.0) == CONFIRMED
    assert wait_for(lambda: call.result().media_received, 2.0)
    call.bye()
    settle(twin)


def _direction(call: CallHandle) -> tuple[str, str]:
    neg = call.ua.call_in_loop(lambda: call._call.negotiated)
    assert neg is not None
    return neg.remote_direction, neg.remote_host


def test_reinvite_hold_and_resume_from_either_leg(phone_probe: Callable[..., SipUserAgent],
                                                  agents: Callable[..., SipUserAgent], edge_host: str,
                                                  twin: TwinControl) -> None:
    phone = phone_probe("phone1", 10)
    call = dial_in(agents(3, "carrier"), edge_host)
    assert call.wait(CONFIRMED, timeout_s=5.0) == CONFIRMED
    far = phone.next_incoming(3.0)
    assert call.hold("sendonly") == 200
    assert _direction(far) == ("sendonly", edge_host)
    assert _direction(call)[0] == "recvonly"
    assert call.hold("zero") == 200 if call.resume() == 200 else False
    assert _direction(far)[1] == "0.0.0.0"  # the RFC 2543 hold form is passed on
    assert call.resume() == 200
    assert _direction(far) == ("sendrecv", edge_host)
    assert far.hold("sendonly") == 200  # and from the phone's side
    assert _direction(call) == ("sendonly", edge_host)
    assert far.resume() == 200
    # a healthy relay answers every hold and resume with an allowed direction (RFC 3264 §6.1)
    assert call.result().sdp_findings == () and far.result().sdp_findings == ()
    assert wait_for(lambda: grows(lambda: call.rtp_stats().audio_packets) > 5, 3.0)
    twin.fault("edge1", "reinvite-reject")
    assert call.hold("sendonly") == 488 and far.hold("zero") == 488
    call.bye()
    settle(twin)


def test_cancel_reaches_the_phone(phone_probe: Callable[..., SipUserAgent], agents: Callable[..., SipUserAgent],
                                  edge_host: str, twin: TwinControl) -> None:
    phone = phone_probe("phone1", 10, policy=UasPolicy(auto_answer=False))
    call = dial_in(agents(3, "carrier"), edge_host)
    far = phone.next_incoming(3.0)
    far.ring()
    assert call.wait(EARLY, timeout_s=3.0) == EARLY
    assert call.cancel() == 200
    assert call.wait_ended(3.0) == CANCELLED and call.result().final_code == 487
    assert far.wait_ended(3.0) == CANCELLED
    settle(twin)


# -- Record-Route -------------------------------------------------------------------------------------

class Forwarder:
    """A two-way UDP forwarder standing in for a record-routing proxy between the Edge and a carrier.

    Datagrams from ``edge`` go to ``carrier``, everything else to ``edge``; ``record_route`` adds
    ``Record-Route: <sip:self;lr>`` to the INVITEs it passes toward the carrier. ``seen`` holds
    ``(from_edge, first line, whole text)`` of every datagram.
    """

    def __init__(self, host: str, edge: tuple[str, int], carrier: tuple[str, int], record_route: bool = False,
                 port: int = 0) -> None:
        import threading

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for attempt in range(20):  # a device just taken down closes its socket a loop turn later
            try:
                self.sock.bind((host, port))
                break
            except OSError:
                if attempt == 19:
                    raise
                time.sleep(0.05)
        self.sock.settimeout(0.1)
        self.address = self.sock.getsockname()[:2]
        self.edge, self.carrier, self.record_route = edge, carrier, record_route
        self.seen: list[tuple[bool, str, str]] = []
        self.uri = f"<sip:{self.address[0]}:{self.address[1]};lr>"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data, src = self.sock.recvfrom(65535)
            except (TimeoutError, OSError):
                continue
            from_edge = src == self.edge
            text = data.decode("utf-8", "replace")
            if from_edge and self.record_route and text.startswith("INVITE "):
                first, rest = text.split("\r\n", 1)
                text = f"{first}\r\nRecord-Route: {self.uri}\r\n{rest}"
                data = text.encode()
            self.seen.append((from_edge, text.split("\r\n", 1)[0], text))
            with contextlib.suppress(OSError):
                self.sock.sendto(data, self.carrier if from_edge else self.edge)

    def from_edge(self, method: str) -> list[str]:
        return [t for e, first, t in self.seen if e and first.startswith(method + " ")]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2.0)
        self.sock.close()


@pytest.mark.parametrize("fault", [None, "drop-record-route"])
def test_record_route_of_an_inbound_call(fault: str | None, phone_probe: Callable[..., SipUserAgent],
                                         agents: Callable[..., SipUserAgent], edge_host: str,
                                         twin: TwinControl) -> None:
    phone = phone_probe("phone1", 10)
    carrier = agents(3, "carrier")
    proxy = Forwarder(addr(4), (edge_host, 5060), (carrier.local_host, carrier.udp_port))
    if fault:
        twin.fault("edge1", fault)
    try:
        call = carrier.call(f"sip:{DID}@{edge_host}:5060", peer=proxy.address, timeout_s=8.0,
                            extra=(("Record-Route", proxy.uri),))
        assert call.wait(CONFIRMED, timeout_s=5.0) == CONFIRMED, call.ladder()
        ok = [t for e, first, t in proxy.seen if e and first.startswith("SIP/2.0 200") and "INVITE" in t]
        assert ok and (f"Record-Route: {proxy.uri}" in ok[0]) == (fault is None), ok
        far = phone.next_incoming(3.0)
        assert far.bye() == 200
        assert call.wait_ended(3.0) == ENDED
        byes = proxy.from_edge("BYE")
        if fault is None:
            assert len(byes) == 1 and f"Route: {proxy.uri}" in byes[0], proxy.seen
            assert byes[0].startswith(f"BYE sip:hil@{carrier.local_host}:{carrier.udp_port} SIP/2.0")
        else:
            assert byes == []  # straight to the carrier's Contact
    finally:
        proxy.close()
    settle(twin)


@pytest.mark.parametrize("fault", [None, "drop-record-route"])
def test_record_route_of_an_outbound_call(fault: str | None, twin: TwinControl, loaded: LoadedLab,
                                          agents: Callable[..., SipUserAgent], edge_host: str) -> None:
    twin.fault("pstn1", "down")
    carrier = agents(5, "carrier")
    proxy = Forwarder(loaded.lab.devices["pstn1"].host, (edge_host, 5060), (carrier.local_host, carrier.udp_port),
                      record_route=True, port=5060)
    if fault:
        twin.fault("edge1", fault)
    try:
        phone = agents(12, "phone")
        call = dial_out(phone, edge_host, CARRIER_NUMBER)
        assert call.wait(CONFIRMED, timeout_s=5.0) == CONFIRMED, call.ladder()
        assert wait_for(lambda: proxy.from_edge("ACK"), 2.0) or fault is not None
        assert call.bye() == 200
        far = carrier.calls()[0]
        assert far.wait_ended(3.0) == ENDED
        byes = proxy.from_edge("BYE")
        if fault is None:
            assert len(byes) == 1 and f"Route: {proxy.uri}" in byes[0], proxy.seen
        else:
            assert byes == []
    finally:
        proxy.close()
    settle(twin)


# -- media and signalling faults ------------------------------------------------------------------------

def test_codec_reject(phone_probe: Callable[..., SipUserAgent], carrier_probe: Callable[..., SipUserAgent],
                      agents: Callable[..., SipUserAgent], edge_host: str, twin: TwinControl) -> None:
    carrier = carrier_probe()
    phone = agents(12, "phone")
    twin.fault("edge1", "codec-reject")
    inbound = dial_in(agents(3, "caller"), edge_host)
    assert inbound.wait_ended(5.0) == FAILED and inbound.result().final_code == 488
    outbound = dial_out(phone, edge_host, CARRIER_NUMBER)
    assert outbound.wait_ended(5.0) == FAILED and outbound.result().final_code == 488
    offer = parse_sdp(invite_of(carrier.calls()[0]).body).audio  # refused at once: not queued as incoming
    assert offer is not None and [(c.pt, c.name) for c in offer.codecs] == [(18, "G729")]
    settle(twin)


def test_dtmf_faults(phone_probe: Callable[..., SipUserAgent], agents: Callable[..., SipUserAgent], edge_host: str,
                     twin: TwinControl) -> None:
    phone = phone_probe("phone1", 10)
    carrier = agents(3, "carrier")
    twin.fault("edge1", "dtmf-pt", "96")
    call = dial_in(carrier, edge_host)
    assert call.wait(CONFIRMED, timeout_s=5.0) == CONFIRMED
    far = phone.next_incoming(3.0)
    assert far.result().telephone_event_pt == 101  # SDP unchanged
    call.send_dtmf("5")
    far.send_dtmf("6")
    assert wait_for(lambda: 96 in far.rtp_stats().unexpected_pt and 96 in call.rtp_stats().unexpected_pt, 3.0)
    assert far.result().dtmf_received == "" and call.result().dtmf_received == ""
    call.bye()
    twin.heal("edge1")
    twin.fault("edge1", "no-telephone-event")
    call = dial_in(carrier, edge_host)
    assert call.wait(CONFIRMED, timeout_s=5.0) == CONFIRMED
    far = phone.next_incoming(3.0)
    assert "telephone-event" not in invite_of(far).body.decode()
    assert call.result().telephone_event_pt is None and far.result().telephone_event_pt is None
    call.bye()
    settle(twin)


def test_one_way_audio(phone_probe: Callable[..., SipUserAgent], agents: Callable[..., SipUserAgent],
                       edge_host: str, twin: TwinControl) -> None:
    phone = phone_probe("phone1", 10)
    twin.fault("edge1", "one-way-audio")
    call = dial_in(agents(3, "carrier"), edge_host)
    assert call.wait(CONFIRMED, timeout_s=5.0) == CONFIRMED
    far = phone.next_incoming(3.0)
    assert wait_for(lambda: far.result().media_received, 3.0)  # trunk -> phone flows
    time.sleep(0.5)
    assert call.rtp_stats().packets == 0  # phone -> trunk is dropped
    call.bye()
    settle(twin)


def test_strip_caller_id_and_transport_mismatch(carrier_probe: Callable[..., SipUserAgent],
                                                agents: Callable[..., SipUserAgent], edge_host: str,
                                                twin: TwinControl) -> None:
    carrier = carrier_probe()
    phone = agents(12, "phone")
    twin.fault("edge1", "strip-caller-id")
    twin.fault("edge1", "transport-mismatch")
    call = dial_out(phone, edge_host, CARRIER_NUMBER)
    assert call.wait(CONFIRMED, timeout_s=5.0) == CONFIRMED, call.ladder()
    far = carrier.next_incoming(3.0)
    inv = invite_of(far)
    assert inv.headers["From"].startswith('"Anonymous" <sip:anonymous@anonymous.invalid>;tag=')
    assert inv.headers.get("P-Asserted-Identity") is None
    assert far.result().transport == "tcp"  # the trunk says udp
    assert wait_for(lambda: call.result().media_received, 3.0)
    call.bye()
    assert far.wait_ended(3.0) == ENDED
    settle(twin)


def test_edge_down_drops_its_calls_and_heal_serves_again(phone_probe: Callable[..., SipUserAgent],
                                                         agents: Callable[..., SipUserAgent], edge_host: str,
                                                         twin: TwinControl) -> None:
    phone_probe("phone1", 10)
    carrier = agents(3, "carrier")
    call = dial_in(carrier, edge_host)
    assert call.wait(CONFIRMED, timeout_s=5.0) == CONFIRMED
    twin.fault("edge1", "down")
    settle(twin)
    assert carrier.options(f"sip:{edge_host}:5060", timeout_s=0.6) is None
    twin.heal("edge1")
    r = carrier.options(f"sip:{edge_host}:5060")
    assert r is not None and r.code == 200


# -- the trunk through Genesys Cloud ----------------------------------------------------------------------

def test_trunk_status_through_the_api_agrees_with_the_wire(phone_probe: Callable[..., SipUserAgent],
                                                           agents: Callable[..., SipUserAgent], edge_host: str,
                                                           loaded: LoadedLab, twin: TwinControl) -> None:
    session = LabSession(loaded)
    edge = session.driver("edge1", Edge)
    try:
        assert wait_for(lambda: edge_state(twin)["trunk_options"].get("pstn1") == 200, 5.0)
        before = edge.trunk_status()
        pstn = loaded.lab.devices["pstn1"].host
        assert before.routes == (RouteStatus(f"{pstn}:5060", True),) and before.in_service
        assert before.route(f"{pstn}:5060") == before.routes[0] and before.route("192.0.2.1:5060") is None
        phone_probe("phone1", 10)
        carrier = agents(3, "carrier")
        held = dial_in(carrier, edge_host)
        assert held.wait(CONFIRMED, timeout_s=5.0) == CONFIRMED
        now = edge.trunk_status()
        assert isinstance(now, TrunkStatus)
        assert (now.inbound_calls, now.outbound_calls, now.calls) == (before.inbound_calls + 1, before.outbound_calls,
                                                                      before.calls + 1)
        held.bye()
        assert wait_for(lambda: edge.trunk_status().calls == before.calls, 5.0)
    finally:
        session.close()
    settle(twin)


def test_an_edge_without_an_external_trunk_in_the_org_is_a_protocol_error(loaded: LoadedLab,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    session = LabSession(loaded)
    edge = session.driver("edge1", Edge)
    try:
        monkeypatch.setattr(edge, "trunks", lambda trunk_type=None: [])
        with pytest.raises(LabProtocolError, match="no external trunk on edge1") as e:
            edge.trunk_status()
        assert e.value.device == "cloud" and e.value.transport == "api"
    finally:
        session.close()


# -- SIPp interop ---------------------------------------------------------------------------------------

def sipp_run(args: list[str], cwd: Path, timeout_s: float = 60.0) -> tuple[subprocess.CompletedProcess[str],
                                                                          dict[str, str], str]:
    """Run SIPp in ``cwd``; (process, last statistics row, errors log)."""
    assert SIPP is not None
    proc = subprocess.run([SIPP, *args, "-nostdin", "-trace_stat", "-stf", "stat.csv", "-trace_err"], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout_s, stdin=subprocess.DEVNULL)
    rows: list[dict[str, str]] = []
    if (cwd / "stat.csv").exists():
        with open(cwd / "stat.csv", newline="") as f:
            rows = list(csv.DictReader(f, delimiter=";"))
    errors = "".join(p.read_text() for p in cwd.glob("*_errors.log"))
    return proc, rows[-1] if rows else {}, errors


@pytest.mark.skipif(SIPP is None, reason="sipp is not installed (apt-get install sip-tester)")
def test_sipp_uac_calls_a_did_through_the_edge(twin: TwinControl, edge_host: str, tmp_path: Path) -> None:
    assert wait_for(lambda: "1001" in edge_state(twin)["registrations"], 5.0)
    before = edge_state(twin)["trunk_calls_answered"]
    proc, last, errors = sipp_run(["-sn", "uac", f"{edge_host}:5060", "-s", DID, "-i", addr(20), "-p", "0",
                                   "-m", "10", "-r", "10", "-timeout", "30s", "-timeout_error"], tmp_path)
    assert proc.returncode == 0, (proc.returncode, errors, proc.stderr[-2000:])
    assert int(last["SuccessfulCall(C)"]) == 10 and int(last["FailedCall(C)"]) == 0, (last, errors)
    assert edge_state(twin)["trunk_calls_answered"] == before + 10
    settle(twin)


@pytest.mark.skipif(SIPP is None, reason="sipp is not installed (apt-get install sip-tester)")
def test_sipp_uas_answers_calls_the_edge_sends_out(twin: TwinControl, loaded: LoadedLab, edge_host: str,
                                                   agents: Callable[..., SipUserAgent]) -> None:
    # The harness's answering template in the carrier's place: the Edge's keepalive OPTIONS to the carrier
    # (at start, then every 30 s) are answered 200 and are no calls (SIPp's built-in uas aborted on them).
    pstn = loaded.lab.devices["pstn1"].host
    twin.fault("pstn1", "down")
    time.sleep(0.1)  # the simulator's socket closes a loop turn after the fault's answer
    run = SippRunner("pstn1", LocalHost(), pstn, Transcript("pstn1 sipp")).answer(5060, calls=2, timeout_s=20)
    time.sleep(0.5)  # SIPp binds
    phone = agents(12, "phone")
    ladders = []
    try:
        for _ in range(2):
            call = dial_out(phone, edge_host, CARRIER_NUMBER)
            if call.wait(CONFIRMED, timeout_s=5.0) != CONFIRMED:
                ladders.append(call.ladder())
                break
            assert call.bye() == 200
    finally:
        res = run.wait() if not ladders else run.stop()
    assert not ladders, ladders
    assert res.complete and res.exit_code == 0, res.summary()
    assert (res.calls_created, res.calls_successful, res.calls_failed) == (2, 2, 0), res.summary()
    settle(twin)


# -- malformed input ----------------------------------------------------------------------------------------

def _request(method: str, host: str, port: int, lhost: str, lport: int, *, user: str = DID, body: bytes = b"",
             extra: str = "") -> str:
    return (f"{method} sip:{user}@{host}:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {lhost}:{lport};branch=z9hG4bK{secrets.token_hex(6)};rport\r\n"
            f"Max-Forwards: 70\r\nFrom: <sip:1001@{lhost}>;tag=t{secrets.token_hex(3)}\r\n"
            f"To: <sip:{user}@{host}>\r\nCall-ID: {secrets.token_hex(8)}@{lhost}\r\nCSeq: 1 {method}\r\n"
            f"Contact: <sip:1001@{lhost}:{lport}>\r\n{extra}Content-Length: {len(body)}\r\n\r\n") + \
        body.decode()


MALFORMED: dict[str, Callable[[str], str]] = {
    "garbage": lambda ok: "\x00\x01\x02 not sip at all \xff",
    "no-blank-line": lambda ok: ok.split("\r\n\r\n")[0],
    "missing-call-id": lambda ok: "".join(x for x in ok.splitlines(keepends=True) if not x.startswith("Call-ID")),
    "missing-via": lambda ok: "".join(x for x in ok.splitlines(keepends=True) if not x.startswith("Via")),
    "missing-cseq": lambda ok: "".join(x for x in ok.splitlines(keepends=True) if not x.startswith("CSeq")),
    "content-length-too-big": lambda ok: ok.replace("Content-Length: 0", "Content-Length: 500"),
    "content-length-not-a-number": lambda ok: ok.replace("Content-Length: 0", "Content-Length: many"),
    "cseq-method-mismatch": lambda ok: ok.replace("CSeq: 1 OPTIONS", "CSeq: 1 INVITE"),
    "header-without-colon": lambda ok: ok.replace("Max-Forwards: 70", "Max-Forwards 70"),
    "bad-request-uri": lambda ok: ok.replace(ok.split(" ")[1], "not-a-uri", 1),
}
MUST_400 = set(MALFORMED) - {"garbage", "no-blank-line"}


@pytest.mark.parametrize("port", [5060, 8060], ids=["trunk", "phones"])
def test_malformed_sip_gets_400_and_nothing_hangs(port: int, edge_host: str, twin: TwinControl,
                                                  agents: Callable[..., SipUserAgent]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((addr(30), 0))
        s.settimeout(0.3)
        lhost, lport = s.getsockname()[:2]
        ok = _request("OPTIONS", edge_host, port, lhost, lport)
        for kind, make in MALFORMED.items():
            s.sendto(make(ok).encode("latin-1"), (edge_host, port))
            got: list[bytes] = []
            with contextlib.suppress(TimeoutError):
                while True:
                    got.append(s.recv(65535))
            assert all(g.startswith(b"SIP/2.0 400 ") for g in got), (kind, got)
            if kind in MUST_400:
                assert len(got) == 1 and Message.parse(got[0]).headers.get("Warning"), (kind, got)
        # folded and compact headers are fine: the request is understood
        folded = ok.replace("Max-Forwards: 70\r\n", "Max-Forwards:\r\n 70\r\n").replace("Via:", "v:") \
            .replace("Call-ID:", "i:").replace("From:", "f:")
        s.sendto(folded.encode(), (edge_host, port))
        answer = Message.parse(s.recv(65535))
        assert isinstance(answer, Response) and answer.code == 200
        # an INVITE whose SDP is junk is refused cleanly
        junk = _request("INVITE", edge_host, port, lhost, lport, body=b"this is no SDP",
                        extra="Content-Type: application/sdp\r\n")
        s.sendto(junk.encode(), (edge_host, port))
        codes = []
        with contextlib.suppress(TimeoutError):
            while True:
                codes.append(Message.parse(s.recv(65535)).code)  # type: ignore[union-attr]
        assert codes and codes[-1] == 488, codes
    # over TCP: a wrong Content-Length gets 400 and the connection is closed; nothing hangs
    with socket.create_connection((edge_host, port), timeout=2.0) as c:
        c.sendall(_request("OPTIONS", edge_host, port, lhost, 5060).replace("Content-Length: 0",
                                                                             "Content-Length: x").encode())
        data = c.recv(65535)
        assert data.startswith(b"SIP/2.0 400 "), data
    with socket.create_connection((edge_host, port), timeout=8.0) as c:
        c.sendall(_request("OPTIONS", edge_host, port, lhost, 5060).replace("Content-Length: 0",
                                                                             "Content-Length: 20").encode())
        data = c.recv(65535)  # the body never comes: 400 after the stack's message deadline
        assert data.startswith(b"SIP/2.0 400 "), data
    r = agents(31).options(f"sip:{edge_host}:{port}")
    assert r is not None and r.code == 200  # still serving
