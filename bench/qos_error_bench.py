"""Benchmark: the QoS measurement's own error on loopback (issue 14 figures).

One direction of the twin's WAN link (:class:`harness.twin.wan.link.WanLink`) carries a G.711 stream
(RTP every 20 ms, 172 bytes) per configuration, all streams at once on one asyncio loop, each read by
the harness's RTP receiver (:class:`harness.transports.rtp_receiver.RtpReceiver`). Printed per
configuration: the jitter and loss set, what the receiver measured (RFC 3550 jitter, sequence-number
loss) and what was expected: for ``wan-jitter=J`` with independent uniform delays (delay >= J so
none is clipped), RFC 3550 jitter converges to E|U1 - U2| = 2J/3; for ``wan-loss=P``, P %.

Run: ``.venv/bin/python bench/qos_error_bench.py [--packets 1500]`` (no twin needed).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
from pathlib import Path

import dpkt

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.transports.rtp_receiver import RtpReceiver
from harness.twin.wan.link import WanLink
from harness.twin.wan.state import WanState

CONFIGS = [(0, 0), (15, 0), (30, 0), (45, 0), (60, 0), (0, 1), (0, 2), (0, 5)]  # (jitter ms, loss %)


async def one(jitter_ms: float, loss_pct: float, packets: int, seed: int) -> tuple[float, float]:
    faults: dict[str, str | None] = {"wan-delay": str(max(60.0, jitter_ms))}
    if jitter_ms:
        faults["wan-jitter"] = str(jitter_ms)
    if loss_pct:
        faults["wan-loss"] = str(loss_pct)
    link = WanLink(WanState(name="wan", role="wan", platform="twin_wan", host="", faults=faults), random.Random(seed))
    rx = RtpReceiver(audio_pts=(0,))
    loop = asyncio.get_running_loop()
    start = loop.time()
    for i in range(packets):
        pkt = bytes(dpkt.rtp.RTP(pt=0, seq=i & 0xFFFF, ts=i * 160, ssrc=1, data=bytes(160)))
        link.carry("out", pkt, lambda d: rx.feed(d, loop.time()))
        await asyncio.sleep(max(0.0, start + (i + 1) * 0.02 - loop.time()))
    await asyncio.sleep(0.5)
    return rx.stats.jitter_ms, rx.stats.loss_pct


async def main(packets: int) -> None:
    results = await asyncio.gather(*(one(j, p, packets, k) for k, (j, p) in enumerate(CONFIGS)))
    print(f"{packets} packets per stream, {len(CONFIGS)} streams at once")
    print("| set jitter (ms) | expected RFC 3550 jitter (ms) | measured (ms) | set loss (%) | measured loss (%) |")
    print("|---|---|---|---|---|")
    for (j, p), (mj, ml) in zip(CONFIGS, results, strict=True):
        print(f"| {j} | {2 * j / 3:.1f} | {mj:.2f} | {p} | {ml:.2f} |")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--packets", type=int, default=1500)
    asyncio.run(main(ap.parse_args().packets))
