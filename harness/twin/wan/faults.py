"""The WAN link's faults, bounded, read per datagram by :mod:`.link`:

* ``wan-loss=PCT``: each datagram is dropped with probability PCT % (0-50; Bernoulli, both ways).
* ``wan-delay=MS``: each datagram is held MS ms (0-2000) each way.
* ``wan-jitter=MS``: each datagram's delay varies uniformly by ±MS ms (0-500) around ``wan-delay``
  (never below 0), independently, so datagrams may overtake each other (RFC 3550 jitter then comes
  out near 2/3 of MS per direction: the mean gap between two independent uniform draws).
* ``wan-shape=KBPS``: a token-bucket shaper of KBPS kbit/s (8-10,000,000) per direction, counted on
  layer 2 as DUTIES.md §2.4 does (payload + 40 bytes IP/UDP/RTP is in the datagram's IP size, + 18
  bytes Ethernet), with a queue of :data:`~.link.QUEUE_MAX_MS`; what does not fit is dropped.
"""

from __future__ import annotations

from ..core.faults import Parse, declare_value


def _bounded(low: float, high: float, unit: str) -> Parse[float]:
    """A parser of a number ``low``..``high`` (``unit`` names it in the error)."""

    def parse(name: str, value: str) -> float:
        try:
            v = float(value)
        except ValueError:
            v = -1.0
        if not low <= v <= high:
            raise ValueError(f"fault {name} needs {unit} {low:g}-{high:g}, got {value!r}")
        return v

    return parse


WAN_LOSS = declare_value("wan-loss", ("wan",), "the WAN link drops PCT % of the Edge's carrier media, both ways", "PCT",
                         _bounded(0, 50, "a percentage"))
WAN_DELAY = declare_value("wan-delay", ("wan",), "the WAN link holds the Edge's carrier media MS ms each way", "MS",
                          _bounded(0, 2000, "milliseconds"))
WAN_JITTER = declare_value("wan-jitter", ("wan",), "the WAN link's delay varies by up to ±MS ms per datagram "
                           "(independently: datagrams may overtake)", "MS", _bounded(0, 500, "milliseconds"))
WAN_SHAPE = declare_value("wan-shape", ("wan",), "the WAN link's voice class is shaped to KBPS kbit/s per direction "
                          "(token bucket, layer 2; excess dropped)", "KBPS", _bounded(8, 10_000_000, "kbit/s"))
