"""Edge log collection (MAINT-EDGE-LOGS): a log bundle over SSH + SFTP, or over the serial console.

A mixin for the Edge driver. Both paths ask the Edge for a new bundle with ``logs bundle`` and read
its manifest (path on the Edge, size, SHA-256, files; format in ``docs/edge-logs.md``, parsed with
``templates/genesys_edge_logs_manifest.textfsm``; its ``Manifest CRC-32`` line is checked, and on
the console a damaged manifest is asked for again with ``logs manifest``). Then:

* ``ssh``: the bundle comes by SFTP from the path in the manifest;
* ``console``: ``logs send NAME`` makes the Edge send it by XMODEM-1K (CRC-16 per 1024-byte block,
  bad blocks sent again; :mod:`harness.transports.console_xfer`), which works with the WAN down;
* ``auto``: SSH, and the console when SSH is unreachable or times out.

The bytes received are hashed and compared with the SHA-256 the Edge announced; the bundle must open
as a gzip'd tar holding the files the manifest lists. Sources: the duty's (Genesys: collect Edge
logs when the Edge cannot reach the cloud); limits are project choices, named where defined.
"""

from __future__ import annotations

import hashlib
import tarfile
import tempfile
import time
import zlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import textfsm

from ...errors import LabProtocolError, LabTimeout, LabUnreachable
from ...transports.console_xfer import TransferFailed, receive_xmodem
from ...transports.serial import SerialConsole
from ...transports.sftp import sftp_get
from ..facts.templates import parse_template
from .ssh_access import SshFacts

MAX_BUNDLE_BYTES = 512 * 1024 * 1024  # project choice: a bundle larger than this is not fetched
MANIFEST_TRIES = 3  # project choice: a noisy console gets three chances to print an intact manifest
BUNDLE_COMMAND_TIMEOUT_S = 60.0  # project choice: a real Edge takes seconds to gather its logs
SENDING = r"Sending (\S+) \((\d+) bytes\) by XMODEM-1K[^\n]*\n"
REFUSED = r"(?m)^% [^\n]*\n"

Path_ = Literal["ssh", "console", "auto"]


@dataclass(frozen=True)
class LogManifest:
    """What the Edge announces for a bundle: ``device_path`` (on its SFTP server), ``size_bytes``,
    ``sha256`` (hex, lower case) and ``files`` (name, size in bytes)."""

    device_path: str
    size_bytes: int
    sha256: str
    files: tuple[tuple[str, int], ...]

    @property
    def name(self) -> str:
        return self.device_path.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class LogBundle:
    """A log bundle collected from an Edge and verified.

    ``path``: the file on this machine; ``size_bytes`` and ``sha256`` of it (computed here);
    ``announced_sha256``: what the Edge's manifest said (equal, or collection raised); ``files``:
    the members of the tar (``edge1-logs/edge.log`` …); ``transport``: ``"ssh"`` (SFTP) or
    ``"console"`` (XMODEM-1K); ``seconds``: time on the wire (the SFTP get or the XMODEM
    transfer); ``throughput_kBps``: ``size_bytes / 1000 / seconds``; ``retransmitted_blocks``:
    XMODEM blocks sent again (0 over SSH); ``total_s``: the whole collection, making the bundle
    and login included; ``device_path``: where it is on the Edge; ``fallback``: why ``auto`` used
    the console (empty otherwise).
    """

    path: Path
    size_bytes: int
    sha256: str
    announced_sha256: str
    files: tuple[str, ...]
    transport: Literal["ssh", "console"]
    seconds: float
    throughput_kBps: float
    retransmitted_blocks: int
    total_s: float
    device_path: str
    fallback: str = ""


@dataclass(frozen=True)
class EdgeStatus:
    """``show status``: ``status`` (``in-service`` …), ``services`` (name -> state) and the number of
    registered phones."""

    hostname: str
    status: str
    services: dict[str, str]
    registered_phones: int

    @property
    def cloud_link_up(self) -> bool:
        return self.services.get("cloud-link") == "running"




def parse_manifest(text: str) -> LogManifest:
    """The manifest in ``text`` (``logs bundle``/``logs manifest`` output), its CRC-32 checked.

    Raises ValueError naming what is wrong (no manifest, a line that does not fit, a CRC mismatch).
    """
    mark = text.find("Manifest CRC-32")
    if mark < 0:
        raise ValueError("no 'Manifest CRC-32' line")
    start = text.find("Log bundle")
    if start < 0 or start > mark:
        raise ValueError("no 'Log bundle' line")
    body = text[start:mark]
    try:
        rows = parse_template("genesys_edge_logs_manifest", text[start:])
    except textfsm.TextFSMError as e:
        raise ValueError(f"does not parse: {e}") from None
    if len(rows) != 1:
        raise ValueError(f"{len(rows)} manifests, expected 1")
    r = rows[0]
    crc = f"{zlib.crc32(body.encode()):08x}"
    if crc != r["crc32"].lower():
        raise ValueError(f"CRC-32 {crc} of the manifest lines, the manifest says {r['crc32']}")
    files = tuple(zip(r["files"], (int(x) for x in r["file_sizes"]), strict=True))
    if int(r["count"] or -1) != len(files):
        raise ValueError(f"'Files: {r['count']}' but {len(files)} file lines")
    return LogManifest(r["path"], int(r["size"]), r["sha256"].lower(), files)


class EdgeLogs(SshFacts):
    """Mixin: :meth:`collect_logs` and :meth:`console_status` for Edges (the Edge driver gives
    :meth:`~harness.devices.drivers.edge.Edge.console`, the console session)."""

    if TYPE_CHECKING:
        def console(self) -> SerialConsole: ...

    def console_status(self) -> EdgeStatus:
        """``show status`` read on the serial console (works with the WAN down). Raises LabError."""
        c = self.console()
        return self._status(c.command("show status"), "serial", c.address)

    def _status(self, text: str, transport: str, address: str) -> EdgeStatus:
        try:
            rows = parse_template("genesys_edge_show_status", text)
        except textfsm.TextFSMError as e:
            raise LabProtocolError(self.name, transport, address, f"'show status' does not parse: {e}") from None
        if len(rows) != 1:
            raise LabProtocolError(self.name, transport, address, f"'show status' gave {len(rows)} records")
        r = rows[0]
        return EdgeStatus(r["hostname"], r["status"], dict(zip(r["services"], r["states"], strict=True)),
                          int(r["phones"] or 0))

    def collect_logs(self, path: Path_ = "auto", dest: Path | None = None) -> LogBundle:
        """Make a log bundle on the Edge and bring it here over ``path``; verified (see the module doc).

        ``dest``: the folder to write it into (a new temporary folder by default).

        Raises:
            TransferFailed: the bytes do not match the announced SHA-256 (``expected_sha256`` and
                ``got_sha256`` set, both in the message) or size, or the console transfer was given
                up: the Edge could not deliver an intact bundle on that path.
            LabProtocolError: a manifest that never arrives intact, a bundle that is no tar.gz or
                holds other files than announced.
            LabUnreachable, LabTimeout, LabAuthError: from the transports (``auto`` falls back to the
                console on the first two from SSH).
        """
        t0 = time.monotonic()
        folder = dest or Path(tempfile.mkdtemp(prefix=f"hil-logs-{self.name}-"))
        folder.mkdir(parents=True, exist_ok=True)
        if path == "ssh":
            return self._logs_ssh(folder, t0)
        if path == "console":
            return self._logs_console(folder, t0)
        try:
            return self._logs_ssh(folder, t0)
        except (LabUnreachable, LabTimeout) as e:
            self.drop_session("ssh")
            return self._logs_console(folder, t0, fallback=f"SSH failed: {e}")

    # -- the two paths ---------------------------------------------------------------------------

    def _logs_ssh(self, folder: Path, t0: float) -> LogBundle:
        s = self.ssh_session()
        text = s.run("logs bundle", max(s.settings.timeout_s, BUNDLE_COMMAND_TIMEOUT_S))
        try:
            m = parse_manifest(text)
        except ValueError as e:
            raise LabProtocolError(self.name, "ssh", s.address, f"'logs bundle' gave no valid manifest: {e}; "
                                                                f"output {text[:300]!r}") from None
        local = folder / m.name
        t1 = time.monotonic()
        with open(local, "wb") as f:
            sftp_get(s, m.device_path, f, MAX_BUNDLE_BYTES)
        return self._verified(local, m, "ssh", s.address, time.monotonic() - t1, 0, t0)

    def _logs_console(self, folder: Path, t0: float, fallback: str = "") -> LogBundle:
        c = self.console()
        text = c.command("logs bundle", BUNDLE_COMMAND_TIMEOUT_S)
        m = self._console_manifest(c, text)
        c.send_line(f"logs send {m.name}")
        i, match, _ = c.expect([SENDING, REFUSED], BUNDLE_COMMAND_TIMEOUT_S)
        if i == 1:
            c.expect([c.prompt])
            raise LabProtocolError(self.name, "serial", c.address, f"'logs send {m.name}' refused: "
                                                                   f"{match.group(0).strip()}")
        if match.group(1) != m.name or int(match.group(2)) != m.size_bytes:
            raise LabProtocolError(self.name, "serial", c.address, f"the Edge sends {match.group(1)} "
                                   f"({match.group(2)} bytes), the manifest announced {m.name} ({m.size_bytes} bytes)")
        local = folder / m.name
        with open(local, "wb") as f:
            try:
                stats = receive_xmodem(c, f, m.size_bytes)
            except TransferFailed as e:
                e.expected_sha256 = m.sha256
                raise
            f.truncate(m.size_bytes)  # XMODEM pads the last block with 0x1A
        c.expect([c.prompt], check_baud=False)  # "Transfer complete: N bytes" and the prompt
        b = self._verified(local, m, "console", c.address, stats.seconds, stats.retransmitted_blocks, t0)
        return replace(b, fallback=fallback) if fallback else b

    def _console_manifest(self, c: SerialConsole, text: str) -> LogManifest:
        problems = []
        for attempt in range(MANIFEST_TRIES):
            try:
                return parse_manifest(text)
            except ValueError as e:
                problems.append(str(e))
                c.transcript.event(f"manifest damaged on the line ({e}); asking again")
                if attempt + 1 < MANIFEST_TRIES:
                    text = c.command("logs manifest", BUNDLE_COMMAND_TIMEOUT_S)
        raise LabProtocolError(self.name, "serial", c.address, f"no intact manifest in {MANIFEST_TRIES} tries: "
                                                               f"{'; '.join(problems)}")

    def _verified(self, local: Path, m: LogManifest, transport: Literal["ssh", "console"], address: str,
                  seconds: float, retransmitted: int, t0: float) -> LogBundle:
        data = local.read_bytes()
        got = hashlib.sha256(data).hexdigest()
        wire = "serial" if transport == "console" else "ssh"
        if got != m.sha256 or len(data) != m.size_bytes:
            raise TransferFailed(self.name, wire, address,
                                 f"log bundle {m.device_path} arrived over {transport} damaged: SHA-256 {got} "
                                 f"({len(data)} bytes), the Edge announced {m.sha256} ({m.size_bytes} bytes)",
                                 expected_sha256=m.sha256, got_sha256=got, expected_bytes=m.size_bytes,
                                 got_bytes=len(data))
        try:
            with tarfile.open(local, "r:gz") as tar:
                members = tuple(t.name for t in tar.getmembers())
        except (tarfile.TarError, OSError, EOFError) as e:
            raise LabProtocolError(self.name, wire, address, f"log bundle {m.device_path} is not a tar.gz: {e}") \
                from None
        want = sorted(n for n, _ in m.files)
        if sorted(n.rsplit("/", 1)[-1] for n in members) != want:
            raise LabProtocolError(self.name, wire, address, f"log bundle {m.device_path} holds {list(members)}, "
                                                             f"the manifest lists {want}")
        seconds = max(seconds, 1e-6)
        return LogBundle(local, len(data), got, m.sha256, members, transport, seconds, len(data) / 1000 / seconds,
                         retransmitted, time.monotonic() - t0, m.device_path)


__all__ = ["EdgeLogs", "EdgeStatus", "LogBundle", "LogManifest", "TransferFailed", "parse_manifest"]
