"""The twin's phones and PSTN simulator on the harness's SIP stack: echo media, early media, refusals,
max calls, OPTIONS pings to the Edge, the carrier's call log over SSH, the real SIP material, bad input.

Run with your own test net: ``HIL_TEST_NET=127.83 .venv/bin/pytest tests/twin/servers/test_sip_ua.py``.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import dpkt
import pytest
from sipmessage import Message, Request, Response

from harness.devices.drivers.pstn import CALL_LOG_COLUMNS, PstnSimulator, parse_call_log
from harness.errors import LabProtocolError
from harness.inventory import LoadedLab
from harness.transports.rtp import RtpSession
from harness.transports.sip.call import CANCELLED, CONFIRMED, ENDED, FAILED
from harness.transports.sip.message import parse_message, tag_of
from harness.transports.sip.ua import SipUserAgent
from harness.transports.transcript import Transcript
from harness.twin.manager import TwinControl
from tests.conftest import grows, wait_for
from tests.transports.sip.test_call import REALWORLD, SIPP_VALUES, render_sipp

TEST_NET = os.environ.get("HIL_TEST_NET", "127.77")
NET = f"{TEST_NET}.252"  # this module's side of the test net
ECHO = "+13175559000"  # pstn1's test number
UNAVAILABLE = "+13175559503"  # pstn1 answers 503

pytestmark = pytest.mark.timeout(120)
needs_realworld = pytest.mark.skipif(not REALWORLD.is_dir(), reason="shared/realworld/sip is not available")


def addr(n: int) -> str:
    return f"{NET}.{n}"


def host_of(loaded: LoadedLab, name: str) -> str:
    return loaded.lab.devices[name].host


# -- RTP echo mode (no twin) ------------------------------------------------------------------------

def test_rtp_echo_sends_back_audio_and_digits_on_its_own_stream() -> None:
    async def run() -> tuple[Any, Any, Any]:
        probe, echo = RtpSession(addr(1)), RtpSession(addr(2), echo=True)
        await probe.open()
        await echo.open()
        try:
            # the probe sends PCMU and DTMF on 101, receives DTMF on 96; the echo side the other way round
            probe.configure((addr(2), echo.port), "PCMU", 0, 101, True, (0, 8), 96)
            echo.configure((addr(1), probe.port), "PCMU", 0, 96, True, (0, 8), 101)
            await asyncio.sleep(0.3)
            await probe.send_dtmf("12#")
            await asyncio.sleep(0.3)
            return probe.stats(), echo.stats(), (echo.sent, probe._ssrc)
        finally:
            await probe.close()
            await echo.close()

    back, seen, (echoed, ssrc) = asyncio.run(run())
    assert seen.audio_packets > 10 and seen.digits == "12#"
    assert back.digits == "12#" and all(e.pt == 96 for e in back.dtmf)  # on the type the probe receives
    assert back.audio_packets >= seen.audio_packets - 2  # every audio packet came back (a few in flight)
    assert back.ssrcs and ssrc not in back.ssrcs  # the echo's own SSRC
    assert back.lost == 0 and back.unexpected_pt == {}
    assert echoed.digits == "12#" and echoed.dtmf_packets >= 3 * 5
    assert back.jitter_ms < 20.0  # the sender's timing, shifted: not a per-packet timestamp mess


def test_rtp_echo_transcodes_the_other_law_and_stays_silent_when_not_sending() -> None:
    async def run() -> tuple[Any, int]:
        probe, echo = RtpSession(addr(3)), RtpSession(addr(4), echo=True)
        await probe.open()
        await echo.open()
        try:
            probe.configure((addr(4), echo.port), "PCMA", 8, None, True, (0, 8), None)
            echo.configure((addr(3), probe.port), "PCMU", 0, None, True, (0, 8), None)
            await asyncio.sleep(0.3)
            first = probe.stats()
            echo.configure((addr(3), probe.port), "PCMU", 0, None, False, (0, 8), None)  # on hold: no echo
            n = probe.stats().packets
            await asyncio.sleep(0.3)
            return first, probe.stats().packets - n
        finally:
            await probe.close()
            await echo.close()

    first, during_hold = asyncio.run(run())
    assert first.by_pt.get(0, 0) > 5  # PCMA in, PCMU back
    assert during_hold <= 1


def test_rtp_set_echo_switches_tone_to_echo() -> None:
    async def run() -> tuple[int, int]:
        a, b = RtpSession(addr(5)), RtpSession(addr(6))
        await a.open()
        await b.open()
        try:
            a.configure((addr(6), b.port), "PCMU", 0, None, False, (0,), None)  # a only listens
            b.configure((addr(5), a.port), "PCMU", 0, None, True, (0,), None)  # b sends the tone
            await asyncio.sleep(0.2)
            tone = a.stats().packets
            b.set_echo(True)  # nothing comes in to b, so nothing goes out any more
            await asyncio.sleep(0.05)
            n = a.stats().packets
            await asyncio.sleep(0.2)
            return tone, a.stats().packets - n
        finally:
            await a.close()
            await b.close()

    tone, after = asyncio.run(run())
    assert tone >= 5 and after == 0


# -- phones --------------------------------------------------------------------------------------------

def test_phones_registered(twin: TwinControl, loaded: LoadedLab) -> None:
    phones = [n for n, d in loaded.lab.devices.items() if d.role == "phone"]
    assert wait_for(lambda: all(twin.state(p)["registered"] for p in phones), 5.0)
    regs = twin.state("edge1")["registrations"]
    for p in phones:
        dev = loaded.lab.devices[p]
        assert regs[dev.facts.extension][:2] == [dev.host, 5060]  # type: ignore[union-attr]


def test_phone_allows_notify_and_pstn_does_not(twin: TwinControl, loaded: LoadedLab,
                                               agents: Callable[..., SipUserAgent]) -> None:
    """A phone takes check-sync NOTIFY (firmware), so its Allow says so; the carrier's does not."""
    ua = agents(23)
    phone = ua.options(f"sip:{host_of(loaded, 'phone1')}:5060")
    pstn = ua.options(f"sip:{host_of(loaded, 'pstn1')}:5060")
    assert phone is not None and pstn is not None
    assert "NOTIFY" in phone.headers.get("Allow", "").split(", "), phone.headers
    assert "NOTIFY" not in pstn.headers.get("Allow", "") and "INVITE" in pstn.headers.get("Allow", "")


def test_phone_auto_answers_and_echoes_audio_and_dtmf(twin: TwinControl, loaded: LoadedLab,
                                                      agents: Callable[..., SipUserAgent]) -> None:
    host = host_of(loaded, "phone1")
    ua = agents(10)
    call = ua.dial(f"sip:1001@{host}:5060", timeout_s=5.0, telephone_event_pt=96)
    assert call.state == CONFIRMED
    assert wait_for(lambda: call.rtp_stats().audio_packets >= 10, 3.0)
    call.send_dtmf("4711*")
    assert wait_for(lambda: call.rtp_stats().digits == "4711*", 3.0), call.rtp_stats()
    st = call.rtp_stats()
    assert {e.pt for e in st.dtmf} == {96} and st.unexpected_pt == {}
    assert call.bye() == 200
    r = call.result()
    assert r.codec == "PCMU" and r.telephone_event_pt == 96
    assert r.post_dial_delay_ms is not None and r.setup_ms is not None
    # The phone waits ANSWER_AFTER_S = 0.1 s between 180 and 200, but both times are taken when the
    # client thread handles the response: on a loaded machine it can handle both in one wake-up, so
    # only the order is asserted here (the ladder below), not the gap.
    assert r.setup_ms >= r.post_dial_delay_ms
    lines = [line.split(" sip:")[0] for _, line in r.messages]
    assert lines[:5] == ["INVITE", "SIP/2.0 100 Trying", "SIP/2.0 180 Ringing", "SIP/2.0 200 OK", "ACK"], r.ladder


def test_phone_takes_several_calls_pcma_and_tcp(twin: TwinControl, loaded: LoadedLab,
                                                agents: Callable[..., SipUserAgent]) -> None:
    host = host_of(loaded, "phone2")
    ua = agents(11)
    calls = [ua.call(f"sip:1002@{host}:5060", timeout_s=5.0, codecs=("PCMA",)) for _ in range(3)]
    calls.append(ua.call(f"sip:1002@{host}:5060;transport=tcp", transport="tcp", timeout_s=5.0))
    for c in calls:
        assert c.wait(CONFIRMED, timeout_s=5.0) == CONFIRMED
    assert wait_for(lambda: all(c.rtp_stats().audio_packets >= 5 for c in calls), 3.0)
    assert [c.result().codec for c in calls] == ["PCMA", "PCMA", "PCMA", "PCMU"]
    assert calls[-1].result().transport == "tcp"
    for c in calls:
        assert c.bye() == 200


def test_phone_hold_and_resume(twin: TwinControl, loaded: LoadedLab, agents: Callable[..., SipUserAgent]) -> None:
    host = host_of(loaded, "phone3")
    ua = agents(12)
    call = ua.dial(f"sip:1003@{host}:5060", timeout_s=5.0)
    assert call.state == CONFIRMED
    audio = lambda: call.rtp_stats().audio_packets  # noqa: E731
    assert wait_for(lambda: audio() >= 5, 3.0)
    assert call.hold("sendonly") == 200  # the phone answers recvonly: no echo while held
    time.sleep(0.1)
    assert grows(audio) <= 1
    assert call.resume() == 200
    assert wait_for(lambda: grows(audio, 0.3) >= 5, 3.0)
    assert call.hold("zero") == 200  # c=0.0.0.0: nobody sends
    time.sleep(0.1)
    assert grows(audio) <= 1
    assert call.resume() == 200
    assert wait_for(lambda: grows(audio, 0.3) >= 5, 3.0)
    assert call.bye() == 200


def test_phone_cancel_before_answer(twin: TwinControl, loaded: LoadedLab, agents: Callable[..., SipUserAgent]) -> None:
    host = host_of(loaded, "phone4")
    ua = agents(13)
    call = ua.call(f"sip:1004@{host}:5060", timeout_s=5.0)
    code = call.cancel()  # sent as soon as the 180 is in: well inside the 0.1 s before the answer
    assert code == 200
    assert call.wait_ended(3.0) == CANCELLED
    assert call.result().final_code == 487


# -- the PSTN simulator ------------------------------------------------------------------------------------

def test_pstn_early_media_then_echo(twin: TwinControl, loaded: LoadedLab, agents: Callable[..., SipUserAgent]) -> None:
    host = host_of(loaded, "pstn1")
    ua = agents(20)
    call = ua.dial(f"sip:{ECHO}@{host}:5060;user=phone", timeout_s=5.0)
    assert call.state == CONFIRMED
    r = call.result()
    assert r.early_sdp and r.post_dial_delay_ms is not None and r.setup_ms is not None
    assert r.setup_ms - r.post_dial_delay_ms >= 250  # EARLY_MEDIA_S = 0.3 of 183 before the 200
    assert r.first_media_ms is not None and r.first_media_ms < r.setup_ms  # the tone before the answer
    early = r.rtp.audio_packets
    assert early >= 8  # ~15 packets of tone in 0.3 s
    call.send_dtmf("90#")
    assert wait_for(lambda: call.rtp_stats().digits == "90#", 3.0)
    assert wait_for(lambda: call.rtp_stats().audio_packets >= early + 20, 3.0)  # the echo of our tone
    assert call.bye() == 200
    assert [line.split(" sip:")[0] for _, line in r.messages][:4] == [
        "INVITE", "SIP/2.0 100 Trying", "SIP/2.0 183 Session Progress", "SIP/2.0 200 OK"]


@pytest.mark.parametrize("number", [UNAVAILABLE, "3175559503"], ids=["e164", "national"])
def test_pstn_unavailable_number_is_503(number: str, twin: TwinControl, loaded: LoadedLab,
                                        agents: Callable[..., SipUserAgent]) -> None:
    host = host_of(loaded, "pstn1")
    before = twin.state("pstn1")["calls_refused"].get("503", 0)
    call = agents(21).call(f"sip:{number}@{host}:5060", timeout_s=5.0)
    assert call.wait_ended(5.0) == FAILED
    r = call.result()
    assert r.final_code == 503 and r.final_reason == "Service Unavailable"
    assert "unavailable" in r.ladder
    assert twin.state("pstn1")["calls_refused"]["503"] == before + 1


def test_trunk_503_fault(twin: TwinControl, loaded: LoadedLab, agents: Callable[..., SipUserAgent]) -> None:
    host = host_of(loaded, "pstn1")
    ua = agents(22)
    twin.fault("pstn1", "trunk-503")
    call = ua.call(f"sip:{ECHO}@{host}:5060", timeout_s=5.0)
    assert call.wait_ended(5.0) == FAILED and call.result().final_code == 503
    assert ua.options(f"sip:{host}:5060").code == 200  # type: ignore[union-attr]  # only INVITEs
    twin.heal("pstn1")
    ok = ua.dial(f"sip:{ECHO}@{host}:5060", timeout_s=5.0)
    assert ok.state == CONFIRMED and ok.bye() == 200


def test_pstn_max_calls(twin: TwinControl, loaded: LoadedLab, agents: Callable[..., SipUserAgent]) -> None:
    dev = loaded.lab.devices["pstn1"]
    limit = dev.facts.max_calls  # type: ignore[union-attr]
    assert limit == 23
    ua = agents(23)
    calls = [ua.call(f"sip:{ECHO}@{dev.host}:5060", timeout_s=5.0, telephone_event_pt=None) for _ in range(limit)]
    try:
        assert [c.wait(CONFIRMED, timeout_s=5.0) for c in calls] == [CONFIRMED] * limit
        extra = ua.call(f"sip:{ECHO}@{dev.host}:5060", timeout_s=5.0)
        assert extra.wait_ended(5.0) == FAILED and extra.result().final_code == 503
        assert "max calls 23 reached" in extra.result().ladder
    finally:
        for c in calls:
            if c.state == CONFIRMED:
                c.bye()
    again = ua.dial(f"sip:{ECHO}@{dev.host}:5060", timeout_s=5.0)  # a channel is free again
    assert again.state == CONFIRMED and again.bye() == 200


def test_pstn_cancel_reinvite_and_no_g711(twin: TwinControl, loaded: LoadedLab,
                                          agents: Callable[..., SipUserAgent]) -> None:
    host = host_of(loaded, "pstn1")
    ua = agents(24)
    c = ua.call(f"sip:{ECHO}@{host}:5060", timeout_s=5.0)
    assert c.cancel() == 200 and c.wait_ended(3.0) == CANCELLED and c.result().final_code == 487
    call = ua.dial(f"sip:{ECHO}@{host}:5060", timeout_s=5.0)
    assert call.hold("sendonly") == 200 and call.resume() == 200 and call.hold("zero") == 200
    assert call.bye() == 200
    bad = ua.call(f"sip:{ECHO}@{host}:5060", timeout_s=5.0, codecs=())
    assert bad.wait_ended(3.0) == FAILED and bad.result().final_code == 488


def test_pstn_pings_the_edge_with_options(twin: TwinControl, loaded: LoadedLab,
                                          agents: Callable[..., SipUserAgent]) -> None:
    assert wait_for(lambda: twin.state("pstn1")["edge_options"].get("edge1") == 200, 5.0), twin.state("pstn1")
    # a restart pings at once: an Edge that drops OPTIONS is recorded as silent (None)
    twin.fault("edge1", "options-silent")
    twin.fault("pstn1", "down")
    twin.heal("pstn1")
    assert wait_for(lambda: "edge1" in twin.state("pstn1")["edge_options"]
                    and twin.state("pstn1")["edge_options"]["edge1"] is None, 5.0), twin.state("pstn1")
    # the ping as the Edge's address sees it: a probe bound on the Edge's trunk port
    twin.heal("edge1")
    twin.fault("edge1", "down")
    edge = loaded.lab.devices["edge1"]
    assert edge.sip is not None
    probe = SipUserAgent("edge1", Transcript("edge1 as probe"), edge.host, udp_port=edge.sip.port, tcp_port=None)
    try:
        twin.fault("pstn1", "down")
        twin.heal("pstn1")
        pstn_host = host_of(loaded, "pstn1")
        assert wait_for(lambda: f"OPTIONS sip:{edge.host}:{edge.sip.port} SIP/2.0" in  # type: ignore[union-attr]
                        probe.transcript.render(), 3.0)
        assert f"from UDP {pstn_host}:5060" in probe.transcript.render()
        assert wait_for(lambda: twin.state("pstn1")["edge_options"]["edge1"] == 200, 3.0)
    finally:
        probe.close()


# -- the call log over SSH -------------------------------------------------------------------------------

def test_call_log_over_ssh(twin: TwinControl, loaded: LoadedLab, pstn: PstnSimulator,
                           agents: Callable[..., SipUserAgent]) -> None:
    host = pstn.device.host
    before = len(pstn.call_log())
    t0 = datetime.now(UTC) - timedelta(seconds=1)
    ua = agents(30)
    pai = (("P-Asserted-Identity", "<sip:+13175550199@192.0.2.1>"),)
    call = ua.dial(f"sip:{ECHO}@{host}:5060;user=phone", timeout_s=5.0, from_uri="sip:+13175550100@192.0.2.1",
                   extra=pai)
    assert wait_for(lambda: call.rtp_sent_packets() >= 20, 3.0)
    call.send_dtmf("12")
    live = [r for r in pstn.call_log()[before:] if r.call_id == call.call_id]
    assert len(live) == 1 and live[0].status == 200 and live[0].ended == "" and live[0].rtp_received > 0
    assert call.bye() == 200
    refused = ua.call(f"sip:{UNAVAILABLE}@{host}:5060", timeout_s=5.0)
    refused.wait_ended(5.0)
    cancelled = ua.call(f"sip:{ECHO}@{host}:5060", timeout_s=5.0)
    cancelled.cancel()
    ua.options(f"sip:{host}:5060")
    tcp = ua.dial(f"sip:{ECHO}@{host}:5060;transport=tcp", transport="tcp", timeout_s=5.0)
    tcp.bye()
    rows = pstn.call_log()[before:]
    by_id = {r.call_id: r for r in rows if r.method == "INVITE"}
    r = by_id[call.call_id]
    assert r.time >= t0 and r.time.tzinfo is not None
    assert (r.transport, r.source.split(":")[0]) == ("udp", addr(30))
    assert r.request_uri == f"sip:{ECHO}@{host}:5060;user=phone"
    assert r.from_uri == "sip:+13175550100@192.0.2.1" and r.pai == "sip:+13175550199@192.0.2.1"
    assert (r.status, r.dtmf_received, r.ended) == (200, "12", "bye")
    assert r.rtp_received >= 20  # audio only: the DTMF packets are not counted
    assert (by_id[refused.call_id].status, by_id[refused.call_id].ended) == (503, "")
    assert (by_id[cancelled.call_id].status, by_id[cancelled.call_id].ended) == (487, "cancel")
    assert by_id[tcp.call_id].transport == "tcp" and by_id[tcp.call_id].ended == "bye"
    assert any(x.method == "CANCEL" and x.call_id == cancelled.call_id and x.status == 200 for x in rows)
    assert any(x.method == "OPTIONS" and x.status == 200 and x.pai == "" for x in rows)
    assert not any(x.method in ("ACK", "BYE") for x in rows)  # inside dialogs: not logged
    assert [x.time for x in rows] == sorted(x.time for x in rows)
    # the raw text: the exact header, and `cat` of another path fails like cat does
    text = pstn.run(f"cat {pstn.device.facts.call_log}")  # type: ignore[union-attr]
    assert text.splitlines()[0] == ",".join(CALL_LOG_COLUMNS)
    assert text.splitlines()[-1].split(",")[0].endswith("Z")
    assert "No such file or directory" in pstn.run("cat /etc/shadow")
    assert pstn.ssh_session().last_exit_status == 1


def test_call_log_logs_options_when_silent_and_malformed_requests(twin: TwinControl, pstn: PstnSimulator) -> None:
    host = pstn.device.host
    before = len(pstn.call_log())
    twin.fault("pstn1", "options-silent")
    assert pstn.options(timeout_s=0.6).status is None
    bad = (f"OPTIONS sip:{host}:5060 SIP/2.0\r\nVia: SIP/2.0/UDP {addr(31)}:9;branch=z9hG4bKbad\r\n"
           f"From: <sip:x@{addr(31)}>;tag=1\r\nTo: <sip:{host}>\r\nCall-ID: bad-{secrets.token_hex(4)}\r\n"
           "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n").encode()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((addr(31), 0))
        s.settimeout(1.0)
        s.sendto(bad, (host, 5060))
        assert s.recv(4096).startswith(b"SIP/2.0 400 ")
    rows = pstn.call_log()[before:]
    silent = [r for r in rows if r.method == "OPTIONS" and r.status is None]
    assert len(silent) == 1  # retransmissions absorbed: one row
    assert any(r.method == "OPTIONS" and r.status == 400 and r.call_id.startswith("bad-") for r in rows)


def test_parse_call_log_checks_the_header() -> None:
    head = ",".join(CALL_LOG_COLUMNS)
    rows = parse_call_log(f"{head}\r\n2026-12-01T17:00:00.123Z,INVITE,a@b,udp,1.2.3.4:5060,sip:x@y,sip:a@b,,,0,,\n")
    assert rows[0].time == datetime(2026, 12, 1, 17, 0, 0, 123000, UTC) and rows[0].status is None
    with pytest.raises(LabProtocolError, match="header"):
        parse_call_log("time,method\n", "pstn1", "127.0.4.1:2222")
    with pytest.raises(LabProtocolError, match="line 2"):
        parse_call_log(f"{head}\nnot-a-time,INVITE,a,udp,s,u,f,,,0,,\n", "pstn1", "127.0.4.1:2222")


# -- the real SIP material ---------------------------------------------------------------------------------

def _sipp_send(template: str, values: dict[str, str], last: Request | Response | None) -> bytes:
    SIPP_VALUES_BACKUP = dict(SIPP_VALUES)
    try:
        SIPP_VALUES.update(values)
        return render_sipp(template, last)  # type: ignore[arg-type]
    finally:
        SIPP_VALUES.clear()
        SIPP_VALUES.update(SIPP_VALUES_BACKUP)


def _responses(s: socket.socket, quiet_s: float = 0.6) -> list[Response]:
    out: list[Response] = []
    s.settimeout(quiet_s)
    while True:
        try:
            m = Message.parse(s.recv(65535))
        except (TimeoutError, ConnectionRefusedError):
            return out
        if isinstance(m, Response):
            out.append(m)


@needs_realworld
@pytest.mark.parametrize(("device", "scenario", "user"), [("pstn1", "uac.xml", ECHO), ("pstn1", "uac_pcap.xml", ECHO),
                                                          ("phone1", "uac.xml", "1001")])
def test_realworld_sipp_calls_to_the_twin(device: str, scenario: str, user: str, twin: TwinControl,
                                          loaded: LoadedLab) -> None:
    """SIPp's own uac scenarios, rendered as SIPp sends them, against the twin's endpoints."""
    host = host_of(loaded, device)
    sends = [s.text or "" for s in ET.parse(REALWORLD / "sipp" / scenario).getroot().iter("send")]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((addr(40), 0))
        lport = s.getsockname()[1]
        values = {"service": user, "remote_ip": host, "local_ip": addr(40), "local_port": str(lport),
                  "media_ip": addr(40), "call_id": f"{secrets.token_hex(6)}@{addr(40)}",
                  "branch": f"z9hG4bK-{secrets.token_hex(4)}"}
        invite = _sipp_send(sends[0], values, None)
        assert isinstance(parse_message(invite), Request)
        s.sendto(invite, (host, 5060))
        got = _responses(s)
        codes = [r.code for r in got]
        assert codes[0] == 100 and 200 in codes, codes
        assert codes[1] == (183 if device == "pstn1" else 180)
        ok = next(r for r in got if r.code == 200)
        assert b"m=audio" in ok.body
        values["peer_tag_param"] = f";tag={tag_of(ok.headers.get('To'))}"  # SIPp's [peer_tag_param]
        values["branch"] = f"z9hG4bK-{secrets.token_hex(4)}"
        s.sendto(_sipp_send(sends[1], values, ok), (host, 5060))  # ACK
        values["branch"] = f"z9hG4bK-{secrets.token_hex(4)}"
        s.sendto(_sipp_send(sends[2], values, ok), (host, 5060))  # BYE
        assert [r.code for r in _responses(s) if r.cseq.method == "BYE"][:1] == [200]


@needs_realworld
def test_realworld_sdp_offers_and_stray_sipp_responses(twin: TwinControl, loaded: LoadedLab,
                                                       agents: Callable[..., SipUserAgent],
                                                       pstn: PstnSimulator) -> None:
    """The sdp-transform samples (SRTP, no G.711) get 488; SIPp's uas.xml responses sent unasked are ignored."""
    host = host_of(loaded, "pstn1")
    for f in sorted((REALWORLD / "sdp").glob("*.sdp")):
        body = f.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        req = (f"INVITE sip:{ECHO}@{host}:5060 SIP/2.0\r\nVia: SIP/2.0/UDP {addr(41)}:9;branch=z9hG4bK{f.stem[-6:]}"
               f"{secrets.token_hex(3)}\r\nMax-Forwards: 70\r\nFrom: <sip:a@{addr(41)}>;tag=1\r\n"
               f"To: <sip:{ECHO}@{host}>\r\nCall-ID: {secrets.token_hex(6)}\r\nCSeq: 1 INVITE\r\n"
               f"Contact: <sip:a@{addr(41)}:9>\r\nContent-Type: application/sdp\r\n"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((addr(41), 0))
            s.sendto(req, (host, 5060))
            assert [r.code for r in _responses(s, 0.4)][-1] == 488, f.name
    uas = [s.text or "" for s in ET.parse(REALWORLD / "sipp" / "uas.xml").getroot().iter("send")]
    invite = parse_message(_sipp_send(
        ET.parse(REALWORLD / "sipp" / "uac.xml").getroot().find("send").text or "",  # type: ignore[union-attr]
        {"remote_ip": host, "local_ip": addr(42)}, None))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((addr(42), 0))
        for t in uas:
            s.sendto(_sipp_send(t, {"remote_ip": addr(42), "local_ip": host}, invite), (host, 5060))
        assert _responses(s, 0.3) == []  # responses of no transaction: nothing to answer
    assert pstn.options().status == 200


# -- malformed input ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("device", ["pstn1", "phone1"])
def test_malformed_tcp_and_udp_to_the_twin(device: str, twin: TwinControl, loaded: LoadedLab,
                                           agents: Callable[..., SipUserAgent]) -> None:
    host = host_of(loaded, device)
    ok = (f"OPTIONS sip:{host}:5060 SIP/2.0\r\nVia: SIP/2.0/TCP {addr(50)}:9;branch=z9hG4bKm1\r\n"
          f"From: <sip:m@{addr(50)}>;tag=1\r\nTo: <sip:{host}>\r\nCall-ID: m-{secrets.token_hex(4)}\r\n"
          "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
    # TCP: a folded header and a compact one are fine; a wrong Content-Length gets 400 and a close
    folded = ok.replace("To: <sip:", "t:\r\n <sip:").replace("Call-ID:", "i:")
    with socket.create_connection((host, 5060), timeout=2.0, source_address=(addr(50), 0)) as c:
        c.sendall(folded.encode())
        assert c.recv(65535).startswith(b"SIP/2.0 200 ")
        c.sendall(ok.replace("Content-Length: 0", "Content-Length: x").encode())
        data = c.recv(65535)
        assert data.startswith(b"SIP/2.0 400 ") and b"Content-Length" in data
        assert c.recv(65535) == b""  # closed
    # UDP: unknown method 501, missing mandatory header 400, garbage ignored
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((addr(50), 0))
        s.sendto(ok.replace("OPTIONS", "FOO").replace("SIP/2.0/TCP", "SIP/2.0/UDP").encode(), (host, 5060))
        assert [r.code for r in _responses(s, 0.3)] == [501]
        s.sendto("".join(x for x in ok.splitlines(True) if not x.startswith("From")).encode(), (host, 5060))
        assert [r.code for r in _responses(s, 0.3)] == [400]
        s.sendto(bytes(range(256)), (host, 5060))
        assert _responses(s, 0.3) == []
    assert agents(51).options(f"sip:{host}:5060").code == 200  # type: ignore[union-attr]


def test_rtp_garbage_to_an_echoing_call(twin: TwinControl, loaded: LoadedLab,
                                        agents: Callable[..., SipUserAgent]) -> None:
    """Junk on the phone's RTP port of a live call is dropped; the echo goes on."""
    host = host_of(loaded, "phone1")
    ua = agents(52)
    call = ua.dial(f"sip:1001@{host}:5060", timeout_s=5.0)
    assert call.state == CONFIRMED
    remote = call.ua.call_in_loop(lambda: call._call.negotiated)  # where the phone receives RTP
    assert remote is not None
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for junk in (b"", b"\x00", bytes(range(256)), bytes(dpkt.rtp.RTP(pt=101, data=b"\x01"))):
            s.sendto(junk, (remote.remote_host, remote.remote_port))
    assert wait_for(lambda: grows(lambda: call.rtp_stats().audio_packets, 0.3) >= 5, 3.0)
    assert call.bye() == 200
    assert call.result().state == ENDED


# -- through the twin's Edge (integration with harness/twin/edge/sip.py) --------------------------------------

def test_inbound_did_through_the_edge_reaches_the_phone_and_echoes(twin: TwinControl, loaded: LoadedLab,
                                                                   agents: Callable[..., SipUserAgent]) -> None:
    edge = host_of(loaded, "edge1")
    assert wait_for(lambda: "1001" in twin.state("edge1")["registrations"], 5.0)
    ua = agents(60, name="carrier")
    call = ua.dial(f"sip:+13175550100@{edge}:5060;user=phone", timeout_s=5.0)
    assert call.state == CONFIRMED, call.result().ladder
    call.send_dtmf("55")
    assert wait_for(lambda: call.rtp_stats().audio_packets >= 10 and call.rtp_stats().digits == "55", 3.0), \
        call.rtp_stats()
    assert call.bye() == 200


def test_outbound_through_the_edge_reaches_the_pstn_and_its_log(twin: TwinControl, loaded: LoadedLab,
                                                                pstn: PstnSimulator,
                                                                agents: Callable[..., SipUserAgent]) -> None:
    edge = host_of(loaded, "edge1")
    before = len(pstn.call_log())
    ua = agents(61, name="phone", user="1001")
    call = ua.dial(f"sip:{ECHO}@{edge}:8060", timeout_s=5.0, from_uri=f"sip:1001@{edge}")
    assert call.state == CONFIRMED, call.result().ladder
    assert call.result().early_sdp  # the carrier's 183 with SDP, relayed
    assert wait_for(lambda: call.rtp_stats().audio_packets >= 30, 3.0)
    assert call.bye() == 200

    def invites() -> list[Any]:
        return [r for r in pstn.call_log()[before:] if r.method == "INVITE"]

    # the Edge answers our BYE and then sends its own to the carrier: the log shows it a moment later
    assert wait_for(lambda: [r for r in invites() if r.ended == "bye"], 3.0), invites()
    rows = invites()
    assert len(rows) == 1 and rows[0].source.startswith(f"{edge}:") and rows[0].status == 200
    assert rows[0].ended == "bye" and rows[0].rtp_received > 0 and rows[0].pai
