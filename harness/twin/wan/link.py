"""The WAN link on the Edge's carrier media: loss, delay, jitter and a token-bucket shaper, in user space.

The twin's machine has no netem qdisc (NETWORK-NOTES), so the link is an impairment stage the Edge's
media relay hands every datagram of its carrier leg to (``out``: toward the carrier, ``in``: from
it) instead of sending it at once (:func:`carry`). Per datagram, the faults of the ``wan`` unit
(:mod:`.faults`) are read: loss (Bernoulli), then the shaper (a link of KBPS kbit/s per direction
with a queue of :data:`QUEUE_MAX_MS`: a datagram waits until the link is free and is dropped when
the wait would exceed it), then delay ± jitter (uniform, each datagram on its own, so with jitter
larger than the packet interval datagrams overtake each other, as with netem's jitter; without
jitter order is kept). Release uses the asyncio loop
(``call_at``), so its timing error is the loop's: about 1 ms at p99 on an idle box, up to a few
ms when both cores are busy (EMULATION-NOTES §9); the receiver measures what really happened.

Without the ``wan`` unit (no ``network.media`` in the inventory) or with no fault set, a datagram
goes straight through.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable

from ..core import uplink
from .faults import WAN_DELAY, WAN_JITTER, WAN_LOSS, WAN_SHAPE
from .state import WanState

QUEUE_MAX_MS = 100.0  # project choice: the voice queue's depth; what would wait longer is tail-dropped
L2_OVERHEAD = 18  # Ethernet header and FCS, bytes (DUTIES.md §2.4)
ORDER_STEP_S = 1e-6  # a datagram is released at least this long after the one before it
IP_UDP = 28  # IPv4 + UDP headers, bytes: the datagram's size on IP is its payload + 28


class WanLink:
    """One emulated WAN link (both directions) reading its faults from ``st``."""

    def __init__(self, st: WanState, rng: random.Random | None = None) -> None:
        self.st = st
        self.rng = rng or random.Random()
        self._free_at = {"out": 0.0, "in": 0.0}  # when the shaped link is free again (loop clock)
        self._last = {"out": 0.0, "in": 0.0}  # latest release time (order kept)

    def carry(self, direction: str, data: bytes, deliver: Callable[[bytes], object]) -> None:
        """Take one datagram of ``direction`` (``"out"``/``"in"``) and call ``deliver(data)`` when (and
        if) the link lets it through."""
        st = self.st
        st.offered[direction] += 1
        st.offered_octets[direction] += len(data) + IP_UDP + L2_OVERHEAD
        loss = WAN_LOSS.value(st)
        if loss and self.rng.random() * 100.0 < loss:
            st.lost[direction] += 1
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        release = now
        rate = WAN_SHAPE.value(st)
        if rate:
            start = max(now, self._free_at[direction])
            if (start - now) * 1000.0 > QUEUE_MAX_MS:
                st.shaped_out[direction] += 1
                return
            self._free_at[direction] = release = start + (len(data) + IP_UDP + L2_OVERHEAD) * 8 / (rate * 1000.0)
        delay_ms = WAN_DELAY.value(st) or 0.0
        jitter_ms = WAN_JITTER.value(st) or 0.0
        if jitter_ms:
            delay_ms = max(0.0, delay_ms + self.rng.uniform(-jitter_ms, jitter_ms))
        if jitter_ms:  # independent delays: datagrams may overtake each other, as netem's jitter lets them
            release += delay_ms / 1000.0
        else:  # strictly after the one before: the loop's timer heap does not keep ties in order
            release = max(release + delay_ms / 1000.0, self._last[direction] + ORDER_STEP_S)
            self._last[direction] = release
        st.delivered[direction] += 1
        st.octets[direction] += len(data) + IP_UDP + L2_OVERHEAD
        if release <= now:
            deliver(data)
        else:
            loop.call_at(release, deliver, data)

    def switch_port_octets(self) -> tuple[int, int]:
        """What the switch port toward the WAN router counts of this link (:meth:`WanState.switch_port_octets`)."""
        return self.st.switch_port_octets()


class WanService:
    """``wan-link`` of the ``wan`` unit: while started, the link is the site's uplink
    (:mod:`harness.twin.core.uplink`) and the Edge's carrier media goes through it."""

    name = "wan-link"

    def __init__(self, st: WanState) -> None:
        self.link = WanLink(st)

    async def start(self) -> None:
        uplink.attach(self.link)

    async def stop(self) -> None:
        uplink.detach(self.link)
