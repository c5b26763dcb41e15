"""SIP plumbing of the twin: one UDP endpoint per device port, request checks, responses.

Messages are parsed and built with sipmessage (EMULATION-NOTES §6): input must be bytes holding
``\\r\\n\\r\\n``, and ``Content-Length`` is added here on every message sent. What this module does:

* :func:`parse` checks a datagram as RFC 3261 asks of a request (mandatory headers §8.1.1, CSeq
  method, Content-Length framing §18.3) and raises :class:`Malformed`, carrying the 400 to send
  when the datagram holds enough of a request to answer it.
* :class:`SipEndpoint` owns one UDP socket: requests go to a handler, which returns the responses
  to send (kept per server transaction, so a retransmitted request gets the same answer without
  being handled twice); :meth:`SipEndpoint.request` runs a client transaction with Timer E
  retransmission (T1 = 500 ms doubling up to T2 = 4 s, RFC 3261 §17.1.2.2).
* :class:`SipService` is a twin ``Service``: the endpoint is bound on ``start`` and closed on
  ``stop``, so a device that is ``down`` answers nothing.

Nothing here raises out of ``datagram_received``: a bad datagram is answered 400 or dropped.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import OrderedDict
from collections.abc import Iterable
from typing import Protocol

from sipmessage import Address, CSeq, Headers, Message, Request, Response, Via
from sipmessage.message import COMPACT_FORMS

log = logging.getLogger("hil.twin.sip")

T1_S = 0.5  # RFC 3261 §17.1.1.1: round-trip estimate, first retransmission interval
T2_S = 4.0  # RFC 3261 §17.1.2.2: cap of the non-INVITE retransmission interval
CACHE_SIZE = 4096  # project choice: server transactions remembered to absorb retransmissions
REQUIRED = ("Via", "From", "To", "Call-ID", "CSeq")  # RFC 3261 §8.1.1
COPIED = ("Via", "From", "To", "Call-ID", "CSeq")  # RFC 3261 §8.2.6.2: copied into responses

Addr = tuple[str, int]


def new_tag() -> str:
    return secrets.token_hex(6)


def new_branch() -> str:
    return "z9hG4bK" + secrets.token_hex(8)  # RFC 3261 §8.1.1.7 magic cookie


class Malformed(ValueError):
    """A datagram that is no valid SIP message; ``reply`` is the 400 to send, or ``None``."""

    def __init__(self, reason: str, reply: Response | None) -> None:
        super().__init__(reason)
        self.reply = reply


class SipHandler(Protocol):
    """What an endpoint hands requests to: return the responses to send, in order."""

    def handle(self, req: Request, addr: Addr) -> list[Response]: ...

    def malformed(self, reason: str, addr: Addr) -> None: ...


def response(headers: Headers, code: int, phrase: str, *, to_tag: str | None = None,
             server: str | None = None, extra: Iterable[tuple[str, str]] = (), body: bytes = b"",
             content_type: str | None = None) -> Response:
    """A response to the request whose ``headers`` are given (RFC 3261 §8.2.6).

    ``to_tag`` is added to To when the request's To has none (not on 100 Trying).
    """
    resp = Response(code, phrase, body)
    for name in COPIED:
        for value in headers.getlist(name):
            if name == "To" and to_tag and code != 100 and not _has_tag(value):
                value = f"{value};tag={to_tag}"
            resp.headers.add(name, value)
    if server:
        resp.headers.add("Server", server)
    for name, value in extra:
        resp.headers.add(name, value)
    if content_type:
        resp.headers.add("Content-Type", content_type)
    return resp


def _has_tag(value: str) -> bool:
    try:
        return "tag" in Address.parse(value).parameters
    except ValueError:
        return ";tag=" in value.lower()


def _raw_headers(data: bytes) -> tuple[str, Headers]:
    """First line and headers of a datagram that sipmessage refused, read leniently."""
    head = data.split(b"\r\n\r\n", 1)[0].replace(b"\r\n", b"\n").decode("utf-8", "replace")
    lines = head.split("\n")
    hdrs = Headers()
    for line in lines[1:]:
        key, sep, value = line.partition(":")
        if sep and key.strip():
            hdrs.add(COMPACT_FORMS.get(key.strip().lower(), key.strip()), value.strip())
    return lines[0], hdrs


def bad_request(headers: Headers, problem: str, server: str | None = None) -> Response:
    """400 Bad Request with the problem in a Warning header (RFC 3261 §20.43, code 399)."""
    text = problem.replace('"', "'")[:120]
    return response(headers, 400, "Bad Request", to_tag=new_tag(), server=server,
                    extra=[("Warning", f'399 hil-twin "{text}"')])


def check_request(req: Request) -> str | None:
    """The first thing that makes ``req`` malformed, or ``None``. Trims an over-long body (§18.3)."""
    for name in REQUIRED:
        if not req.headers.get(name):
            return f"missing {name}"
    try:
        vias = req.via
        cseq = CSeq.parse(req.headers["CSeq"])
        req.from_address  # noqa: B018 - parsed for validation
        req.to_address  # noqa: B018
    except ValueError as e:
        return f"bad header: {e}"
    if not vias:
        return "bad Via"
    if cseq.method != req.method:
        return f"CSeq method {cseq.method} differs from request method {req.method}"
    raw_len = req.headers.get("Content-Length")
    if raw_len is not None:
        try:
            n = int(raw_len)
        except ValueError:
            return f"bad Content-Length {raw_len!r}"
        if n < 0 or n > len(req.body):
            return f"Content-Length {n} does not match the body ({len(req.body)} bytes)"
        req.body = req.body[:n]
    return None


def parse(data: bytes, server: str | None = None) -> Request | Response:
    """One datagram as a checked request, or a response. Raises :class:`Malformed`."""
    try:
        msg = Message.parse(data)
    except Exception as e:  # sipmessage raises ValueError, odd input also IndexError/UnicodeError
        first, hdrs = _raw_headers(data)
        is_request = first.rstrip().endswith("SIP/2.0") and bool(hdrs.get("Via"))
        raise Malformed(f"unparseable: {e}", bad_request(hdrs, "unparseable request", server)
                        if is_request else None) from None
    if isinstance(msg, Response):
        return msg
    problem = check_request(msg)
    if problem:
        raise Malformed(problem, bad_request(msg.headers, problem, server))
    return msg


def encode(msg: Request | Response) -> bytes:
    """Wire form, with the Content-Length sipmessage leaves out."""
    msg.headers.set("Content-Length", str(len(msg.body)))
    return bytes(msg)


def _txn_key(req: Request) -> tuple[str, ...]:
    """Server transaction id (RFC 3261 §17.2.3): branch, sent-by and method."""
    top = req.via[0]
    branch = top.parameters.get("branch") or f"{req.call_id} {req.cseq.sequence}"
    return (branch, top.host, str(top.port or 5060), req.method)


class SipEndpoint(asyncio.DatagramProtocol):
    """One bound UDP socket speaking SIP for one device port.

    Responses go back to the source address of the request (as with ``rport``, RFC 3581).
    """

    def __init__(self, host: str, port: int, handler: SipHandler, label: str) -> None:
        self.host, self.port, self.handler, self.label = host, port, handler, label
        self.transport: asyncio.DatagramTransport | None = None
        self._closed: asyncio.Future[None] | None = None
        self._cache: OrderedDict[tuple[str, ...], bytes] = OrderedDict()
        self._pending: dict[str, asyncio.Future[Response]] = {}

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        self._closed = loop.create_future()
        self.transport, _ = await loop.create_datagram_endpoint(lambda: self,
                                                                local_addr=(self.host, self.port))

    async def close(self) -> None:
        t, self.transport = self.transport, None
        if t is not None:
            t.close()
            if self._closed is not None:
                await self._closed  # the port is free again once this returns
        for fut in self._pending.values():
            fut.cancel()
        self._pending.clear()
        self._cache.clear()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._closed is not None and not self._closed.done():
            self._closed.set_result(None)

    def error_received(self, exc: Exception) -> None:
        log.debug("%s: %s", self.label, exc)  # ICMP errors after sending to a closed port

    def send(self, msg: Request | Response, addr: Addr) -> bytes:
        data = encode(msg)
        if self.transport is not None:
            self.transport.sendto(data, addr)
        return data

    def datagram_received(self, data: bytes, addr: Addr) -> None:
        try:
            self._receive(data, addr)
        except Exception:  # a handler bug must not take the device down
            log.exception("%s: error handling a datagram from %s:%d", self.label, *addr)

    def _receive(self, data: bytes, addr: Addr) -> None:
        if not data.strip():
            return  # CRLF keep-alive (RFC 5626 §4.4.1)
        try:
            msg = parse(data, getattr(self.handler, "server", None))
        except Malformed as e:
            log.info("%s: malformed datagram from %s:%d: %s", self.label, *addr, e)
            self.handler.malformed(str(e), addr)
            if e.reply is not None:
                self.send(e.reply, addr)
            return
        if isinstance(msg, Response):
            self._client_response(msg)
            return
        key = _txn_key(msg)
        cached = self._cache.get(key)
        if cached is not None:  # retransmission: same answer, handled once
            if self.transport is not None:
                self.transport.sendto(cached, addr)
            return
        replies = self.handler.handle(msg, addr)
        for r in replies:
            data = self.send(r, addr)
        if replies and msg.method != "ACK":
            self._cache[key] = data
            if len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)

    def _client_response(self, resp: Response) -> None:
        try:
            branch = resp.via[0].parameters.get("branch") or ""
        except (ValueError, IndexError):
            return
        fut = self._pending.get(branch)
        if fut is not None and not fut.done() and resp.code >= 200:
            fut.set_result(resp)

    async def request(self, req: Request, addr: Addr, timeout_s: float) -> Response | None:
        """Send ``req`` (its top Via must carry a branch) and wait for its final response.

        Retransmits on Timer E until ``timeout_s`` (seconds) passes; ``None`` when nothing final came.
        """
        loop = asyncio.get_running_loop()
        branch = Via.parse(req.headers["Via"]).parameters.get("branch") or ""
        fut: asyncio.Future[Response] = loop.create_future()
        self._pending[branch] = fut
        data = encode(req)
        deadline = loop.time() + timeout_s
        interval = T1_S
        try:
            while (remaining := deadline - loop.time()) > 0:
                if self.transport is None:
                    return None
                self.transport.sendto(data, addr)
                try:
                    return await asyncio.wait_for(asyncio.shield(fut), min(interval, remaining))
                except TimeoutError:
                    interval = min(interval * 2, T2_S)
            return None
        finally:
            self._pending.pop(branch, None)


class SipService:
    """A twin ``Service``: a :class:`SipEndpoint` on ``host:port`` while started."""

    def __init__(self, name: str, host: str, port: int, handler: SipHandler) -> None:
        self.name, self.host, self.port, self.handler = name, host, port, handler
        self.endpoint: SipEndpoint | None = None

    async def start(self) -> None:
        if self.endpoint is None:
            ep = SipEndpoint(self.host, self.port, self.handler, f"{self.name} {self.host}:{self.port}")
            await ep.open()
            self.endpoint = ep

    async def stop(self) -> None:
        ep, self.endpoint = self.endpoint, None
        if ep is not None:
            await ep.close()
