"""Edge log collection (MAINT-EDGE-LOGS): the twin Edge's bundles over SSH/SFTP and over the serial
console (XMODEM-1K), the faults wan-down, console-noise, log-corrupt and log-volume, the XMODEM
receiver against a sender that damages blocks, and the scenario's verdicts."""

from __future__ import annotations

import hashlib
import io
import os
import socket
import tarfile
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import paramiko
import pytest
from xmodem import XMODEM1k

from harness.devices.drivers.edge import Edge
from harness.devices.drivers.edge_logs_cli import LogBundle, parse_manifest
from harness.errors import LabProtocolError, LabUnreachable
from harness.inventory import LoadedLab
from harness.inventory.models import ConsoleSettings
from harness.transports import console_xfer
from harness.transports.console_xfer import TransferFailed, receive_xmodem
from harness.transports.serial import SerialConsole
from harness.transports.transcript import Transcript
from harness.twin.manager import TwinControl
from tests.conftest import TEST_NET
from tests.scenario_runner import run_scenarios

FILES = ["capture.pcap", "cloud-link.log", "edge.log", "media.log", "sip.log"]


@pytest.fixture
def edge(loaded: LoadedLab) -> Iterator[Edge]:
    d = Edge("edge1", loaded.lab.devices["edge1"], loaded)
    yield d
    d.close()


def _intact(b: LogBundle, transport: str) -> None:
    data = b.path.read_bytes()
    assert b.transport == transport and b.size_bytes == len(data) > 0
    assert b.sha256 == b.announced_sha256 == hashlib.sha256(data).hexdigest()
    assert sorted(n.rsplit("/", 1)[-1] for n in b.files) == FILES
    with tarfile.open(b.path, "r:gz") as tar:
        edge_log = tar.extractfile("edge1-logs/edge.log")
        assert edge_log is not None and b"firmware 2026.11.1" in edge_log.read()
    assert b.seconds > 0 and b.throughput_kBps > 0 and b.device_path.startswith("/logs/edge1-logs-")


# --- both paths on the twin -------------------------------------------------------------------------


def test_ssh_path_healthy(twin: TwinControl, edge: Edge, tmp_path: Path) -> None:
    b = edge.collect_logs("ssh", dest=tmp_path)
    _intact(b, "ssh")
    assert b.retransmitted_blocks == 0 and b.path.parent == tmp_path and not b.fallback


def test_console_path_healthy(twin: TwinControl, edge: Edge, tmp_path: Path) -> None:
    b = edge.collect_logs("console", dest=tmp_path)
    _intact(b, "console")
    assert b.retransmitted_blocks == 0
    assert "xmodem-1k: receiving" in edge.console().transcript.render()
    assert "Firmware Version" in edge.console().command("show version")  # the line is a shell again


def test_console_path_under_console_noise_is_intact(twin: TwinControl, edge: Edge, tmp_path: Path) -> None:
    twin.fault("edge1", "console-noise")
    twin.fault("edge1", "log-volume", "1024")
    b = edge.collect_logs("console", dest=tmp_path)
    _intact(b, "console")
    assert 900_000 < b.size_bytes < 1_200_000
    assert b.retransmitted_blocks > 0  # the noise reached the wire and XMODEM repaired it
    assert edge.console_status().cloud_link_up  # text commands still read right on the noisy line


def test_wan_down_ssh_unreachable_console_works_auto_falls_back(twin: TwinControl, edge: Edge,
                                                               tmp_path: Path) -> None:
    twin.fault("edge1", "wan-down")
    st = edge.console_status()
    assert st.services["cloud-link"] == "down" and st.services["media"] == "running" and not st.cloud_link_up
    with pytest.raises(LabUnreachable, match=r"edge1 ssh .*:2222"):
        edge.collect_logs("ssh", dest=tmp_path)
    b = edge.collect_logs("auto", dest=tmp_path)
    _intact(b, "console")
    assert b.fallback.startswith("SSH failed: unreachable: edge1 ssh")
    with tarfile.open(b.path, "r:gz") as tar:
        cloud = tar.extractfile("edge1-logs/cloud-link.log")
        assert cloud is not None and b"connection lost" in cloud.read()
    twin.heal("edge1")
    assert edge.collect_logs("auto", dest=tmp_path).transport == "ssh"  # SSH is back after heal


@pytest.mark.parametrize("path", ["ssh", "console"])
def test_log_corrupt_is_reported_with_both_checksums(twin: TwinControl, edge: Edge, tmp_path: Path,
                                                     path: str) -> None:
    twin.fault("edge1", "log-corrupt")
    with pytest.raises(TransferFailed) as e:
        edge.collect_logs(path, dest=tmp_path)  # type: ignore[arg-type]
    err = e.value
    assert err.device == "edge1" and err.expected_sha256 and err.got_sha256 and err.expected_sha256 != err.got_sha256
    assert err.expected_sha256 in str(err) and err.got_sha256 in str(err) and f"over {path}" in str(err)


def test_sftp_is_chrooted_and_read_only(twin: TwinControl, edge: Edge) -> None:
    name = parse_manifest(edge.run("logs bundle")).name
    s = edge.ssh_session()
    chan = s._transport().open_session(timeout=5)
    chan.invoke_subsystem("sftp")
    sftp = paramiko.SFTPClient(chan)
    try:
        assert sftp.listdir("/") == ["logs"]
        assert name in sftp.listdir("/logs")
        with pytest.raises(OSError):
            sftp.stat("/../../../../etc/passwd")  # the chroot maps it under the Edge's disk: not there
        with pytest.raises(OSError):
            sftp.putfo(io.BytesIO(b"x"), "/logs/evil.txt")
        with pytest.raises(OSError):
            sftp.remove(f"/logs/{name}")
    finally:
        sftp.close()


def test_logs_cli_over_ssh(twin: TwinControl, edge: Edge) -> None:
    text = edge.run("logs bundle")
    m = parse_manifest(text)
    assert edge.run("logs manifest") == text  # the newest bundle's manifest, word for word
    assert m.device_path in edge.run("logs list")
    out = edge.run(f"logs send {m.name}")
    assert out.startswith("% logs send streams XMODEM on the serial console only") and m.device_path in out
    assert edge.ssh_session().last_exit_status == 1
    assert edge.run("logs manifest nothing.tar.gz").startswith("% No log bundle nothing.tar.gz")


def test_log_volume_fault_is_checked(twin: TwinControl) -> None:
    for bad in ("0", "abc", "70000"):
        with pytest.raises(Exception, match="log-volume"):
            twin.fault("edge1", "log-volume", bad)


# --- the manifest ---------------------------------------------------------------------------------


MANIFEST = ("Log bundle      : /logs/e-logs-1.tar.gz\nSize            : 10 bytes\n"
            f"SHA-256         : {'ab' * 32}\nFiles           : 1\n  edge.log                     9 bytes\n")


def test_manifest_crc_catches_damage() -> None:
    good = MANIFEST + f"Manifest CRC-32 : {zlib.crc32(MANIFEST.encode()):08x}\n"
    m = parse_manifest("logs bundle\n" + good)
    assert (m.device_path, m.size_bytes, m.sha256, m.files) == ("/logs/e-logs-1.tar.gz", 10, "ab" * 32,
                                                                 (("edge.log", 9),))
    with pytest.raises(ValueError, match="CRC-32"):
        parse_manifest(good.replace("10 bytes", "19 bytes"))
    with pytest.raises(ValueError, match="does not parse"):
        parse_manifest(good.replace("Size  ", "Si~ze "))
    with pytest.raises(ValueError, match="no 'Manifest CRC-32'"):
        parse_manifest(MANIFEST)


# --- the XMODEM receiver against a sender that misbehaves ------------------------------------------------


class Sender:
    """An XMODEM-1K sender (the xmodem package) on a socket; ``mangle(block_no, data)`` may damage what it sends."""

    def __init__(self, payload: bytes, mangle: Callable[[int, bytes], bytes] | None = None, retry: int = 16) -> None:
        self.srv = socket.create_server((f"{TEST_NET}.9.2", 0))
        self.payload, self.mangle, self.retry = payload, mangle, retry
        self.result: bool | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    @property
    def settings(self) -> ConsoleSettings:
        return ConsoleSettings(url=f"socket://{self.srv.getsockname()[0]}:{self.srv.getsockname()[1]}", timeout_s=3)

    def _run(self) -> None:
        conn, _ = self.srv.accept()
        blocks = 0

        def getc(size: int, timeout: float = 1) -> bytes | None:
            conn.settimeout(timeout)
            try:
                return conn.recv(size) or None
            except OSError:
                return None

        def putc(data: bytes, timeout: float = 1) -> int:
            nonlocal blocks
            if len(data) > 1 and self.mangle is not None:
                blocks += 1
                data = self.mangle(data[1], bytes(data))
            try:
                conn.sendall(data)
            except OSError:  # the receiver hung up
                return 0
            return len(data)

        try:
            self.result = XMODEM1k(getc, putc).send(io.BytesIO(self.payload), retry=self.retry, timeout=5,
                                                    quiet=True)
        finally:
            time.sleep(0.3)
            conn.close()
            self.srv.close()


def _receive(sender: Sender, size: int, deadline_s: float | None = None) -> tuple[bytes, console_xfer.TransferStats]:
    c = SerialConsole("edge9", sender.settings, lambda r: "", Transcript("edge9 serial"))
    out = io.BytesIO()
    try:
        stats = receive_xmodem(c, out, size, deadline_s=deadline_s)
    finally:
        c.close()
        sender.thread.join(10)
    return out.getvalue()[:size], stats


PAYLOAD = os.urandom(5 * 1024 + 100)


def test_xmodem_repairs_damaged_blocks_and_stray_eot() -> None:
    hits = {3: 1, 5: 2}  # block 3 damaged once, block 5 twice
    stray: list[int] = []

    def mangle(seq: int, data: bytes) -> bytes:
        if hits.get(seq, 0) > 0:
            hits[seq] -= 1
            return data[:100] + b"\xff" + data[100:]  # a glitch byte inside the block
        if seq == 2 and not stray:
            stray.append(1)
            return b"\x04" + data  # a stray EOT before block 2: noise, not the end
        return data

    got, stats = _receive(Sender(PAYLOAD, mangle), len(PAYLOAD))
    assert got == PAYLOAD and stats.bytes == len(PAYLOAD)
    assert stats.retransmitted_blocks == 3  # the stray EOT cost nothing: the block right behind it was read


def test_xmodem_gives_up_on_a_block_damaged_beyond_repair(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console_xfer, "XFER_RETRY", 2)

    def mangle(seq: int, data: bytes) -> bytes:
        return data[:-1] + bytes((data[-1] ^ 1,)) if seq == 3 else data  # a wrong CRC, every time

    with pytest.raises(TransferFailed, match=r"edge9 serial .*given up after 2048 of 5220 bytes") as e:
        _receive(Sender(PAYLOAD, mangle, retry=3), len(PAYLOAD))
    assert e.value.expected_bytes == len(PAYLOAD) and e.value.got_bytes == 2048
    assert isinstance(e.value, LabProtocolError)


def test_xmodem_transfer_shorter_than_announced_fails() -> None:
    with pytest.raises(TransferFailed, match="ended after 3072 of 5220 bytes"):
        _receive(Sender(PAYLOAD[:3000]), len(PAYLOAD))


def test_xmodem_deadline() -> None:
    def slow(seq: int, data: bytes) -> bytes:
        time.sleep(0.4)  # a line far slower than its baud rate promises
        return data

    with pytest.raises(TransferFailed, match="deadline passed"):
        _receive(Sender(PAYLOAD, slow, retry=1), len(PAYLOAD), deadline_s=1.0)


# --- the scenario --------------------------------------------------------------------------------------


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return tmp_path / "reports"


def test_scenario_passes_on_the_healthy_twin(twin: TwinControl, lab_path: Path, out: Path) -> None:
    r = run_scenarios(lab_path, out, "--duty=MAINT-EDGE-LOGS")
    assert r.returncode == 0, r.output
    t = r.tests()
    assert t["test_edge_logs_over_ssh[edge1]"]["verdict"] == "PASS"
    assert t["test_edge_logs_over_console[edge1]"]["verdict"] == "PASS"
    assert r.summary["duties"]["MAINT-EDGE-LOGS"]["automated"] == "PASS"
    # hybrid: the test lab attests nothing, so the automated PASS is PARTIAL (tests/scenario_selftests)
    assert r.verdict("MAINT-EDGE-LOGS") == "PARTIAL"
    kept = sorted((out / "edge-logs" / "edge1").glob("*.tar.gz"))
    assert len(kept) == 3  # one bundle per path (the API's log job, SSH, console), kept next to the summary
    whats = {m["what"] for m in t["test_edge_logs_over_console[edge1]"]["measurements"]}
    assert "log bundle SHA-256 over console" in whats and "cloud link (show status on the console)" in whats


def test_scenario_under_wan_down_collects_over_the_console(twin: TwinControl, lab_path: Path, out: Path) -> None:
    twin.fault("edge1", "wan-down")
    r = run_scenarios(lab_path, out, "--duty=MAINT-EDGE-LOGS")
    t = r.tests()
    console, ssh = t["test_edge_logs_over_console[edge1]"], t["test_edge_logs_over_ssh[edge1]"]
    assert console["verdict"] == "PASS", console
    assert any(m["measured"] == "cloud-link down" for m in console["measurements"])
    assert ssh["verdict"] == "SKIPPED" and "WAN down" in ssh["message"] and "console path" in ssh["message"]
    api = t["test_edge_logs_through_the_api[edge1]"]  # the core check: a customer's only path is Genesys Cloud
    assert api["verdict"] == "SKIPPED" and "falls to attestation" in api["message"], api
    # the twin's console is no customer path: with the Edge offline the core check did not run, so the
    # automated part is PARTIAL and the offline part of the duty is the attestation's
    assert r.summary["duties"]["MAINT-EDGE-LOGS"]["automated"] == "PARTIAL"
    assert r.verdict("MAINT-EDGE-LOGS") == "PARTIAL"  # no attestation in the test lab


def test_scenario_fails_when_the_bundle_is_damaged(twin: TwinControl, lab_path: Path, out: Path) -> None:
    twin.fault("edge1", "log-corrupt")
    r = run_scenarios(lab_path, out, "--duty=MAINT-EDGE-LOGS")
    assert r.returncode == 1
    for path in ("console", "ssh"):
        t = r.tests()[f"test_edge_logs_over_{path}[edge1]"]
        assert t["verdict"] == "FAIL" and t["failure"], t
        msg = t["message"]
        assert msg.startswith(f"[MAINT-EDGE-LOGS] edge1: log bundle SHA-256 over {path} = "), msg
        got, want = msg.split(" = ")[1].split(";")[0], msg.split("limit == ")[1].split(" ")[0]
        assert len(got) == len(want) == 64 and got != want
    assert r.verdict("MAINT-EDGE-LOGS") == "FAIL"


def test_scenario_passes_on_a_noisy_console(twin: TwinControl, lab_path: Path, out: Path) -> None:
    twin.fault("edge1", "console-noise")
    r = run_scenarios(lab_path, out, "--duty=MAINT-EDGE-LOGS", "--device=edge1")
    assert r.tests()["test_edge_logs_over_console[edge1]"]["verdict"] == "PASS", r.output
