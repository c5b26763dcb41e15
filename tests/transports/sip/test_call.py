"""The SIP probe as a user agent: calls against real peers only (the twin's PSTN simulator, a UAS of
the probe's own stack, SIPp), the real SIP material in shared/realworld/sip, and malformed input.

Run with your own test net: ``HIL_TEST_NET=127.101 .venv/bin/pytest tests/transports/sip/test_call.py``.
"""

from __future__ import annotations

import contextlib
import csv
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import dpkt
import pytest
from sipmessage import Message, Request, Response

from harness.devices.drivers.pstn import PstnSimulator
from harness.errors import LabProtocolError, LabUnreachable
from harness.transports.rtp import RtpReceiver, tone_frames
from harness.transports.sdp import SdpSession, parse_sdp
from harness.transports.sip.call import CANCELLED, CONFIRMED, ENDED, FAILED, UasPolicy, media_both_ways
from harness.transports.sip.dialog import route_request
from harness.transports.sip.message import (
    SipParseError,
    StreamFramer,
    build_response,
    encode,
    parse_message,
    tag_of,
)
from harness.transports.sip.proxy import LooseProxy
from harness.transports.sip.ua import SipUserAgent
from harness.transports.transcript import Transcript
from harness.twin.edge.media_relay import _through_other_law
from harness.twin.manager import TwinControl
from tests.conftest import CAPTURES, grows, wait_for

TEST_NET = os.environ.get("HIL_TEST_NET", "127.77")
NET = f"{TEST_NET}.251"  # this module's side of the test net (loopback routes all of 127/8)
REALWORLD = CAPTURES / "sip"
SIPP = shutil.which("sipp")
DID = "+13175550100"

pytestmark = pytest.mark.timeout(120)


def addr(n: int) -> str:
    return f"{NET}.{n}"






# -- (1) the twin's PSTN simulator ---------------------------------------------------------------

def test_call_to_the_twin_pstn(twin: TwinControl, pstn: PstnSimulator) -> None:
    host = twin.state("pstn1")["host"]
    address = f"{host}:5060"
    transcript = pstn.transcript("sip", address)
    mark = transcript.mark()
    before = twin.state("pstn1")
    with SipUserAgent("pstn1", transcript, addr(1)) as ua:
        call = ua.dial(f"sip:{DID}@{address}", timeout_s=5.0, from_uri=f"sip:+13175550199@{addr(1)}")
        assert call.state == CONFIRMED
        assert call.call_id in twin.state("pstn1")["active_calls"]
        assert wait_for(lambda: twin.state("pstn1")["acks_received"] == before["acks_received"] + 1, 3.0)
        assert wait_for(lambda: call.rtp_sent_packets() >= 10, 3.0)  # ~50 packets/s towards the twin
        assert wait_for(lambda: call.rtp_stats().audio_packets >= 25, 3.0)  # 0.3 s of tone, then the echo
        assert call.bye() == 200
        r = call.result()
    assert r.state == ENDED and r.final_code == 200 and r.ended_by == "local"
    assert r.codec == "PCMU" and r.telephone_event_pt == 101  # our order, the twin keeps it
    assert r.post_dial_delay_ms is not None and r.setup_ms is not None
    assert 0 < r.post_dial_delay_ms <= r.setup_ms < 2000
    assert r.media_received and r.early_sdp  # 183 with SDP and its tone, then the echo of our tone
    assert r.sdp_findings == ()  # a healthy carrier's 183 and 200 answers: nothing broken, nothing moved
    assert r.first_media_ms is not None and r.first_media_ms < r.setup_ms
    assert r.remote_target == f"sip:pstn@{host}:5060" and r.route_set == ()
    lines = [line.split(" sip:")[0] for _, line in r.messages]
    assert lines[:5] == ["INVITE", "SIP/2.0 100 Trying", "SIP/2.0 183 Session Progress", "SIP/2.0 200 OK",
                         "ACK"], r.ladder
    assert lines[-2:] == ["BYE", "SIP/2.0 200 OK"]
    assert [d for d, _ in r.messages[:5]] == [">", "<", "<", "<", ">"]
    after = twin.state("pstn1")
    assert after["calls_completed"] == before["calls_completed"] + 1 and call.call_id not in after["active_calls"]
    text = transcript.render(mark)  # the session transcript has the messages and the ladder
    assert f"INVITE sip:{DID}@{address} SIP/2.0" in text and "ladder" in text and "--> UDP" in text


def test_pcma_only_offer_and_options_to_the_twin(twin: TwinControl) -> None:
    host = twin.state("pstn1")["host"]
    with SipUserAgent("pstn1", Transcript("pstn1 sip"), addr(1)) as ua:
        resp = ua.options(f"sip:{host}:5060")
        assert resp is not None and resp.code == 200 and "INVITE" in (resp.headers.get("Allow") or "")
        call = ua.dial(f"sip:{DID}@{host}:5060", timeout_s=5.0, codecs=("PCMA",), telephone_event_pt=None)
        assert call.state == CONFIRMED
        r = call.result()
        assert r.codec == "PCMA" and r.telephone_event_pt is None
        assert call.bye() == 200


def test_twin_rejects_an_offer_without_g711(twin: TwinControl) -> None:
    """The PSTN simulator answers 488 to an offer it cannot take; the call fails with that code."""
    host = twin.state("pstn1")["host"]
    with SipUserAgent("pstn1", Transcript("pstn1 sip"), addr(1)) as ua:
        call = ua.call(f"sip:{DID}@{host}:5060", timeout_s=5.0, codecs=(), telephone_event_pt=101)
        assert call.wait_ended(5.0) == FAILED
        r = call.result()
    assert r.final_code == 488 and r.setup_ms is None
    assert "ACK" in r.ladder.split("488 Not Acceptable Here", 1)[1]  # the transaction ACKed the 488


# -- (2) a UAS of the probe's own stack -----------------------------------------------------------

def test_full_call_media_dtmf_hold_resume_both_ways(agents: Callable[..., SipUserAgent]) -> None:
    uas = agents(2, "uas", tcp_port=None)
    uac = agents(1, "uac")
    call = uac.dial(f"sip:1000@{addr(2)}:{uas.udp_port}", timeout_s=5.0, telephone_event_pt=96)
    assert call.state == CONFIRMED
    callee = uas.next_incoming(2.0)
    assert callee.wait(CONFIRMED, timeout_s=2.0) == CONFIRMED
    assert wait_for(lambda: call.rtp_stats().audio_packets > 10 and callee.rtp_stats().audio_packets > 10, 3.0)
    # DTMF both ways, on the payload type the offer named (96, not the usual 101)
    call.send_dtmf("1234*#")
    callee.send_dtmf("90AD")
    assert wait_for(lambda: callee.rtp_stats().digits == "1234*#" and call.rtp_stats().digits == "90AD", 3.0)
    assert {e.pt for e in callee.rtp_stats().dtmf} == {96} and all(e.ended for e in callee.rtp_stats().dtmf)
    # hold, RFC 3264 form: the held side stops sending, the holder goes on
    assert call.hold("sendonly") == 200
    time.sleep(0.1)
    assert grows(lambda: call.rtp_stats().audio_packets) == 0
    assert grows(lambda: callee.rtp_stats().audio_packets) > 10
    assert call.resume() == 200
    assert wait_for(lambda: grows(lambda: call.rtp_stats().audio_packets, 0.3) > 5, 3.0)
    # hold, RFC 2543 form (c=0.0.0.0): both directions stop
    assert call.hold("zero") == 200
    time.sleep(0.1)
    assert grows(lambda: call.rtp_stats().audio_packets) == 0
    assert grows(lambda: callee.rtp_stats().audio_packets) == 0
    assert call.resume() == 200
    assert wait_for(lambda: grows(lambda: callee.rtp_stats().audio_packets, 0.3) > 5, 3.0)
    # the callee hangs up
    assert callee.bye() == 200
    assert call.wait_ended(3.0) == ENDED
    a, b = call.result(), callee.result()
    assert media_both_ways(a, b)
    assert a.ended_by == "remote" and b.ended_by == "local"
    assert a.dtmf_sent == "1234*#" and b.dtmf_received == "1234*#" and a.dtmf_received == "90AD"
    assert a.codec == b.codec == "PCMU" and a.telephone_event_pt == b.telephone_event_pt == 96
    assert a.sdp_findings == () and b.sdp_findings == ()  # holds answered recvonly, resumes sendrecv
    assert a.rtp.lost == 0 and b.rtp.lost == 0 and a.rtp.unexpected_pt == {} and a.rtp.malformed == 0
    assert 0 <= a.rtp.jitter_ms < 20.0  # measured on a busy 2-core box (EMULATION-NOTES §9)
    assert a.post_dial_delay_ms is not None and a.setup_ms is not None and a.post_dial_delay_ms <= a.setup_ms
    reinvites = [line for line in a.ladder.splitlines() if "SDP:" in line]
    assert any("a=sendonly" in x for x in reinvites) and any("c=IN IP4 0.0.0.0" in x for x in reinvites)
    assert any("a=recvonly" in x for x in reinvites)  # the answer to sendonly


def test_a_hang_up_while_dtmf_goes_out_ends_the_send_quietly(agents: Callable[..., SipUserAgent]) -> None:
    """The far end hangs up on the first digit (as an IVR's hang-up digit does) while the rest are still
    going out: send_dtmf returns, the call reads as ended by the far end (no CancelledError)."""
    uas = agents(2, "uas", tcp_port=None)
    uac = agents(1, "uac")
    call = uac.dial(f"sip:1000@{addr(2)}:{uas.udp_port}", timeout_s=5.0)
    callee = uas.next_incoming(2.0)
    assert callee.wait(CONFIRMED, timeout_s=2.0) == CONFIRMED

    def hang_up_on_first_digit() -> None:
        if wait_for(lambda: callee.rtp_stats().digits.startswith("1"), 3.0):
            callee.bye()

    t = threading.Thread(target=hang_up_on_first_digit)
    t.start()
    call.send_dtmf("1234567890")
    t.join()
    assert call.wait_ended(3.0) == ENDED
    assert call.result().ended_by == "remote" and call.result().dtmf_sent == ""


def test_cancel_before_answer(agents: Callable[..., SipUserAgent]) -> None:
    uas = agents(2, "uas", policy=UasPolicy(auto_answer=False))
    uac = agents(1, "uac")
    call = uac.call(f"sip:1000@{addr(2)}:{uas.udp_port}", timeout_s=10.0)
    callee = uas.next_incoming(2.0)
    callee.ring()
    assert call.wait("early", timeout_s=2.0) == "early"
    assert call.cancel() == 200
    assert call.state == CANCELLED and callee.wait_ended(2.0) == CANCELLED
    r = call.result()
    assert r.final_code == 487 and r.setup_ms is None and r.post_dial_delay_ms is not None
    sent = [line.split()[0] for d, line in r.messages if d == ">"]
    got = [line for d, line in r.messages if d == "<"]
    assert sent == ["INVITE", "CANCEL", "ACK"], r.ladder
    assert got == ["SIP/2.0 100 Trying", "SIP/2.0 180 Ringing", "SIP/2.0 200 OK", "SIP/2.0 487 Request Terminated"]
    assert callee.result().ended_by == "remote"


def test_reject_and_early_media(agents: Callable[..., SipUserAgent]) -> None:
    uas = agents(2, "uas", policy=UasPolicy(reject_code=486))
    uac = agents(1, "uac")
    call = uac.dial(f"sip:1000@{addr(2)}:{uas.udp_port}", timeout_s=5.0)
    assert call.state == FAILED and call.result().final_code == 486
    uas.set_policy(UasPolicy(early_media=True, ring_s=1.0))
    call = uac.call(f"sip:1000@{addr(2)}:{uas.udp_port}", timeout_s=5.0)
    assert call.wait("early", timeout_s=2.0) == "early"
    assert wait_for(lambda: call.rtp_stats().audio_packets > 5, 1.0)  # media before the answer
    assert call.wait(CONFIRMED, timeout_s=3.0) == CONFIRMED
    r = call.result()
    assert "183 Session Progress" in r.ladder and r.post_dial_delay_ms is not None and r.setup_ms is not None
    assert r.setup_ms - r.post_dial_delay_ms >= 900  # the ring time
    assert call.bye() == 200


def test_call_over_tcp(agents: Callable[..., SipUserAgent]) -> None:
    uas = agents(2, "uas", udp_port=None, tcp_port=0)
    uac = agents(1, "uac", udp_port=None, tcp_port=0)
    call = uac.dial(f"sip:1000@{addr(2)}:{uas.tcp_port};transport=tcp", transport="tcp", timeout_s=5.0)
    assert call.state == CONFIRMED
    callee = uas.next_incoming(2.0)
    callee.wait(CONFIRMED, timeout_s=2.0)
    call.send_dtmf("5")
    assert wait_for(lambda: callee.rtp_stats().digits == "5", 2.0)
    assert call.hold() == 200 and call.resume() == 200
    assert callee.bye() == 200  # the request from the callee side reaches the caller's listener
    assert call.wait_ended(2.0) == ENDED
    r = call.result()
    assert r.transport == "tcp" and "TCP " in r.ladder and "UDP " not in r.ladder
    assert uac.stats.retransmissions == 0 and uas.stats.retransmissions == 0  # never on a stream


def test_record_route_is_honoured_both_ways(agents: Callable[..., SipUserAgent]) -> None:
    proxy = LooseProxy(addr(30))
    try:
        uas = agents(2, "uas")
        uac = agents(1, "uac")
        call = uac.dial(f"sip:1000@{addr(2)}:{uas.udp_port}", peer=(proxy.host, proxy.port), timeout_s=5.0)
        assert call.state == CONFIRMED
        callee = uas.next_incoming(2.0)
        assert call.hold() == 200 and call.resume() == 200
        assert callee.bye() == 200
        assert call.wait_ended(2.0) == ENDED
        a, b = call.result(), callee.result()
    finally:
        proxy.close()
    rr = f"<{proxy.uri}>"
    assert a.route_set == (rr,) and b.route_set == (rr,)  # UAC: reversed; UAS: as received
    in_dialog = [r for r in proxy.requests() if r.in_dialog]
    assert [r.method for r in in_dialog] == ["ACK", "INVITE", "ACK", "INVITE", "ACK", "BYE"]
    for r in in_dialog:
        assert r.routes == (rr,), (r.method, r.routes)
        assert r.uri == (a.remote_target if r.method != "BYE" else b.remote_target)  # loose: R-URI = target


def test_strict_and_loose_route_sets() -> None:
    loose = route_request("sip:ua@10.0.0.2:5070", ["<sip:p1.example:5060;lr>", "<sip:p2.example;lr>"], "udp")
    assert loose.uri == "sip:ua@10.0.0.2:5070" and loose.route == ("<sip:p1.example:5060;lr>", "<sip:p2.example;lr>")
    assert (loose.next_hop.host, loose.next_hop.port) == ("p1.example", 5060)
    strict = route_request("sip:ua@10.0.0.2:5070", ["<sip:p1.example:5080>", "<sip:p2.example;lr>"], "udp")
    assert strict.uri == "sip:p1.example:5080"  # §12.2.1.1: a strict router takes the Request-URI
    assert strict.route == ("<sip:p2.example;lr>", "<sip:ua@10.0.0.2:5070>")
    assert (strict.next_hop.host, strict.next_hop.port) == ("p1.example", 5080)
    direct = route_request("sip:ua@10.0.0.2;transport=tcp", [], "udp")
    assert direct.route == () and direct.next_hop.transport == "tcp" and direct.next_hop.port == 5060


def test_timer_a_and_b_against_a_silent_peer(agents: Callable[..., SipUserAgent]) -> None:
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind((addr(40), 0))
    try:
        uac = agents(1, "uac")
        t0 = time.monotonic()
        call = uac.dial(f"sip:1000@{addr(40)}:{silent.getsockname()[1]}", timeout_s=1.7)
        elapsed = time.monotonic() - t0
        assert call.state == FAILED and 1.6 <= elapsed < 4.0
        r = call.result()
        assert r.final_code is None and "no final response to INVITE within 1.7 s" in r.final_reason
        assert r.ladder.count("INVITE sip:") == 3  # sent at 0, 0.5 s, 1.5 s (Timer A doubles)
        silent.settimeout(0.1)
        got = []
        with contextlib.suppress(OSError):
            while True:
                got.append(silent.recv(65535))
        assert len(got) == 3 and len({g for g in got}) == 1
        t0 = time.monotonic()
        assert uac.options(f"sip:{addr(40)}:{silent.getsockname()[1]}", timeout_s=1.2) is None
        assert 1.1 <= time.monotonic() - t0 < 3.5
    finally:
        silent.close()


def raw_invite(host: str, port: int, lhost: str, lport: int, *, branch: str = "z9hG4bKraw1",
               call_id: str = "raw-1", body: bytes | None = None) -> bytes:
    sdp = body if body is not None else (
        f"v=0\r\no=- 1 1 IN IP4 {lhost}\r\ns=-\r\nc=IN IP4 {lhost}\r\nt=0 0\r\n"
        "m=audio 9 RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n").encode()
    return (f"INVITE sip:1000@{host}:{port} SIP/2.0\r\nVia: SIP/2.0/UDP {lhost}:{lport};branch={branch}\r\n"
            f"Max-Forwards: 70\r\nFrom: <sip:raw@{lhost}>;tag=r1\r\nTo: <sip:1000@{host}>\r\n"
            f"Call-ID: {call_id}\r\nCSeq: 1 INVITE\r\nContact: <sip:raw@{lhost}:{lport}>\r\n"
            + ("Content-Type: application/sdp\r\n" if sdp else "")
            + f"Content-Length: {len(sdp)}\r\n\r\n").encode() + sdp


def test_uas_retransmits_2xx_until_ack_and_absorbs_retransmitted_invites(
        agents: Callable[..., SipUserAgent]) -> None:
    uas = agents(2, "uas")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((addr(41), 0))
        lport = s.getsockname()[1]
        inv = raw_invite(addr(2), uas.udp_port, addr(41), lport)
        s.sendto(inv, (addr(2), uas.udp_port))
        time.sleep(0.2)
        s.sendto(inv, (addr(2), uas.udp_port))  # a retransmission: answered again, handled once
        s.settimeout(0.1)
        got: list[Response] = []
        deadline = time.monotonic() + 1.8  # 2xx sent at 0, then after 0.5 s, 1.0 s more (T1 doubling)
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                got.append(Message.parse(s.recv(65535)))  # type: ignore[arg-type]
        oks = [r for r in got if r.code == 200]
        assert len(oks) >= 3, [r.code for r in got]
        assert len({r.headers.get("To") for r in oks}) == 1
        to = oks[0].headers["To"]
        ack = (f"ACK sip:hil@{addr(2)}:{uas.udp_port} SIP/2.0\r\n"
               f"Via: SIP/2.0/UDP {addr(41)}:{lport};branch=z9hG4bKack\r\n"
               f"Max-Forwards: 70\r\nFrom: <sip:raw@{addr(41)}>;tag=r1\r\nTo: {to}\r\nCall-ID: raw-1\r\n"
               "CSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n").encode()
        s.sendto(ack, (addr(2), uas.udp_port))
        time.sleep(0.3)
        with contextlib.suppress(OSError):
            while True:
                s.recv(65535)
        later: list[bytes] = []
        s.settimeout(2.5)  # without the ACK, the next one would come 3.5 s after the first 200
        with contextlib.suppress(OSError):
            later.append(s.recv(65535))
        assert later == []  # the ACK stopped the retransmissions
    assert len(uas.calls()) == 1


def test_uas_takes_an_invite_without_sdp(agents: Callable[..., SipUserAgent]) -> None:
    """Offer in the 200, answer in the ACK (RFC 3264 §5 with RFC 3261 §13.2.1)."""
    uas = agents(2, "uas")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as media:
        s.bind((addr(45), 0))
        media.bind((addr(45), 0))
        lport, mport = s.getsockname()[1], media.getsockname()[1]
        s.sendto(raw_invite(addr(2), uas.udp_port, addr(45), lport, call_id="late-1", body=b""),
                 (addr(2), uas.udp_port))
        s.settimeout(1.0)
        ok = None
        while ok is None:
            r = Message.parse(s.recv(65535))
            if isinstance(r, Response) and r.code == 200:
                ok = r
        offer = parse_sdp(ok.body).audio
        assert offer is not None and [c.name for c in offer.g711] == ["PCMU", "PCMA"]
        assert offer.telephone_event_pt() == 101
        answer = (f"v=0\r\no=- 2 2 IN IP4 {addr(45)}\r\ns=-\r\nc=IN IP4 {addr(45)}\r\nt=0 0\r\n"
                  f"m=audio {mport} RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n").encode()
        ack = (f"ACK sip:hil@{addr(2)}:{uas.udp_port} SIP/2.0\r\n"
               f"Via: SIP/2.0/UDP {addr(45)}:{lport};branch=z9hG4bKlateack\r\nMax-Forwards: 70\r\n"
               f"From: <sip:raw@{addr(45)}>;tag=r1\r\nTo: {ok.headers['To']}\r\nCall-ID: late-1\r\n"
               f"CSeq: 1 ACK\r\nContent-Type: application/sdp\r\nContent-Length: {len(answer)}\r\n\r\n"
               ).encode() + answer
        s.sendto(ack, (addr(2), uas.udp_port))
        media.settimeout(2.0)
        pkt = dpkt.rtp.RTP(media.recv(2048))
        assert pkt.pt == 8 and len(pkt.data) == 160  # 20 ms of A-law, as the answer asked
    (h,) = uas.calls()
    assert h.result().codec == "PCMA" and h.state == CONFIRMED


# -- (3) SIPp as an interop peer ---------------------------------------------------------------------

needs_sipp = pytest.mark.skipif(SIPP is None, reason="sipp is not installed (apt-get install sip-tester)")


def free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def sipp_stats(cwd: Path) -> dict[str, str]:
    with open(cwd / "stat.csv", newline="") as f:
        return list(csv.DictReader(f, delimiter=";"))[-1]


@needs_sipp
def test_sipp_uas_answers_the_probe(agents: Callable[..., SipUserAgent], tmp_path: Path) -> None:
    assert SIPP is not None
    port = free_port(addr(10))
    proc = subprocess.Popen(
        [SIPP, "-sn", "uas", "-i", addr(10), "-p", str(port), "-m", "1", "-nostdin", "-trace_err",
         "-timeout", "30s", "-timeout_error"],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    try:
        uac = agents(1, "sipp-uas")
        call = None
        for _ in range(40):  # SIPp needs a moment to bind
            call = uac.dial(f"sip:service@{addr(10)}:{port}", timeout_s=2.0)
            if call.state == CONFIRMED:
                break
            time.sleep(0.1)
        assert call is not None and call.state == CONFIRMED, call.result().ladder if call else None
        r = call.result()
        assert r.codec == "PCMU" and r.telephone_event_pt is None  # SIPp's uas answers PCMU only
        assert r.remote_target is not None and r.remote_target.endswith(f"{addr(10)}:{port};transport=UDP")
        assert call.bye() == 200
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    errors = "".join(p.read_text() for p in tmp_path.glob("*_errors.log"))
    assert proc.returncode == 0, (proc.returncode, errors, err[-2000:])


@needs_sipp
@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_sipp_uac_calls_the_probe_uas(agents: Callable[..., SipUserAgent], tmp_path: Path, transport: str) -> None:
    assert SIPP is not None
    uas = agents(20, "sipp-uac", udp_port=0, tcp_port=0)
    port = uas.udp_port if transport == "udp" else uas.tcp_port
    calls = 5 if transport == "udp" else 3
    proc = subprocess.run(
        [SIPP, "-sn", "uac", f"{addr(20)}:{port}", "-i", addr(21), "-p", "0", "-t", "u1" if transport == "udp"
         else "t1", "-m", str(calls), "-r", "5", "-nostdin", "-trace_stat", "-stf", "stat.csv", "-trace_err",
         "-timeout", "30s", "-timeout_error"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    last = sipp_stats(tmp_path)
    errors = "".join(p.read_text() for p in tmp_path.glob("*_errors.log"))
    assert proc.returncode == 0, (proc.returncode, errors, proc.stderr[-2000:])
    assert int(last["SuccessfulCall(C)"]) == calls and int(last["FailedCall(C)"]) == 0, (last, errors)
    handles = uas.calls()
    assert len(handles) == calls
    for h in handles:
        assert h.wait_ended(3.0) == ENDED
        r = h.result()
        assert r.role == "uas" and r.ended_by == "remote" and r.codec == "PCMU" and r.transport == transport
        assert r.rtp_sent_packets >= 0 and "BYE sip:" in r.ladder
    assert uas.stats.malformed_received == 0


@needs_sipp
def test_sipp_uac_pcap_media_and_dtmf_reach_the_probe(agents: Callable[..., SipUserAgent], tmp_path: Path) -> None:
    """SIPp's uac_pcap plays a recorded PCMA stream and RFC 2833 DTMF '1' (about 9 s)."""
    assert SIPP is not None
    pcaps = Path("/usr/share/sip-tester")
    if not (pcaps / "g711a.pcap").is_file():
        pytest.skip("sip-tester's pcaps are not installed")
    (tmp_path / "pcap").symlink_to(pcaps)
    uas = agents(22, "sipp-uac-pcap")
    proc = subprocess.run(
        [SIPP, "-sn", "uac_pcap", f"{addr(22)}:{uas.udp_port}", "-i", addr(23), "-mi", addr(23), "-p", "0",
         "-m", "1", "-nostdin", "-trace_err", "-timeout", "40s", "-timeout_error"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr[-2000:]
    (h,) = uas.calls()
    assert h.wait_ended(3.0) == ENDED
    r = h.result()
    assert r.codec == "PCMA" and r.telephone_event_pt == 101
    assert r.media_received and r.rtp.by_pt.get(8, 0) > 200
    assert r.dtmf_received == "1"


# -- (4) the real SIP material --------------------------------------------------------------------------

needs_realworld = pytest.mark.skipif(not REALWORLD.is_dir(), reason="shared/realworld/sip is not available")


@needs_realworld
def test_realworld_sdp_samples() -> None:
    found = {}
    for f in sorted((REALWORLD / "sdp").glob("*.sdp")):
        s = parse_sdp(f.read_bytes())
        found[f.stem] = [(m.type, m.protocol, [c.name for c in m.g711], [(c.pt, c.rate) for c in m.telephone_events])
                         for m in s.media]
    assert found["sdp-transform_normal"] == [("audio", "RTP/SAVPF", ["PCMU"], []), ("video", "RTP/SAVPF", [], [])]
    assert found["sdp-transform_hacky"][0] == ("audio", "RTP/SAVPF", ["PCMU", "PCMA"], [(126, 8000)])
    assert [m[0] for m in found["sdp-transform_hacky"]] == ["audio", "video", "application"]
    assert found["sdp-transform_precondition_ipv6_volte"] == [("audio", "RTP/AVP", [], [(111, 16000), (110, 8000)])]
    volte = parse_sdp((REALWORLD / "sdp" / "sdp-transform_precondition_ipv6_volte.sdp").read_bytes())
    assert volte.audio is not None and volte.audio.telephone_event_pt(8000) == 110
    assert volte.connection.startswith("2001:") and volte.audio.ptime_ms == 20
    hacky = parse_sdp((REALWORLD / "sdp" / "sdp-transform_hacky.sdp").read_bytes())
    assert hacky.audio is not None and hacky.audio.held  # c=0.0.0.0 on every stream
    ours = SdpSession("192.0.2.10", 40000)
    for f in (REALWORLD / "sdp").glob("*.sdp"):  # SRTP-only or no G.711: nothing the probe can answer
        assert ours.answer(parse_sdp(f.read_bytes())) is None, f.name


SIPP_VALUES = {
    "service": "+13175550100", "remote_ip": "192.0.2.20", "remote_port": "5060", "transport": "UDP",
    "local_ip": "192.0.2.10", "local_port": "5061", "branch": "z9hG4bK-1-0", "pid": "4242", "call_number": "1",
    "call_id": "1-4242@192.0.2.10", "local_ip_type": "4", "media_ip_type": "4", "media_ip": "192.0.2.10",
    "media_port": "6000", "peer_tag_param": ";tag=4242SIPpTag011",
    "$1": "192.0.2.20:5060", "$3": "user1 53655765 2353687637", "$4": "user1", "$5": "53655765", "$6": "",
    "$8": "2353687637",
}


def render_sipp(template: str, last: Request | None) -> bytes:
    """A SIPp <send> template as SIPp sends it: lines trimmed, keywords filled, CRLF, [len] computed."""
    lines = [line.strip() for line in template.strip("\n").splitlines()]
    while lines and not lines[0]:
        lines.pop(0)
    out = []
    for line in lines:
        m = re.fullmatch(r"\[last_([A-Za-z-]+):\](.*)", line)
        if m:
            if last is None or not last.headers.get(m.group(1)):
                continue  # SIPp drops the line when the header was not received
            line = f"{m.group(1)}: {last.headers.get(m.group(1))}{m.group(2)}"
        out.append(re.sub(r"\[([$\w]+)\]", lambda k: SIPP_VALUES.get(k.group(1), k.group(0)), line))
    text = "\r\n".join(out)
    head, sep, body = text.partition("\r\n\r\n")
    body = body.rstrip("\r\n") + "\r\n" if body.strip() else ""
    head = head.replace("[len]", str(len(body.encode())))
    return (head + "\r\n\r\n" + body).encode() if sep else (head + "\r\n").encode()


@needs_realworld
@pytest.mark.parametrize("scenario", ["uac.xml", "uac_pcap.xml", "regexp.xml", "branchc.xml", "uas.xml",
                                      "regress-gh0034_notify-withlf.xml", "regress-gh0034_notify-nocrlf.xml"])
def test_realworld_sipp_templates_parse(scenario: str) -> None:
    import xml.etree.ElementTree as ET

    root = ET.parse(REALWORLD / "sipp" / scenario).getroot()
    templates = [s.text or "" for s in root.iter("send")]
    assert templates
    uac_invite = ET.parse(REALWORLD / "sipp" / "uac.xml").getroot().find("send")
    assert uac_invite is not None
    invite = parse_message(render_sipp(uac_invite.text or "", None))
    assert isinstance(invite, Request)
    tags: list[str | None] = []  # of the responses (uas.xml): the 180 and the 200 add SIPp's tag
    for t in templates:
        data = render_sipp(t, invite)
        if scenario.endswith("nocrlf.xml"):
            with pytest.raises(SipParseError, match="no empty line"):  # SIPp adds the missing CRLF itself
                parse_message(data)
            data += b"\r\n"
        msg = parse_message(data)
        if isinstance(msg, Request):
            assert msg.method in {"INVITE", "ACK", "BYE", "REGISTER", "NOTIFY"} and msg.cseq.method == msg.method
            if msg.method == "INVITE":
                sdp = parse_sdp(msg.body)
                assert sdp.audio is not None and sdp.audio.g711
                if scenario == "uac_pcap.xml":
                    assert sdp.audio.telephone_event_pt() == 101 and [c.name for c in sdp.audio.g711] == ["PCMA"]
        else:
            assert msg.code in (180, 200) and msg.headers.get("Via") == invite.headers.get("Via")
            assert msg.call_id == invite.call_id
            tags.append(tag_of(msg.headers.get("To")))
        if msg.body:
            assert int(msg.headers["Content-Length"]) == len(msg.body)
    if tags:
        assert tags[:2] == ["4242SIPpTag011", "4242SIPpTag011"]


@needs_realworld
@pytest.mark.parametrize(("pcap", "digits"), [("pcap_dtmf_2833_1.pcap", "1"), ("pcap_dtmf_2833_pound.pcap", "#"),
                                              ("pcap_g711a.pcap", "")])
def test_realworld_rtp_pcaps_through_the_receiver(pcap: str, digits: str) -> None:
    rx = RtpReceiver(audio_pts=(8,), telephone_event_pt=101)
    with open(REALWORLD / "sipp" / pcap, "rb") as f:
        for ts, buf in dpkt.pcap.Reader(f):
            ip = dpkt.ethernet.Ethernet(buf).data
            if isinstance(ip, dpkt.ip.IP) and isinstance(ip.data, dpkt.udp.UDP):
                rx.feed(bytes(ip.data.data), ts)
    st = rx.stats
    assert st.malformed == 0 and st.lost == 0 and st.digits == digits
    if digits:
        assert st.dtmf[0].ended and st.dtmf[0].pt == 101 and st.dtmf[0].duration > 0
    else:
        assert st.audio_packets == 236 and st.by_pt == {8: st.audio_packets} and st.jitter_ms < 5.0


# -- (5) robustness: malformed SIP to the probe's UAS, malformed answers to its UAC ---------------------

def _options(host: str, port: int, lhost: str, lport: int, transport: str = "UDP") -> str:
    return (f"OPTIONS sip:{host}:{port} SIP/2.0\r\nVia: SIP/2.0/{transport} {lhost}:{lport};branch=z9hG4bKopt1\r\n"
            f"Max-Forwards: 70\r\nFrom: <sip:raw@{lhost}>;tag=o1\r\nTo: <sip:{host}>\r\nCall-ID: opt-1\r\n"
            f"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")


def _malformed(kind: str, ok: str) -> bytes | None:
    """``ok`` broken in one way; ``None`` for kinds that are fine SIP (expected: a normal answer)."""
    drop = {"missing-via": "Via", "missing-from": "From", "missing-to": "To", "missing-call-id": "Call-ID",
            "missing-cseq": "CSeq"}
    if kind in drop:
        return "".join(x for x in ok.splitlines(keepends=True) if not x.startswith(drop[kind] + ":")).encode()
    if kind == "garbage":
        return bytes(range(256)) * 3
    if kind == "no-blank-line":
        return ok.split("\r\n\r\n")[0].encode()
    if kind == "lf-only":
        return ok.replace("\r\n", "\n").encode()
    if kind == "content-length-too-big":
        return ok.replace("Content-Length: 0", "Content-Length: 300").encode()
    if kind == "content-length-not-a-number":
        return ok.replace("Content-Length: 0", "Content-Length: ten").encode()
    if kind == "cseq-method-mismatch":
        return ok.replace("CSeq: 1 OPTIONS", "CSeq: 1 INVITE").encode()
    if kind == "header-without-colon":
        return ok.replace("Max-Forwards: 70", "Max-Forwards 70").encode()
    if kind == "bad-request-uri":
        return re.sub(r"^OPTIONS \S+", "OPTIONS not-a-uri", ok).encode()
    if kind == "bad-via":
        return re.sub(r"Via: [^\r]+", "Via: garbage", ok).encode()
    raise AssertionError(kind)


BAD_400 = ["missing-via", "bad-via", "missing-from", "missing-to", "missing-call-id", "missing-cseq", "no-blank-line",
           "lf-only", "content-length-too-big", "content-length-not-a-number", "cseq-method-mismatch",
           "header-without-colon", "bad-request-uri"]
DROPPED = ["garbage"]  # not even a request line: nothing to answer


def exchange(sock: socket.socket, data: bytes, dest: tuple[str, int], quiet_s: float = 0.3) -> list[bytes]:
    sock.sendto(data, dest)
    sock.settimeout(quiet_s)
    out = []
    with contextlib.suppress(OSError):
        while True:
            out.append(sock.recv(65535))
    return out


def test_malformed_udp_requests_to_the_uas(agents: Callable[..., SipUserAgent]) -> None:
    uas = agents(2, "uas")
    dest = (addr(2), uas.udp_port)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((addr(42), 0))
        ok = _options(addr(2), uas.udp_port, addr(42), s.getsockname()[1])
        for kind in BAD_400:
            got = exchange(s, _malformed(kind, ok) or b"", dest)
            assert len(got) == 1 and got[0].startswith(b"SIP/2.0 400 Bad Request\r\n"), (kind, got)
            assert b"Warning: 399 hil " in got[0], kind
        for kind in DROPPED:
            assert exchange(s, _malformed(kind, ok) or b"", dest) == [], kind
        # RFC-legal oddities are understood: folded and compact headers, an unknown method
        folded = ok.replace("Max-Forwards: 70\r\n", "Max-Forwards: 70\r\nSubject: a folded\r\n  subject\r\n")
        compact = (ok.replace("Via:", "v:").replace("From:", "f:").replace("To:", "t:").replace("Call-ID:", "i:")
                   .replace("Content-Length:", "l:"))
        assert exchange(s, folded.encode(), dest)[0].startswith(b"SIP/2.0 200 OK\r\n")
        assert exchange(s, compact.replace("opt-1", "opt-2").encode(), dest)[0].startswith(b"SIP/2.0 200 OK\r\n")
        foo = ok.replace("OPTIONS sip:", "FOO sip:").replace("1 OPTIONS", "1 FOO").replace("opt-1", "opt-3")
        assert exchange(s, foo.encode(), dest)[0].startswith(b"SIP/2.0 501 Not Implemented\r\n")
        reg = ok.replace("OPTIONS sip:", "REGISTER sip:").replace("1 OPTIONS", "1 REGISTER").replace("opt-1", "opt-4")
        answer = exchange(s, reg.encode(), dest)[0]
        assert answer.startswith(b"SIP/2.0 405 Method Not Allowed\r\n") and b"Allow: INVITE" in answer
        bye = ok.replace("OPTIONS sip:", "BYE sip:").replace("1 OPTIONS", "1 BYE").replace("opt-1", "opt-5")
        assert exchange(s, bye.encode(), dest)[0].startswith(b"SIP/2.0 481 ")
        # a compact-form INVITE is a call like any other
        inv = raw_invite(addr(2), uas.udp_port, addr(42), s.getsockname()[1], call_id="compact-1")
        inv = inv.replace(b"\r\nVia:", b"\r\nv:").replace(b"\r\nContent-Type:", b"\r\nc:").replace(
            b"\r\nContent-Length:", b"\r\nl:")
        codes = [Message.parse(d).code for d in exchange(s, inv, dest)]  # type: ignore[union-attr]
        assert codes[:3] == [100, 180, 200]
    assert uas.stats.malformed_received == len(BAD_400) + len(DROPPED)
    assert uas.stats.bad_requests_sent == len(BAD_400)
    assert uas.options(f"sip:{addr(2)}:{uas.udp_port}").code == 200  # type: ignore[union-attr]  # still alive


def test_malformed_tcp_framing_to_the_uas(agents: Callable[..., SipUserAgent]) -> None:
    uas = agents(2, "uas", udp_port=None, tcp_port=0, message_deadline_s=1.0)
    dest = (addr(2), uas.tcp_port)

    def connect() -> socket.socket:
        c = socket.create_connection(dest, timeout=2.0, source_address=(addr(43), 0))
        c.settimeout(2.0)
        return c

    def read_all(c: socket.socket, wait_s: float = 0.5) -> bytes:
        c.settimeout(wait_s)
        out = b""
        with contextlib.suppress(OSError):
            while chunk := c.recv(65535):
                out += chunk
        return out

    with connect() as c:
        lport = c.getsockname()[1]
        ok = _options(addr(2), uas.tcp_port, addr(43), lport, "TCP")
        # two messages in one segment, then one in three pieces, with CRLF keep-alives between
        c.sendall(ok.encode() + b"\r\n\r\n" + ok.replace("opt-1", "opt-2").encode())
        piece = ok.replace("opt-1", "opt-3").encode()
        for part in (piece[:10], piece[10:60], piece[60:]):
            c.sendall(part)
            time.sleep(0.05)
        got = read_all(c)
        assert got.count(b"SIP/2.0 200 OK\r\n") == 3, got
        framer = StreamFramer()
        assert [isinstance(m, bytes) for m in framer.feed(got)] == [True, True, True]
    with connect() as c:  # Content-Length larger than what comes: 400 after the deadline, then closed
        t0 = time.monotonic()
        c.sendall(ok.replace("Content-Length: 0", "Content-Length: 500").encode() + b"only this")
        got = read_all(c, 3.0)
        assert got.startswith(b"SIP/2.0 400 Bad Request\r\n") and b"incomplete message" in got
        assert 0.9 <= time.monotonic() - t0 < 3.0
    with connect() as c:  # a Content-Length that is no number: framing is lost, 400 and close
        c.sendall(ok.replace("Content-Length: 0", "Content-Length: -3").encode())
        got = read_all(c, 2.0)
        assert got.startswith(b"SIP/2.0 400 Bad Request\r\n") and b"bad Content-Length" in got
    with connect() as c:  # no Content-Length on a stream: 400, the connection goes on
        c.sendall(ok.replace("Content-Length: 0\r\n", "").encode() + ok.replace("opt-1", "opt-9").encode())
        got = read_all(c)
        assert got.startswith(b"SIP/2.0 400 Bad Request\r\n") and got.count(b"SIP/2.0 200 OK\r\n") == 1
    assert uas.stats.malformed_received == 3


def scripted_peer(host: str, answer: Callable[[Request], list[bytes]]) -> tuple[socket.socket, int]:
    """A UDP peer that answers each request with ``answer(request)`` datagrams."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((host, 0))
    s.settimeout(0.1)

    def run() -> None:
        while s.fileno() != -1:
            try:
                data, src = s.recvfrom(65535)
                req = Message.parse(data)
            except (TimeoutError, OSError, ValueError):
                continue
            if isinstance(req, Request):
                for out in answer(req):
                    s.sendto(out, src)

    threading.Thread(target=run, daemon=True).start()
    return s, s.getsockname()[1]


def test_unbindable_address_and_refused_tcp_are_unreachable(agents: Callable[..., SipUserAgent]) -> None:
    with pytest.raises(LabUnreachable) as e:
        SipUserAgent("carrier", Transcript("carrier sip"), "192.0.2.1")  # TEST-NET-1: not on this host
    assert e.value.device == "carrier" and "cannot bind 192.0.2.1" in e.value.detail
    uac = agents(1, "carrier")
    closed = free_port(addr(46))  # nothing listens there
    t0 = time.monotonic()
    with pytest.raises(LabUnreachable) as e:
        uac.call(f"sip:1000@{addr(46)}:{closed};transport=tcp", transport="tcp")
    assert e.value.address == f"{addr(46)}:{closed}" and "TCP connect failed" in e.value.detail
    assert time.monotonic() - t0 < 4.0


@pytest.mark.parametrize("kind", ["unparseable", "bad-cseq", "content-length-too-big", "missing-call-id"])
def test_malformed_answers_to_the_uac_are_protocol_errors(agents: Callable[..., SipUserAgent], kind: str) -> None:
    def answer(req: Request) -> list[bytes]:
        if req.method == "ACK":
            return []
        good = encode(build_response(req, 200, to_tag="x1"))
        if kind == "unparseable":
            return [good.replace(b"\r\nTo:", b"\r\nTo broken\r\nTo:")]
        if kind == "bad-cseq":
            return [re.sub(rb"CSeq: [^\r]+", b"CSeq: one INVITE", good)]
        if kind == "content-length-too-big":
            return [good.replace(b"Content-Length: 0", b"Content-Length: 99")]
        return [re.sub(rb"Call-ID: [^\r]+\r\n", b"", good)]

    sock, port = scripted_peer(addr(44), answer)
    try:
        uac = agents(1, "carrier")
        t0 = time.monotonic()
        call = uac.dial(f"sip:1000@{addr(44)}:{port}", timeout_s=3.0)
        assert call.state == FAILED and time.monotonic() - t0 < 2.0  # at once, not at the deadline
        r = call.result()
        assert r.error is not None and r.error.startswith(f"protocol error: carrier sip {addr(44)}:{port}: "), r.error
        with pytest.raises(LabProtocolError) as e:
            uac.options(f"sip:{addr(44)}:{port}", timeout_s=3.0)
        assert e.value.device == "carrier" and e.value.address == f"{addr(44)}:{port}"
        assert "malformed response" in e.value.detail
    finally:
        sock.close()


def test_receiver_counts_bit_exact_echo_and_the_transcoding_relay_breaks_it() -> None:
    """``audio_exact`` counts payloads equal to a reference frame; the twin relay's ``media-transcode``
    changes every 2100 Hz frame but keeps the RTP header, CSRCs, extension and padding."""
    frames = tone_frames("PCMU", 2100.0)
    rx = RtpReceiver((0,), None)
    rx.reference = frozenset(frames)
    for i, f in enumerate(frames[:10]):
        rx.feed(bytes(dpkt.rtp.RTP(pt=0, seq=i, ts=160 * i, ssrc=7, data=f)), i * 0.02)
    header = bytes([0x80 | 0x20 | 0x10 | 1, 0]) + bytes(10) + b"CSRC" + b"\xbe\xde\x00\x01" + b"EXT1"
    changed = 0
    for i, f in enumerate(frames[10:20]):
        pkt = header[:2] + (10 + i).to_bytes(2, "big") + header[4:] + f + b"\x00\x02"
        out = _through_other_law(pkt, 0)
        assert out[:len(header)] == header[:2] + (10 + i).to_bytes(2, "big") + header[4:] and out[-2:] == b"\x00\x02"
        changed += out[len(header):-2] != f
        rx.feed(_through_other_law(bytes(dpkt.rtp.RTP(pt=0, seq=10 + i, ts=160 * (10 + i), ssrc=7, data=f)), 0),
                (10 + i) * 0.02)
    assert changed == 10
    assert (rx.stats.audio_packets, rx.stats.audio_exact) == (20, 10)
