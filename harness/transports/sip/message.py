"""SIP messages without I/O: parsing with checks, builders for requests and responses, stream framing.

Shared by the probe's UAC and UAS (:mod:`harness.transports.sip.stack`,
:mod:`harness.transports.sip.call`) and meant for the twin's endpoints too: nothing here opens a
socket or keeps state beyond one message.

Parsing is sipmessage's (``Message.parse``). Before it, what sipmessage does not read is put in the
form it does: header folding (RFC 3261 §7.3.1) is undone, and linear white space between a header's
name and its colon is dropped (§7.3.1 and the ``HCOLON`` rule of §25.1: ``Via  : …`` is the Via
header; sipmessage would file it under a header named ``"Via  "``). Compact header names are
expanded by sipmessage. After it, :func:`parse_message` checks what RFC 3261 asks of every message:

* the headers a transaction needs (§8.1.1: Via, From, To, Call-ID, CSeq; Max-Forwards is not
  required, as many real peers and RFC 2543 ones leave it out), a CSeq method equal to the request
  method, a status code 100-699;
* a header that may appear once (:data:`SINGLE_VALUED`, §7.3.1: only headers whose grammar is a
  comma-separated list may be repeated) appears once — two Content-Lengths included;
* numbers in range (:data:`NUMBER_LIMITS`: CSeq below 2**31, §8.1.1.5; Max-Forwards 0-255,
  §20.22; Expires and the other delta-seconds at most 2**32-1, §20.19);
* ``Content-Length`` framing (§18.3: a datagram whose body is shorter than Content-Length is
  malformed, longer is cut).

Whatever fails raises :class:`SipParseError`; when the first line is a request line (not ACK,
which is never answered, §17.1.1.3) it carries the ``400 Bad Request`` to send (with a
``Warning: 399`` naming the problem and the header, §20.43) — also when Via is missing or
unreadable, in which case the transport sends it to the source address. A well-formed request
whose Request-URI has a scheme other than sip, sips or tel gets ``416 Unsupported URI Scheme``
instead (§8.2.2.1), and a request of another SIP version ``505 Version Not Supported`` (§21.5.7).
From and To may hold a URI of any scheme (``absoluteURI``, §25.1); sipmessage reads only sip, sips
and tel, so another scheme is checked for form only (RFC 4475 §3.3.4 wants it parsed).

Stream transports (TCP) are framed by :class:`StreamFramer` on Content-Length (§18.3, where the
header is mandatory).
"""

from __future__ import annotations

import functools
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sipmessage import URI, Address, CSeq, Headers, Message, Request, Response, Via
from sipmessage.message import COMPACT_FORMS

T1_S = 0.5  # RFC 3261 §17.1.1.1: RTT estimate, first retransmission interval
T2_S = 4.0  # RFC 3261 §17.1.2.2: maximum retransmission interval of non-INVITE requests and INVITE responses
T4_S = 5.0  # RFC 3261 §17.1.2.2: maximum time a message stays in the network
REQUIRED = ("Via", "From", "To", "Call-ID", "CSeq")  # RFC 3261 §8.1.1 (Max-Forwards tolerated absent)
COPIED = ("Via", "From", "To", "Call-ID", "CSeq")  # RFC 3261 §8.2.6.2: copied from request to response
MAX_MESSAGE = 65535  # project choice: the largest message accepted (a UDP datagram's size)
MAGIC_COOKIE = "z9hG4bK"  # RFC 3261 §8.1.1.7
#: Headers that may appear once (RFC 3261 §7.3.1, their grammars in §25.1 are no lists; Session-Expires
#: and Min-SE: RFC 4028 §4 and §5).
SINGLE_VALUED = ("Call-ID", "CSeq", "From", "To", "Max-Forwards", "Content-Length", "Content-Type",
                 "Expires", "Min-Expires", "Session-Expires", "Min-SE")
#: Largest value of numeric headers, and where the limit is written.
NUMBER_LIMITS: dict[str, tuple[int, str]] = {
    "CSeq": (2**31 - 1, "RFC 3261 §8.1.1.5: less than 2**31"),
    "Max-Forwards": (255, "RFC 3261 §20.22: 0-255"),
    "Content-Length": (MAX_MESSAGE, "RFC 3261 §20.14, and this stack's largest message"),
    "Expires": (2**32 - 1, "RFC 3261 §20.19: at most 2**32-1"),
    "Min-Expires": (2**32 - 1, "RFC 3261 §20.23: delta-seconds, at most 2**32-1"),
    "Session-Expires": (2**32 - 1, "RFC 4028 §4: delta-seconds, at most 2**32-1"),
    "Min-SE": (2**32 - 1, "RFC 4028 §5: delta-seconds, at most 2**32-1"),
}
URI_SCHEMES = ("sip", "sips", "tel")  # RFC 3261 §19.1, RFC 3966: the Request-URI schemes understood here

REASONS = {
    100: "Trying", 180: "Ringing", 181: "Call Is Being Forwarded", 182: "Queued", 183: "Session Progress",
    200: "OK", 202: "Accepted", 400: "Bad Request", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 406: "Not Acceptable", 408: "Request Timeout", 415: "Unsupported Media Type",
    416: "Unsupported URI Scheme", 420: "Bad Extension", 421: "Extension Required",
    422: "Session Interval Too Small", 480: "Temporarily Unavailable", 481: "Call/Transaction Does Not Exist",
    486: "Busy Here",
    487: "Request Terminated", 488: "Not Acceptable Here", 491: "Request Pending", 500: "Server Internal Error",
    501: "Not Implemented", 503: "Service Unavailable", 505: "Version Not Supported", 603: "Decline",
}

_FOLD = re.compile(rb"\r\n[ \t]+")
_NAME_COLON = re.compile(rb"^([^:\s]+)[ \t]+:", re.MULTILINE)  # a header name, white space, its colon
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):\S*$")  # RFC 3986 §3.1
_DIGITS = re.compile(r"^[0-9]+$")
# a name-addr / addr-spec whose URI has another scheme: "display" <scheme:...>;params, or scheme:...;params
_OTHER_ADDRESS = re.compile(r'^(?:(?:"(?:[^"\\]|\\.)*"|[^<"]*)\s*<([A-Za-z][A-Za-z0-9+.-]*):[^<>\s]+>|'
                            r'([A-Za-z][A-Za-z0-9+.-]*):[^\s;<>]+)(?:\s*;.*)?$')
_OTHER_VERSION = re.compile(r"^(\S+) \S+ SIP/(\d+\.\d+)$")  # a request line of another SIP version
_TOKEN = re.compile(r"^[A-Za-z0-9.!%*_+`'~-]+$")  # RFC 3261 §25.1 token (a method)
_MUST_BE_NUMBERS = ("CSeq", "Max-Forwards", "Content-Length")


class SipParseError(ValueError):
    """A message that is no valid SIP.

    Attributes:
        reason: what is wrong, one line (naming the header when one is at fault).
        first_line: the message's first line as received (``""`` when there was none).
        reply: the response to send back (400; 416 for an unknown Request-URI scheme; 505 for another
            SIP version), or ``None`` when the message is not a readable request, or is an ACK.
        fatal: on a stream, framing is lost (bad Content-Length): the connection must be closed.
    """

    def __init__(self, reason: str, first_line: str = "", reply: Response | None = None,
                 fatal: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.first_line = first_line
        self.reply = reply
        self.fatal = fatal


def new_branch() -> str:
    """A fresh Via branch with the RFC 3261 magic cookie."""
    return MAGIC_COOKIE + secrets.token_hex(8)


def new_tag() -> str:
    return secrets.token_hex(6)


def new_call_id(host: str) -> str:
    return f"{secrets.token_hex(10)}@{host}"


def reason_of(code: int) -> str:
    return REASONS.get(code, "Unknown")


# -- parsing --------------------------------------------------------------------------------------

def unfold(head: bytes) -> bytes:
    """Header block with folded lines joined (RFC 3261 §7.3.1: CRLF + whitespace is one space) and
    the white space between each header's name and its colon dropped (§7.3.1, ``HCOLON`` in §25.1)."""
    line, crlf, rest = _FOLD.sub(b" ", head).partition(b"\r\n")
    return line + crlf + _NAME_COLON.sub(rb"\1:", rest)


def lenient_headers(data: bytes) -> tuple[str, Headers]:
    """First line and headers of a message sipmessage refused, read leniently (LF or CRLF lines)."""
    head = data.split(b"\r\n\r\n", 1)[0]
    head = head.split(b"\n\n", 1)[0].replace(b"\r\n", b"\n")
    text = re.sub(r"\n[ \t]+", " ", head.decode("utf-8", "replace"))
    lines = text.split("\n")
    hdrs = Headers()
    for line in lines[1:]:
        key, sep, value = line.partition(":")
        if sep and key.strip():
            hdrs.add(COMPACT_FORMS.get(key.strip().lower(), key.strip()), value.strip())
    return lines[0].strip(), hdrs


def looks_like_request(first: str) -> bool:
    """``first`` reads as a request line, even a malformed one (extra or trailing white space, LWS
    inside the Request-URI: RFC 4475 §3.1.2.8-§3.1.2.10 want those answered 400)."""
    parts = first.split()
    return len(parts) >= 3 and parts[-1] == "SIP/2.0" and _TOKEN.match(parts[0]) is not None


def answerable(first: str) -> bool:
    """A request line that gets an answer when the request is bad: any but ACK (§17.1.1.3)."""
    return looks_like_request(first) and first.split(" ", 1)[0] != "ACK"


def unknown_scheme(first: str) -> str | None:
    """The Request-URI scheme of request line ``first`` when it is a well-formed URI scheme (RFC 3986
    §3.1) other than :data:`URI_SCHEMES`, else ``None``."""
    parts = first.split(" ")
    if len(parts) != 3 or not looks_like_request(first):
        return None
    m = _SCHEME.match(parts[1])
    if m is None or m.group(1).lower() in URI_SCHEMES:
        return None
    return m.group(1)


def check_request(req: Request) -> str | None:
    """The first thing that makes ``req`` unusable, or ``None``."""
    problem = _check_common(req)
    if problem:
        return problem
    if req.cseq.method != req.method:
        return f"CSeq method {req.cseq.method} differs from request method {req.method}"
    return None


def check_response(resp: Response) -> str | None:
    """The first thing that makes ``resp`` unusable, or ``None``."""
    if not 100 <= resp.code <= 699:
        return f"status code {resp.code} out of range"
    return _check_common(resp)


def _check_common(msg: Request | Response) -> str | None:
    for name in REQUIRED:
        if not msg.headers.get(name):
            return f"missing {name}"
    for name in SINGLE_VALUED:
        count = len(msg.headers.getlist(name))
        if count > 1:
            return f"{count} {name} headers where one is allowed (RFC 3261 §7.3.1)"
    problem = _check_numbers(msg)
    if problem:
        return problem
    for name, parse in (("Via", lambda v: Via.parse_many(v)), ("CSeq", CSeq.parse),
                        ("From", _parse_address), ("To", _parse_address)):
        for value in msg.headers.getlist(name):
            try:
                if not parse(value):
                    return f"{name}: empty"
            except ValueError as e:
                return f"{name}: {e or 'unreadable'} ({value[:60]!r})"
    return None


def _parse_address(value: str) -> object:
    """From/To: a name-addr or addr-spec of a sip/sips/tel URI (sipmessage), or of another URI scheme
    (RFC 3261 §25.1 allows any absoluteURI; RFC 4475 §3.3.4: parsers must not fail on it)."""
    try:
        return Address.parse(value)
    except ValueError:
        m = _OTHER_ADDRESS.match(value.strip())
        if m is None or (m.group(1) or m.group(2)).lower() in URI_SCHEMES:
            raise
        return m.group(0)


def _check_numbers(msg: Request | Response) -> str | None:
    for name, (limit, source) in NUMBER_LIMITS.items():
        raw = msg.headers.get(name)
        if raw is None:
            continue
        text = raw.split(None, 1)[0] if name == "CSeq" and raw.strip() else raw.split(";", 1)[0].strip()
        if not _DIGITS.match(text):
            if name in _MUST_BE_NUMBERS:
                return f"{name} {text[:20]!r} is not a number"
            continue  # an RFC 2543 Expires may be a date (read by whoever needs it)
        if int(text) > limit:
            return f"{name} {text[:24]} is out of range ({source})"
    return None


def parse_message(data: bytes, *, framed: bool = False, server: str | None = None) -> Request | Response:
    """One message (a datagram, or a stream message cut by :class:`StreamFramer` when ``framed``).

    Returns a checked :class:`~sipmessage.Request` or :class:`~sipmessage.Response`; the body is cut
    to Content-Length. ``server`` goes into the Server header of the 400 a bad request gets.

    Raises:
        SipParseError: not SIP, or SIP that breaks a rule above; ``reply`` is the 400 (416, 505) to send.
    """
    def fail(reason: str, headers: Headers | None = None) -> SipParseError:
        first, hdrs = lenient_headers(data)  # only on failure: a good message is read once
        # a request line is answered 400 (to the source address) even without a Via; ACK never is
        reply = bad_request(headers or hdrs, reason, server) if answerable(first) else None
        return SipParseError(reason, first, reply)

    if len(data) > MAX_MESSAGE:
        raise fail(f"message of {len(data)} bytes is larger than {MAX_MESSAGE}")
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        raise fail("no empty line after the headers (CRLF CRLF)")
    head = unfold(head)
    line, _, rest = head.partition(b"\r\n")
    version = _OTHER_VERSION.match(line.decode("utf-8", "replace"))
    if version is not None and version.group(2) != "2.0":
        reason = f"SIP version {version.group(2)} is not supported (RFC 3261 §21.5.7)"
        first, hdrs = lenient_headers(data)
        reply = None if version.group(1) == "ACK" or not all(hdrs.get(h) for h in REQUIRED) else build_response(
            hdrs, 505, to_tag=new_tag(), server=server, extra=[("Warning", f'399 hil "{reason}"')])
        raise SipParseError(reason, first, reply)
    scheme = unknown_scheme(line.decode("utf-8", "replace"))
    if scheme is not None:  # read the rest with a stand-in URI: sipmessage reads sip, sips and tel only
        method, _, _ = line.partition(b" ")
        head = method + b" sip:unsupported.invalid SIP/2.0\r\n" + rest
    try:
        msg = Message.parse(head + b"\r\n\r\n" + body)
    except Exception as e:  # sipmessage raises ValueError; odd input also IndexError/UnicodeError
        raise fail(f"unparseable: {e or type(e).__name__}") from None
    problem = check_request(msg) if isinstance(msg, Request) else check_response(msg)
    if problem is None and not framed:
        problem = _frame_datagram(msg)
    if problem:
        raise fail(problem, msg.headers)
    if scheme is not None:
        assert isinstance(msg, Request)
        reason = f"Request-URI scheme {scheme!r} is not supported (RFC 3261 §8.2.2.1)"
        reply = None if msg.method == "ACK" else build_response(
            msg, 416, to_tag=new_tag(), server=server, extra=[("Warning", f'399 hil "{reason}"')])
        raise SipParseError(reason, line.decode("utf-8", "replace"), reply)
    return msg


def _frame_datagram(msg: Request | Response) -> str | None:
    """RFC 3261 §18.3 for datagrams: cut the body to Content-Length, refuse one too short."""
    raw = msg.headers.get("Content-Length")
    if raw is None:
        return None
    try:
        n = int(raw)
    except ValueError:
        return f"bad Content-Length {raw!r}"
    if n < 0 or n > len(msg.body):
        return f"Content-Length {n} does not match the body ({len(msg.body)} bytes)"
    msg.body = msg.body[:n]
    return None


class StreamFramer:
    """Cuts a byte stream (TCP) into messages on Content-Length (RFC 3261 §18.3).

    :meth:`feed` returns what became complete: ``bytes`` for a message, or a
    :class:`SipParseError` for a framing problem (``fatal`` when the stream cannot be resynchronised:
    a bad Content-Length, or headers longer than :data:`MAX_MESSAGE`). CRLF keep-alives between
    messages (RFC 5626 §4.4.1) are skipped; ``keepalives`` counts the double-CRLF pings.
    """

    def __init__(self, max_size: int = MAX_MESSAGE) -> None:
        self.buf = bytearray()
        self.max_size = max_size
        self.keepalives = 0

    @property
    def pending(self) -> int:
        """Bytes of an incomplete message held."""
        return len(self.buf)

    def feed(self, data: bytes) -> list[bytes | SipParseError]:
        self.buf += data
        out: list[bytes | SipParseError] = []
        while True:
            while self.buf.startswith(b"\r\n"):
                if self.buf.startswith(b"\r\n\r\n"):
                    self.keepalives += 1
                    del self.buf[:4]
                else:
                    del self.buf[:2]
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buf) > self.max_size:
                    out.append(SipParseError(f"headers longer than {self.max_size} bytes",
                                             lenient_headers(bytes(self.buf))[0], fatal=True))
                    self.buf.clear()
                return out
            head = bytes(self.buf[:end])
            first, hdrs = lenient_headers(head + b"\r\n\r\n")
            raw = hdrs.get("Content-Length")
            if raw is None:
                out.append(SipParseError("no Content-Length on a stream transport (RFC 3261 §20.14)", first,
                                         bad_request(hdrs, "no Content-Length on a stream transport")
                                         if answerable(first) else None))
                del self.buf[:end + 4]
                continue
            try:
                n = int(raw)
                if n < 0 or n > self.max_size:
                    raise ValueError(raw)
            except ValueError:
                reason = f"bad Content-Length {raw!r}"
                out.append(SipParseError(reason, first, bad_request(hdrs, reason)
                                         if answerable(first) else None, fatal=True))
                self.buf.clear()
                return out
            total = end + 4 + n
            if len(self.buf) < total:
                return out
            out.append(bytes(self.buf[:total]))
            del self.buf[:total]


# -- building ---------------------------------------------------------------------------------------

def via_value(transport: str, host: str, port: int, branch: str, rport: bool = True) -> str:
    """A Via header value (``SIP/2.0/UDP host:port;branch=…;rport``, RFC 3581 rport)."""
    return f"SIP/2.0/{transport.upper()} {host}:{port};branch={branch}" + (";rport" if rport else "")


def in_invite_transaction(invite: Request, method: str, to: str) -> Request:
    """A request that belongs to ``invite``'s own transaction: CANCEL (RFC 3261 §9.1, ``to`` =
    the INVITE's To) or the ACK of a non-2xx final answer (§17.1.1.3, ``to`` = the answer's To).

    Same Request-URI, top Via (so the same branch), Route set, From, Call-ID and CSeq number.
    """
    req = Request(method, invite.uri)
    h = req.headers
    h.add("Via", invite.headers.getlist("Via")[0])
    h.add("Max-Forwards", "70")
    for r in invite.headers.getlist("Route"):
        h.add("Route", r)
    h.add("From", invite.headers["From"])
    h.add("To", to)
    h.add("Call-ID", invite.call_id)
    h.add("CSeq", f"{invite.cseq.sequence} {method}")
    return req


def build_request(method: str, uri: str, *, via: str, from_: str, to: str, call_id: str, cseq: int,
                  contact: str | None = None, route: Iterable[str] = (), max_forwards: int = 70,
                  extra: Iterable[tuple[str, str]] = (), body: bytes = b"", content_type: str | None = None,
                  user_agent: str | None = None) -> Request:
    """A request (RFC 3261 §8.1.1): header values are given as strings, in wire form.

    Raises:
        ValueError: ``uri`` is not a SIP/SIPS/TEL URI.
    """
    req = Request(method, URI.parse(uri), body)
    h = req.headers
    h.add("Via", via)
    h.add("Max-Forwards", str(max_forwards))
    for r in route:
        h.add("Route", r)
    h.add("From", from_)
    h.add("To", to)
    h.add("Call-ID", call_id)
    h.add("CSeq", f"{cseq} {method}")
    if contact:
        h.add("Contact", contact)
    if user_agent:
        h.add("User-Agent", user_agent)
    for name, value in extra:
        h.add(name, value)
    if content_type and body:
        h.add("Content-Type", content_type)
    return req


def build_response(request: Request | Headers, code: int, phrase: str | None = None, *,
                   to_tag: str | None = None, contact: str | None = None, server: str | None = None,
                   extra: Iterable[tuple[str, str]] = (), body: bytes = b"",
                   content_type: str | None = None) -> Response:
    """A response to ``request`` (RFC 3261 §8.2.6): every Via in order, From, To, Call-ID, CSeq copied.

    ``to_tag`` is added to To when it has none (never on 100). Record-Route is copied into 18x/2xx
    answers to INVITE (§12.1.1). ``request`` may be just the headers of one (to answer a request
    that did not parse).
    """
    headers = request.headers if isinstance(request, Request) else request
    resp = Response(code, phrase or reason_of(code), body)
    for name in COPIED:
        # every Via, in order; one of each other (a request refused for repeating one is answered with the first)
        for value in headers.getlist(name) if name == "Via" else headers.getlist(name)[:1]:
            if name == "To" and to_tag and code != 100 and tag_of(value) is None:
                value = f"{value};tag={to_tag}"
            resp.headers.add(name, value)
    if isinstance(request, Request) and request.method == "INVITE" and 101 <= code < 300:
        for rr in headers.getlist("Record-Route"):
            resp.headers.add("Record-Route", rr)
    if contact and code > 100:
        resp.headers.add("Contact", contact)
    if server:
        resp.headers.add("Server", server)
    for name, value in extra:
        resp.headers.add(name, value)
    if content_type and body:
        resp.headers.add("Content-Type", content_type)
    return resp


def bad_request(headers: Headers, problem: str, server: str | None = None) -> Response:
    """400 Bad Request naming ``problem`` in a Warning header (RFC 3261 §20.43, code 399)."""
    text = problem.replace('"', "'").replace("\r", " ").replace("\n", " ")[:120]
    return build_response(headers, 400, to_tag=new_tag(), server=server,
                          extra=[("Warning", f'399 hil "{text}"')])


def encode(msg: Request | Response) -> bytes:
    """Wire form, with the Content-Length that sipmessage leaves out."""
    msg.headers.set("Content-Length", str(len(msg.body)))
    return bytes(msg)


# -- reading ---------------------------------------------------------------------------------------

def first_line(msg: Request | Response) -> str:
    if isinstance(msg, Request):
        return f"{msg.method} {msg.uri} SIP/2.0"
    return f"SIP/2.0 {msg.code} {msg.phrase}"


def tag_of(value: str | None) -> str | None:
    """The ``tag`` parameter of a From/To header value, ``None`` when absent or unreadable."""
    if not value:
        return None
    return _tag(value)


@functools.lru_cache(maxsize=4096)
def _tag(value: str) -> str | None:
    # cached: a dialog's every message carries the same From and To, each looked at several times
    try:
        return Address.parse(value).parameters.get("tag")
    except ValueError:
        m = re.search(r";\s*tag=([^;>\s]+)", value, re.IGNORECASE)
        return m.group(1) if m else None


def top_via(msg: Request | Response) -> Via:
    return msg.via[0]


def branch_of(msg: Request | Response) -> str:
    """Top Via branch (``""`` when absent)."""
    try:
        return msg.via[0].parameters.get("branch") or ""
    except (ValueError, IndexError):
        return ""


@dataclass(frozen=True)
class Target:
    """Where a URI says to send (RFC 3263 without DNS: the host is used as given)."""

    host: str
    port: int
    transport: str  # "udp" | "tcp"


def uri_target(uri: str, default_transport: str = "udp") -> Target:
    """Host, port (default 5060, 5061 for sips) and transport (``;transport=`` param) of a URI.

    Raises:
        ValueError: not a SIP URI.
    """
    u = URI.parse(uri.strip().strip("<>"))
    transport = (u.parameters.get("transport") or default_transport).lower()
    return Target(u.host.strip("[]"), u.port or (5061 if u.scheme == "sips" else 5060), transport)
