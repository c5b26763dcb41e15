"""The SIP probe as a user agent: :class:`UserAgentCore` (asyncio) and :class:`SipUserAgent` (sync).

:class:`UserAgentCore` is the transaction user of one :class:`~harness.transports.sip.stack.SipStack`:
it starts calls (:meth:`UserAgentCore.invite`), sends OPTIONS (:meth:`UserAgentCore.options`; the
OPTIONS probe of :mod:`harness.transports.sip.options` is :meth:`UserAgentCore.probe_options`),
answers new INVITEs as a UAS following a :class:`~harness.transports.sip.call.UasPolicy`, routes
in-dialog requests to their :class:`~harness.transports.sip.call.Call` (which knows the core as a
:class:`~harness.transports.sip.call_base.CallOwner`), and answers the rest: OPTIONS 200 (Allow, Accept),
BYE/CANCEL outside a dialog 481, a To-tagged request of no known dialog 481, an INVITE repeating a
known Call-ID without To tag 482 (§8.2.2.2), a known but unsupported method 405 with Allow, an
unknown method 501 (§8.2.1). A request of a method it takes is first inspected as RFC 3261 §8.2.2
and §8.2.3 say (:func:`~harness.transports.sip.uas_checks.refusal`: 420 for an unsupported
Require, 415 for a body it does not read, 406 for an INVITE whose Accept excludes SDP).
Malformed requests get 400 (an unknown Request-URI scheme 416) in the stack and never get here.

Each call's ladder is fed from the stack's observer, by Call-ID; messages seen before their call
existed (the INVITE and its 100 Trying) are kept briefly and replayed into the new call's ladder.

:class:`SipUserAgent` runs a core on its own event loop thread so drivers, scenarios and tests use
it synchronously; :class:`CallHandle` is the sync face of a call. Every blocking method has a
deadline; a deadline that passes raises :class:`~harness.errors.LabTimeout`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from sipmessage import Request, Response

from ...errors import LabError, LabTimeout, LabUnreachable
from ..rtp import TONE_HZ, RtpSession, RtpStats
from ..sdp import DEFAULT_TELEPHONE_EVENT_PT, SdpSession
from ..transcript import Transcript
from ..udp_tos import Mark
from .call import CONFIRMED, FINAL_STATES, Call, CallResult, UasPolicy
from .message import build_request, new_branch, new_call_id, new_tag, tag_of, uri_target
from .options import OptionsResult, options_result
from .stack import MESSAGE_DEADLINE_S, ClientTransaction, Peer, ServerTransaction, SipStack, StackStats
from .uas_checks import refusal

T = TypeVar("T")
USER_AGENT = "hil/0.1 (SIP probe)"
KNOWN_METHODS = frozenset({"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "PRACK", "SUBSCRIBE",
                           "NOTIFY", "PUBLISH", "INFO", "REFER", "MESSAGE", "UPDATE"})
UNCLAIMED_MAX = 64  # project choice: Call-IDs whose early messages are kept for a call not yet created
MARGIN_S = 2.0  # project choice: a sync wait outlives the loop-side deadline by this much


class UserAgentCore:
    """A UA on one stack (loop-side API; see the module docstring for what it answers).

    Args:
        device: inventory name used in errors. transcript: the session transcript.
        local_host: address for SIP and RTP. udp_port / tcp_port / udp_peer: as for :class:`SipStack`
            (both bound by default, on free ports: one UDP socket and one TCP listener per probe;
            ``udp_peer`` connects the UDP socket to one device, so its port unreachable is heard).
        user: user part of Contact and of the default From.
        policy: how new INVITEs are answered (default: ring and answer at once).
        timeout_s: default deadline of non-INVITE transactions (BYE, CANCEL, re-INVITE), seconds.
        sip_mark / rtp_mark: give the ToS byte SIP / RTP is sent with (``None``: unmarked).
    """

    allow: tuple[str, ...] = ("INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "INFO")
    supported: tuple[str, ...] = ()  # option tags (RFC 3261 §19.2) a Require may name

    def __init__(self, device: str, transcript: Transcript, local_host: str, *, udp_port: int | None = 0,
                 tcp_port: int | None = 0, udp_peer: tuple[str, int] | None = None, user: str = "hil",
                 policy: UasPolicy | None = None, user_agent: str = USER_AGENT, timeout_s: float = 8.0,
                 message_deadline_s: float = MESSAGE_DEADLINE_S, sip_mark: Mark | None = None,
                 rtp_mark: Mark | None = None) -> None:
        self.device, self.transcript, self.local_host, self.user = device, transcript, local_host, user
        self.rtp_mark = rtp_mark
        self.policy = policy or UasPolicy()
        self.timeout_s = timeout_s
        self.stack = SipStack(device, transcript, local_host, self, udp_port=udp_port, tcp_port=tcp_port,
                              udp_peer=udp_peer, user_agent=user_agent, message_deadline_s=message_deadline_s,
                              mark=sip_mark)
        self.stack.observers.append(self._observe)
        self.calls: dict[str, Call] = {}
        self.incoming: asyncio.Queue[Call] | None = None
        self._unclaimed: OrderedDict[str, list[tuple[str, Request | Response, str, bool, tuple[float, float]]]] = \
            OrderedDict()
        self._tasks: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        await self.stack.start()
        self.incoming = asyncio.Queue()

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for call in list(self.calls.values()):
            call.cancel_tasks()
            await call.rtp.close()
        await self.stack.stop()

    def contact(self, transport: str) -> str:
        param = ";transport=tcp" if transport == "tcp" else ""
        return f"<sip:{self.user}@{self.local_host}:{self.stack.port(transport)}{param}>"

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _rtp(self, peer: Peer) -> RtpSession:
        rtp = RtpSession(self.local_host, mark=self.rtp_mark, capture=True)
        try:
            await rtp.open()
        except OSError as e:
            raise LabUnreachable(self.device, "rtp", peer.address, f"cannot bind RTP on {self.local_host}: {e}") \
                from None
        return rtp

    async def invite(self, uri: str, *, peer: Peer | None = None, transport: str = "udp", from_uri: str | None = None,
                     display_name: str | None = None, timeout_s: float = 32.0,
                     codecs: tuple[str, ...] = ("PCMU", "PCMA"),
                     telephone_event_pt: int | None = DEFAULT_TELEPHONE_EVENT_PT,
                     extra: tuple[tuple[str, str], ...] = (), tone_hz: float = TONE_HZ,
                     session_expires_s: int | None = None) -> Call:
        """Start a call to ``uri``; returns once the INVITE is sent (see :class:`Call`).

        ``peer`` is where to send it (default: the URI's host and port); ``timeout_s`` is the
        deadline for its final answer (ring time included); ``tone_hz`` the tone the call's RTP
        sends (default the 1004 Hz test tone; 2100 Hz is a fax answer tone); ``session_expires_s``
        asks for a session timer (RFC 4028: ``Session-Expires``; a 422 is retried with its Min-SE).

        Raises:
            ValueError: ``uri`` is not a SIP URI. LabUnreachable: the INVITE could not be sent.
        """
        if peer is None:
            t = uri_target(uri, transport)
            peer = Peer(t.transport, t.host, t.port)
        rtp = await self._rtp(peer)
        if tone_hz != rtp.tone_hz:
            rtp.set_tone(tone_hz)
        sdp = SdpSession(self.local_host, rtp.port, codecs, telephone_event_pt)
        call = Call(self, "uac", new_call_id(self.local_host), peer, sdp, rtp)
        self.calls[call.call_id] = call
        name = f'"{display_name}" ' if display_name else ""
        from_header = f"{name}<{from_uri or f'sip:{self.user}@{self.local_host}'}>;tag={call.local_tag}"
        try:
            await call.start_uac(uri, from_header, f"<{uri}>", timeout_s, extra, session_expires_s)
        except LabError:
            await rtp.close()
            raise
        return call

    async def options(self, uri: str, *, peer: Peer | None = None, transport: str = "udp",
                      timeout_s: float = 4.0) -> Response | None:
        """One OPTIONS outside any dialog; the final response, ``None`` when none came.

        Raises:
            LabUnreachable: it could not be sent. LabProtocolError: the answer was malformed.
        """
        txn = await self._send_options(uri, peer, transport, timeout_s)
        return await txn.wait_final()

    async def probe_options(self, host: str, port: int, timeout_s: float, *, transport: str = "udp"
                            ) -> OptionsResult:
        """One OPTIONS to ``sip:host:port`` and what came of it, silence included (``status=None``;
        ``refused`` after an ICMP port unreachable): see :mod:`harness.transports.sip.options`.

        Raises:
            LabUnreachable: it could not be sent, or an ICMP error other than port unreachable
                came back. LabProtocolError: the answer is a broken SIP response or no SIP at all.
        """
        txn = await self._send_options(f"sip:{host}:{port}", Peer(transport, host, port), transport, timeout_s)
        await txn.wait_final()
        return options_result(txn)

    async def _send_options(self, uri: str, peer: Peer | None, transport: str, timeout_s: float
                            ) -> ClientTransaction:
        if peer is None:
            t = uri_target(uri, transport)
            peer = Peer(t.transport, t.host, t.port)
        req = build_request("OPTIONS", uri, via=self.stack.via(peer.transport, new_branch()),
                            from_=f"<sip:{self.user}@{self.local_host}>;tag={new_tag()}", to=f"<{uri}>",
                            call_id=new_call_id(self.local_host), cseq=1, contact=self.contact(peer.transport),
                            extra=(("Accept", "application/sdp"),), user_agent=self.stack.user_agent)
        return await self.stack.request(req, peer, timeout_s)

    # -- transaction user --------------------------------------------------------------------------

    def on_request(self, txn: ServerTransaction) -> None:
        req = txn.req
        refused = refusal(req, supported=self.supported) if req.method in self.allow else None
        if refused is not None:
            self.transcript.event(f"{req.method} {req.call_id} refused {refused.code}: {refused.reason}")
            txn.reply(refused.code, to_tag=new_tag(), extra=refused.extra)
            return
        call = self.calls.get(req.call_id)
        if tag_of(req.headers.get("To")):
            if call is not None and call.dialog is not None and call.dialog.matches(req):
                call.on_request(txn)
            elif req.method == "OPTIONS":
                self._options(txn)
            else:
                txn.reply(481)
            return
        if req.method == "INVITE":
            if call is not None:
                txn.reply(482)  # a second INVITE of a known Call-ID without To tag: merged (§8.2.2.2)
                return
            self._spawn(self._new_call(txn))
        elif req.method == "OPTIONS":
            self._options(txn)
        elif req.method == "BYE":
            txn.reply(481)
        elif req.method in KNOWN_METHODS:
            txn.reply(405, extra=[("Allow", ", ".join(self.allow))])
        else:
            txn.reply(501)

    def _options(self, txn: ServerTransaction) -> None:
        txn.reply(200, extra=[("Allow", ", ".join(self.allow)), ("Accept", "application/sdp")])

    async def _new_call(self, txn: ServerTransaction) -> None:
        policy = self.policy
        too_small = _session_interval_too_small(txn.req, policy.min_se_s)
        if too_small is not None:
            txn.reply(422, to_tag=new_tag(), extra=[("Min-SE", str(too_small))])
            return
        try:
            rtp = await self._rtp(txn.peer)
        except LabError:
            txn.reply(500)
            return
        sdp = SdpSession(self.local_host, rtp.port, policy.codecs, policy.telephone_event_pt)
        call = Call(self, "uas", txn.req.call_id, txn.peer, sdp, rtp)
        self.calls[call.call_id] = call
        for direction, msg, peer, again, at in self._unclaimed.pop(call.call_id, []):
            call.ladder.add(direction, msg, peer, again, at)
        if not call.start_uas(txn):
            return
        assert self.incoming is not None
        self.incoming.put_nowait(call)
        if policy.auto_answer:
            await call.run_policy(policy)

    def on_ack(self, req: Request, peer: Peer) -> None:
        call = self.calls.get(req.call_id)
        if call is not None:
            call.on_ack(req)

    def on_stray_response(self, resp: Response, peer: Peer) -> None:
        self.transcript.event(f"response of no transaction from {peer}: {resp.code} {resp.phrase}")

    def _observe(self, direction: str, msg: Request | Response, peer: Peer, again: bool) -> None:
        try:
            call_id = msg.call_id
        except KeyError:
            return
        call = self.calls.get(call_id)
        if call is not None:
            call.ladder.add(direction, msg, str(peer), again)
            return
        rows = self._unclaimed.setdefault(call_id, [])
        rows.append((direction, msg, str(peer), again, (time.monotonic(), time.time())))
        while len(self._unclaimed) > UNCLAIMED_MAX:
            self._unclaimed.popitem(last=False)


def _session_interval_too_small(req: Request, min_se_s: int | None) -> int | None:
    """The Min-SE to answer 422 with (RFC 4028 §9: the INVITE's Session-Expires is below this UAS's
    minimum), ``None`` when the INVITE may go on (no minimum, no Session-Expires, or one large enough)."""
    raw = req.headers.get("Session-Expires")
    if min_se_s is None or raw is None:
        return None
    try:
        asked = int(raw.split(";", 1)[0].strip())
    except ValueError:
        return None
    return min_se_s if asked < min_se_s else None


async def _cancel_all() -> None:
    """Cancel and reap every task left on the loop (timers of finished transactions, RTP senders)."""
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


class SipUserAgent:
    """A :class:`UserAgentCore` on its own event-loop thread, for synchronous callers.

    Args: as :class:`UserAgentCore`. The sockets are bound by the constructor.

    Raises:
        LabUnreachable: ``local_host`` (or a port asked for) cannot be bound.
    """

    def __init__(self, device: str, transcript: Transcript, local_host: str, **kw: Any) -> None:
        self.core = UserAgentCore(device, transcript, local_host, **kw)
        self.device, self.transcript, self.local_host = device, transcript, local_host
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=f"sip ua {local_host}", daemon=True)
        self._thread.start()
        try:
            self.run(self.core.start(), 5.0)
        except BaseException:
            self._shutdown()
            raise

    # -- plumbing ----------------------------------------------------------------------------------

    @property
    def address(self) -> str:
        return f"{self.local_host}:{self.core.stack.udp_port or self.core.stack.tcp_port}"

    def run(self, coro: Coroutine[Any, Any, T], timeout_s: float) -> T:
        """Run ``coro`` on the UA's loop and wait at most ``timeout_s`` seconds for it.

        Raises:
            LabTimeout: the deadline passed (the coroutine is cancelled).
        """
        fut = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return fut.result(timeout_s)
        except concurrent.futures.TimeoutError:
            fut.cancel()
            raise LabTimeout(self.device, "sip", self.address, f"no result within {timeout_s:g} s") from None

    def call_in_loop(self, fn: Callable[[], T], timeout_s: float = 5.0) -> T:
        """Run the plain function ``fn`` on the loop thread (state of calls is touched only there)."""
        async def wrap() -> T:
            return fn()

        return self.run(wrap(), timeout_s)

    def close(self) -> None:
        """Hang nothing up; close sockets and stop the loop thread."""
        if self._loop.is_closed():
            return
        with contextlib.suppress(LabError, RuntimeError):
            self.run(self.core.stop(), 5.0)
            self.run(_cancel_all(), 2.0)
        self._shutdown()

    def _shutdown(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5.0)
        if not self._thread.is_alive():
            self._loop.close()

    def __enter__(self) -> SipUserAgent:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def sip_tos_from(self, host: str, port: int) -> dict[int, int]:
        """Packets per ToS byte of the SIP datagrams received from ``host:port`` (UDP only)."""
        return self.call_in_loop(lambda: dict(self.core.stack.sockets.tos_seen.get((host, port), {})))

    @property
    def udp_port(self) -> int:
        return self.core.stack.udp_port

    @property
    def tcp_port(self) -> int:
        return self.core.stack.tcp_port

    @property
    def stats(self) -> StackStats:
        return self.core.stack.stats

    # -- calls -------------------------------------------------------------------------------------

    def call(self, uri: str, *, peer: tuple[str, int] | None = None, transport: str = "udp",
             timeout_s: float = 32.0, **kw: Any) -> CallHandle:
        """Send an INVITE and return at once (keyword args as :meth:`UserAgentCore.invite`).

        Raises:
            LabUnreachable: the INVITE could not be sent. ValueError: ``uri`` is no SIP URI.
        """
        p = Peer(transport, peer[0], peer[1]) if peer else None
        call = self.run(self.core.invite(uri, peer=p, transport=transport, timeout_s=timeout_s, **kw), 10.0)
        return CallHandle(self, call)

    def dial(self, uri: str, *, timeout_s: float = 32.0, **kw: Any) -> CallHandle:
        """:meth:`call`, then wait until it is answered or has failed (``timeout_s`` at most)."""
        handle = self.call(uri, timeout_s=timeout_s, **kw)
        handle.wait(CONFIRMED, timeout_s=timeout_s + MARGIN_S)
        return handle

    def options(self, uri: str, *, peer: tuple[str, int] | None = None, transport: str = "udp",
                timeout_s: float = 4.0) -> Response | None:
        """OPTIONS to ``uri``: the final response, or ``None`` when none came within ``timeout_s``."""
        p = Peer(transport, peer[0], peer[1]) if peer else None
        return self.run(self.core.options(uri, peer=p, transport=transport, timeout_s=timeout_s),
                        timeout_s + MARGIN_S)

    def probe_options(self, host: str, port: int, timeout_s: float, *, transport: str = "udp") -> OptionsResult:
        """OPTIONS to ``sip:host:port`` within ``timeout_s`` seconds: an :class:`OptionsResult`
        whose ``status`` is ``None`` when nothing answered (see :meth:`UserAgentCore.probe_options`).

        Raises:
            LabUnreachable, LabProtocolError: as :meth:`UserAgentCore.probe_options`.
        """
        return self.run(self.core.probe_options(host, port, timeout_s, transport=transport), timeout_s + MARGIN_S)

    def next_incoming(self, timeout_s: float = 5.0) -> CallHandle:
        """The next call this UA received (in arrival order).

        Raises:
            LabTimeout: none came within ``timeout_s``.
        """
        async def get() -> Call:
            assert self.core.incoming is not None
            return await self.core.incoming.get()

        return CallHandle(self, self.run(get(), timeout_s))

    def calls(self) -> list[CallHandle]:
        return [CallHandle(self, c) for c in self.call_in_loop(lambda: list(self.core.calls.values()))]

    def set_policy(self, policy: UasPolicy) -> None:
        def apply() -> None:
            self.core.policy = policy

        self.call_in_loop(apply)


class CallHandle:
    """Synchronous face of a :class:`~harness.transports.sip.call.Call` (methods as there)."""

    def __init__(self, ua: SipUserAgent, call: Call) -> None:
        self.ua, self._call = ua, call

    @property
    def call_id(self) -> str:
        return self._call.call_id

    @property
    def role(self) -> str:
        return self._call.role

    @property
    def state(self) -> str:
        return self._call.state

    def wait(self, *states: str, timeout_s: float = 10.0) -> str:
        """Block until the call reaches one of ``states`` or a final state; returns the state."""
        return self.ua.run(self._call.wait(set(states), timeout_s), timeout_s + MARGIN_S)

    def wait_ended(self, timeout_s: float = 10.0) -> str:
        return self.wait(*FINAL_STATES, timeout_s=timeout_s)

    def ring(self, early_media: bool = False) -> None:
        self.ua.call_in_loop(lambda: self._call.ring(early_media))

    def answer(self) -> None:
        self.ua.call_in_loop(self._call.answer)

    def reject(self, code: int = 486) -> None:
        self.ua.call_in_loop(lambda: self._call.reject(code))

    def cancel(self, timeout_s: float = 8.0) -> int | None:
        return self.ua.run(self._call.cancel(timeout_s), 3 * timeout_s + MARGIN_S)

    def reinvite(self, direction: str = "sendrecv", hold_zero: bool = False, timeout_s: float = 8.0) -> int | None:
        return self.ua.run(self._call.reinvite(direction, hold_zero, timeout_s), timeout_s + MARGIN_S)

    def hold(self, mode: str = "sendonly", timeout_s: float = 8.0) -> int | None:
        return self.ua.run(self._call.hold(mode, timeout_s), timeout_s + MARGIN_S)

    def resume(self, timeout_s: float = 8.0) -> int | None:
        return self.ua.run(self._call.resume(timeout_s), timeout_s + MARGIN_S)

    def send_dtmf(self, digits: str, duration_ms: int = 100, gap_ms: int = 60) -> None:
        budget = len(digits) * (duration_ms + gap_ms + 80) / 1000.0 + MARGIN_S
        self.ua.run(self._call.send_dtmf(digits, duration_ms, gap_ms), budget)

    def bye(self, timeout_s: float = 8.0) -> int | None:
        return self.ua.run(self._call.bye(timeout_s), timeout_s + MARGIN_S)

    def result(self) -> CallResult:
        return self.ua.call_in_loop(self._call.result)

    def rtp_stats(self) -> RtpStats:
        return self.ua.call_in_loop(self._call.rtp.stats)

    def loop_time(self) -> float:
        """Now on the clock RTP arrival and send times use (the UA loop's, seconds)."""
        return self.ua.call_in_loop(lambda: asyncio.get_running_loop().time())

    def capture(self) -> tuple[list[tuple[float, str, str, bytes]], list[tuple[float, str, tuple[str, int],
                                                                             tuple[str, int], int, bytes]]]:
        """What the probe saw of this call for a pcap: its SIP messages ``(epoch, ">"|"<", peer, bytes)``
        (``peer`` as the ladder writes it, ``"UDP host:port"``) and its RTP packets ``(epoch,
        direction, src, dst, tos, datagram)``."""
        def get() -> tuple[list[tuple[float, str, str, bytes]],
                           list[tuple[float, str, tuple[str, int], tuple[str, int], int, bytes]]]:
            rtp = self._call.rtp.captured
            return list(self._call.ladder.raw), list(rtp) if rtp is not None else []
        return self.ua.call_in_loop(get)

    def audio_sent_times(self) -> list[float]:
        """When each tone frame of this call went out (loop clock, seconds; the last minute)."""
        return self.ua.call_in_loop(lambda: list(self._call.rtp.audio_sent_s))

    def rtp_sent_packets(self) -> int:
        return self.ua.call_in_loop(lambda: self._call.rtp.sent.packets)

    def ladder(self) -> str:
        return self._call.ladder.render()
