"""SDP offer/answer as RFC 3264 says (harness/transports/sdp_checks.py, SdpSession.accept) and session
timers (RFC 4028) in the probe: one class of finding per test, first on SDP alone, then on calls of
the probe against a far end written here (a socket that answers as the case needs) or a probe UAS.

The SDP bodies are written for this file; ``sdp-transform``'s VoLTE example (shared/realworld/sip/sdp,
read at test time, skipped when absent) is a real offer with telephone-event at two clock rates.

Run with your own test net: ``HIL_TEST_NET=127.40 .venv/bin/pytest tests/transports/sip/test_offer_answer.py``.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable

import dpkt
import pytest
from sipmessage import Request

from harness.transports.rtp import event_payload
from harness.transports.rtp_receiver import RtpReceiver
from harness.transports.sdp import SdpError, SdpSession, parse_sdp
from harness.transports.sdp_checks import VIOLATION, WARNING, check_answer, check_change
from harness.transports.sip.call import CONFIRMED, FAILED, UasPolicy
from harness.transports.sip.message import build_response, encode, new_tag, parse_message
from harness.transports.sip.ua import SipUserAgent
from tests.conftest import CAPTURES, wait_for

TEST_NET = os.environ.get("HIL_TEST_NET", "127.77")
NET = f"{TEST_NET}.249"  # this module's side of the test net
SDP_DIR = CAPTURES / "sip" / "sdp"

pytestmark = pytest.mark.timeout(60)


def addr(n: int) -> str:
    return f"{NET}.{n}"


def sdp(host: str, port: int, payloads: str, maps: list[str], direction: str | None = None, version: int = 1,
        conn: str | None = None) -> str:
    lines = ["v=0", f"o=- 42 {version} IN IP4 {host}", "s=-", f"c=IN IP4 {conn or host}", "t=0 0",
             f"m=audio {port} RTP/AVP {payloads}", *(f"a=rtpmap:{m}" for m in maps)]
    if direction:
        lines.append(f"a={direction}")
    return "\r\n".join(lines) + "\r\n"


OFFER = sdp("192.0.2.1", 4000, "0 8 101", ["0 PCMU/8000", "8 PCMA/8000", "101 telephone-event/8000"])


def kinds(found: list) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return [(f.kind, f.severity) for f in found]


# -- findings on SDP alone ---------------------------------------------------------------------------

def test_a_payload_type_the_offer_lacks_is_named() -> None:
    answer = sdp("192.0.2.2", 5000, "0 96", ["0 PCMU/8000", "96 telephone-event/8000"])
    found = check_answer(parse_sdp(OFFER), parse_sdp(answer))
    assert kinds(found) == [("format-not-offered", WARNING)]
    assert "telephone-event/8000 is payload type 96 in the answer, 101 in the offer" in found[0].text


def test_an_answer_with_none_of_the_offers_formats_names_rfc3264_and_says_dtmf_state() -> None:
    answer = sdp("192.0.2.2", 5000, "18 96", ["18 G729/8000", "96 telephone-event/8000"])
    found = check_answer(parse_sdp(OFFER), parse_sdp(answer))
    assert ("no-offered-format", VIOLATION) in kinds(found) and found[-1].rule == "RFC 3264 §6.1"
    session = SdpSession("192.0.2.1", 4000)
    session.last_sent = OFFER.encode()
    with pytest.raises(SdpError, match=r"none of the offer's formats \(RFC 3264 §6\.1; payload types 18 96\); "
                                       r"DTMF would be on payload type 96"):
        session.accept(parse_sdp(answer))
    no_dtmf = sdp("192.0.2.2", 5000, "18", ["18 G729/8000"])
    with pytest.raises(SdpError, match="no DTMF negotiated"):
        session.accept(parse_sdp(no_dtmf))


def test_a_payload_type_remapped_to_another_clock_rate_is_flagged_and_decoded() -> None:
    """The issue's case: telephone-event/8000 on a payload type the offer gave 32 kHz. It is a
    violation (RFC 3264 §8.3.2), and the DTMF on it is decoded, not counted as an unexpected type."""
    offer = sdp("192.0.2.1", 4000, "0 102", ["0 PCMU/8000", "102 telephone-event/32000"])
    answer = sdp("192.0.2.2", 5000, "0 102", ["0 PCMU/8000", "102 telephone-event/8000"])
    found = check_answer(parse_sdp(offer), parse_sdp(answer))
    assert kinds(found) == [("payload-type-remapped", VIOLATION)]
    assert "payload type 102 is telephone-event/8000 in the answer but telephone-event/32000 in the offer" \
        in found[0].text
    session = SdpSession("192.0.2.1", 4000)
    session.last_sent = offer.encode()
    neg = session.accept(parse_sdp(answer))
    assert neg.recv_telephone_event_pt == 102
    rx = RtpReceiver(neg.recv_codec_pts, neg.recv_telephone_event_pt)
    for seq, end in enumerate((False, False, True)):
        pkt = dpkt.rtp.RTP(pt=102, seq=seq, ts=1000, ssrc=7, data=event_payload("5", end, 160 * (seq + 1)))
        pkt.version = 2
        rx.feed(bytes(pkt), time.monotonic())
    assert rx.stats.digits == "5" and rx.stats.unexpected_pt == {}


def test_telephone_event_must_match_the_clock_rate_of_the_chosen_audio_codec() -> None:
    offer = sdp("192.0.2.1", 4000, "0 101 100", ["0 PCMU/8000", "101 telephone-event/8000",
                                                  "100 telephone-event/16000"])
    wrong = sdp("192.0.2.2", 5000, "0 100", ["0 PCMU/8000", "100 telephone-event/16000"])
    right = sdp("192.0.2.2", 5000, "0 101", ["0 PCMU/8000", "101 telephone-event/8000"])
    found = check_answer(parse_sdp(offer), parse_sdp(wrong))
    assert kinds(found) == [("telephone-event-rate", VIOLATION)]
    assert "100 telephone-event/16000 with audio 0 PCMU/8000: DTMF not negotiated" in found[0].text
    assert check_answer(parse_sdp(offer), parse_sdp(right)) == []


@pytest.mark.skipif(not SDP_DIR.is_dir(), reason="shared/realworld/sip/sdp is not available")
def test_a_real_volte_offer_with_two_telephone_event_rates() -> None:
    """sdp-transform's VoLTE example (MIT): AMR-WB/16000 and AMR/8000, telephone-event at both rates.
    An answer picking AMR-WB with the 8 kHz telephone-event breaks RFC 4733 §2.1; with the 16 kHz one
    it is clean."""
    offer = parse_sdp((SDP_DIR / "sdp-transform_precondition_ipv6_volte.sdp").read_bytes())
    audio = offer.audio
    assert audio is not None
    wb = next(c for c in audio.codecs if c.name.upper() == "AMR-WB")
    events = {c.rate: c.pt for c in audio.telephone_events}
    assert set(events) >= {8000, 16000}
    def answer(te_pt: int, te_rate: int) -> str:
        return sdp("2001:db8::2", 5000, f"{wb.pt} {te_pt}", [f"{wb.pt} AMR-WB/16000",
                                                             f"{te_pt} telephone-event/{te_rate}"])
    bad = [f for f in check_answer(offer, parse_sdp(answer(events[8000], 8000))) if f.kind == "telephone-event-rate"]
    assert bad and bad[0].severity == VIOLATION
    assert [f for f in check_answer(offer, parse_sdp(answer(events[16000], 16000)))
            if f.kind == "telephone-event-rate"] == []


@pytest.mark.parametrize("offered,answered,expected", [
    ("sendonly", "sendrecv", [("direction", VIOLATION)]),  # a hold answered as if nothing happened
    ("sendonly", "sendonly", [("direction", VIOLATION)]),
    ("inactive", "recvonly", [("direction", VIOLATION)]),
    ("recvonly", "recvonly", [("direction", VIOLATION)]),
    ("sendonly", "recvonly", []),
    ("sendonly", "inactive", []),
    ("sendrecv", "sendonly", [("direction", WARNING)]),  # a resume the peer did not take
    ("sendrecv", "sendrecv", []),
])
def test_direction_errors_on_hold_and_resume(offered: str, answered: str, expected: list[tuple[str, str]]) -> None:
    offer = sdp("192.0.2.1", 4000, "0", ["0 PCMU/8000"], offered)
    answer = sdp("192.0.2.2", 5000, "0", ["0 PCMU/8000"], answered)
    assert kinds(check_answer(parse_sdp(offer), parse_sdp(answer))) == expected


def test_an_answer_that_changes_within_the_dialog_is_reported() -> None:
    first = parse_sdp(sdp("192.0.2.2", 5000, "0 101", ["0 PCMU/8000", "101 telephone-event/8000"]))
    later = parse_sdp(sdp("192.0.2.3", 5002, "0 101", ["0 PCMU/8000", "101 telephone-event/8000"]))
    found = check_change(first, later, "183 → 200")
    assert kinds(found) == [("answer-changed", WARNING)]
    assert "(183 → 200): m-line 0 address 192.0.2.2:5000 → 192.0.2.3:5002; o= version unchanged" in found[0].text
    assert check_change(first, first, "183 → 200") == []


# -- on calls of the probe ---------------------------------------------------------------------------

class FarEnd:
    """A UAS written out by hand on a UDP socket: the test reads each request and answers it."""

    def __init__(self, host: str) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.sock.settimeout(3.0)
        self.host, self.port = host, self.sock.getsockname()[1]
        self.tag = new_tag()

    def uri(self, user: str = "far") -> str:
        return f"sip:{user}@{self.host}:{self.port}"

    def next(self, method: str) -> tuple[Request, tuple[str, int]]:
        """The next request of ``method`` (others are skipped: retransmissions, ACKs)."""
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            data, src = self.sock.recvfrom(65535)
            msg = parse_message(data)
            if isinstance(msg, Request) and msg.method == method:
                return msg, src
        raise AssertionError(f"no {method}")

    def reply(self, req: Request, src: tuple[str, int], code: int, body: str = "",
              extra: tuple[tuple[str, str], ...] = ()) -> None:
        resp = build_response(req, code, to_tag=self.tag, contact=f"<{self.uri()}>", extra=extra,
                              body=body.encode(), content_type="application/sdp" if body else None)
        self.sock.sendto(encode(resp), src)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def far() -> Callable[[int], FarEnd]:
    made: list[FarEnd] = []

    def make(n: int) -> FarEnd:
        f = FarEnd(addr(n))
        made.append(f)
        return f

    yield make  # type: ignore[misc]
    for f in made:
        f.close()


def test_a_call_whose_answer_changes_between_183_and_200_is_reported_and_media_follows(
        agents: Callable[..., SipUserAgent], far: Callable[[int], FarEnd]) -> None:
    ua, uas = agents(1, "uac"), far(2)
    early, final = socket.socket(socket.AF_INET, socket.SOCK_DGRAM), socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    early.bind((addr(2), 0))
    final.bind((addr(2), 0))
    early_port, final_port = early.getsockname()[1], final.getsockname()[1]
    try:
        call = ua.call(uas.uri(), timeout_s=5.0)
        inv, src = uas.next("INVITE")
        maps = ["0 PCMU/8000", "101 telephone-event/8000"]
        uas.reply(inv, src, 183, sdp(addr(2), early_port, "0 101", maps))
        time.sleep(0.2)
        uas.reply(inv, src, 200, sdp(addr(2), final_port, "0 101", maps))
        assert call.wait(CONFIRMED, timeout_s=3.0) == CONFIRMED
        final.settimeout(2.0)
        assert final.recv(2048)  # media goes to the port of the 200's answer
        r = call.result()
    finally:
        early.close()
        final.close()
    changed = [f for f in r.sdp_findings if "answer-changed" in f]
    assert len(changed) == 1, r.sdp_findings
    assert f"(183 → 200): m-line 0 address {addr(2)}:{early_port} → {addr(2)}:{final_port}" in changed[0]
    assert "RFC 3261 §13.2.1" in changed[0]


def test_a_hold_answered_with_the_wrong_direction_is_a_finding(agents: Callable[..., SipUserAgent],
                                                               far: Callable[[int], FarEnd]) -> None:
    ua, uas = agents(1, "uac"), far(3)
    call = ua.call(uas.uri(), timeout_s=5.0)
    inv, src = uas.next("INVITE")
    maps = ["0 PCMU/8000", "101 telephone-event/8000"]
    uas.reply(inv, src, 200, sdp(addr(3), 40000, "0 101", maps))
    assert call.wait(CONFIRMED, timeout_s=3.0) == CONFIRMED
    assert call.result().sdp_findings == ()

    codes: list[int | None] = []
    t = threading.Thread(target=lambda: codes.append(call.hold("sendonly", timeout_s=3.0)))
    t.start()
    reinv, src = uas.next("INVITE")
    assert b"a=sendonly" in reinv.body
    uas.reply(reinv, src, 200, sdp(addr(3), 40000, "0 101", maps, "sendrecv", version=2))
    t.join(5.0)
    assert codes == [200]
    found = call.result().sdp_findings
    assert found == ("violation direction: m-line 0: a sendonly offer answered sendrecv "
                     "(allowed: recvonly or inactive) (RFC 3264 §6.1)",)


def test_a_422_is_retried_with_session_expires_at_least_min_se(agents: Callable[..., SipUserAgent],
                                                              far: Callable[[int], FarEnd]) -> None:
    ua, uas = agents(1, "uac"), far(4)
    call = ua.call(uas.uri(), timeout_s=5.0, session_expires_s=90)
    first, src = uas.next("INVITE")
    assert first.headers.get("Session-Expires") == "90"
    uas.reply(first, src, 422, extra=(("Min-SE", "1800"),))
    second, src = uas.next("INVITE")
    assert second.call_id == first.call_id and second.cseq.sequence == first.cseq.sequence + 1
    assert int(second.headers["Session-Expires"]) >= 1800 and second.headers.get("Min-SE") == "1800"
    assert second.headers["From"] == first.headers["From"]
    assert second.via[0].parameters["branch"] != first.via[0].parameters["branch"]
    uas.reply(second, src, 486)
    assert call.wait_ended(3.0) == FAILED
    r = call.result()
    assert r.final_code == 486
    lines = [line.split(" sip:")[0] for d, line in r.messages if d == ">"]
    assert lines.count("INVITE") == 2


def test_a_probe_uas_with_min_se_and_a_probe_uac_agree_after_one_422(agents: Callable[..., SipUserAgent]) -> None:
    uas = agents(6, "uas", policy=UasPolicy(min_se_s=1800))
    uac = agents(5, "uac")
    call = uac.dial(f"sip:1000@{addr(6)}:{uas.udp_port}", timeout_s=5.0, session_expires_s=300)
    assert call.state == CONFIRMED
    r = call.result()
    assert [line.split(" ")[1] for d, line in r.messages if d == "<" and line.startswith("SIP/2.0 4")] == ["422"]
    assert wait_for(lambda: uas.calls() and uas.calls()[0].state == CONFIRMED, 2.0)
    assert call.bye() == 200
