"""What a SIPp run counted: statistics, per-step counts, response times, the error log, exit codes.

Parsed from the files SIPp writes (see :mod:`harness.transports.sipp.runner`).
"""

from __future__ import annotations

import contextlib
import re
import signal
import statistics
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from .scenario import Scenario

#: SIPp's exit codes (SIPp 3.6 ``screen.hpp``: EXIT_TEST_OK ... EXIT_ARGUMENT_ERROR; -1..-4 as 255..252)
EXIT_CODES: dict[int, str] = {
    0: "all calls succeeded",
    1: "at least one call failed, or the scenario did not load",
    95: "stopped by hand",
    96: "killed",
    97: "stopped by an internal command; calls may have been processed",
    98: "ended with an unknown result",
    99: "ended normally without processing calls",
    252: "bad command-line arguments",
    253: "system error",
    254: "could not bind a socket (3.6.1 exits 255 for that)",
    255: "fatal error, or its own -timeout passed",
}
#: What the ``Failed…`` counters of the statistics CSV mean (SIPp reference, "Statistics")
FAILURE_REASONS: dict[str, str] = {
    "CannotSendMessage": "a message could not be sent",
    "MaxUDPRetrans": "no answer after the UDP retransmissions (RFC 3261 timer B/F)",
    "TcpConnect": "the TCP connection could not be opened",
    "TcpClosed": "the TCP connection was closed",
    "UnexpectedMessage": "an unexpected message came (a 4xx-6xx instead of 200, an unknown request)",
    "CallRejected": "the call was rejected by the scenario",
    "CmdNotSent": "a 3PCC command could not be sent",
    "RegexpDoesntMatch": "a regular expression did not match",
    "RegexpShouldntMatch": "a regular expression matched that should not",
    "RegexpHdrNotFound": "a header a regular expression needs was missing",
    "OutboundCongestion": "outbound congestion (the socket would block)",
    "TimeoutOnRecv": "no answer within -recv_timeout",
    "TimeoutOnSend": "a message could not be sent within -send_timeout",
    "TestDoesntMatch": "a <test> action failed",
    "TestShouldntMatch": "a <test> action matched that should not",
    "StrcmpDoesntMatch": "a <strcmp> action failed",
    "StrcmpShouldntMatch": "a <strcmp> action matched that should not",
}
STAT_FILE = "stat.csv"
OUT_FILE = "sipp.out"
PID_FILE = "sipp.pid"
FETCH_MAX_BYTES = 64 * 1024 * 1024  # project choice: a result file bigger than this is not fetched
ERRORS_KEPT = 50  # project choice: events of the error log kept in a result (all are counted)

_EVENT_STAMP = re.compile(r"(\d{4}-\d\d-\d\d\t\d\d:\d\d:\d\d\.\d+\t\d+\.\d+): ")
_UNEXPECTED = re.compile(r"unexpected message .*?received '([^\r\n']*)", re.S)


@dataclass(frozen=True)
class ResponseTimes:
    """Response times of one RTD timer (``-trace_rtt``; SIPp measures in whole milliseconds).

    For ``uac_did`` RTD 1 is INVITE sent -> 200 received (call setup time); for ``uas_answer``
    INVITE received -> ACK received; for SIPp's built-in ``uac``, call start -> 200.
    """

    rtd: int
    count: int
    mean_ms: float
    p50_ms: float
    p90_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float


@dataclass(frozen=True)
class SippStep:
    """One step of the scenario as SIPp counted it (``-trace_counts``, last row).

    ``kind``: ``sent``, ``recv`` or ``pause`` (nops and labels count as pauses); ``messages``:
    messages sent or received there (sessions for a pause); ``unexpected``: messages that came
    while this step waited for another.
    """

    index: int
    message: str
    kind: str
    messages: int
    retransmissions: int = 0
    timeouts: int = 0
    unexpected: int = 0


@dataclass(frozen=True)
class SippResult:
    """What one SIPp run counted (the statistics CSV's cumulative columns, last row).

    Attributes:
        device, where: the device the run was for, and where SIPp ran (``local`` or ``ssh host:port``).
        scenario, command: the scenario's name and the command line.
        calls_requested: ``-m``; calls_created: ``TotalCallCreated``; calls_successful:
            ``SuccessfulCall(C)``; calls_failed: ``FailedCall(C)``; calls_unfinished: ``CurrentCall``
            when SIPp stopped (its deadline passed, or it was stopped). Keepalives are not calls:
            both created and successful have :attr:`keepalives` taken off.
        keepalives: out-of-dialog OPTIONS the scenario answered in its keepalive branch (the
            ``OPTIONS`` receive step; an Edge pings its carrier so). SIPp counts each as a call
            of its own (a new Call-ID in server mode), created and successful.
        failed_by_reason: non-zero ``Failed<Reason>(C)`` counters (see :data:`FAILURE_REASONS`).
        unexpected_messages: start line of each unexpected message in the error log -> count
            (``"SIP/2.0 503 Service Unavailable": 3``); :attr:`unexpected_status` by code.
        retransmissions: ``Retransmissions(C)``; out_of_call_msgs / dead_call_msgs: messages
            matching no call / a call already ended.
        rate_target_cps: ``TargetRate``; rate_achieved_cps: ``CallRate(C)`` (calls created per
            second of the whole run, SIPp's figure).
        response_time_mean_ms: ``ResponseTime1(C)``; response_times: RTD 1 percentiles from
            ``-trace_rtt`` (``None`` when no call reached the RTD's end).
        call_length_mean_ms: ``CallLength(C)``.
        wall_time_s: start of SIPp to its exit, measured here.
        exit_code: SIPp's exit status (negative: killed by that signal); exit_meaning: from
            :data:`EXIT_CODES`.
        steps: per-step counts; errors: the first :data:`ERRORS_KEPT` error-log events;
            errors_total: how many there were; screen: SIPp's final screen (text).
    """

    device: str
    where: str
    scenario: str
    command: tuple[str, ...]
    calls_requested: int
    calls_created: int
    calls_successful: int
    calls_failed: int
    calls_unfinished: int
    failed_by_reason: dict[str, int]
    unexpected_messages: dict[str, int]
    retransmissions: int
    out_of_call_msgs: int
    dead_call_msgs: int
    rate_target_cps: float
    rate_achieved_cps: float
    response_time_mean_ms: float
    response_times: ResponseTimes | None
    call_length_mean_ms: float
    wall_time_s: float
    exit_code: int
    exit_meaning: str
    steps: tuple[SippStep, ...] = ()
    errors: tuple[str, ...] = ()
    errors_total: int = 0
    screen: str = ""
    keepalives: int = 0

    @property
    def complete(self) -> bool:
        """Counts say every requested call succeeded: none failed, none left running."""
        return (self.calls_successful == self.calls_requested and self.calls_failed == 0
                and self.calls_unfinished == 0)

    @property
    def messages_received(self) -> int:
        """SIP messages that came in, expected or not (from the step counts)."""
        return sum(s.messages for s in self.steps if s.kind == "recv") + sum(s.unexpected for s in self.steps)

    @property
    def silent(self) -> bool:
        """Calls were made and nothing at all came back (the peer is silent or not there)."""
        return self.calls_created > 0 and self.messages_received == 0 and self.out_of_call_msgs == 0

    @property
    def unexpected_status(self) -> dict[int, int]:
        """SIP status code of unexpected responses -> count (``{503: 3}``)."""
        out: Counter[int] = Counter()
        for line, n in self.unexpected_messages.items():
            m = re.match(r"SIP/2\.0 (\d{3})", line)
            if m:
                out[int(m.group(1))] += n
        return dict(out)

    @property
    def disagreement(self) -> str | None:
        """Why the exit code and the counts tell different stories, or ``None`` when they agree."""
        if self.complete == (self.exit_code == 0):
            return None
        if self.complete:
            return (f"the counts say all {self.calls_requested} calls succeeded, but SIPp exited "
                    f"{self.exit_code} ({self.exit_meaning})")
        return f"SIPp exited 0 ({self.exit_meaning}), but the counts say {self.counts()}"

    def counts(self) -> str:
        """``"48/50 successful, 2 failed (TimeoutOnRecv 2), 0 unfinished"``."""
        why = ", ".join(f"{k} {v}" for k, v in sorted(self.failed_by_reason.items()))
        status = ", ".join(f"{c} x{n}" for c, n in sorted(self.unexpected_status.items()))
        text = (f"{self.calls_successful}/{self.calls_requested} successful, {self.calls_failed} failed"
                + (f" ({why})" if why else "") + (f" [unexpected {status}]" if status else ""))
        if self.calls_unfinished:
            text += f", {self.calls_unfinished} unfinished"
        if self.calls_created != self.calls_requested:
            text += f", {self.calls_created} created"
        if self.keepalives:
            text += f"; {self.keepalives} keepalive OPTIONS answered"
        return text

    def summary(self) -> str:
        """One line: scenario, counts, rate, exit code with its meaning, and any disagreement."""
        rt = self.response_times
        line = (f"SIPp {self.scenario} ({self.where}): {self.counts()}; {self.rate_achieved_cps:.1f} cps of "
                f"{self.rate_target_cps:g}; {self.retransmissions} retransmissions; "
                + (f"RTD1 p50 {rt.p50_ms:g} ms p99 {rt.p99_ms:g} ms; " if rt else "")
                + f"{self.wall_time_s:.1f} s; exit {self.exit_code} ({self.exit_meaning})")
        d = self.disagreement
        return line + (f"; DISAGREE: {d}" if d else "")


def _split_row(line: str) -> list[str]:
    # Timestamps hold TABs: split on ';' only. Header and rows end with ';'.
    return line.rstrip("\r\n").split(";")


def parse_stat_csv(text: str) -> dict[str, str]:
    """The last data row of SIPp's statistics CSV as header -> value (``{}`` with no data row)."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if len(lines) < 2:
        return {}
    head, last = _split_row(lines[0]), _split_row(lines[-1])
    return {h: v for h, v in zip(head, last, strict=False) if h}


def duration_ms(value: str) -> float:
    """SIPp's ``HH:MM:SS:uuuuuu`` (or ``HH:MM:SS``) as milliseconds; 0.0 when empty."""
    if not value:
        return 0.0
    parts = value.split(":")
    h, m, s = (int(p) for p in parts[:3])
    us = int(parts[3]) if len(parts) > 3 else 0
    return (h * 3600 + m * 60 + s) * 1000.0 + us / 1000.0


def parse_counts_csv(text: str) -> tuple[SippStep, ...]:
    """The per-step counts of ``-trace_counts`` (last row): ``0_INVITE_Sent`` … ``8_200_Unexp``."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if len(lines) < 2:
        return ()
    cells: dict[tuple[int, str], dict[str, int]] = {}
    for h, v in zip(_split_row(lines[0]), _split_row(lines[-1]), strict=False):
        m = re.fullmatch(r"(\d+)_(.+)_(Sent|Recv|Retrans|Timeout|Unexp|Sessions)", h)
        if m and v.strip().lstrip("-").isdigit():
            cells.setdefault((int(m.group(1)), m.group(2)), {})[m.group(3)] = int(v)
    steps = []
    for (i, msg), c in sorted(cells.items()):
        kind = "sent" if "Sent" in c else "recv" if "Recv" in c else "pause"
        steps.append(SippStep(i, msg, kind, c.get("Sent", c.get("Recv", c.get("Sessions", 0))),
                              c.get("Retrans", 0), c.get("Timeout", 0), c.get("Unexp", 0)))
    return tuple(steps)


def parse_rtt_csv(text: str, rtd: int = 1) -> ResponseTimes | None:
    """Percentiles of RTD ``rtd`` from ``-trace_rtt`` (``Date_ms;response_time_ms;rtd_no``)."""
    values = []
    for line in text.splitlines()[1:]:
        f = line.strip().split(";")
        if len(f) >= 3 and f[2].strip() == str(rtd):
            with contextlib.suppress(ValueError):
                values.append(float(f[1]))
    if not values:
        return None
    if len(values) == 1:
        v = values[0]
        return ResponseTimes(rtd, 1, v, v, v, v, v, v)
    q = statistics.quantiles(values, n=100, method="inclusive")
    return ResponseTimes(rtd, len(values), statistics.fmean(values), q[49], q[89], q[94], q[98], max(values))


def parse_errors(text: str) -> list[str]:
    """The events of SIPp's error log, one string each (SIPp 3.6 writes them without newlines)."""
    parts = _EVENT_STAMP.split(text)
    return [parts[i + 1].strip() for i in range(1, len(parts) - 1, 2) if parts[i + 1].strip()]


def _num(row: Mapping[str, str], key: str) -> float:
    try:
        return float(row.get(key) or 0)
    except ValueError:
        return 0.0


def result_from_files(files: Mapping[str, bytes], *, device: str, where: str, scenario: Scenario,
                      command: list[str], calls_requested: int, exit_code: int, wall_time_s: float
                      ) -> SippResult:
    """A :class:`SippResult` from the files of SIPp's work folder (name -> content).

    Raises:
        ValueError: the statistics CSV is missing or holds no row.
    """
    def text(suffix: str) -> str:
        name = STAT_FILE if suffix == STAT_FILE else next(
            (n for n in sorted(files) if n.startswith(f"{scenario.name}_") and n.endswith(suffix)), "")
        return files[name].decode("utf-8", errors="replace") if name in files else ""

    row = parse_stat_csv(text(STAT_FILE))
    if not row:
        raise ValueError("SIPp wrote no statistics row")
    errors = parse_errors(text("_errors.log"))
    unexpected: Counter[str] = Counter()
    for e in errors:
        m = _UNEXPECTED.search(e)
        if m:
            unexpected[m.group(1).strip()] += 1
    reasons = {h[len("Failed"):-len("(C)")]: int(_num(row, h)) for h in row
               if h.startswith("Failed") and h.endswith("(C)") and h != "FailedCall(C)" and _num(row, h)}
    steps = parse_counts_csv(text("_counts.csv"))
    keepalives = keepalives_answered(steps)
    return SippResult(
        device=device, where=where, scenario=scenario.name, command=tuple(command),
        calls_requested=calls_requested,
        calls_created=int(_num(row, "TotalCallCreated")) - keepalives,
        calls_successful=int(_num(row, "SuccessfulCall(C)")) - keepalives,
        calls_failed=int(_num(row, "FailedCall(C)")),
        calls_unfinished=int(_num(row, "CurrentCall")),
        failed_by_reason=reasons,
        unexpected_messages=dict(unexpected),
        retransmissions=int(_num(row, "Retransmissions(C)")),
        out_of_call_msgs=int(_num(row, "OutOfCallMsgs(C)")),
        dead_call_msgs=int(_num(row, "DeadCallMsgs(C)")),
        rate_target_cps=_num(row, "TargetRate"),
        rate_achieved_cps=_num(row, "CallRate(C)"),
        response_time_mean_ms=duration_ms(row.get("ResponseTime1(C)", "")),
        response_times=parse_rtt_csv(text("_rtt.csv")),
        call_length_mean_ms=duration_ms(row.get("CallLength(C)", "")),
        wall_time_s=wall_time_s,
        exit_code=exit_code,
        exit_meaning=exit_meaning(exit_code),
        steps=steps,
        errors=tuple(errors[:ERRORS_KEPT]),
        errors_total=len(errors),
        screen=text("_screen.log"),
        keepalives=keepalives,
    )


def keepalives_answered(steps: tuple[SippStep, ...]) -> int:
    """OPTIONS taken by a scenario's keepalive branch: its first step, a receive of ``OPTIONS``
    (``uas_answer``, ``uas_reject``; each one a SIPp "call" that ended after its 200 OK)."""
    first = steps[0] if steps else None
    return first.messages if first and first.kind == "recv" and first.message == "OPTIONS" else 0


def exit_meaning(code: int) -> str:
    """What SIPp's exit status ``code`` means (negative: killed by signal ``-code``)."""
    if code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
        return f"killed by signal {-code}"
    return EXIT_CODES.get(code, f"unknown exit code {code}")


# --- where SIPp runs -----------------------------------------------------------------------------
