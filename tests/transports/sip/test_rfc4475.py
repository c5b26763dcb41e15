"""RFC 4475 (SIP torture test messages) against the message layer and every user agent of the project:
the probe's UAS, the twin's carrier (PSTN simulator), a twin phone and the twin Edge.

Each case is named by its RFC 4475 section and short name, and checked for the handling that section
names (accept; 400 naming the header; 416; 420 with Unsupported; 415 with Accept; 406; a response
that is discarded).

About the messages. RFC 4475 (May 2006) is "Copyright (C) The Internet Society (2006)" and "subject
to the rights, licenses and restrictions contained in BCP 78"; it predates the IETF Trust's Legal
Provisions (RFC 5378, November 2008, "no retroactive effect", its §2.1), and SIP messages are not a
kind of Code Component on the Trust's list (ABNF, ASN.1 and MIB modules, XDR, XML schemas and DTDs,
tables of values, classical programming code; "Code Components List", effective 24 November 2008).
So it could not be confirmed that the RFC's messages may be reproduced here under the Trust's
code-component licence, and they are not copied. Each message below is written for this file: it
carries the construct its section tortures (the same header forms, the same out-of-range numbers,
the same missing pieces) with this project's own names, addresses and values, so it exercises
the same rule. The RFC text gives the expected handling, which is a fact and is cited.

Run with your own test net: ``HIL_TEST_NET=127.40 .venv/bin/pytest tests/transports/sip/test_rfc4475.py``.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable

import pytest
from sipmessage import Message, Request, Response

from harness.inventory import LoadedLab
from harness.transports.sip.message import SipParseError, build_response, encode, lenient_headers, parse_message
from harness.transports.sip.ua import SipUserAgent
from harness.twin.manager import TwinControl

TEST_NET = os.environ.get("HIL_TEST_NET", "127.77")
NET = f"{TEST_NET}.250"  # this module's side of the test net (loopback routes all of 127/8)
DID = "+13175550100"  # the Edge rings extension 1001 (phone1) for it

pytestmark = pytest.mark.timeout(120)

SDP_BODY = ("v=0\r\no=torture 4475 1 IN IP4 {h}\r\ns=-\r\nc=IN IP4 {h}\r\nt=0 0\r\n"
            "m=audio 49170 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n")


def addr(n: int) -> str:
    return f"{NET}.{n}"


def message(lines: list[str], body: str = "", content_length: int | None = None) -> bytes:
    """CRLF-joined ``lines``, a Content-Length (the body's length unless given; none when ``lines``
    has one already), the empty line and ``body``."""
    head = list(lines)
    if not any(x.lower().startswith(("content-length", "l:", "l :")) for x in head):
        head.append(f"Content-Length: {len(body.encode()) if content_length is None else content_length}")
    return ("\r\n".join(head) + "\r\n\r\n" + body).encode()


# -- the cases: (section, name, build(host, port, via-host, via-port, tag) -> bytes) -----------------
# ``tag`` makes Call-ID and branch unique per send (each send is a new transaction).

def wsinv(h: str, p: int, vh: str, vp: int, t: str, user: str = "1001", to_tag: bool = True) -> bytes:
    """§3.1.1.1 "A Short Tortuous INVITE": LWS before colons, folded values, compact forms, an empty
    Subject, unknown headers with odd values, LWS inside Via and around ``=``. Valid: accepted.
    (``to_tag=False`` drops the To tag, so that a user agent takes it as a new call, not 481.)"""
    to = f"TO :\r\n sip:{user}@{h} ;   tag    = torture{t}" if to_tag else f"TO :\r\n sip:{user}@{h}"
    return message([
        f"INVITE sip:{user}@{h}:{p} SIP/2.0",
        to,
        f"from   : \"Caller \\\"Quoted\\\"\"\r\n\t <sip:caller@{vh}>\r\n ;\r\n tag = 4475{t}",
        "MaX-fOrWaRdS: 0068",
        f"Call-ID\r\n : wsinv.{t}@{vh}",
        "Content-Length   : {cl}",
        "cseq: 0009\r\n  INVITE",
        f"Via  : SIP  /   2.0\r\n /UDP\r\n    {vh}:{vp};branch=z9hG4bKws{t}",
        "s :",
        "NewFangledHeader:   a new value\r\n continued on the next line",
        "UnknownHeaderWithOddValue: ;;,,;;,;",
        "Content-Type: application/sdp",
        f"m:\"Caller\"\r\n <sip:caller@{vh}:{vp}>",
    ])  # the body and its length are put in by with_sdp


def with_sdp(raw: bytes, vh: str) -> bytes:
    """``raw`` (headers with a ``{cl}`` placeholder for Content-Length, no body) with an SDP offer."""
    body = SDP_BODY.format(h=vh).encode()
    head = raw.split(b"\r\n\r\n", 1)[0].replace(b"{cl}", str(len(body)).encode())
    return head + b"\r\n\r\n" + body


def options(h: str, p: int, vh: str, vp: int, t: str, extra: list[str] | None = None,
            first: str | None = None, drop: tuple[str, ...] = ()) -> bytes:
    lines = [first or f"OPTIONS sip:{h}:{p} SIP/2.0",
             f"Via: SIP/2.0/UDP {vh}:{vp};branch=z9hG4bKopt{t}",
             "Max-Forwards: 70", f"From: <sip:torture@{vh}>;tag=f{t}", f"To: <sip:{h}>",
             f"Call-ID: opt.{t}@{vh}", "CSeq: 1 OPTIONS", *(extra or [])]
    return message([x for x in lines if not x.startswith(drop)])


def invite(h: str, p: int, vh: str, vp: int, t: str, extra: list[str] | None = None, *, user: str = "1001",
           uri: str | None = None, content_type: str = "application/sdp", body: str | None = None) -> bytes:
    sdp = SDP_BODY.format(h=vh) if body is None else body
    lines = [f"INVITE {uri or f'sip:{user}@{h}:{p}'} SIP/2.0",
             f"Via: SIP/2.0/UDP {vh}:{vp};branch=z9hG4bKinv{t}",
             "Max-Forwards: 70", f"From: <sip:torture@{vh}>;tag=f{t}", f"To: <sip:{user}@{h}>",
             f"Call-ID: inv.{t}@{vh}", "CSeq: 1 INVITE", f"Contact: <sip:torture@{vh}:{vp}>",
             *(extra or []), *([f"Content-Type: {content_type}"] if sdp else [])]
    return message(lines, sdp)


def inv2543(h: str, p: int, vh: str, vp: int, t: str, user: str = "1001") -> bytes:
    """§3.4.1 "INVITE with RFC 2543 Syntax": no branch, no From tag, no Max-Forwards, no Contact, a
    To URI with parameters and no angle brackets. To be accepted for backward compatibility."""
    sdp = SDP_BODY.format(h=vh)
    return message([
        f"INVITE sip:{user}@{h}:{p} SIP/2.0",
        f"Via: SIP/2.0/UDP {vh}:{vp}",
        f"From: <sip:+13175550199@{vh};user=phone>",
        f"Record-Route: <sip:{user}@{vh}:{vp};maddr={vh}>",
        f"To: sip:{user}@{h};user=phone",
        f"Call-ID: 2543.{t}@{vh}",
        "CSeq: 56 INVITE",
        "Content-Type: application/sdp",
    ], sdp)


#: RFC 4475 cases for the parser: (section, name, message, expected). ``expected``: ``"accept"``, or
#: ``(code, words)`` — the SipParseError's reply code (``None``: nothing is sent back) and words its
#: reason must contain (the header it names).
H, P, VH, VP = "192.0.2.10", 5060, "192.0.2.20", 5062


def _parser_cases() -> list[tuple[str, str, bytes, object]]:
    t = "p"
    ok_opt = options(H, P, VH, VP, t)
    return [
        ("3.1.1.1", "wsinv", with_sdp(wsinv(H, P, VH, VP, t), VH), "accept"),
        ("3.1.1.7", "longreq", longreq(H, P, VH, VP, t), "accept"),
        ("3.1.1.8", "dblreq", ok_opt + options(H, P, VH, VP, "2"), "accept"),
        ("3.1.1.12", "unreason", "SIP/2.0 200 = 2**3 * 5**2 \u043d\u043e \u0441\u0442\u043e "
         "\u0434\u0435\u0432\u044f\u043d\u043e\u0441\u0442\u043e\r\n".encode()
         + ok_opt.split(b"\r\n", 1)[1], "accept"),
        ("3.1.1.13", "noreason", b"SIP/2.0 100 \r\n" + ok_opt.split(b"\r\n", 1)[1], "accept"),
        ("3.1.2.2", "clerr", ok_opt.replace(b"Content-Length: 0", b"Content-Length: 9999"),
         (400, "Content-Length")),
        ("3.1.2.3", "ncl", ok_opt.replace(b"Content-Length: 0", b"Content-Length: -999"), (400, "Content-Length")),
        ("3.1.2.4", "scalar02/CSeq", ok_opt.replace(b"CSeq: 1 OPTIONS", b"CSeq: 36893488147419103232 OPTIONS"),
         (400, "CSeq")),
        ("3.1.2.4", "scalar02/Max-Forwards", ok_opt.replace(b"Max-Forwards: 70", b"Max-Forwards: 300"),
         (400, "Max-Forwards")),
        ("3.1.2.4", "scalar02/Expires", options(H, P, VH, VP, t, ["Expires: 10000000000000"]), (400, "Expires")),
        ("3.1.2.5", "scalarlg", b"SIP/2.0 503 Service Unavailable\r\n" + ok_opt.split(b"\r\n", 1)[1]
         .replace(b"CSeq: 1 OPTIONS", b"CSeq: 36893488147419103232 OPTIONS"), (None, "CSeq")),
        ("3.1.2.7", "ltgtruri", options(H, P, VH, VP, t, first=f"OPTIONS <sip:{H}> SIP/2.0"), (400, "")),
        ("3.1.2.8", "lwsruri", options(H, P, VH, VP, t, first=f"OPTIONS sip:{H}; lr SIP/2.0"), (400, "")),
        ("3.1.2.9", "lwsstart", options(H, P, VH, VP, t, first=f"OPTIONS  sip:{H}      SIP/2.0"), (400, "")),
        ("3.1.2.10", "trws", options(H, P, VH, VP, t, first=f"OPTIONS sip:{H} SIP/2.0 "), (400, "")),
        ("3.1.2.17", "mismatch01", ok_opt.replace(b"CSeq: 1 OPTIONS", b"CSeq: 1 INVITE"), (400, "CSeq")),
        ("3.1.2.19", "bigcode", b"SIP/2.0 4294967301 better not break the receiver\r\n"
         + ok_opt.split(b"\r\n", 1)[1], (None, "status code")),
        ("3.3.1", "insuf", options(H, P, VH, VP, t, drop=("Call-ID", "From", "To")), (400, "missing")),
        ("3.3.2", "unkscm", options(H, P, VH, VP, t, first="OPTIONS nobodyknowsthisscheme:totallyopaque SIP/2.0"),
         (416, "nobodyknowsthisscheme")),
        ("3.3.3", "novelsc", options(H, P, VH, VP, t, first=f"OPTIONS soap.beep://{H}:3002 SIP/2.0"),
         (416, "soap.beep")),
        ("3.3.8", "multi01/Call-ID", options(H, P, VH, VP, t, [f"Call-ID: other.{t}@{VH}"]), (400, "Call-ID")),
        ("3.3.8", "multi01/CSeq", options(H, P, VH, VP, t, ["CSeq: 2 OPTIONS"]), (400, "CSeq")),
        ("3.3.8", "multi01/From", options(H, P, VH, VP, t, [f"From: <sip:other@{VH}>;tag=o"]), (400, "From")),
        ("3.3.8", "multi01/To", options(H, P, VH, VP, t, [f"t: <sip:other@{H}>"]), (400, "To")),
        ("3.3.8", "multi01/Max-Forwards", options(H, P, VH, VP, t, ["Max-Forwards: 69"]), (400, "Max-Forwards")),
        ("3.3.9", "mcl01", options(H, P, VH, VP, t, ["Content-Length: 0", "l: 0"]), (400, "Content-Length")),
        ("3.3.15", "sdp01 (parses)", invite(H, P, VH, VP, t, ["Accept: text/nobodyknowsthis"]), "accept"),
        ("3.4.1", "inv2543", inv2543(H, P, VH, VP, t), "accept"),
        ("3.1.1.2", "intmeth", intmeth(H, P, VH, VP, t), "accept"),
        ("3.1.1.3", "esc01", options(H, P, VH, VP, t, first=f"OPTIONS sip:sips%3Auser%40example.com@{H} SIP/2.0"),
         "accept"),
        ("3.1.1.4", "escnull", options(H, P, VH, VP, t, first=f"OPTIONS sip:null-%00-null@{H} SIP/2.0"), "accept"),
        ("3.1.1.6", "lwsdisp", ok_opt.replace(b"From: <sip:torture", b"From: caller<sip:torture"), "accept"),
        ("3.1.1.9", "semiuri", options(H, P, VH, VP, t, first=f"OPTIONS sip:user;par=u%40example.net@{H} SIP/2.0"),
         "accept"),
        ("3.1.1.10", "transports", options(H, P, VH, VP, t, ["Via: SIP/2.0/SCTP t1.example.com;branch=z9hG4bK1",
                                                            "Via: SIP/2.0/TLS t2.example.com;branch=z9hG4bK2",
                                                            "Via: SIP/2.0/UNKNOWN t3.example.com;branch=z9hG4bK3"]),
         "accept"),
        ("3.1.1.11", "mpart01 (parses)", mpart01(H, P, VH, VP, t), "accept"),
        ("3.1.2.6", "quotbal", ok_opt.replace(b"From: <sip:torture", b'From: "Torture <sip:torture'), (400, "From")),
        ("3.1.2.11", "escruri", options(H, P, VH, VP, t, first=f"OPTIONS sip:user@{H}?Route=%3Csip:{H}%3E SIP/2.0"),
         (400, "")),
        ("3.1.2.12", "baddate", options(H, P, VH, VP, t, ["Date: Fri, 01 Jan 2010 16:00:00 EST"]), "accept"),
        ("3.1.2.14", "badaspec",
         ok_opt.replace(f"To: <sip:{H}>".encode(), f'To: "Torture, Tested" < sip:{H} >'.encode()), (400, "To")),
        ("3.1.2.15", "baddn", ok_opt.replace(b"From: <sip:torture", b"From: Tested, Torture <sip:torture"),
         (400, "From")),
        ("3.1.2.16", "badvers", options(H, P, VH, VP, t, first=f"OPTIONS sip:{H} SIP/7.0"), (505, "version 7.0")),
        ("3.1.2.18", "mismatch02", options(H, P, VH, VP, t, first=f"NEWMETHOD sip:{H} SIP/2.0"), (400, "CSeq")),
        ("3.2.1", "badbranch", ok_opt.replace(b"branch=z9hG4bKoptp", b"branch=z9hG4bK"), "accept"),
        ("3.3.4", "unksm2", ok_opt.replace(f"To: <sip:{H}>".encode(), b"To: isbn:2983792873").replace(
            b"From: <sip:torture@192.0.2.20>", b"From: <http://www.example.com>"), "accept"),
        ("3.3.11", "zeromf", ok_opt.replace(b"Max-Forwards: 70", b"Max-Forwards: 0"), "accept"),
    ]


def intmeth(h: str, p: int, vh: str, vp: int, t: str) -> bytes:
    """§3.1.1.2 "Wide Range of Valid Characters": a method made of every token character, unusual
    characters in the Request-URI's user part. Valid: a UA answers 501 (unknown method)."""
    method = "!interesting-Method0123456789_*+`.%indeed'~"
    return options(h, p, vh, vp, t, first=f"{method} sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@{h}:{p} "
                   "SIP/2.0").replace(b"CSeq: 1 OPTIONS", f"CSeq: 1 {method}".encode())


def mpart01(h: str, p: int, vh: str, vp: int, t: str, user: str = "1001") -> bytes:
    """§3.1.1.11 "Multipart MIME Message": an INVITE whose body is multipart/mixed (an SDP part and a
    binary part). Valid; a UA that reads only application/sdp answers 415 with Accept (§8.2.3)."""
    part = SDP_BODY.format(h=vh)
    body = ("--boundary4475\r\nContent-Type: application/sdp\r\n\r\n" + part +
            "\r\n--boundary4475\r\nContent-Type: application/octet-stream\r\n\r\n\x01\x02\x03"
            "\r\n--boundary4475--\r\n")
    return invite(h, p, vh, vp, t, user=user, body=body, content_type="multipart/mixed;boundary=boundary4475")


def longreq(h: str, p: int, vh: str, vp: int, t: str, vias: int = 34) -> bytes:
    """§3.1.1.7 "Long Values in Header Fields": many Via values in several forms (``Via:``,
    ``v:``, ``Via  :``, two in one line), long tokens. Valid; every Via comes back in order."""
    lines = [f"INVITE sip:1001@{h}:{p} SIP/2.0", f"Via: SIP/2.0/UDP {vh}:{vp};branch=z9hG4bKlong{t}",
             "Max-Forwards: 70", f"From: \"{'I' * 200}\" <sip:{'a' * 300}@{vh}>;tag={'T' * 150}",
             f"To: <sip:1001@{h}>", f"Call-ID: long.{t}@{vh}", "CSeq: 1 INVITE", f"Contact: <sip:long@{vh}:{vp}>",
             f"X-{'H' * 100}: {'v' * 2000}"]
    n = 1
    while n < vias:
        form = n % 4
        if form == 0:
            lines.append(f"Via: SIP/2.0/TCP host{n}.example.net;branch=z9hG4bK{n}")
        elif form == 1:
            lines.append(f"v: SIP/2.0/UDP host{n}.example.net;branch=z9hG4bK{n}")
        elif form == 2:
            lines.append(f"Via  : SIP/2.0/UDP host{n}.example.net;branch=z9hG4bK{n}")
        else:
            lines.append(f"VIA\t:SIP/2.0/UDP host{n}.example.net;branch=z9hG4bK{n}, "
                         f"SIP/2.0/UDP host{n + 1}.example.net;branch=z9hG4bK{n + 1}")
            n += 1
        n += 1
    return message(lines)


@pytest.mark.parametrize("section,name,data,expected", _parser_cases(), ids=lambda v: v if isinstance(v, str) else "")
def test_the_parser_handles_rfc4475_as_named(section: str, name: str, data: bytes, expected: object) -> None:
    if expected == "accept":
        msg = parse_message(data)
        assert isinstance(msg, Request | Response), name
        return
    assert isinstance(expected, tuple)
    code, words = expected
    with pytest.raises(SipParseError) as info:
        parse_message(data)
    err = info.value
    assert words in err.reason, (section, name, err.reason)
    if code is None:
        assert err.reply is None, (section, name)
    else:
        assert err.reply is not None and err.reply.code == code, (section, name, err.reason)
        for header in ("Call-ID", "CSeq", "From", "To"):  # the answer itself is well-formed SIP
            assert len(err.reply.headers.getlist(header)) <= 1, (section, name, header)
        if code == 400:
            warning = err.reply.headers.get("Warning") or ""
            assert warning.startswith("399 ") and words in warning, (section, name, warning)


def test_wsinv_reads_every_header_under_its_name() -> None:
    """§3.1.1.1: LWS before the colon does not hide a header (it used to make a valid INVITE a
    ``400 missing From``); compact forms and folded values read as their full headers."""
    msg = parse_message(with_sdp(wsinv(H, P, VH, VP, "w"), VH))
    assert isinstance(msg, Request)
    assert msg.from_address.parameters.get("tag") is not None
    assert msg.call_id == f"wsinv.w@{VH}" and msg.cseq.sequence == 9 and msg.cseq.method == "INVITE"
    assert msg.max_forwards == 68 and msg.headers.get("Subject") == ""
    assert [v.host for v in msg.via] == [VH] and msg.contact[0].uri.host == VH
    assert msg.body.startswith(b"v=0")


def test_longreq_every_via_comes_back_in_order() -> None:
    """§3.1.1.7: all 34 Via values, whatever their header form, are copied into the response in
    the order received (RFC 3261 §8.2.6.2); none is lost."""
    msg = parse_message(longreq(H, P, VH, VP, "l"))
    assert isinstance(msg, Request)
    sent_by = [v.host for v in msg.via]
    assert len(sent_by) == 34 and sent_by[0] == VH
    assert sent_by[1:] == [f"host{n}.example.net" for n in range(1, 34)]
    resp = parse_message(encode(build_response(msg, 180, to_tag="x")))
    assert [v.host for v in resp.via] == sent_by


def test_an_ack_with_an_unknown_scheme_is_never_answered() -> None:
    """RFC 3261 §17.1.1.3: ACK gets no response, also when it is bad (416 or 400)."""
    bad_scheme = options(H, P, VH, VP, "a", first="ACK nobodyknowsthisscheme:x SIP/2.0").replace(
        b"CSeq: 1 OPTIONS", b"CSeq: 1 ACK")
    two_cseq = options(H, P, VH, VP, "a", ["CSeq: 2 ACK"], first=f"ACK sip:{H} SIP/2.0").replace(
        b"CSeq: 1 OPTIONS", b"CSeq: 1 ACK")
    for data in (bad_scheme, two_cseq):
        with pytest.raises(SipParseError) as info:
            parse_message(data)
        assert info.value.reply is None


# -- on the wire: every user agent -----------------------------------------------------------------

def exchange(sock: socket.socket, data: bytes, dest: tuple[str, int], quiet_s: float = 0.2,
             deadline_s: float = 5.0) -> list[Response]:
    """Send ``data``, collect the responses until a final one came and then ``quiet_s`` of silence
    (at most ``deadline_s``: a loaded machine may be slow, a silent peer is not waited for longer)."""
    sock.sendto(data, dest)
    call_id = (lenient_headers(data)[1].get("Call-ID") or "").encode()
    out: list[Response] = []
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        sock.settimeout(quiet_s if any(r.code >= 200 for r in out) else max(0.01, end - time.monotonic()))
        try:
            raw = sock.recv(65535)
        except OSError:
            break
        msg = Message.parse(raw)
        assert isinstance(msg, Response)
        if msg.call_id.encode() == call_id:  # not a late retransmission of an earlier case's answer
            out.append(msg)
    return out


def final(responses: list[Response], what: str = "") -> Response:
    finals = [r for r in responses if r.code >= 200]
    assert finals, (what, [r.code for r in responses])
    return finals[0]


#: (section, name, build(h, p, vh, vp, t, user) -> bytes, expected final code, header the answer must carry)
REFUSALS: list[tuple[str, str, Callable[..., bytes], int, str | None]] = [
    ("3.3.2", "unkscm", lambda h, p, vh, vp, t, u: invite(h, p, vh, vp, t, uri="nobodyknowsthisscheme:opaque"),
     416, None),
    ("3.3.5", "bext01", lambda h, p, vh, vp, t, u: invite(h, p, vh, vp, t, ["Require: nothingunderstandsthis"],
                                                           user=u), 420, "Unsupported"),
    ("3.3.6", "invut", lambda h, p, vh, vp, t, u: invite(h, p, vh, vp, t, user=u, body="<audio> <pcmu/> </audio>",
                                                          content_type="application/unknownformat"), 415, "Accept"),
    ("3.3.8", "multi01", lambda h, p, vh, vp, t, u: invite(h, p, vh, vp, t, ["CSeq: 2 INVITE", f"Call-ID: x.{t}"],
                                                            user=u), 400, "Warning"),
    ("3.3.9", "mcl01", lambda h, p, vh, vp, t, u: invite(h, p, vh, vp, t, ["l: 2"], user=u).replace(
        b"l: 2", b"l: 2\r\nContent-Length: 2"), 400, "Warning"),
    ("3.1.2.4", "scalar02", lambda h, p, vh, vp, t, u: invite(h, p, vh, vp, t, user=u).replace(
        b"CSeq: 1 INVITE", b"CSeq: 36893488147419103232 INVITE"), 400, "Warning"),
    ("3.3.15", "sdp01", lambda h, p, vh, vp, t, u: invite(h, p, vh, vp, t, ["Accept: text/nobodyknowsthis"], user=u),
     406, "Accept"),
    ("3.1.1.11", "mpart01", lambda h, p, vh, vp, t, u: mpart01(h, p, vh, vp, t, u), 415, "Accept"),
    ("3.1.2.16", "badvers", lambda h, p, vh, vp, t, u: options(h, p, vh, vp, t, first=f"OPTIONS sip:{h}:{p} SIP/7.0"),
     505, "Warning"),
    ("3.1.1.2", "intmeth", lambda h, p, vh, vp, t, u: intmeth(h, p, vh, vp, t), 501, None),
    ("3.1.2.18", "mismatch02",
     lambda h, p, vh, vp, t, u: options(h, p, vh, vp, t, first=f"NEWMETHOD sip:{h}:{p} SIP/2.0"), 400, "Warning"),
    ("3.3.4", "unksm2", lambda h, p, vh, vp, t, u: options(h, p, vh, vp, t).replace(f"To: <sip:{h}>".encode(),
                                                                                  b"To: isbn:2983792873"), 200, None),
]


def refusals_of(dest: tuple[str, int], lhost: str, user: str, tag: str) -> list[tuple[str, int, str]]:
    """Send every :data:`REFUSALS` case to ``dest``; ``(name, final code, the expected header)`` per case."""
    got = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((lhost, 0))
        vp = s.getsockname()[1]
        for _section, name, build, _code, header in REFUSALS:
            data = build(dest[0], dest[1], lhost, vp, f"{tag}{name}", user)
            resp = final(exchange(s, data, dest), name)
            if data.startswith(b"INVITE ") and resp.code >= 300:  # the ACK of a failure (RFC 3261 §17.1.1.3)
                via = resp.headers.getlist("Via")[0]
                s.sendto(message([f"ACK {data.split(b' ')[1].decode()} SIP/2.0", f"Via: {via}", "Max-Forwards: 70",
                                  f"From: {resp.headers['From']}", f"To: {resp.headers['To']}",
                                  f"Call-ID: {resp.call_id}", f"CSeq: {resp.cseq.sequence} ACK"]), dest)
            value = resp.headers.get(header) if header else ""
            got.append((name, resp.code, value or ""))
    return got


def check_refusals(got: list[tuple[str, int, str]]) -> None:
    expected = [(name, code) for _s, name, _b, code, _h in REFUSALS]
    assert [(n, c) for n, c, _ in got] == expected
    values = {n: v for n, _, v in got}
    assert values["bext01"] == "nothingunderstandsthis"
    assert "application/sdp" in values["invut"] and "application/sdp" in values["sdp01"]
    assert "Call-ID" in values["multi01"] and "Content-Length" in values["mcl01"] and "CSeq" in values["scalar02"]
    assert "application/sdp" in values["mpart01"] and "7.0" in values["badvers"] and "CSeq" in values["mismatch02"]


def wsinv_and_2543_calls(dest: tuple[str, int], lhost: str, user: str, tag: str) -> tuple[int, int, int]:
    """A wsinv INVITE and an RFC 2543 INVITE to ``dest``: their final codes, and the BYE's code for
    the RFC 2543 call (sent without From tag, as its UA would)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((lhost, 0))
        vp = s.getsockname()[1]
        t = f"{tag}ws"
        ws = wsinv(dest[0], dest[1], lhost, vp, t, user, to_tag=False)
        first = final(exchange(s, with_sdp(ws, lhost), dest))
        _ack_and_bye(s, dest, first, lhost, vp, t, with_tag=True)
        t = f"{tag}2543"
        second = final(exchange(s, inv2543(dest[0], dest[1], lhost, vp, t, user), dest))
        bye = _ack_and_bye(s, dest, second, lhost, vp, t, with_tag=False) if second.code == 200 else 0
    return first.code, second.code, bye


def _ack_and_bye(s: socket.socket, dest: tuple[str, int], resp: Response, lhost: str, vp: int, t: str,
                 with_tag: bool) -> int:
    if resp.code != 200:
        return 0
    contact = str(resp.contact[0].uri) if resp.contact else f"sip:{dest[0]}:{dest[1]}"
    frm = resp.headers["From"]
    to = resp.headers["To"]
    common = [f"From: {frm}", f"To: {to}", f"Call-ID: {resp.call_id}", "Max-Forwards: 70"]
    ack = message([f"ACK {contact} SIP/2.0", f"Via: SIP/2.0/UDP {lhost}:{vp};branch=z9hG4bKack{t}", *common,
                   f"CSeq: {resp.cseq.sequence} ACK"])
    s.sendto(ack, dest)
    bye = message([f"BYE {contact} SIP/2.0", f"Via: SIP/2.0/UDP {lhost}:{vp};branch=z9hG4bKbye{t}", *common,
                   f"CSeq: {resp.cseq.sequence + 1} BYE"])
    del with_tag  # the From is sent back as the answer carries it (with or without a tag)
    return final(exchange(s, bye, dest)).code


def every_via_back(dest: tuple[str, int], lhost: str, user: str) -> list[str]:
    """§3.1.1.7 as an OPTIONS to ``dest``: the sent-by hosts of the 200's Via values, in order."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((lhost, 0))
        vp = s.getsockname()[1]
        data = longreq(dest[0], dest[1], lhost, vp, f"via{user}")
        data = data.replace(b"INVITE sip:1001@", f"OPTIONS sip:{user}@".encode()).replace(b"1 INVITE", b"1 OPTIONS")
        answer = final(exchange(s, data, dest), "longreq")
    assert answer.code == 200
    return [v.host for v in answer.via]


VIAS = [f"host{n}.example.net" for n in range(1, 34)]


def test_the_probe_uas_answers_rfc4475_as_named(agents: Callable[..., SipUserAgent]) -> None:
    uas = agents(2, "uas")
    dest = (addr(2), uas.udp_port)
    check_refusals(refusals_of(dest, addr(41), "1001", "probe"))
    assert wsinv_and_2543_calls(dest, addr(41), "1001", "probe") == (200, 200, 200)
    assert every_via_back(dest, addr(41), "1001") == [addr(41), *VIAS]


@pytest.mark.parametrize("device,user", [("pstn1", "+13175559000"), ("phone1", "1001")])
def test_the_twin_carrier_and_phone_answer_rfc4475_as_named(twin: TwinControl, loaded: LoadedLab, device: str,
                                                            user: str) -> None:
    dest = (loaded.lab.devices[device].host, 5060)
    check_refusals(refusals_of(dest, addr(42), user, device))
    assert wsinv_and_2543_calls(dest, addr(42), user, device) == (200, 200, 200)
    assert every_via_back(dest, addr(42), user) == [addr(42), *VIAS]


def test_the_twin_edge_answers_rfc4475_as_named(twin: TwinControl, loaded: LoadedLab) -> None:
    """The Edge's trunk port: the refusals, every Via back, and the wsinv and RFC 2543 INVITEs to a
    DID, which the Edge takes and puts through to phone1 (a B2BUA: its answer is phone1's, relayed)."""
    dest = (loaded.lab.devices["edge1"].host, 5060)
    check_refusals(refusals_of(dest, addr(43), DID, "edge"))
    assert every_via_back(dest, addr(43), DID) == [addr(43), *VIAS]
    assert wsinv_and_2543_calls(dest, addr(43), DID, "edge") == (200, 200, 200)
