"""SIPp load runner (harness.transports.sipp.runner): real SIPp against the twin's PSTN UAS and against itself,
failures counted by reason, the exit code mapped, lab errors, and the SSH path.

Run with your own test net: ``HIL_TEST_NET=127.111 .venv/bin/pytest tests/transports/test_sipp.py``.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import asyncssh
import psutil
import pytest

from harness.devices.drivers.pstn import PstnSimulator
from harness.errors import LabError, LabProtocolError, LabTimeout, LabUnreachable
from harness.inventory import LoadedLab
from harness.inventory.models import SshSettings
from harness.transports.sipp import result as sipp_result
from harness.transports.sipp import runner as sipp
from harness.transports.sipp.hosts import LocalHost
from harness.transports.sipp.result import SippResult, parse_errors, parse_stat_csv
from harness.transports.sipp.runner import Scenario, SippOptions, SippRunner, reject_scenario
from harness.transports.sipp.ssh_host import SshHost
from harness.transports.ssh import SSHSession
from harness.transports.transcript import Transcript
from harness.twin.manager import TwinControl
from harness.twin.servers.ssh import known_hosts_entry
from tests.conftest import wait_for

TEST_NET = os.environ.get("HIL_TEST_NET", "127.77")
UAS_IP, UAC_IP = f"{TEST_NET}.200.1", f"{TEST_NET}.200.2"  # SIPp against SIPp on loopback
SSH_HOST_IP = f"{TEST_NET}.201.1"  # the "lab host" of the SSH tests
KEEPALIVE_IP = f"{TEST_NET}.200.3"  # an Edge pinging the carrier
DID = "+13175550100"

pytestmark = [pytest.mark.timeout(180),
              pytest.mark.skipif(shutil.which("sipp") is None, reason="SIPp (Debian sip-tester) is not installed")]


def pstn_target(loaded: LoadedLab) -> str:
    dev = loaded.lab.devices["pstn1"]
    assert dev.sip is not None
    return f"{dev.host}:{dev.sip.port}"


def runner(local_ip: str = UAC_IP) -> SippRunner:
    return SippRunner("pstn1", LocalHost(), local_ip, Transcript("pstn1 sipp test"))


# -- against the twin's PSTN simulator UAS ---------------------------------------------------------


def test_builtin_uac_50_calls_at_25_cps_against_the_twin_pstn(twin: TwinControl, loaded: LoadedLab) -> None:
    before = twin.state("pstn1")["calls_completed"]
    # at most 20 calls open at once (-l): pstn1 has 23 channels, and under load a call can take over 0.9 s,
    # which at 25 cps would open more than 23 (a clean-clone CI run saw 8 answered 503 "max calls")
    opts = SippOptions(local_ip=UAC_IP, target=pstn_target(loaded), calls=50, rate_cps=25, service=DID,
                       concurrency=20)
    r = runner().run(Scenario.sipp_builtin("uac"), opts)
    assert r.complete, r.summary()
    assert (r.calls_created, r.calls_successful, r.calls_failed, r.failed_by_reason) == (50, 50, 0, {})
    assert r.exit_code == 0 and r.disagreement is None
    assert 10 < r.rate_achieved_cps <= 26 and r.rate_target_cps == 25
    assert r.response_times is not None and r.response_times.count == 50
    assert not r.silent and r.messages_received >= 150  # 180, 200, 200 per call
    assert twin.state("pstn1")["calls_completed"] - before == 50  # the twin counted them too
    assert "-m" in r.command and "50" in r.command and "-sn" in r.command


def test_driver_originates_calls_to_a_did_with_the_template(twin: TwinControl, pstn: PstnSimulator,
                                                            loaded: LoadedLab) -> None:
    before = twin.state("pstn1")["invites_received"]
    r = pstn.sipp().originate(pstn_target(loaded), DID, calls=20, rate_cps=20, caller="+13175551000",
                              local_ip=UAC_IP)
    assert r.complete and r.scenario == "uac_did" and r.where == "local", r.summary()
    assert twin.state("pstn1")["invites_received"] - before == 20
    steps = {(s.index, s.message): s for s in r.steps}
    assert steps[(0, "INVITE")].messages == 20 and steps[(4, "200")].messages == 20  # 100/180 optional
    assert r.response_times is not None and r.response_times.p99_ms >= r.response_times.p50_ms >= 0
    assert DID in r.command and "caller=+13175551000" not in r.command  # -key caller +1317…
    assert r.command[r.command.index("-key") + 1:r.command.index("-key") + 3] == ("caller", "+13175551000")


def test_driver_binds_the_simulators_own_address_by_default(twin: TwinControl, pstn: PstnSimulator,
                                                            loaded: LoadedLab) -> None:
    # The twin's UAS has 5060 on pstn1's address; SIPp takes the next free port there.
    r = pstn.sipp().originate(pstn_target(loaded), DID, calls=2, rate_cps=10)
    assert r.complete, r.summary()
    assert r.command[r.command.index("-i") + 1] == loaded.lab.devices["pstn1"].host


# -- SIPp against SIPp on loopback -------------------------------------------------------------------


def test_uas_template_answers_uac_template_with_concurrency_and_duration() -> None:
    uas = runner(UAS_IP).answer(5170, calls=12, ring_ms=50, timeout_s=30)
    try:
        r = runner().originate(f"{UAS_IP}:5170", DID, calls=12, rate_cps=50, concurrency=3, duration_ms=300)
    finally:
        a = uas.wait()
    assert r.complete and a.complete, (r.summary(), a.summary())
    assert a.scenario == "uas_answer" and a.calls_created == 12
    # -l 3 with 300 ms calls: 12 calls need at least 4 rounds (a lower bound, safe on a slow machine)
    assert r.wall_time_s >= 1.1
    assert r.response_times is not None and r.response_times.p50_ms >= 45  # the 50 ms ring is in setup time
    assert r.call_length_mean_ms >= 250


def test_remote_hangup_waits_for_the_far_ends_bye() -> None:
    # uas_answer never hangs up, so a call told to wait for the far end's BYE fails on its receive
    # timeout at the BYE step (the local-hangup branch of the same template completes elsewhere).
    uas = runner(UAS_IP).answer(5171, calls=1, timeout_s=10)
    try:
        r = runner().originate(f"{UAS_IP}:5171", DID, calls=1, hangup="remote", recv_timeout_ms=1000)
    finally:
        uas.stop()
    assert r.calls_failed == 1 and r.failed_by_reason == {"TimeoutOnRecv": 1}, r.summary()
    bye_wait = [s for s in r.steps if s.message == "BYE" and s.kind == "recv"]
    assert bye_wait and bye_wait[0].timeouts == 1


def test_refused_calls_are_failed_with_the_sip_status() -> None:
    uas = runner(UAS_IP).answer(5172, calls=3, code=503, reason="Service Unavailable", timeout_s=30)
    try:
        r = runner().originate(f"{UAS_IP}:5172", DID, calls=3, rate_cps=10)
    finally:
        a = uas.wait()
    assert (r.calls_failed, r.failed_by_reason, r.unexpected_status) == (3, {"UnexpectedMessage": 3}, {503: 3})
    assert r.unexpected_messages == {"SIP/2.0 503 Service Unavailable": 3}
    assert r.exit_code == 1 and r.disagreement is None and not r.complete and not r.silent
    assert "503 x3" in r.summary() and "UnexpectedMessage 3" in r.summary()
    assert a.complete and a.scenario == "uas_reject"  # refusing was what the far end was told to do


class _Keepalives:
    """An Edge's keepalive pings to its carrier: out-of-dialog OPTIONS, a new Call-ID each (the twin
    Edge's trunk pings, harness/twin/edge/sip.py), every ``period_s`` from a thread; each answer's
    status line is kept."""

    def __init__(self, target: tuple[str, int], period_s: float) -> None:
        self.target, self.period_s = target, period_s
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((KEEPALIVE_IP, 0))
        self.sock.settimeout(1.0)
        self.answers: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def ping(self) -> None:
        host, port = self.target
        lport = self.sock.getsockname()[1]
        cid = uuid.uuid4().hex
        msg = (f"OPTIONS sip:{host}:{port} SIP/2.0\r\n"
               f"Via: SIP/2.0/UDP {KEEPALIVE_IP}:{lport};branch=z9hG4bK{cid[:16]};rport\r\n"
               f"Max-Forwards: 70\r\nFrom: <sip:edge1@{KEEPALIVE_IP}>;tag={cid[16:24]}\r\n"
               f"To: <sip:{host}:{port}>\r\nCall-ID: {cid}\r\nCSeq: 1 OPTIONS\r\n"
               f"User-Agent: keepalive test\r\nContent-Length: 0\r\n\r\n")
        self.sock.sendto(msg.encode(), self.target)
        try:
            self.answers.append(self.sock.recv(4096).decode(errors="replace").split("\r\n", 1)[0])
        except TimeoutError:
            self.answers.append("no answer")

    def _run(self) -> None:
        while not self._stop.wait(self.period_s):
            self.ping()

    def __enter__(self) -> _Keepalives:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5.0)
        self.sock.close()


def test_keepalive_options_during_a_capacity_run_are_answered_and_not_counted_as_calls() -> None:
    # Issue 12: SIPp's -m counts every new Call-ID in server mode, so an Edge's OPTIONS pings took calls'
    # places (and failed as unexpected messages). Pings before the first INVITE (the Edge pings at start)
    # and all through 30 calls; the answering side must count 30 calls and every ping must get 200.
    uas = runner(UAS_IP).answer(5185, calls=30, timeout_s=60)
    time.sleep(0.3)  # SIPp binds
    with _Keepalives((UAS_IP, 5185), period_s=0.05) as pings:
        pings.ping()
        pings.ping()
        try:
            r = runner().originate(f"{UAS_IP}:5185", DID, calls=30, rate_cps=20, concurrency=5, duration_ms=100)
        finally:
            a = uas.wait()
    # pings after the 30th INVITE find SIPp quitting (it drops new Call-IDs then, as with -m): only a tail
    answered = pings.answers.count("SIP/2.0 200 OK")
    assert answered >= 10 and pings.answers[:answered] == ["SIP/2.0 200 OK"] * answered, pings.answers
    assert set(pings.answers[answered:]) <= {"no answer"}, pings.answers
    assert r.complete, r.summary()
    assert a.complete and a.exit_code == 0 and a.disagreement is None, a.summary()
    assert (a.calls_requested, a.calls_created, a.calls_successful, a.calls_failed) == (30, 30, 30, 0), a.summary()
    assert a.keepalives == answered and f"{answered} keepalive OPTIONS answered" in a.summary(), a.summary()
    assert "-m" not in a.command and a.command[a.command.index("answer_calls") + 1] == "30"


def test_keepalive_options_are_answered_by_a_refusing_carrier_too() -> None:
    uas = runner(UAS_IP).answer(5186, calls=3, code=503, reason="Service Unavailable", timeout_s=30)
    time.sleep(0.3)
    with _Keepalives((UAS_IP, 5186), period_s=0.1) as pings:
        pings.ping()
        try:
            r = runner().originate(f"{UAS_IP}:5186", DID, calls=3, rate_cps=10)
        finally:
            a = uas.wait()
    assert r.failed_by_reason == {"UnexpectedMessage": 1 * 3} and r.unexpected_status == {503: 3}, r.summary()
    assert a.complete and (a.calls_created, a.calls_successful) == (3, 3), a.summary()
    assert a.keepalives == pings.answers.count("SIP/2.0 200 OK") >= 1, (a.summary(), pings.answers)


# -- failures: counted results (FAIL material) vs lab errors (BROKEN) -----------------------------


def test_nothing_listening_is_a_failed_result_and_the_device_is_alive(twin: TwinControl,
                                                                      pstn: PstnSimulator) -> None:
    host = pstn.device.host
    r = runner().originate(f"{host}:5179", DID, calls=3, rate_cps=10, recv_timeout_ms=1000)
    assert (r.calls_created, r.calls_failed, r.failed_by_reason) == (3, 3, {"TimeoutOnRecv": 3}), r.summary()
    assert r.silent and r.exit_code == 1 and r.disagreement is None
    assert r.errors_total == 3 and "receive timeout" in r.errors[0]
    pstn.ensure_alive()  # the management plane answers: a duty FAIL, not a broken lab


def test_pstn_down_is_silent_and_its_management_plane_dead(twin: TwinControl, pstn: PstnSimulator,
                                                           loaded: LoadedLab) -> None:
    twin.fault("pstn1", "down")
    r = runner().originate(pstn_target(loaded), DID, calls=3, rate_cps=10, recv_timeout_ms=1000)
    assert r.silent and r.calls_failed == 3 and r.failed_by_reason == {"TimeoutOnRecv": 3}, r.summary()
    with pytest.raises(LabUnreachable, match="management plane does not answer"):
        pstn.ensure_alive()  # so the scenario reports BROKEN


def test_without_recv_timeout_udp_retransmissions_give_up() -> None:
    # No -recv_timeout: SIPp retransmits the INVITE (500 ms, doubling) and fails the call when the
    # retransmissions run out (timer B; -max_retrans 2 keeps it short here).
    opts = SippOptions(local_ip=UAC_IP, target=f"{UAS_IP}:5178", calls=1, extra_args=("-max_retrans", "2"))
    r = runner().run(Scenario.sipp_builtin("uac"), opts)
    assert r.failed_by_reason == {"MaxUDPRetrans": 1} and r.retransmissions == 2 and r.silent, r.summary()


def test_missing_template_is_a_clear_error() -> None:
    with pytest.raises(FileNotFoundError, match=r"no SIPp scenario template 'uac_nope'.*uac_did, uas_answer"):
        Scenario.template("uac_nope")
    with pytest.raises(FileNotFoundError):
        Scenario.template("../sipp")
    with pytest.raises(ValueError, match="placeholders not given: code, reason"):
        Scenario.template("uas_reject")
    with pytest.raises(ValueError, match="parameters it does not have: code"):
        Scenario.template("uac_did", code=1)
    with pytest.raises(ValueError, match="300-699"):
        reject_scenario(200, "OK")
    with pytest.raises(ValueError, match="no built-in scenario 'uacx'"):
        Scenario.sipp_builtin("uacx")


def test_broken_xml_is_refused_before_sipp_runs(tmp_path: Path) -> None:
    f = tmp_path / "bad.xml"
    f.write_text("<scenario><send></scenario>")
    with pytest.raises(ValueError, match="not well-formed XML"):
        Scenario.from_file(f)


def test_a_scenario_sipp_refuses_is_a_lab_error_with_its_reason() -> None:
    opts = SippOptions(local_ip=UAC_IP, target=f"{UAS_IP}:5177", service=DID)  # no -key caller
    with pytest.raises(LabProtocolError, match="Unsupported keyword 'caller'") as e:
        runner().run(Scenario.template("uac_did"), opts)
    assert (e.value.device, e.value.transport, e.value.address) == ("pstn1", "sipp", f"{UAS_IP}:5177")


def test_bind_error_and_missing_sipp_are_unreachable() -> None:
    opts = SippOptions(local_ip="192.0.2.1", target=f"{UAS_IP}:5177")  # TEST-NET-1: not ours
    with pytest.raises(LabUnreachable, match=r"could not bind 192\.0\.2\.1"):
        runner().run(Scenario.sipp_builtin("uac"), opts)
    r = SippRunner("pstn1", LocalHost(), UAC_IP, Transcript("t"), sipp="sipp-not-installed")
    with pytest.raises(LabUnreachable, match="not installed on this machine"):
        r.run(Scenario.sipp_builtin("uac"), replace(opts, local_ip=UAC_IP))


def test_its_own_deadline_gives_a_result_and_exit_255() -> None:
    a = runner(UAS_IP).answer(5173, calls=2, timeout_s=1).wait()
    assert (a.calls_created, a.exit_code) == (0, 255) and not a.complete, a.summary()
    assert a.disagreement is None  # both say "not done"
    assert any("timed out" in e for e in a.errors)


def test_stopped_early_exit_0_disagrees_with_the_counts() -> None:
    run = runner(UAS_IP).answer(5174, calls=5, timeout_s=30)
    time.sleep(0.5)
    a = run.stop()
    assert a.exit_code == 0 and a.calls_created == 0 and not a.complete
    assert a.disagreement == ("SIPp exited 0 (all calls succeeded), but the counts say "
                              "0/5 successful, 0 failed, 0 created")
    assert "DISAGREE" in a.summary()
    assert run.wait() is a  # the result is kept


def test_counts_all_good_but_exit_code_not_is_reported() -> None:
    r = SippResult(device="pstn1", where="local", scenario="uac", command=(), calls_requested=2, calls_created=2,
                   calls_successful=2, calls_failed=0, calls_unfinished=0, failed_by_reason={},
                   unexpected_messages={}, retransmissions=0, out_of_call_msgs=0, dead_call_msgs=0,
                   rate_target_cps=10, rate_achieved_cps=9.9, response_time_mean_ms=0, response_times=None,
                   call_length_mean_ms=0, wall_time_s=1, exit_code=97, exit_meaning=sipp_result.exit_meaning(97))
    assert r.complete
    assert r.disagreement == ("the counts say all 2 calls succeeded, but SIPp exited 97 (stopped by an internal "
                              "command; calls may have been processed)")


def test_exit_codes_are_mapped() -> None:
    assert sipp_result.exit_meaning(0) == "all calls succeeded"
    assert sipp_result.exit_meaning(99) == "ended normally without processing calls"
    assert sipp_result.exit_meaning(254).startswith("could not bind")
    assert sipp_result.exit_meaning(-9) == "killed by SIGKILL"
    assert sipp_result.exit_meaning(42) == "unknown exit code 42"


def test_hung_sipp_is_killed_at_the_hard_deadline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A SIPp that ignores its own -timeout (a stand-in program that just sleeps) is killed after
    # the grace, and the run is a LabTimeout.
    fake = tmp_path / "sipp-hung"
    fake.write_text("#!/bin/sh\nexec sleep 60\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setattr(sipp, "STOP_GRACE_S", 0.5)
    r = SippRunner("pstn1", LocalHost(), UAC_IP, Transcript("t"), sipp=str(fake))
    t0 = time.monotonic()
    run = r.start(Scenario.sipp_builtin("uac"), SippOptions(local_ip=UAC_IP, target=f"{UAS_IP}:5177", timeout_s=1))
    with pytest.raises(LabTimeout, match="did not end within 2 s"):
        run.wait()
    assert time.monotonic() - t0 < 10
    assert run.job.wait(2) is not None  # the process is gone


def test_stat_csv_and_error_log_parsing() -> None:
    text = ("StartTime;TotalCallCreated;SuccessfulCall(C);FailedCall(C);FailedTimeoutOnRecv(C);\n"
            "2026-12-01\t16:23:36.660127\t1796142216.660127;3;1;2;2;\n"
            "2026-12-01\t16:23:37.660127\t1796142217.660127;5;3;2;2;\n")
    row = parse_stat_csv(text)
    assert row["TotalCallCreated"] == "5" and row["StartTime"].count("\t") == 2
    log = ("The following events occurred:\n2026-12-01\t16:23:50.311479\t1796142230.311479: first event"
           "2026-12-01\t16:23:50.411411\t1796142230.411411: second\nline\n")
    assert parse_errors(log) == ["first event", "second\nline"]
    assert sipp_result.duration_ms("00:00:01:500000") == 1500.0 and sipp_result.duration_ms("") == 0.0


def test_deadline_estimate_and_command_line() -> None:
    o = SippOptions(local_ip=UAC_IP, target="h:5060", calls=1000, rate_cps=100, concurrency=50, duration_ms=2000,
                    recv_timeout_ms=2000)
    assert o.deadline_s() == pytest.approx(40 + 2 + 2 + 5)  # 1000 calls / 50 at once x 2 s, 2 s, 2 s, 5 s
    a = o.argv(Scenario.template("uac_did"), None)
    for flag, value in (("-m", "1000"), ("-r", "100"), ("-l", "50"), ("-d", "2000"), ("-i", UAC_IP),
                        ("-p", "0"), ("-stf", "stat.csv"), ("-timeout", "49s"), ("-sf", "uac_did.xml")):
        assert a[a.index(flag) + 1] == value
    assert {"-nostdin", "-trace_stat", "-trace_err", "-trace_counts", "-trace_rtt", "-timeout_error"} <= set(a)
    with pytest.raises(ValueError):
        SippOptions(local_ip=UAC_IP, calls=0)


# -- over SSH --------------------------------------------------------------------------------------


def test_twin_pstn_host_runs_sipp_over_ssh_and_sftp(twin: TwinControl, pstn: PstnSimulator,
                                                    loaded: LoadedLab) -> None:
    """The real-lab path of PSTN-CAPACITY on the twin: the scenario goes up by SFTP, SIPp runs on the
    PSTN host (this machine's sipp, bound to pstn1's address), the traces come back, the folder goes."""
    before = twin.state("pstn1")["calls_completed"]
    r = pstn.sipp(via="ssh").originate(pstn_target(loaded), DID, calls=10, rate_cps=20)
    assert r.complete and r.where.startswith(f"ssh {pstn.device.host}:"), r.summary()
    assert wait_for(lambda: twin.state("pstn1")["calls_completed"] >= before + 10, 5.0)
    log = pstn.ssh_session().transcript.render()
    assert "sftp put" in log and "uac_did.xml" in log and "sftp get" in log and "exec sipp" in log
    inv = Path(twin.status()["inventory"])
    root = inv.parent / ".hil" / f"twin-{inv.stem}" / "pstn-host" / "pstn1"
    assert not list((root / "tmp").glob("hil-sipp-*"))  # the work folder was removed over SFTP
    rows = [line for line in (root / "var/log/hil-pstn/calls.csv").read_text().splitlines() if ",INVITE," in line]
    assert len(rows) >= 10  # the call log as a file on the host, for SFTP


def test_twin_pstn_host_stops_an_answering_sipp_with_kill(twin: TwinControl, pstn: PstnSimulator) -> None:
    host = pstn.device.host
    uas = pstn.sipp(via="ssh").answer(5175, calls=50, timeout_s=60)
    r = runner().originate(f"{host}:5175", DID, calls=3, rate_cps=10)
    a = uas.stop()  # kill -USR1 <pid> on a second channel, to the SIPp the host started
    assert r.complete and a.calls_successful == 3 and not a.complete, (r.summary(), a.summary())
    assert "kill -USR1" in pstn.ssh_session().transcript.render()
    assert "No such process" in pstn.run("kill -USR1 1")  # only its own SIPp


def test_twin_pstn_host_kills_sipp_when_the_channel_closes(twin: TwinControl, pstn: PstnSimulator) -> None:
    twin_proc = psutil.Process(twin.status()["pid"])

    def sipps() -> set[int]:
        return {c.pid for c in twin_proc.children() if c.name() == "sipp"}

    before = sipps()
    run = pstn.sipp(via="ssh").answer(5176, calls=50, timeout_s=60)
    new = wait_for(lambda: sipps() - before, 5.0)
    assert new
    run.job.chan.close()  # type: ignore[attr-defined]  # the harness's channel goes (its process died)
    assert wait_for(lambda: all(sipp_ended(pid) for pid in new), 10.0)
    run.abort()  # the work folder


def test_twin_pstn_host_call_log_by_sftp_equals_cat(twin: TwinControl, pstn: PstnSimulator,
                                                    loaded: LoadedLab) -> None:
    runner().originate(pstn_target(loaded), DID, calls=3, rate_cps=10)
    by_cat = pstn.call_log(via="ssh")
    assert wait_for(lambda: pstn.call_log(via="sftp") == by_cat, 3.0)  # the file follows the log
    assert "sftp get /var/log/hil-pstn/calls.csv" in pstn.ssh_session().transcript.render()


def test_twin_pstn_down_kills_the_sipp_its_host_runs(twin: TwinControl, pstn: PstnSimulator) -> None:
    twin_proc = psutil.Process(twin.status()["pid"])

    def sipps() -> set[int]:
        return {c.pid for c in twin_proc.children() if c.name() == "sipp"}

    before = sipps()
    run = pstn.sipp(via="ssh").answer(5177, calls=50, timeout_s=60)
    new = wait_for(lambda: sipps() - before, 5.0)
    assert new
    twin.fault("pstn1", "down")  # the host powers off: what it ran goes with it
    assert wait_for(lambda: all(sipp_ended(pid) for pid in new), 10.0)
    with pytest.raises(LabError):
        run.wait(5.0)  # the harness sees its SIPp gone with the host (a broken lab, not a result)
    twin.heal("pstn1")
    run.abort()


class _LinuxHost:
    """A real SSH server (asyncssh) with SFTP and a real shell: a lab host that can run SIPp."""

    def __init__(self, host: str, root: Path) -> None:
        self.host, self.root = host, root
        self.key = asyncssh.generate_private_key("ssh-ed25519")
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        assert self._ready.wait(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._start())
        self._ready.set()
        self.loop.run_forever()

    async def _start(self) -> None:
        class Server(asyncssh.SSHServer):
            def begin_auth(self, username: str) -> bool:
                return True

            def password_auth_supported(self) -> bool:
                return True

            def validate_password(self, username: str, password: str) -> bool:
                return (username, password) == ("lab", "sipp-host-pw")

        self.acceptor = await asyncssh.create_server(Server, self.host, 0, server_host_keys=[self.key],
                                                     process_factory=self._process, sftp_factory=True)
        self.port = self.acceptor.sockets[0].getsockname()[1]

    async def _process(self, proc: asyncssh.SSHServerProcess[Any]) -> None:
        p = await asyncio.create_subprocess_shell(proc.command or "true", stdin=asyncio.subprocess.DEVNULL,
                                                  stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        out, _ = await p.communicate()
        proc.stdout.write(out.decode(errors="replace"))
        proc.exit(p.returncode or 0)

    def session(self, known_hosts: Path) -> SSHSession:
        known_hosts.write_text(known_hosts_entry(self.host, self.port, self.key) + "\n")
        settings = SshSettings(port=self.port, username="lab", password="env:HIL_SIPP_HOST_PW", timeout_s=5)
        return SSHSession("labhost", self.host, settings, lambda ref: "sipp-host-pw", known_hosts,
                          Transcript(f"labhost ssh {self.host}:{self.port}"))

    def close(self) -> None:
        async def stop() -> None:
            self.acceptor.close()
            await self.acceptor.wait_closed()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)


@pytest.fixture
def lab_host(tmp_path: Path) -> Iterator[tuple[_LinuxHost, SSHSession]]:
    h = _LinuxHost(SSH_HOST_IP, tmp_path)
    s = h.session(tmp_path / "known_hosts")
    yield h, s
    s.close()
    h.close()
    h.loop.close()


def test_ssh_uploads_runs_and_fetches_against_the_twin_pstn(twin: TwinControl, loaded: LoadedLab,
                                                            lab_host: tuple[_LinuxHost, SSHSession],
                                                            tmp_path: Path) -> None:
    _, session = lab_host
    host = SshHost(session, remote_dir=str(tmp_path), keep=True)
    r = SippRunner("pstn1", host, SSH_HOST_IP, Transcript("pstn1 sipp ssh"))
    res = r.originate(pstn_target(loaded), DID, calls=10, rate_cps=20)
    assert res.complete and res.where == f"ssh {SSH_HOST_IP}:{session.settings.port}", res.summary()
    (workdir,) = tmp_path.glob("hil-sipp-*")
    assert (workdir / "uac_did.xml").read_text(encoding="iso-8859-1") == Scenario.template("uac_did").xml
    assert (workdir / "stat.csv").is_file() and (workdir / "sipp.pid").read_text().strip().isdigit()
    log = session.transcript.render()
    assert "sftp put" in log and "uac_did.xml" in log and "sftp get" in log and "exec sipp" in log


def test_ssh_answering_side_is_stopped_with_a_signal(lab_host: tuple[_LinuxHost, SSHSession],
                                                      tmp_path: Path) -> None:
    _, session = lab_host
    host = SshHost(session, remote_dir=str(tmp_path))
    uas = SippRunner("pstn1", host, SSH_HOST_IP, Transcript("t")).answer(5175, calls=50, timeout_s=60)
    r = runner().originate(f"{SSH_HOST_IP}:5175", DID, calls=3, rate_cps=10)
    t0 = time.monotonic()
    a = uas.stop()  # kill -USR1 <pid> on a second channel
    assert time.monotonic() - t0 < 10
    assert r.complete and a.calls_successful == 3 and not a.complete, (r.summary(), a.summary())
    assert "kill -USR1" in session.transcript.render()
    assert not list(tmp_path.glob("hil-sipp-*"))  # the work folder was removed


def test_ssh_host_without_sipp_is_unreachable(lab_host: tuple[_LinuxHost, SSHSession], tmp_path: Path) -> None:
    _, session = lab_host
    r = SippRunner("pstn1", SshHost(session, remote_dir=str(tmp_path)), SSH_HOST_IP, Transcript("t"),
                   sipp="sipp-not-installed")
    with pytest.raises(LabUnreachable, match=r"SIPp is not installed on ssh .* \(exit 127\)"):
        r.run(Scenario.sipp_builtin("uac"), SippOptions(local_ip=SSH_HOST_IP, target=f"{UAS_IP}:5177"))


# -- nothing left behind ---------------------------------------------------------------------------


def udp_sockets(pid: int) -> list[tuple[str, int]]:
    return [(c.laddr.ip, c.laddr.port) for c in psutil.Process(pid).net_connections(kind="udp")]


def sipp_ended(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


class _Interrupting:
    """A job whose first wait is interrupted (as Ctrl-C, or hil run's SIGTERM, interrupts it)."""

    def __init__(self, job: Any) -> None:
        self.job, self.interrupted = job, False

    def wait(self, timeout_s: float) -> int | None:
        if not self.interrupted:
            self.interrupted = True
            raise KeyboardInterrupt
        return int(self.job.wait(timeout_s))

    def signal(self, sig: int) -> None:
        self.job.signal(sig)


def test_every_socket_of_sipp_is_on_its_own_address_never_all_interfaces() -> None:
    uas = runner(UAS_IP).answer(5180, calls=1, timeout_s=30)
    try:
        pid = uas.job.proc.pid  # type: ignore[attr-defined]
        # SIP, RTP and the remote-control socket (-cp, UDP 8888 and up: -ci binds it)
        assert wait_for(lambda: len(udp_sockets(pid)) >= 3), udp_sockets(pid)
        assert {ip for ip, _ in udp_sockets(pid)} == {UAS_IP}, udp_sockets(pid)
        assert uas.argv[uas.argv.index("-ci") + 1] == UAS_IP
    finally:
        uas.stop()


def test_an_interrupted_wait_kills_sipp_and_removes_its_folder() -> None:
    uas = runner(UAS_IP).answer(5181, calls=5, timeout_s=60)
    proc = uas.job.proc  # type: ignore[attr-defined]
    uas.job = _Interrupting(uas.job)
    with pytest.raises(KeyboardInterrupt):
        uas.wait()
    assert proc.poll() is not None and not Path(uas.workdir).exists()
    with pytest.raises(LabError, match="was stopped before it ended"):
        uas.wait()


#: a process that starts an answering SIPp and ends (by exit, or by an interrupt) without stopping it
ABANDONS = """
import sys
from harness.transports.sipp.hosts import LocalHost
from harness.transports.sipp.runner import SippRunner
from harness.transports.transcript import Transcript
uas = SippRunner("pstn1", LocalHost(), sys.argv[1], Transcript("t")).answer(int(sys.argv[2]), calls=5, timeout_s=60)
print(uas.job.proc.pid, uas.workdir, flush=True)
if sys.argv[3] == "interrupt":
    raise KeyboardInterrupt
"""


@pytest.mark.parametrize("how", ["exit", "interrupt"])
def test_sipp_does_not_outlive_the_process_that_started_it(how: str) -> None:
    r = subprocess.run([sys.executable, "-c", ABANDONS, UAS_IP, str(5182 if how == "exit" else 5183), how],
                       capture_output=True, text=True, timeout=60, cwd=Path(__file__).resolve().parents[2])
    assert r.returncode == (0 if how == "exit" else -signal.SIGINT), r.stderr  # Python ends by SIGINT
    pid, workdir = r.stdout.split()
    assert wait_for(lambda: sipp_ended(int(pid)), 5) and not Path(workdir).exists()


def test_closing_the_ssh_host_stops_its_sipp_and_removes_the_remote_folder(lab_host: tuple[_LinuxHost, SSHSession],
                                                                          tmp_path: Path) -> None:
    _, session = lab_host
    host = SshHost(session, remote_dir=str(tmp_path))
    uas = SippRunner("pstn1", host, SSH_HOST_IP, Transcript("t")).answer(5184, calls=50, timeout_s=60)
    (workdir,) = tmp_path.glob("hil-sipp-*")
    assert wait_for(lambda: (workdir / "sipp.pid").exists())
    pid = int((workdir / "sipp.pid").read_text())
    assert not sipp_ended(pid)
    host.close()  # the driver's session ends (LabSession.close) with the run not collected
    assert wait_for(lambda: sipp_ended(pid), 10) and not list(tmp_path.glob("hil-sipp-*"))
    assert "kill -KILL" in session.transcript.render()
    with pytest.raises(LabError, match="was stopped"):
        uas.wait()
