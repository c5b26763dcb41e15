"""SIP transport: a small UDP UAC that sends OPTIONS and measures the answer (sipmessage builds/parses).

:meth:`SipProbe.options` runs one non-INVITE client transaction (RFC 3261 §17.1.2) from a fresh
ephemeral UDP port: the request is retransmitted on Timer E (T1 = 500 ms, doubling, capped at
T2 = 4 s) until a final response arrives or ``timeout_s`` passes. Provisional (1xx) responses are
recorded and waited past.

Silence is an answer here, not an error: an OPTIONS nobody answers is what a PSTN-connectivity
duty measures, so it comes back as ``OptionsResult(status=None, …)``; so does an ICMP port
unreachable (``refused=True``, loopback and most hosts send one when nothing listens). The driver
decides what silence means (:mod:`harness.devices.drivers.sip_access`).

Errors (:class:`~harness.errors.LabError` naming device, ``"sip"`` and ``host:port``):

* :class:`~harness.errors.LabUnreachable`: the socket could not be opened, bound or sent from
  (no route, bad local address).
* :class:`~harness.errors.LabProtocolError`: a datagram came back that is no SIP message.

Every exchange is recorded in the session's :class:`~harness.transports.transcript.Transcript`.
The socket is connected to the target, so only datagrams from ``host:port`` are read: a device
that answers from another address is seen as silent.
"""

from __future__ import annotations

import secrets
import socket
import threading
import time
from dataclasses import dataclass, field

from sipmessage import URI, Message, Request, Response

from ...errors import LabProtocolError, LabUnreachable
from ..transcript import Transcript

T1_S = 0.5  # RFC 3261 §17.1.1.1
T2_S = 4.0  # RFC 3261 §17.1.2.2
MAX_DATAGRAM = 65535
USER_AGENT = "hil/0.1 (SIP probe)"


@dataclass(frozen=True)
class OptionsResult:
    """Outcome of one OPTIONS transaction.

    Attributes:
        status: final response code (200 …); ``None`` when none came before the deadline.
        reason: the response's reason phrase, or why there was none.
        rtt_ms: milliseconds from the FIRST transmission to the final response; ``None`` without one.
        user_agent: the response's ``Server`` (else ``User-Agent``) header.
        allow: methods of the ``Allow`` header, upper case, in order.
        address: ``host:port`` asked.
        attempts: datagrams sent (1 + retransmissions).
        refused: ``True`` when an ICMP port unreachable came back (nothing listens there).
        provisional: codes of the 1xx responses seen before the final one.
    """

    status: int | None
    reason: str
    rtt_ms: float | None
    user_agent: str | None
    allow: list[str]
    address: str = ""
    attempts: int = 0
    refused: bool = False
    provisional: list[int] = field(default_factory=list)


class SipProbe:
    """OPTIONS probes for one device, recorded in ``transcript``.

    Args:
        device: inventory name, used in errors.
        transcript: where requests and responses are recorded.
        local_host: address to bind and to put in Via/Contact; ``None`` binds any address and
            puts the one the route to the target picks.
        user_agent: ``User-Agent`` header of the requests.
    """

    def __init__(self, device: str, transcript: Transcript, local_host: str | None = None,
                 user_agent: str = USER_AGENT) -> None:
        self.device = device
        self.transcript = transcript
        self.local_host = local_host
        self.user_agent = user_agent
        self._lock = threading.Lock()

    def options(self, host: str, port: int, timeout_s: float) -> OptionsResult:
        """Send OPTIONS to ``host:port`` and wait up to ``timeout_s`` seconds for its final response.

        Raises:
            LabUnreachable: the local socket could not be set up or used.
            LabProtocolError: a datagram from the target did not parse as SIP.
        """
        address = f"{host}:{port}"
        with self._lock, self._socket(host, port, address) as sock:
            lhost, lport = sock.getsockname()[:2]
            req = self._request(host, port, lhost, lport)
            branch = req.via[0].parameters["branch"]
            data = _encode(req)
            start = time.monotonic()
            deadline = start + timeout_s
            interval = T1_S
            next_send = start
            attempts = 0
            provisional: list[int] = []
            while True:
                now = time.monotonic()
                if now >= deadline:
                    break
                if now >= next_send:
                    try:
                        sock.send(data)
                    except ConnectionRefusedError:
                        return self._refused(address, attempts, provisional)
                    except OSError as e:
                        raise LabUnreachable(self.device, "sip", address,
                                             f"cannot send OPTIONS: {e}") from None
                    attempts += 1
                    if attempts == 1:
                        self.transcript.sent(data.decode("utf-8", "replace"))
                    else:
                        self.transcript.event(f"OPTIONS retransmission {attempts}")
                    next_send = now + interval
                    interval = min(interval * 2, T2_S)
                sock.settimeout(max(0.001, min(next_send, deadline) - time.monotonic()))
                try:
                    raw = sock.recv(MAX_DATAGRAM)
                except TimeoutError:
                    continue
                except ConnectionRefusedError:
                    return self._refused(address, attempts, provisional)
                except OSError as e:
                    raise LabUnreachable(self.device, "sip", address, f"receive failed: {e}") from None
                resp = self._parse(raw, address)
                if not _matches(resp, branch, req.call_id):
                    self.transcript.event("ignored a response of another transaction")
                    continue
                if resp.code < 200:
                    provisional.append(resp.code)
                    interval = T2_S  # RFC 3261 §17.1.2.2: Proceeding state retransmits at T2
                    continue
                rtt_ms = (time.monotonic() - start) * 1000.0
                return OptionsResult(resp.code, resp.phrase, rtt_ms, resp.server or resp.user_agent,
                                     _allow(resp), address, attempts, False, provisional)
        self.transcript.event(f"no final response to OPTIONS within {timeout_s:g} s ({attempts} sent)")
        return OptionsResult(None, f"no final response within {timeout_s:g} s", None, None, [], address,
                             attempts, False, provisional)

    def close(self) -> None:
        """Nothing to release: each transaction uses its own socket."""

    # -- helpers ------------------------------------------------------------------------------

    def _socket(self, host: str, port: int, address: str) -> socket.socket:
        try:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        except OSError as e:
            raise LabUnreachable(self.device, "sip", address, f"cannot open a UDP socket: {e}") from None
        try:
            sock.bind((self.local_host or "", 0))
            sock.connect((host, port))
        except OSError as e:
            sock.close()
            raise LabUnreachable(self.device, "sip", address, f"cannot reach from "
                                 f"{self.local_host or 'any address'}: {e}") from None
        return sock

    def _request(self, host: str, port: int, lhost: str, lport: int) -> Request:
        req = Request("OPTIONS", URI.parse(f"sip:{host}:{port}"))
        for name, value in (
            ("Via", f"SIP/2.0/UDP {lhost}:{lport};branch=z9hG4bK{secrets.token_hex(8)};rport"),
            ("Max-Forwards", "70"),
            ("From", f"<sip:hil@{lhost}>;tag={secrets.token_hex(6)}"),
            ("To", f"<sip:{host}:{port}>"),
            ("Call-ID", f"{secrets.token_hex(10)}@{lhost}"),
            ("CSeq", "1 OPTIONS"),
            ("Contact", f"<sip:hil@{lhost}:{lport}>"),
            ("Accept", "application/sdp"),
            ("User-Agent", self.user_agent),
        ):
            req.headers.add(name, value)
        return req

    def _parse(self, raw: bytes, address: str) -> Response:
        text = raw.decode("utf-8", "replace")
        self.transcript.received(text)
        try:
            msg = Message.parse(raw)
        except Exception as e:  # sipmessage raises ValueError; junk can raise others
            raise LabProtocolError(self.device, "sip", address, f"answer to OPTIONS is not SIP: {e}: "
                                   f"{text[:80]!r}") from None
        if not isinstance(msg, Response):
            raise LabProtocolError(self.device, "sip", address,
                                   f"sent a {msg.method} request instead of answering OPTIONS")
        return msg

    def _refused(self, address: str, attempts: int, provisional: list[int]) -> OptionsResult:
        self.transcript.event("ICMP port unreachable: nothing listens there")
        return OptionsResult(None, "ICMP port unreachable", None, None, [], address, attempts, True,
                             provisional)


def _encode(req: Request) -> bytes:
    req.headers.set("Content-Length", str(len(req.body)))  # sipmessage does not add it
    return bytes(req)


def _matches(resp: Response, branch: str | None, call_id: str) -> bool:
    try:
        return (resp.via[0].parameters.get("branch") == branch and resp.call_id == call_id
                and resp.cseq.method == "OPTIONS")
    except (ValueError, KeyError, IndexError):
        return False


def _allow(resp: Response) -> list[str]:
    return [m.strip().upper() for v in resp.headers.getlist("Allow") for m in v.split(",") if m.strip()]
