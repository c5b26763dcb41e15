"""SIP side of the twin and the harness: OPTIONS probes, faults, registration, bad input, SIPp interop.

Run with your own test net: ``HIL_TEST_NET=127.73 .venv/bin/pytest tests/transports/sip/test_options.py``.
"""

from __future__ import annotations

import csv
import os
import secrets
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sipmessage import Message, Response

from harness.devices.driver import Driver
from harness.devices.drivers.pstn import PstnSimulator
from harness.devices.drivers.sip_access import SipFacts
from harness.errors import LabProtocolError, LabUnreachable
from harness.inventory import LoadedLab
from harness.transports.sip.options import OptionsResult
from harness.transports.sip.ua import SipUserAgent
from harness.transports.transcript import Transcript
from harness.twin.manager import TwinControl
from tests.conftest import wait_for

TEST_NET = os.environ.get("HIL_TEST_NET", "127.77")
LOCAL = f"{TEST_NET}.250.1"  # the harness side of the test net (loopback routes all of 127/8)

pytestmark = pytest.mark.timeout(120)


class SipDriver(SipFacts, Driver):
    """SipFacts on any device, for devices whose own driver belongs to another module."""


_opened: list[SipDriver] = []


def sip_driver(loaded: LoadedLab, name: str) -> SipDriver:
    """A driver closed after the test (its OPTIONS run on a SIP user agent of their own)."""
    d = SipDriver(name, loaded.lab.devices[name], loaded)
    _opened.append(d)
    return d


@pytest.fixture(autouse=True)
def _close_drivers() -> Iterator[None]:
    yield
    while _opened:
        _opened.pop().close()


# -- raw SIP helpers (what a carrier or a broken peer would send) --------------------------------

def exchange(host: str, port: int, payload: bytes, quiet_s: float = 0.4, local: str = LOCAL) -> list[bytes]:
    """Send one datagram from a fresh socket; every datagram back until ``quiet_s`` of silence."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((local, 0))
        s.sendto(payload, (host, port))
        return _drain(s, quiet_s)


def _drain(s: socket.socket, quiet_s: float) -> list[bytes]:
    out = []
    s.settimeout(quiet_s)
    while True:
        try:
            out.append(s.recv(65535))
        except (TimeoutError, ConnectionRefusedError):
            return out


def request(method: str, host: str, port: int, lport: int, *, user: str = "+13175550100",
            call_id: str | None = None, cseq: str | None = None, body: bytes = b"",
            extra: str = "", to_tag: str = "", branch: str | None = None, from_tag: str | None = None) -> bytes:
    call_id = call_id or f"{secrets.token_hex(8)}@{LOCAL}"
    branch = branch or f"z9hG4bK{secrets.token_hex(6)}"
    head = (f"{method} sip:{user}@{host}:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {LOCAL}:{lport};branch={branch};rport\r\n"
            f"Max-Forwards: 70\r\n"
            f"From: <sip:test@{LOCAL}>;tag={from_tag or 't' + secrets.token_hex(3)}\r\n"
            f"To: <sip:{user}@{host}>{to_tag}\r\n"
            f"Call-ID: {call_id}\r\n"
            f"CSeq: {cseq or '1 ' + method}\r\n"
            f"Contact: <sip:test@{LOCAL}:{lport}>\r\n"
            + ("Content-Type: application/sdp\r\n" if body else "")
            + extra
            + f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


OFFER = (f"v=0\r\no=- 1 1 IN IP4 {LOCAL}\r\ns=-\r\nc=IN IP4 {LOCAL}\r\nt=0 0\r\n"
         "m=audio 6000 RTP/AVP 8 0 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\n"
         "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n").encode()


def parse_all(datagrams: list[bytes]) -> list[Response]:
    out = []
    for d in datagrams:
        m = Message.parse(d)
        assert isinstance(m, Response), d
        out.append(m)
    return out


class Dialog:
    """A UAC socket for one call to ``host:port`` (INVITE, ACK, BYE, CANCEL)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((LOCAL, 0))
        self.lport = self.sock.getsockname()[1]
        self.call_id = f"{secrets.token_hex(8)}@{LOCAL}"
        self.from_tag = f"t{secrets.token_hex(3)}"
        self.to_tag = ""

    def send(self, method: str, cseq: int, body: bytes = b"", branch: str | None = None,
             quiet_s: float = 0.4) -> list[Response]:
        self.sock.sendto(request(method, self.host, self.port, self.lport, call_id=self.call_id,
                                 cseq=f"{cseq} {method}", body=body, to_tag=self.to_tag, branch=branch,
                                 from_tag=self.from_tag),
                         (self.host, self.port))
        got = parse_all(_drain(self.sock, quiet_s)) if method != "ACK" else []
        # a final answer sent again before our ACK (RFC 3261 §13.3.1.4: 2xx every T1, 500 ms, until the
        # ACK) is the same answer: kept once, whatever the drain's timing caught
        finals = [r for r in got if r.code >= 200]
        got = [r for r in got if r.code < 200] + finals[:1]
        for r in got:
            tag = r.to_address.parameters.get("tag")
            if tag and r.code >= 180 and method == "INVITE":
                self.to_tag = f";tag={tag}"
        return got

    def close(self) -> None:
        self.sock.close()


def ssh_served(twin: TwinControl, device: str) -> bool:
    services = twin.status()["devices"][device]["services"]
    return any("ssh" in s.lower() or "cli" in s.lower() for s in services)


# -- the PSTN simulator ---------------------------------------------------------------------------

def test_options_to_pstn_answers_200_with_rtt(pstn: PstnSimulator, twin: TwinControl) -> None:
    before = twin.state("pstn1")["options_received"]
    r = pstn.options()
    assert r.status == 200 and r.reason == "OK"
    assert r.rtt_ms is not None and 0 < r.rtt_ms < 1000
    assert {"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS"} <= set(r.allow)
    assert r.user_agent and "Twin Carrier" in r.user_agent
    assert r.attempts == 1 and not r.refused
    assert pstn.probe("sip").startswith(f"SIP 200 OK from {pstn.device.host}:5060")
    assert twin.state("pstn1")["options_received"] == before + 2
    text = pstn.transcript("sip", r.address).render()
    assert f"OPTIONS sip:{pstn.device.host}:5060 SIP/2.0" in text and "SIP/2.0 200 OK" in text


def test_pstn_call_flow_and_counters(twin: TwinControl) -> None:
    host = twin.state("pstn1")["host"]
    before = twin.state("pstn1")
    d = Dialog(host, 5060)
    try:
        got = d.send("INVITE", 1, OFFER)
        assert [r.code for r in got] == [100, 183, 200]  # early media, then the answer with the same SDP
        assert got[1].body == got[2].body and got[1].headers.get("Content-Type") == "application/sdp"
        ok = got[-1]
        assert ok.headers.get("Content-Type") == "application/sdp"
        sdp = ok.body.decode()
        assert "m=audio " in sdp and " RTP/AVP 8 0 101" in sdp and "a=rtpmap:101 telephone-event/8000" in sdp
        assert f"c=IN IP4 {host}" in sdp
        assert d.call_id in twin.state("pstn1")["active_calls"]
        d.send("ACK", 1)
        assert [r.code for r in d.send("BYE", 2)] == [200]
        assert [r.code for r in d.send("BYE", 3)] == [481]  # the call is over
    finally:
        d.close()
    after = twin.state("pstn1")
    assert after["invites_received"] == before["invites_received"] + 1
    assert after["calls_answered"] == before["calls_answered"] + 1
    assert after["calls_completed"] == before["calls_completed"] + 1
    assert after["acks_received"] == before["acks_received"] + 1
    assert d.call_id not in after["active_calls"]


def test_retransmitted_invite_is_answered_again_but_handled_once(twin: TwinControl) -> None:
    host = twin.state("pstn1")["host"]
    before = twin.state("pstn1")["invites_received"]
    d = Dialog(host, 5060)
    try:
        branch = f"z9hG4bK{secrets.token_hex(6)}"
        first = d.send("INVITE", 1, OFFER, branch=branch)
        again = d.send("INVITE", 1, OFFER, branch=branch)
        assert first[-1].code == 200 and again and {r.code for r in again} == {200}  # (and the 2xx retransmission)
        assert again[-1].to_address.parameters.get("tag") == first[-1].to_address.parameters.get("tag")
        d.send("ACK", 1)
        d.send("BYE", 2)
    finally:
        d.close()
    assert twin.state("pstn1")["invites_received"] == before + 1


def test_pstn_rejects_what_it_cannot_do(twin: TwinControl) -> None:
    host = twin.state("pstn1")["host"]
    g729 = OFFER.replace(b"RTP/AVP 8 0 101", b"RTP/AVP 18").replace(b"a=rtpmap:8 PCMA/8000\r\n", b"")
    assert parse_all(exchange(host, 5060, request("INVITE", host, 5060, 9, body=g729)))[-1].code == 488
    assert parse_all(exchange(host, 5060, request("FOO", host, 5060, 9)))[0].code == 501
    reg = parse_all(exchange(host, 5060, request("REGISTER", host, 5060, 9)))[0]
    assert reg.code == 405 and "INVITE" in (reg.headers.get("Allow") or "")
    assert parse_all(exchange(host, 5060, request("CANCEL", host, 5060, 9)))[0].code == 481
    assert parse_all(exchange(host, 5060, request("BYE", host, 5060, 9)))[0].code == 481


def test_options_silent_drops_options_only(pstn: PstnSimulator, twin: TwinControl) -> None:
    twin.fault("pstn1", "options-silent")
    t0 = time.monotonic()
    r = pstn.options(timeout_s=1.2)
    elapsed = time.monotonic() - t0
    assert r.status is None and r.rtt_ms is None and not r.refused
    assert 1.15 <= elapsed < 2.0
    assert r.attempts == 2  # Timer E: sent at 0 s and 0.5 s; the next one (1.5 s) is past the deadline
    assert "no final response" in pstn.transcript("sip", r.address).render()
    # silent SIP on a device whose management plane answers: the probe says so, the lab is not broken
    assert pstn.probe_sip().startswith(f"SIP silent at {r.address}")
    # everything else is still answered
    d = Dialog(pstn.device.host, 5060)
    try:
        assert [x.code for x in d.send("INVITE", 1, OFFER)] == [100, 183, 200]
        d.send("ACK", 1)
        assert [x.code for x in d.send("BYE", 2)] == [200]
    finally:
        d.close()
    assert ssh_served(twin, "pstn1")
    assert pstn.management_alive() is True  # silent SIP on a live device: a duty FAIL, not BROKEN
    twin.heal("pstn1")
    assert pstn.options().status == 200


def test_down_answers_nothing(pstn: PstnSimulator, twin: TwinControl) -> None:
    twin.fault("pstn1", "down")
    r = pstn.options(timeout_s=1.0)
    assert r.status is None and r.user_agent is None
    with pytest.raises(LabUnreachable):
        pstn.probe_sip()
    assert exchange(pstn.device.host, 5060, request("INVITE", pstn.device.host, 5060, 9, body=OFFER)) == []
    assert pstn.management_alive() is False
    twin.heal("pstn1")
    assert wait_for(lambda: pstn.options(timeout_s=1.0).status == 200, 3.0)
    assert ssh_served(twin, "pstn1")  # else management_alive() False would prove nothing
    assert pstn.management_alive() is True


# -- Edge and phones --------------------------------------------------------------------------------

PHONES = ("phone1", "phone2", "phone3", "phone4")
UNKNOWN_DID = "+13175550999"  # in no dial plan: the Edge answers 404


def test_phones_register_at_their_edge(twin: TwinControl, loaded: LoadedLab) -> None:
    def all_registered() -> bool:
        regs = twin.state("edge1")["registrations"]
        return all(loaded.lab.devices[p].facts.extension in regs for p in PHONES) and all(  # type: ignore[union-attr]
            twin.state(p)["registered"] for p in PHONES)

    assert wait_for(all_registered, 5.0), [twin.state(p) for p in ("edge1", *PHONES)]
    regs = twin.state("edge1")["registrations"]
    edge = loaded.lab.devices["edge1"]
    for p in PHONES:
        dev = loaded.lab.devices[p]
        ip, port, until = regs[dev.facts.extension]  # type: ignore[union-attr]
        assert (ip, port) == (dev.host, 5060)
        assert 60 < until - time.time() <= 120
        st = twin.state(p)
        assert st["registrar"] == f"{edge.host}:8060" and st["last_register_code"] == 200


def test_phone_down_unregisters_and_heal_registers_again(twin: TwinControl, loaded: LoadedLab) -> None:
    assert wait_for(lambda: "1002" in twin.state("edge1")["registrations"], 5.0)
    twin.fault("phone2", "down")
    assert twin.state("phone2")["registered"] is False
    assert wait_for(lambda: "1002" not in twin.state("edge1")["registrations"], 2.0)
    assert sip_driver(loaded, "phone2").options(timeout_s=0.6).status is None
    twin.heal("phone2")
    assert wait_for(lambda: twin.state("phone2")["registered"]
                    and "1002" in twin.state("edge1")["registrations"], 5.0)


def test_edge_ports_answer(twin: TwinControl, loaded: LoadedLab) -> None:
    edge = sip_driver(loaded, "edge1")
    host = edge.device.host
    trunk, phones = edge.options(), edge.options(port=8060)
    assert trunk.status == 200 and phones.status == 200
    assert "REGISTER" in phones.allow and "REGISTER" not in trunk.allow
    assert trunk.user_agent and "2026.11.1" in trunk.user_agent
    assert edge.probe_sip().startswith(f"SIP 200 OK from {host}:5060")
    assert parse_all(exchange(host, 5060, request("INVITE", host, 5060, 9, user=UNKNOWN_DID,
                                                  body=OFFER)))[-1].code == 404
    assert parse_all(exchange(host, 5060, request("REGISTER", host, 5060, 9, user="1001")))[0].code == 405
    unknown = request("REGISTER", host, 8060, 9, user="9999", extra="Expires: 120\r\n")
    assert parse_all(exchange(host, 8060, unknown))[0].code == 404
    assert "9999" not in twin.state("edge1")["registrations"]


def test_edge_options_silent(twin: TwinControl, loaded: LoadedLab) -> None:
    edge = sip_driver(loaded, "edge1")
    twin.fault("edge1", "options-silent")
    assert edge.options(timeout_s=0.6).status is None
    assert edge.options(timeout_s=0.6, port=8060).status is None
    host = edge.device.host
    assert parse_all(exchange(host, 5060, request("INVITE", host, 5060, 9, user=UNKNOWN_DID,
                                                  body=OFFER)))[-1].code == 404


def test_phone_answers_options_and_auto_answers(twin: TwinControl, loaded: LoadedLab) -> None:
    phone = sip_driver(loaded, "phone1")
    r = phone.options()
    assert r.status == 200 and r.user_agent == "VVX 450 6.4.3"
    d = Dialog(phone.device.host, 5060)
    try:
        got = d.send("INVITE", 1, OFFER)
        assert [x.code for x in got] == [100, 180, 200]  # rings, answers 0.1 s later
        assert b"RTP/AVP 8 0 101" in got[-1].body
        d.send("ACK", 1)
        assert [x.code for x in d.send("BYE", 2)] == [200]
    finally:
        d.close()


# -- malformed input ---------------------------------------------------------------------------------

def _malformed(kind: str, host: str, port: int) -> bytes:
    ok = request("OPTIONS", host, port, 9).decode()
    if kind == "garbage":
        return bytes(range(256)) * 4
    if kind == "no-blank-line":
        return ok.split("\r\n\r\n")[0].encode()
    if kind == "missing-call-id":
        return "".join(x for x in ok.splitlines(keepends=True) if not x.startswith("Call-ID")).encode()
    if kind == "content-length-too-big":
        return ok.replace("Content-Length: 0", "Content-Length: 500").encode()
    if kind == "content-length-not-a-number":
        return ok.replace("Content-Length: 0", "Content-Length: many").encode()
    if kind == "cseq-method-mismatch":
        return ok.replace("CSeq: 1 OPTIONS", "CSeq: 1 INVITE").encode()
    if kind == "header-without-colon":
        return ok.replace("Max-Forwards: 70", "Max-Forwards 70").encode()
    if kind == "bad-request-uri":
        return ok.replace(f"OPTIONS sip:+13175550100@{host}:{port}", "OPTIONS not-a-uri").encode()
    raise AssertionError(kind)


MUST_400 = {"missing-call-id", "content-length-too-big", "content-length-not-a-number",
            "cseq-method-mismatch", "header-without-colon", "bad-request-uri"}
KINDS = ["garbage", "no-blank-line", *sorted(MUST_400)]


@pytest.mark.parametrize("target", [("pstn1", 5060), ("edge1", 5060), ("edge1", 8060)],
                         ids=["pstn", "edge-trunk", "edge-phones"])
def test_malformed_sip_gets_400_or_is_ignored(target: tuple[str, int], twin: TwinControl,
                                              loaded: LoadedLab) -> None:
    name, port = target
    drv = sip_driver(loaded, name)
    host = drv.device.host
    for kind in KINDS:
        got = exchange(host, port, _malformed(kind, host, port), quiet_s=0.25)
        assert all(g.startswith(b"SIP/2.0 400 ") for g in got), (kind, got)
        if kind in MUST_400:
            assert len(got) == 1, kind
            assert Message.parse(got[0]).headers.get("Warning"), kind
    assert drv.options(port=port).status == 200  # still alive
    if name == "pstn1":
        assert twin.state("pstn1")["malformed_received"] >= len(KINDS) - 1


# -- the transport on its own (a scripted peer, no twin) ---------------------------------------------

@pytest.fixture
def peer() -> Iterator[Callable[[Callable[[bytes, int], list[bytes]]], tuple[str, int]]]:
    """A UDP peer on the test net whose replies a test scripts: ``script(request, n) -> datagrams``."""
    socks: list[socket.socket] = []

    def start(script: Callable[[bytes, int], list[bytes]]) -> tuple[str, int]:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((f"{TEST_NET}.250.2", 0))
        s.settimeout(0.1)
        socks.append(s)

        def run() -> None:
            n = 0
            while s.fileno() != -1:
                try:
                    data, addr = s.recvfrom(65535)
                except (TimeoutError, OSError):
                    continue
                n += 1
                for out in script(data, n):
                    s.sendto(out, addr)

        threading.Thread(target=run, daemon=True).start()
        return s.getsockname()[:2]

    yield start
    for s in socks:
        s.close()


def _reply(req: bytes, code: int, phrase: str, extra: str = "") -> bytes:
    m = Message.parse(req)
    head = "".join(f"{h}: {m.headers.get(h)}\r\n" for h in ("Via", "From", "To", "Call-ID", "CSeq"))
    return f"SIP/2.0 {code} {phrase}\r\n{head}{extra}Content-Length: 0\r\n\r\n".encode()


def probe_options(host: str, port: int, timeout_s: float, local: str = LOCAL) -> OptionsResult:
    """One OPTIONS from a fresh probe user agent on ``local``, its UDP socket connected to the peer."""
    with SipUserAgent("peer", Transcript("peer sip"), local, tcp_port=None, udp_peer=(host, port)) as ua:
        return ua.probe_options(host, port, timeout_s)


def test_probe_retransmits_on_timer_e(peer: Any) -> None:
    host, port = peer(lambda req, n: [] if n == 1 else [_reply(req, 200, "OK", "Server: scripted\r\n")])
    r = probe_options(host, port, 3.0)
    assert r.status == 200 and r.attempts == 2 and r.user_agent == "scripted"
    assert r.rtt_ms is not None and r.rtt_ms >= 450


def test_probe_waits_past_provisional(peer: Any) -> None:
    host, port = peer(lambda req, n: [_reply(req, 100, "Trying"), _reply(req, 404, "Not Found")])
    r = probe_options(host, port, 2.0)
    assert (r.status, r.reason, r.provisional) == (404, "Not Found", [100])


def test_probe_unparseable_answer_is_a_protocol_error(peer: Any) -> None:
    host, port = peer(lambda req, n: [b"HTTP/1.1 400 Bad Request\r\n\r\n"])
    with pytest.raises(LabProtocolError) as e:
        probe_options(host, port, 2.0)
    assert e.value.device == "peer" and e.value.address == f"{host}:{port}"


def test_probe_bad_local_address_is_unreachable() -> None:
    with pytest.raises(LabUnreachable):
        probe_options(LOCAL, 5060, 0.5, local="192.0.2.1")


def test_probe_port_unreachable_is_refused_at_once() -> None:
    """Nothing listens: the ICMP port unreachable ends the OPTIONS at once, as an answer (not an error)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((f"{TEST_NET}.250.2", 0))
        host, port = s.getsockname()[:2]  # a port just freed: nothing listens there
    t0 = time.monotonic()
    r = probe_options(host, port, 3.0)
    assert r.status is None and r.refused and r.reason == "ICMP port unreachable"
    assert r.attempts == 1 and r.rtt_ms is None and r.address == f"{host}:{port}"
    assert time.monotonic() - t0 < 1.0


# -- SIPp interop ---------------------------------------------------------------------------------------

def test_sipp_uac_completes_calls_against_the_pstn(twin: TwinControl, tmp_path: Path) -> None:
    sipp = shutil.which("sipp")
    if sipp is None:
        pytest.skip("sipp is not installed (apt-get install sip-tester)")
    host = twin.state("pstn1")["host"]
    before = twin.state("pstn1")["calls_completed"]
    proc = subprocess.run(
        [sipp, "-sn", "uac", f"{host}:5060", "-i", f"{TEST_NET}.250.3", "-p", "0", "-m", "5", "-r", "5",
         "-nostdin", "-trace_stat", "-stf", "stat.csv", "-trace_err", "-timeout", "30s", "-timeout_error"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    with open(tmp_path / "stat.csv", newline="") as f:
        last = list(csv.DictReader(f, delimiter=";"))[-1]
    errors = "".join(p.read_text() for p in tmp_path.glob("*_errors.log"))
    assert proc.returncode == 0, (proc.returncode, errors, proc.stderr[-2000:])
    assert int(last["SuccessfulCall(C)"]) == 5 and int(last["FailedCall(C)"]) == 0, (last, errors)
    assert twin.state("pstn1")["calls_completed"] == before + 5
