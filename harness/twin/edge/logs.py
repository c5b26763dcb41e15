"""The twin Edge's log bundles: made on request (a log job through the emulated Genesys Cloud API).

An Edge keeps its files (its "disk") under ``<data_dir>/edge-disk/<device>/``
(:attr:`~harness.twin.core.twin.Twin.data_dir`): bundles live in ``logs/`` there, named
``<hostname>-logs-<UTC time>-<n>.tar.gz``; the newest :data:`KEEP_BUNDLES` are kept.
A bundle is a gzip'd tar of ``edge.log``, ``sip.log``,
``media.log``, ``cloud-link.log`` (text written from the Edge's live state: firmware, services,
registrations, trunk and media counters, the cloud link's ups and downs) and ``capture.pcap``
(a libpcap capture of RTP on the phone trunk). The capture fills the bundle to the Edge's log
volume: :data:`DEFAULT_VOLUME_KB`, or the ``log-volume=KB`` fault's KB (the benchmark's 5 MB).

The bundles are what the Edge's log jobs list and upload through the emulated Genesys Cloud API
(:mod:`harness.twin.cloud.resources.edge_logs`): a Genesys Edge gives its customer no command line,
SFTP or console to fetch them.

Faults (declared in :mod:`.faults`): ``log-corrupt`` damages each new bundle on disk after it was
hashed, so the archive the API delivers no longer reads whole (its gzip CRC-32); ``log-volume=KB``
sets the size; ``wan-down`` shows in ``cloud-link.log``.
"""

from __future__ import annotations

import hashlib
import io
import random
import struct
import tarfile
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

from ..core.state import DeviceState
from ..core.twin import Twin
from .faults import LOG_CORRUPT, LOG_VOLUME, WAN_DOWN
from .state import EdgeState

DEFAULT_VOLUME_KB = 256  # project choice: a quiet Edge's logs and a short capture, compressed
KEEP_BUNDLES = 3  # project choice: bundles kept on the Edge's disk, newest first
SEND_TIMEOUT_S = 10  # the sender waits this long for each ACK (the receiver's purge takes 1 s)
LOG_DIR = "logs"
FILES = ("edge.log", "sip.log", "media.log", "cloud-link.log", "capture.pcap")


# --- the Edge's disk and its bundles ----------------------------------------------------------------


def edge_disk(twin: Twin, device: str) -> Path:
    """The Edge's own folder (``<data_dir>/edge-disk/<device>``, with ``logs/``), made on first use."""
    d = twin.data_dir / "edge-disk" / device
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
    """The bundle's manifest, kept beside it on the Edge's disk (``NAME.manifest``): path, size,
    SHA-256, its files, and a CRC-32 (zlib's, 8 hex digits) of every line above it."""
    body = (f"Log bundle      : {b.sftp_path}\n"
            f"Size            : {b.size_bytes} bytes\n"
            f"SHA-256         : {b.sha256}\n"
            f"Files           : {len(b.files)}\n"
            + "".join(f"  {name:<20} {size:>10} bytes\n" for name, size in b.files))
    return body + f"Manifest CRC-32 : {zlib.crc32(body.encode()):08x}\n"
