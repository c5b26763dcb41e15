"""Fault declarations: each fault is declared once, next to the code that reads it, and read through
the handle its declaration returns, never by its name as a string::

    OPTIONS_SILENT = declare("options-silent", ("pstn", "edge"), "SIP OPTIONS are dropped; …")
    if OPTIONS_SILENT.on(state): ...

    MAX_CALLS = declare_value("max-calls", ("edge",), "the trunk enforces N …", "N", whole_number(0, 100000))
    limit = MAX_CALLS.value(state)  # an int, or None while the fault is off

A fault is applied to one device (``hil lab fault DEVICE NAME[=VALUE]``, the control channel's
``fault`` op); ``heal`` removes every fault of a device and runs the undo each one returned. A fault
whose effect is read where it matters (a flag) needs no ``apply``; one that changes state gives
``apply(twin, device[, value]) -> undo``. Faults are for the harness's own tests and for people:
scenarios never use them. The name, roles, help and value name of each are what
``hil lab fault --list`` prints.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from .state import DeviceState
from .twin import Twin, Undo, register_fault

V = TypeVar("V")
Parse = Callable[[str, str], V]  # (fault name, value text) -> value; ValueError with the user's message


class _Declared:
    """What every declared fault answers: is it on a device, which roles it applies to."""

    name: str
    roles: tuple[str, ...]

    def on(self, st: DeviceState) -> bool:
        """The fault is on the device whose state is ``st``."""
        return self.name in st.faults

    def role_names(self) -> tuple[str, ...]:
        """The roles the fault applies to (inventory ``role`` values)."""
        return self.roles


@dataclass(frozen=True, eq=False)
class Fault(_Declared):
    """A fault without a value (a flag). ``apply(twin, device)`` changes the device and may return
    an async undo; without ``apply`` the fault only switches on what reads :meth:`on`."""

    name: str
    roles: tuple[str, ...]
    help: str
    apply: Callable[[Twin, str], Awaitable[Undo | None]] | None = None

    @property
    def value_name(self) -> str | None:
        return None

    async def inject(self, twin: Twin, device: str, value: str | None) -> Undo | None:
        return await self.apply(twin, device) if self.apply is not None else None


@dataclass(frozen=True, eq=False)
class ValueFault(_Declared, Generic[V]):
    """A fault that needs a value (``firmware=VERSION``): ``parse(name, text)`` checks and converts it
    (ValueError with the user's message); ``apply(twin, device, value)`` gets the converted value."""

    name: str
    roles: tuple[str, ...]
    help: str
    value_name: str
    parse: Parse[V]
    apply: Callable[[Twin, str, V], Awaitable[Undo | None]] | None = None

    def value(self, st: DeviceState) -> V | None:
        """The fault's value on the device whose state is ``st``, converted; ``None`` while it is off."""
        text = st.faults.get(self.name)
        return None if text is None else self.parse(self.name, text)

    async def inject(self, twin: Twin, device: str, value: str | None) -> Undo | None:
        parsed = self.parse(self.name, value or "")
        return await self.apply(twin, device, parsed) if self.apply is not None else None


def declare(name: str, roles: tuple[str, ...], help: str,
            apply: Callable[[Twin, str], Awaitable[Undo | None]] | None = None) -> Fault:
    """Declare a fault without a value, for devices of ``roles``. Raises ValueError for a name
    declared twice."""
    f = Fault(name, roles, help, apply)
    register_fault(f)
    return f


def declare_value(name: str, roles: tuple[str, ...], help: str, value_name: str, parse: Parse[V],
                  apply: Callable[[Twin, str, V], Awaitable[Undo | None]] | None = None) -> ValueFault[V]:
    """Declare a fault that needs a value named ``value_name`` (``"PORT:VLAN"``), checked by ``parse``.
    Raises ValueError for a name declared twice."""
    f = ValueFault(name, roles, help, value_name, parse, apply)
    register_fault(f)
    return f


# --- value parsers -----------------------------------------------------------------------------------

def text(name: str, value: str) -> str:
    """Any value (the twin has checked it is 1..128 printable characters)."""
    return value


def whole_number(low: int, high: int) -> Parse[int]:
    """A parser of a whole number ``low``..``high``."""

    def parse(name: str, value: str) -> int:
        if not value.isdigit() or not low <= int(value) <= high:
            raise ValueError(f"fault {name} needs a whole number {low}-{high}, got {value!r}")
        return int(value)

    return parse


# --- undo helpers --------------------------------------------------------------------------------------

def set_fields(obj: object, **values: object) -> Undo:
    """Set attributes of ``obj`` and return an undo that puts exactly those back."""
    saved = {k: getattr(obj, k) for k in values}
    for k, v in values.items():
        setattr(obj, k, v)

    async def undo() -> None:
        for k, v in saved.items():
            setattr(obj, k, v)

    return undo


def undo_all(undos: list[Undo]) -> Undo:
    """One undo running ``undos`` last first."""

    async def undo() -> None:
        for u in reversed(undos):
            await u()

    return undo
