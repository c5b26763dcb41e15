"""The state every emulated device has, whatever its role. Protocol services read and write it; faults bend it.

State is real state: a VLAN created over the switch CLI is in the next ``show vlan brief`` and in
the SNMP view, because both read the same objects. Each role package subclasses
:class:`DeviceState` with what its devices hold (``harness/twin/<role>/state.py``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class DeviceState:
    """``name`` (inventory key), ``role``, ``platform``, ``host`` (its 127.x address), the faults on
    it now (name -> value, ``None`` for a fault without value) and when it booted (epoch seconds)."""

    name: str
    role: str
    platform: str
    host: str
    faults: dict[str, str | None] = field(default_factory=dict)
    boot_time: float = field(default_factory=time.time)

    def uptime_s(self) -> float:
        return time.time() - self.boot_time
