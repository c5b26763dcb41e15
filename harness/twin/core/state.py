"""The state every emulated device has, whatever its role. Protocol services read and write it; faults bend it.

State is real state: a VLAN created over the switch CLI is in the next ``show vlan brief`` and in
the SNMP view, because both read the same objects. Each role package subclasses
:class:`DeviceState` with what its devices hold (``harness/twin/<role>/state.py``), and declares a
field that holds a secret with :func:`secret_field`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

from ...inventory.secrets import MASK_TEXT

SECRET = "secret"  # field metadata key: the field holds a secret (never leaves the twin)


def secret_field(default: str = "") -> Any:
    """A state field that holds a secret (a switch's enable secret): :func:`plain` shows it as
    ``*****`` (when set), so the control channel's ``state`` never hands it out."""
    return field(default=default, metadata={SECRET: True})


def plain(value: Any) -> Any:
    """``value`` (a state, or anything inside one) as plain Python values, like
    :func:`dataclasses.asdict`, with every :func:`secret_field` that is set replaced by ``*****``."""
    if is_dataclass(value) and not isinstance(value, type):
        out = {}
        for f in fields(value):
            v = getattr(value, f.name)
            out[f.name] = MASK_TEXT if f.metadata.get(SECRET) and v else plain(v)
        return out
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


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
