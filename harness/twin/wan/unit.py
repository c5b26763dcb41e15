"""The WAN link as the twin unit ``wan`` (present when the inventory has ``network.media``): its state
(:mod:`.state`) and its one service, the link on the Edge's carrier media (:mod:`.link`). Heal
zeroes nothing: counters are what the link carried."""

from __future__ import annotations

from ..core.twin import Service, Twin, UnitSpec, register_unit
from .link import WanService
from .state import WanState, wan_state


def wan_services(twin: Twin, unit: str) -> list[Service]:
    st = twin.states[unit]
    assert isinstance(st, WanState)
    return [WanService(st)]


WAN = register_unit(UnitSpec(role="wan", state=wan_state, services=wan_services))
