"""The WAN link's live state: its counters per direction (``out``: Edge -> carrier, ``in``: carrier ->
Edge) and the voice rate the inventory gives it."""

from __future__ import annotations

from dataclasses import dataclass, field

from ...inventory.models import Lab
from ..core.state import DeviceState

UNIT_NAME = "wan"


@dataclass
class WanState(DeviceState):
    """``voice_kbps``: the inventory's ``network.media.wan_voice_kbps`` (``None``: not stated).
    Counters per direction (``"out"``, ``"in"``): datagrams offered, delivered, dropped by loss,
    dropped by the shaper's full queue, layer-2 octets offered (before loss and shaping) and delivered."""

    voice_kbps: float | None = None
    offered: dict[str, int] = field(default_factory=lambda: {"out": 0, "in": 0})
    delivered: dict[str, int] = field(default_factory=lambda: {"out": 0, "in": 0})
    lost: dict[str, int] = field(default_factory=lambda: {"out": 0, "in": 0})
    shaped_out: dict[str, int] = field(default_factory=lambda: {"out": 0, "in": 0})
    octets: dict[str, int] = field(default_factory=lambda: {"out": 0, "in": 0})
    offered_octets: dict[str, int] = field(default_factory=lambda: {"out": 0, "in": 0})

    def switch_port_octets(self) -> tuple[int, int]:
        """What the switch port toward the WAN router counts of this link, as ``(in, out)`` layer-2
        octets: out, what the Edge sent toward the WAN (counted on the port before the WAN loses or
        shapes it); in, what came back over the WAN (after it)."""
        return self.octets["in"], self.offered_octets["out"]


def wan_state(lab: Lab) -> WanState | None:
    """The unit's state when the inventory has ``network.media``; ``None`` (no unit) otherwise."""
    media = lab.network.media
    if media is None:
        return None
    return WanState(name=UNIT_NAME, role="wan", platform="twin_wan", host="", voice_kbps=media.wan_voice_kbps)
