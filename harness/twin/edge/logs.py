"""The twin Edge's log bundles: made on request, fetched by SFTP or sent by XMODEM-1K on the console.

An Edge keeps its files under ``<runtime_dir>/edge-disk/<device>/`` (its "disk"): bundles live in
``logs/`` there, named ``<hostname>-logs-<UTC time>-<n>.tar.gz``; the newest
:data:`KEEP_BUNDLES` are kept. A bundle is a gzip'd tar of ``edge.log``, ``sip.log``,
``media.log``, ``cloud-link.log`` (text written from the Edge's live state: firmware, services,
registrations, trunk and media counters, the cloud link's ups and downs) and ``capture.pcap``
(a libpcap capture of RTP on the phone trunk). The capture fills the bundle to the Edge's log
volume: :data:`DEFAULT_VOLUME_KB`, or the ``log-volume=KB`` fault's KB (the benchmark's 5 MB).

The Edge CLI (:mod:`.cli`) serves ``logs bundle``, ``logs manifest [NAME]``, ``logs list``
and, on the serial console only, ``logs send [NAME]``. The manifest, printed by ``logs bundle`` and
``logs manifest``::

    Log bundle      : /logs/edge1-logs-20261201T120000Z-1.tar.gz
    Size            : 262144 bytes
    SHA-256         : 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
    Files           : 5
      edge.log                  10412 bytes
      ...
    Manifest CRC-32 : 1a2b3c4d

``Manifest CRC-32`` is zlib's CRC-32 (8 hex digits) of every line above it, each with its ``\\n``:
a reader on a noisy console can tell a damaged manifest from a good one and ask again. The path is
the bundle's path on the Edge's SFTP server (chrooted to the disk, read only).

``logs send`` prints ``Sending NAME (N bytes) by XMODEM-1K, CRC-16. Start your receiver now.`` and
then runs the sender of the `xmodem` package (XMODEM-1K with CRC-16, the classic of serial
consoles, as ``sx -k`` does) in a thread: 1024-byte blocks, each ACKed or NAKed by the receiver,
the last one padded with ``0x1A``; EOT at the end. When it ends the console prints
``Transfer complete: N bytes`` or ``Transfer failed: ...`` and the prompt again.

Faults (declared in :mod:`.faults`): ``log-corrupt`` damages each new bundle on disk after it was
hashed, so the manifest's SHA-256 no longer matches the bytes either path delivers; ``log-volume=KB``
sets the size; ``wan-down`` shows in ``cloud-link.log``. (``console-noise``, which bends what the
console writes, is the console server's: :func:`harness.twin.servers.console.console_noise`.) The
SSH server serves the disk read only over SFTP (the role's ``sftp_root``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import random
import struct
import tarfile
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from xmodem import CAN, XMODEM1k

from ..core.state import DeviceState
from ..core.twin import Twin
from .faults import LOG_CORRUPT, LOG_VOLUME, WAN_DOWN
from .state import EdgeState

DEFAULT_VOLUME_KB = 256  # project choice: a quiet Edge's logs and a short capture, compressed
KEEP_BUNDLES = 3  # project choice: bundles kept on the Edge's disk, newest first
SEND_TIMEOUT_S = 10  # the sender waits this long for each ACK (the receiver's purge takes 1 s)
SEND_RETRY = 16  # the xmodem package's default: NAKs per block before the sender gives up
LOG_DIR = "logs"
FILES = ("edge.log", "sip.log", "media.log", "cloud-link.log", "capture.pcap")


# --- the Edge's disk and its bundles ----------------------------------------------------------------


def edge_disk(twin: Twin, device: str) -> Path:
    """The Edge's own folder (``<runtime_dir>/edge-disk/<device>``, with ``logs/``), made on first use."""
    d = twin.runtime_dir / "edge-disk" / device
    (d / LOG_DIR).mkdir(parents=True, exist_ok=True)
    return d


@dataclass(frozen=True)
class Bundle:
    """A bundle on the Edge's disk: ``name``, ``sftp_path`` (``/logs/NAME``), size, SHA-256 as the
    Edge computed it when it wrote the bundle, and the member files with their sizes in bytes."""

    name: str
    sftp_path: str
    size_bytes: int
    sha256: str
    files: tuple[tuple[str, int], ...]


def _stamp(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"


def _edge_log(st: EdgeState, now: float, rng: random.Random) -> str:
    lines = [f"{_stamp(st.boot_time)} INFO  boot: Genesys Cloud Edge {st.hostname} ({st.model}) serial {st.serial}",
             f"{_stamp(st.boot_time)} INFO  boot: firmware {st.firmware} (installed {st.installed_firmware})"]
    for i, svc in enumerate(("sip-trunk", "phone-trunk", "media", "cloud-link")):
        lines.append(f"{_stamp(st.boot_time + 1 + i)} INFO  svcmgr: started {svc}")
    t = st.boot_time + 60
    while t < now:  # one health line per simulated 5 minutes of uptime, at most 2000
        lines.append(f"{_stamp(t)} INFO  health: load {rng.uniform(0.05, 0.9):.2f} mem {rng.randint(30, 60)}% "
                     f"disk {rng.randint(10, 40)}% calls {st.trunk_inbound_calls + st.trunk_outbound_calls}")
        t += 300
        if len(lines) > 2000:
            break
    faults = ", ".join(k for k in st.faults) or "none"
    lines.append(f"{_stamp(now)} INFO  logs: bundle requested (active conditions: {faults})")
    return "\n".join(lines) + "\n"


def _sip_log(st: EdgeState, now: float) -> str:
    lines = [f"{_stamp(now)} INFO  registrar: {len(st.registrations)} phones registered"]
    for ext, (ip, port, until) in sorted(st.registrations.items()):
        lines.append(f"{_stamp(now)} INFO  registrar: {ext} at {ip}:{port} expires in {max(0, int(until - now))} s")
    for r in st.trunk_routes:
        code = st.trunk_options.get(r.name)
        lines.append(f"{_stamp(now)} INFO  trunk: route {r.name} {r.address}/{r.transport} "
                     f"OPTIONS {'no answer' if code is None else code}")
    refused = ", ".join(f"{c}: {n}" for c, n in sorted(st.trunk_calls_refused.items())) or "none"
    lines.append(f"{_stamp(now)} INFO  trunk: calls {st.trunk_calls_total} answered {st.trunk_calls_answered} "
                 f"refused {refused} active in {st.trunk_inbound_calls} out {st.trunk_outbound_calls}")
    return "\n".join(lines) + "\n"


def _media_log(st: EdgeState, now: float) -> str:
    return (f"{_stamp(now)} INFO  media: relays open {st.media_relays}\n"
            f"{_stamp(now)} INFO  media: packets relayed {st.media_packets_relayed} dropped "
            f"{st.media_packets_dropped}\n")


def _cloud_log(st: EdgeState, now: float) -> str:
    lines = [f"{_stamp(st.boot_time + 5)} INFO  cloud-link: connected to the Genesys Cloud region (TLS 443)"]
    if WAN_DOWN.on(st):
        lines += [f"{_stamp(now - 30)} WARN  cloud-link: connection lost (no route to host)",
                  f"{_stamp(now - 15)} WARN  cloud-link: reconnect failed; retrying in 15 s",
                  f"{_stamp(now)} WARN  cloud-link: reconnect failed; retrying in 15 s"]
    return "\n".join(lines) + "\n"


PCAP_PAYLOAD = 160  # bytes of G.711 per 20 ms packet
PCAP_GZ_PER_PACKET = PCAP_PAYLOAD + 14  # what one packet adds to the bundle: its payload, headers compressed


def _pcap(count: int, now: float, rng: random.Random) -> bytes:
    """A libpcap capture of ``count`` packets: Ethernet, IPv4, UDP, RTP PCMU with 160-byte payloads."""
    out = io.BytesIO()
    out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    payload = PCAP_PAYLOAD
    noise = rng.randbytes(count * payload)
    ssrc, seq, ts = rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(32)
    eth = bytes.fromhex("00045a000001" "00045a000002" "0800")
    t0 = now - count * 0.02
    for i in range(count):
        t = t0 + i * 0.02
        rtp = struct.pack("!BBHII", 0x80, 0, (seq + i) & 0xFFFF, (ts + 160 * i) & 0xFFFFFFFF, ssrc)
        udp = struct.pack("!HHHH", 16384, 16386, 8 + 12 + payload, 0)
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0xB8, 20 + 8 + 12 + payload, i & 0xFFFF, 0, 64, 17, 0,
                         bytes((10, 0, 0, 1)), bytes((10, 0, 0, 2)))
        frame = eth + ip + udp + rtp + noise[i * payload:(i + 1) * payload]
        out.write(struct.pack("<IIII", int(t), int(t * 1e6) % 1_000_000, len(frame), len(frame)))
        out.write(frame)
    return out.getvalue()


def volume_kb(st: DeviceState) -> int:
    """The Edge's log volume in KiB: the ``log-volume=KB`` fault's, else :data:`DEFAULT_VOLUME_KB`."""
    v = LOG_VOLUME.value(st)
    return v if v is not None else DEFAULT_VOLUME_KB


def make_bundle(st: EdgeState, disk: Path) -> Bundle:
    """Write a new bundle of ``st``'s logs into ``disk/logs`` and return what the Edge announces.

    Under the ``log-corrupt`` fault one byte in the middle of the file is changed after hashing.
    """
    now = time.time()
    rng = random.Random(f"{st.name}-{now}")
    texts = {"edge.log": _edge_log(st, now, rng), "sip.log": _sip_log(st, now), "media.log": _media_log(st, now),
             "cloud-link.log": _cloud_log(st, now)}
    members: dict[str, bytes] = {k: v.encode() for k, v in texts.items()}
    text_gz = sum(map(len, members.values())) // 6 + 1024  # text logs compress about 6:1; tar headers
    members["capture.pcap"] = _pcap(max(0, volume_kb(st) * 1024 - text_gz) // PCAP_GZ_PER_PACKET, now, rng)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=6) as tar:
        for name in FILES:
            info = tarfile.TarInfo(f"{st.hostname}-logs/{name}")
            info.size, info.mtime, info.mode = len(members[name]), int(now), 0o644
            tar.addfile(info, io.BytesIO(members[name]))
    data = buf.getvalue()
    logs = disk / LOG_DIR
    n = 1 + max((_serial(p) for p in logs.glob("*.tar.gz")), default=0)
    name = f"{st.hostname}-logs-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(now))}-{n}.tar.gz"
    sha = hashlib.sha256(data).hexdigest()
    if LOG_CORRUPT.on(st):
        mid = len(data) // 2
        data = data[:mid] + bytes((data[mid] ^ 0xFF,)) + data[mid + 1:]
    (logs / name).write_bytes(data)
    bundle = Bundle(name, f"/{LOG_DIR}/{name}", len(data), sha, tuple((f, len(members[f])) for f in FILES))
    (logs / f"{name}.manifest").write_text(manifest_text(bundle))
    for old in sorted(logs.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime_ns, reverse=True)[KEEP_BUNDLES:]:
        old.unlink(missing_ok=True)
        old.with_name(old.name + ".manifest").unlink(missing_ok=True)
    return bundle


def _serial(p: Path) -> int:
    """The ``n`` of ``<host>-logs-<time>-<n>.tar.gz`` (0 for other names)."""
    tail = p.name.removesuffix(".tar.gz").rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def manifest_text(b: Bundle) -> str:
    """The manifest as the CLI prints it (format in the module docstring), CRC-32 line last."""
    body = (f"Log bundle      : {b.sftp_path}\n"
            f"Size            : {b.size_bytes} bytes\n"
            f"SHA-256         : {b.sha256}\n"
            f"Files           : {len(b.files)}\n"
            + "".join(f"  {name:<20} {size:>10} bytes\n" for name, size in b.files))
    return body + f"Manifest CRC-32 : {zlib.crc32(body.encode()):08x}\n"


def _find(disk: Path, name: str | None) -> Path | None:
    logs = disk / LOG_DIR
    if name:
        p = logs / Path(name).name
        return p if p.is_file() and p.name.endswith(".tar.gz") else None
    bundles = sorted(logs.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime_ns)
    return bundles[-1] if bundles else None


def logs_command(st: EdgeState, disk: Path | None, args: list[str], console: bool
                 ) -> tuple[str, XmodemSend | None]:
    """``logs bundle|manifest [NAME]|list|send [NAME]``: (output text, a sender to start or None)."""
    if disk is None:
        return "% Logs are not available on this Edge\n", None
    what = args[0].lower() if args else ""
    name = args[1] if len(args) > 1 else None
    if what and "bundle".startswith(what):
        return manifest_text(make_bundle(st, disk)), None
    if what and "list".startswith(what):
        rows = sorted((disk / LOG_DIR).glob("*.tar.gz"), key=lambda p: p.stat().st_mtime_ns)
        return "".join(f"/{LOG_DIR}/{p.name} {p.stat().st_size} bytes\n" for p in rows) or "No log bundles\n", None
    if what and ("manifest".startswith(what) or "send".startswith(what)):
        path = _find(disk, name)
        if path is None:
            return f"% No log bundle {name or ''}".rstrip() + "; make one with 'logs bundle'\n", None
        if "manifest".startswith(what):
            return path.with_name(path.name + ".manifest").read_text(), None
        if not console:
            return (f"% logs send streams XMODEM on the serial console only; over SSH fetch /{LOG_DIR}/{path.name} "
                    "by SFTP\n"), None
        size = path.stat().st_size
        return (f"Sending {path.name} ({size} bytes) by XMODEM-1K, CRC-16. Start your receiver now.\n",
                XmodemSend(path))
    return "% Usage: logs bundle | logs manifest [NAME] | logs list | logs send [NAME]\n", None


# --- XMODEM-1K sender on the console ----------------------------------------------------------------


class XmodemSend:
    """One XMODEM-1K send of ``path``, run by the `xmodem` package's sender in a thread.

    The console calls :meth:`start` with its raw writer (no line-end translation) and a callback
    for the end, then hands every byte the receiver sends to :meth:`feed`. :meth:`cancel` (the
    console stops, its client left) makes the sender give up at once.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._in = bytearray()
        self._cond = threading.Condition()
        self._cancelled = False  # the console stopped or its client left: end quietly
        self._aborted = False  # the receiver sent CAN CAN: end and say so
        self._loop: asyncio.AbstractEventLoop | None = None
        self._write: Callable[[bytes], None] = lambda b: None

    def start(self, write: Callable[[bytes], None], done: Callable[[str], None]) -> None:
        self._loop = asyncio.get_running_loop()
        self._write = write
        threading.Thread(target=self._run, args=(done,), name=f"xmodem-send {self.path.name}", daemon=True).start()

    def feed(self, data: bytes) -> None:
        with self._cond:
            self._in += data
            self._cond.notify_all()

    def cancel(self) -> None:
        with self._cond:
            self._cancelled = True
            self._cond.notify_all()

    def _getc(self, size: int, timeout: float = 1) -> bytes | None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._in) < size and not (self._cancelled or self._aborted):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            if CAN * 2 in self._in:  # the receiver gave up (XMODEM's abort); the package honours it only at start
                self._aborted = True
            if self._cancelled or self._aborted or not self._in:
                return None
            data = bytes(self._in[:size])
            del self._in[:size]
            return data

    def _putc(self, data: bytes, timeout: float = 1) -> int | None:
        if self._cancelled or self._aborted or self._loop is None:
            return None
        with contextlib.suppress(RuntimeError):  # the loop closed: the twin is stopping
            self._loop.call_soon_threadsafe(self._write, bytes(data))
            return len(data)
        return None

    def _run(self, done: Callable[[str], None]) -> None:
        size = self.path.stat().st_size
        try:
            with open(self.path, "rb") as f:
                ok = XMODEM1k(self._getc, self._putc).send(f, retry=SEND_RETRY, timeout=SEND_TIMEOUT_S, quiet=True)
            msg = (f"Transfer complete: {size} bytes" if ok else "Transfer failed: cancelled by the receiver"
                   if self._aborted else "Transfer failed: the receiver gave no ACK")
        except OSError as e:
            msg = f"Transfer failed: {e}"
        if self._loop is not None and not self._cancelled:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(done, msg)
