"""The PSTN simulator's live state: what reached it (counters, calls in progress) and its pings."""

from __future__ import annotations

from dataclasses import dataclass, field

from ...inventory.models import AnyDevice, Lab
from ..core.state import DeviceState


@dataclass
class PstnState(DeviceState):
    options_received: int = 0
    invites_received: int = 0
    calls_answered: int = 0
    acks_received: int = 0
    calls_completed: int = 0  # BYE answered 200 on an answered call
    cancels_received: int = 0
    malformed_received: int = 0  # messages answered 400 or dropped as unparseable
    active_calls: dict[str, str] = field(default_factory=dict)  # Call-ID -> called number (R-URI user), answered
    calls_refused: dict[int, int] = field(default_factory=dict)  # SIP code -> INVITEs refused with it (503 …)
    options_sent: int = 0  # OPTIONS pings sent to the Edges of the trunk
    edge_options: dict[str, int | None] = field(default_factory=dict)  # Edge -> last ping's status, None: silent


def initial_state(name: str, dev: AnyDevice, lab: Lab | None = None) -> PstnState:
    """A PSTN simulator as it boots: nothing received yet."""
    return PstnState(name=name, role=dev.role, platform=dev.platform, host=dev.host)
