"""SIPp load runs (Debian ``sip-tester``): scenario templates, local or SSH runs, typed statistics.

The PSTN simulator's load side (issue 4): originate calls to DIDs, answer or refuse the calls the
Edge sends out, at a given rate and concurrency, and read what SIPp counted. See ``docs/sipp.md``.

* :class:`~harness.transports.sipp.scenario.Scenario` — a template from ``scenarios/``
  (``uac_did``, ``uas_answer``, ``uas_reject``; ``{{name}}`` placeholders filled by the caller), an
  XML file, or a SIPp built-in (``-sn uac``), in :mod:`harness.transports.sipp.scenario`.
* :class:`SippOptions` — one run's command line: ``-m`` calls, ``-r`` rate, ``-l`` concurrency,
  ``-d`` duration, ``-i``/``-p`` local address, ``-s`` service (the DID), ``-key``/``-set``.
* :class:`SippRunner` — runs SIPp on a :class:`LocalHost` (subprocess) or an :class:`SshHost`
  (paramiko over :class:`~harness.transports.ssh.SSHSession`: the scenario is uploaded by SFTP,
  SIPp runs on an exec channel, the CSVs are fetched by SFTP) and returns a :class:`SippResult`.
  :meth:`SippRunner.start` leaves SIPp running (an answering side) and returns a :class:`SippRun`.

Every run has a deadline: SIPp's own ``-timeout <s> -timeout_error`` (it stops and writes its
statistics) plus :data:`STOP_GRACE_S`, after which it is killed and :class:`~harness.errors.LabTimeout`
raised. SIPp writes, in its own work folder: the statistics CSV (``-trace_stat``, last row read),
per-step message counts (``-trace_counts``), every response time (``-trace_rtt -rtt_freq 1``),
the error log (``-trace_err``) and its final screen (``-trace_screen``).

Judged by counts, not by exit code alone: :attr:`SippResult.complete` is "every requested call
succeeded, none failed, none left running"; :attr:`SippResult.exit_meaning` maps the exit code
(0, 1, 95-99, 252-255, see :data:`EXIT_CODES`); :attr:`SippResult.disagreement` says so when the
two tell different stories, and :meth:`SippResult.summary` always shows both.

Nothing outlives the process that started SIPp: a wait that is interrupted (Ctrl-C, or the SIGTERM
``hil run`` turns into one) kills SIPp and removes its work folder before the interrupt goes on
(:meth:`SippRun.abort`); so do :func:`~harness.transports.sipp.hosts.stop_all` at interpreter exit,
and :meth:`~harness.transports.sipp.ssh_host.SshHost.close` for the runs on its host, for every run not
collected yet. A local SIPp stays in the process group of the process that started it (``hil run``
kills that group at its end). SIPp's remote-control socket (UDP, ``-cp``, 8888 and up) is bound to
the run's own address (``-ci``, the same as ``-i``), never to every interface.

BROKEN vs FAIL: a :class:`~harness.errors.LabError` (BROKEN) means the load generator could not do
its job — SIPp missing, a socket it could not bind, a scenario SIPp refused, no statistics
written, the hard deadline passed, SSH/SFTP failed. When SIPp ran and counted, the result comes
back, failed calls counted by reason (:attr:`SippResult.failed_by_reason`, and the SIP status of
unexpected answers in :attr:`SippResult.unexpected_messages`): that is FAIL material for the
scenario to check. A target that answered nothing at all (:attr:`SippResult.silent`) is a FAIL
when its management plane answers and BROKEN when it does not: the caller asks the target's
driver (:meth:`~harness.devices.drivers.sip_access.SipFacts.ensure_alive`), as for OPTIONS silence.
A template that does not exist, or placeholders that do not match, raise ``FileNotFoundError``
or ``ValueError`` before anything runs (a mistake in the test, not in the lab).
"""

from __future__ import annotations

import contextlib
import math
import shlex
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from ...errors import LabError, LabProtocolError, LabTimeout, LabUnreachable
from ..transcript import Transcript
from .hosts import SippHost, SippJob, forget, track
from .result import (
    OUT_FILE,
    STAT_FILE,
    SippResult,
    exit_meaning,
    parse_errors,
    result_from_files,
)
from .scenario import Scenario, reject_scenario

TIMER_B_S = 32.0  # RFC 3261 §17.1.1.2: an unanswered INVITE is given up after 64*T1 = 32 s
STOP_GRACE_S = 10.0  # project choice: SIPp writes its statistics and exits well within this after its deadline
ABORT_WAIT_S = 2.0  # project choice: a SIGKILLed SIPp is gone within this (over SSH: the channel's exit status)


# --- options and command line --------------------------------------------------------------------


@dataclass(frozen=True)
class SippOptions:
    """One SIPp run's settings (units in the names; SIPp's option in brackets).

    Attributes:
        local_ip: address SIPp binds and puts in Via/Contact/SDP (``-i``, media ``-mi`` too).
        target: ``host:port`` called (a UAC); ``None`` for an answering scenario.
        local_port: SIP port (``-p``); 0: SIPp takes 5060, or the next free one.
        calls: calls to make, or to answer before exiting (``-m``; with ``calls_by_scenario``,
            ``-set answer_calls``).
        calls_by_scenario: the scenario counts its calls itself and stops SIPp gracefully once
            the last has come (``uas_answer``, ``uas_reject``): no ``-m``, which in server mode
            counts every new Call-ID, an Edge's keepalive OPTIONS to its carrier as well.
        rate_cps: new calls per second (``-r``, period ``-rp 1000``).
        concurrency: most calls open at once (``-l``); ``None``: SIPp's default (3 x rate x duration).
        duration_ms: how long a call is held (``-d``: the length of ``<pause/>``).
        service: the number called, the DID (``-s``; ``[service]`` in the scenario).
        keys: ``-key name value`` (``[name]`` in the scenario text: ``caller``).
        variables: ``-set name value`` (``[$name]``, global variables: ``hangup``, ``ring_ms``).
        recv_timeout_ms: a call waiting longer than this for a message fails (``-recv_timeout``);
            ``None``: UDP retransmissions give up after timer B (32 s).
        timeout_s: SIPp's own deadline (``-timeout -timeout_error``); ``None``: :meth:`deadline_s`.
        transport: ``u1`` (UDP, one socket) or ``t1`` (TCP) (``-t``).
        extra_args: more SIPp options, as given.
    """

    local_ip: str
    target: str | None = None
    local_port: int = 0
    calls: int = 1
    calls_by_scenario: bool = False
    rate_cps: float = 10.0
    concurrency: int | None = None
    duration_ms: int = 0
    service: str | None = None
    keys: Mapping[str, str] = field(default_factory=dict)
    variables: Mapping[str, str] = field(default_factory=dict)
    recv_timeout_ms: int | None = None
    timeout_s: float | None = None
    transport: Literal["u1", "t1"] = "u1"
    extra_args: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.calls < 1 or self.rate_cps <= 0 or (self.concurrency is not None and self.concurrency < 1):
            raise ValueError(f"SIPp needs calls >= 1, rate_cps > 0 and concurrency >= 1, not {self.calls}, "
                             f"{self.rate_cps}, {self.concurrency}")
        if self.duration_ms < 0 or not 0 <= self.local_port <= 65535:
            raise ValueError("SIPp duration_ms must be >= 0 and local_port 0-65535")

    def deadline_s(self) -> float:
        """SIPp's deadline: ``timeout_s``, else the time to start every call at ``rate_cps`` (slowed
        by ``concurrency`` when that binds), plus one call's duration, plus the longest wait for an
        answer (``recv_timeout_ms``, else timer B, 32 s for UDP), plus 5 s (project choice)."""
        if self.timeout_s is not None:
            return self.timeout_s
        duration = self.duration_ms / 1000
        start = self.calls / self.rate_cps
        if self.concurrency is not None and duration > 0:
            start = max(start, self.calls / self.concurrency * duration)
        wait = self.recv_timeout_ms / 1000 if self.recv_timeout_ms is not None else TIMER_B_S
        return start + duration + wait + 5.0

    def argv(self, scenario: Scenario, scenario_file: str | None, sipp: str = "sipp") -> list[str]:
        """SIPp's command line (run in its work folder, so every trace file lands there)."""
        a = [sipp]
        if self.target:
            a.append(self.target)
        a += ["-sn", scenario.name] if scenario.builtin else ["-sf", scenario_file or f"{scenario.name}.xml"]
        a += ["-i", self.local_ip, "-ci", self.local_ip, "-p", str(self.local_port), "-t", self.transport,
              *(("-set", "answer_calls", str(self.calls)) if self.calls_by_scenario else ("-m", str(self.calls))),
              "-r", f"{self.rate_cps:g}", "-rp", "1000", "-d", str(self.duration_ms)]
        if self.concurrency is not None:
            a += ["-l", str(self.concurrency)]
        if self.service is not None:
            a += ["-s", self.service]
        for k, v in self.keys.items():
            a += ["-key", k, str(v)]
        for k, v in self.variables.items():
            a += ["-set", k, str(v)]
        if self.recv_timeout_ms is not None:
            a += ["-recv_timeout", str(self.recv_timeout_ms)]
        a += ["-nostdin", "-trace_stat", "-stf", STAT_FILE, "-fd", "1", "-trace_err", "-trace_screen",
              "-trace_counts", "-trace_rtt", "-rtt_freq", "1",
              "-timeout", f"{max(1, math.ceil(self.deadline_s()))}s", "-timeout_error", *self.extra_args]
        return a


# --- results -------------------------------------------------------------------------------------


class SippRun:
    """A SIPp started by :meth:`SippRunner.start`; :meth:`wait` or :meth:`stop` gives its result.

    The first of them to finish returns the :class:`SippResult`; later calls return the same one.
    """

    def __init__(self, runner: SippRunner, scenario: Scenario, options: SippOptions, argv: list[str],
                 workdir: str, job: SippJob, started: float) -> None:
        self.runner, self.scenario, self.options, self.argv = runner, scenario, options, argv
        self.workdir, self.job, self.started = workdir, job, started
        self.deadline = started + options.deadline_s() + STOP_GRACE_S
        self._result: SippResult | None = None
        self._error: LabError | None = None
        track(self, runner.host, self.abort)

    def wait(self, timeout_s: float | None = None) -> SippResult:
        """Wait for SIPp to end (at most until its deadline + :data:`STOP_GRACE_S`, or ``timeout_s``).

        Raises:
            LabTimeout: SIPp outlived its own deadline plus the grace (it is killed), or
                ``timeout_s`` passed first (it is stopped and its counts are lost).
            LabProtocolError: SIPp ended without statistics (the error log says why), or refused
                the scenario / its arguments before making any call.
            LabUnreachable: it could not bind its socket (exit 254).
        """
        if self._result is not None:
            return self._result
        if self._error is not None:
            raise self._error
        limit = self.deadline if timeout_s is None else min(self.deadline, time.monotonic() + timeout_s)
        try:
            rc = self.job.wait(limit - time.monotonic())
        except BaseException:  # interrupted (KeyboardInterrupt, SystemExit): SIPp must not outlive the run
            self.abort()
            raise
        if rc is None:
            self._kill()
            self._error = self.runner.error(LabTimeout, self.options, f"SIPp {self.scenario.name} did not end "
                                            f"within {limit - self.started:.0f} s ({self.runner.host.where}); killed")
            self._finish()
            raise self._error
        return self._collect(rc)

    def stop(self) -> SippResult:
        """Ask SIPp to stop (SIGUSR1: no new calls, write statistics, exit) and return its result."""
        if self._result is None and self._error is None:
            try:
                with contextlib.suppress(LabError):
                    self.job.signal(signal.SIGUSR1)
                rc = self.job.wait(STOP_GRACE_S)
                if rc is None:
                    self._kill()
                    rc = self.job.wait(STOP_GRACE_S)
            except BaseException:  # interrupted while stopping: no statistics, nothing left behind
                self.abort()
                raise
            if rc is None:
                self._error = self.runner.error(LabTimeout, self.options, f"SIPp {self.scenario.name} "
                                                "did not stop, even when killed")
                self._finish()
                raise self._error
            return self._collect(rc)
        return self.wait()

    def abort(self) -> None:
        """Kill SIPp at once and remove its work folder, without statistics (the run is ending:
        interrupted, or the process exits). Lab errors on the way are ignored; a later :meth:`wait`
        raises a LabError saying SIPp was stopped."""
        if self._result is not None or self._error is not None:
            return
        self._error = self.runner.error(LabError, self.options, f"SIPp {self.scenario.name} was stopped before "
                                        "it ended (the run was interrupted): no statistics")
        try:
            self._kill()
            with contextlib.suppress(LabError, OSError):
                self.job.wait(ABORT_WAIT_S)
        finally:
            with contextlib.suppress(LabError, OSError):
                self.runner.host.remove(self.workdir)
            forget(self)

    def _kill(self) -> None:
        with contextlib.suppress(LabError, OSError):
            self.job.signal(signal.SIGKILL)

    def _finish(self) -> dict[str, bytes]:
        try:
            return self.runner.host.fetch(self.workdir)
        finally:
            self.runner.host.remove(self.workdir)
            forget(self)

    def _collect(self, rc: int) -> SippResult:
        wall = time.monotonic() - self.started
        try:
            files = self._finish()
        except LabError as e:
            self._error = e
            raise
        r = self.runner
        try:
            res = result_from_files(files, device=r.device, where=r.host.where, scenario=self.scenario,
                                    command=self.argv, calls_requested=self.options.calls, exit_code=rc,
                                    wall_time_s=wall)
        except ValueError:
            res = None
        out = files.get(OUT_FILE, b"").decode(errors="replace")
        log = next((v for k, v in files.items() if k.endswith("_errors.log")), b"")
        errs = parse_errors(log.decode(errors="replace")) or parse_errors(out)
        why = "; ".join(dict.fromkeys(e.splitlines()[0] for e in errs[:3])) or out.strip()[-300:] or "no message"
        if rc == 254 or ((res is None or res.calls_created == 0) and "Unable to bind" in why):
            self._error = r.error(LabUnreachable, self.options, f"SIPp could not bind {self.options.local_ip}:"
                                  f"{self.options.local_port} (exit {rc}): {why}")
        elif res is None and rc == 127 and r.host.where != "local":
            self._error = r.error(LabUnreachable, self.options, f"SIPp is not installed on {r.host.where} "
                                  f"(exit 127): {why}")
        elif res is None or (res.calls_created == 0 and rc not in (0, 99)
                             and not any("timed out after" in e for e in errs)):
            self._error = r.error(LabProtocolError, self.options, f"SIPp {self.scenario.name} ended with exit {rc} "
                                  f"({exit_meaning(rc)}) without "
                                  + ("statistics" if res is None else "making or receiving any call") + f": {why}")
        if self._error is not None:
            raise self._error
        assert res is not None
        r.transcript.event(res.summary())
        self._result = res
        return res


class SippRunner:
    """Runs SIPp for ``device`` on ``host`` (:class:`LocalHost` or :class:`SshHost`).

    Args:
        device: inventory name, for errors and results.
        host: where SIPp runs.
        local_ip: default ``-i`` (the device's own address).
        transcript: records each command and result summary (the SSH session's transcript is used
            for the SSH steps themselves).
        sipp: the SIPp program name or path on that host.
    """

    def __init__(self, device: str, host: SippHost, local_ip: str, transcript: Transcript,
                 sipp: str = "sipp") -> None:
        self.device, self.host, self.local_ip, self.transcript, self.sipp = device, host, local_ip, transcript, sipp

    def error(self, cls: type[LabError], options: SippOptions, detail: str) -> LabError:
        """A LabError naming the device, ``sipp`` and the run's address (the target, or the local one)."""
        address = options.target or f"{options.local_ip}:{options.local_port}"
        self.transcript.event(f"{cls.kind}: {detail}")
        return cls(self.device, "sipp", address, detail)

    def start(self, scenario: Scenario, options: SippOptions) -> SippRun:
        """Start SIPp and return at once (an answering side waiting for calls).

        Raises:
            LabError: SIPp could not be started (not installed, SSH/SFTP failed).
        """
        files = {} if scenario.builtin else {f"{scenario.name}.xml": (scenario.xml or "").encode("iso-8859-1")}
        argv = options.argv(scenario, None, self.sipp)
        address = options.target or f"{options.local_ip}:{options.local_port}"
        workdir = self.host.make_dir(self.device, address, files)
        self.transcript.sent(f"[{self.host.where}:{workdir}] {shlex.join(argv)}")
        started = time.monotonic()
        try:
            job = self.host.spawn(self.device, address, argv, workdir)
        except LabError:
            self.host.remove(workdir)
            raise
        return SippRun(self, scenario, options, argv, workdir, job, started)

    def run(self, scenario: Scenario, options: SippOptions) -> SippResult:
        """Run SIPp to its end and return what it counted (see :meth:`SippRun.wait` for errors)."""
        return self.start(scenario, options).wait()

    # -- the PSTN simulator's duties ----------------------------------------------------------

    def originate(self, target: str, did: str, *, calls: int = 1, rate_cps: float = 10.0,
                  concurrency: int | None = None, duration_ms: int = 0, caller: str = "anonymous",
                  hangup: Literal["local", "remote"] = "local", local_ip: str | None = None,
                  local_port: int = 0, recv_timeout_ms: int | None = None, timeout_s: float | None = None
                  ) -> SippResult:
        """Call ``did`` at ``target`` (``host:port``) ``calls`` times with ``uac_did``.

        ``caller`` is the From user (caller ID); ``hangup`` ``local`` holds each call
        ``duration_ms`` and sends BYE, ``remote`` waits for the far end's BYE. Raises LabError
        (see :meth:`SippRun.wait`).
        """
        opts = SippOptions(local_ip=local_ip or self.local_ip, target=target, local_port=local_port, calls=calls,
                           rate_cps=rate_cps, concurrency=concurrency, duration_ms=duration_ms, service=did,
                           keys={"caller": caller}, variables={"hangup": hangup},
                           recv_timeout_ms=recv_timeout_ms, timeout_s=timeout_s)
        return self.run(Scenario.template("uac_did"), opts)

    def answer(self, port: int, *, calls: int, ring_ms: int = 0, local_ip: str | None = None,
               timeout_s: float = 60.0, code: int | None = None, reason: str = "") -> SippRun:
        """Start answering ``calls`` calls on ``port`` (``uas_answer``: 180, ``ring_ms``, 200 + SDP),
        or refusing them with ``code reason`` (``uas_reject``); returns the running SIPp.

        ``timeout_s`` is how long it waits for the calls. Out-of-dialog OPTIONS (the Edge's
        keepalives to its carrier) are answered 200 and are not calls: the scenario counts the
        INVITEs (``calls_by_scenario``) and the result gives the OPTIONS as ``keepalives``.
        Raises LabError when it cannot start.
        """
        scenario = reject_scenario(code, reason) if code is not None else Scenario.template("uas_answer")
        opts = SippOptions(local_ip=local_ip or self.local_ip, local_port=port, calls=calls, calls_by_scenario=True,
                           variables={} if code is not None else {"ring_ms": str(ring_ms)}, timeout_s=timeout_s)
        return self.start(scenario, opts)
