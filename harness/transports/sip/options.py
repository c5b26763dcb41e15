"""What one OPTIONS transaction found: :class:`OptionsResult`, read from a finished client transaction.

The OPTIONS probe runs on the same stack and user agent as calls
(:meth:`harness.transports.sip.ua.UserAgentCore.probe_options`, synchronous
:meth:`harness.transports.sip.ua.SipUserAgent.probe_options`): one non-INVITE client transaction
(RFC 3261 §17.1.2) over UDP, retransmitted on Timer E (T1 = 500 ms, doubling, capped at T2 = 4 s)
until a final response arrives or the deadline passes (``timeout_s``, at most Timer F = 64·T1 =
32 s). Provisional (1xx) responses are recorded and waited past.

Silence is an answer here, not an error: an OPTIONS nobody answers is what a PSTN-connectivity
duty measures, so it comes back as ``OptionsResult(status=None, …)``; so does an ICMP port
unreachable (``refused=True``; loopback and most hosts send one when nothing listens), which a
probe hears when its UDP socket is connected to the device (``udp_peer``). The driver decides what
silence means (:mod:`harness.devices.drivers.sip_access`).

Errors (:class:`~harness.errors.LabError` naming device, ``"sip"`` and an address):

* :class:`~harness.errors.LabUnreachable`: the local socket could not be bound or connected to
  the device (no route, bad local address), or another ICMP error came back.
* :class:`~harness.errors.LabProtocolError`: the answer is a broken SIP response, or no SIP at all.

Every exchange is in the user agent's :class:`~harness.transports.transcript.Transcript`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sipmessage import Response

from .transaction import ClientTransaction


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


def options_result(txn: ClientTransaction) -> OptionsResult:
    """The :class:`OptionsResult` of ``txn``, an OPTIONS transaction whose final outcome is known
    (:meth:`~harness.transports.sip.transaction.ClientTransaction.wait_final` returned)."""
    provisional = [r.code for r in txn.responses if r.code < 200]
    address = txn.peer.address
    final = txn.final.result() if txn.final.done() and not txn.final.exception() else None
    if final is None:
        reason = "ICMP port unreachable" if txn.refused else f"no final response within {txn.timeout_s:g} s"
        return OptionsResult(None, reason, None, None, [], address, txn.attempts, txn.refused, provisional)
    rtt_ms = (txn.final_at - txn.started) * 1000.0 if txn.final_at is not None else None
    return OptionsResult(final.code, final.phrase, rtt_ms, final.server or final.user_agent, allowed(final),
                         address, txn.attempts, False, provisional)


def allowed(resp: Response) -> list[str]:
    """Methods of the ``Allow`` headers of ``resp``, upper case, in order."""
    return [m.strip().upper() for v in resp.headers.getlist("Allow") for m in v.split(",") if m.strip()]
