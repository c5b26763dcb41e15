"""Faults the twin can inject, by name. ``hil lab fault --list`` prints this table.

A fault is applied to one device; ``heal`` removes every fault of a device and undoes what each
one changed. Faults are for the harness's own tests and for people: scenarios never use them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .server import Twin

MAX_VALUE_CHARS = 128  # project choice: a version string or a name, never a payload

Apply = Callable[["Twin", str, str | None], Awaitable[Callable[[], Awaitable[None]] | None]]


@dataclass(frozen=True)
class Fault:
    """``apply(twin, device, value)`` changes the device and may return an async undo.

    A fault with ``value`` (its name) needs one: 1..:data:`MAX_VALUE_CHARS` printable characters,
    no whitespace at either end; a fault without ``value`` refuses one (checked by ``Twin.apply_fault``).
    """

    name: str
    roles: tuple[str, ...]
    help: str
    apply: Apply
    value: str | None = None  # name of the value, e.g. "VERSION", when one is required


FAULTS: dict[str, Fault] = {}


def fault(name: str, roles: tuple[str, ...], help: str, value: str | None = None) -> Callable[[Apply], Apply]:
    """Register a fault implementation (decorator)."""

    def deco(fn: Apply) -> Apply:
        FAULTS[name] = Fault(name, roles, help, fn, value)
        return fn

    return deco


ALL_ROLES = ("edge", "switch", "phone", "pstn")


@fault("down", ALL_ROLES, "the device stops answering on every transport (as if powered off)")
async def _down(twin: Twin, device: str, value: str | None) -> Callable[[], Awaitable[None]]:
    await twin.stop_services(device)

    async def undo() -> None:
        await twin.start_services(device)

    return undo


@fault("firmware", ("edge", "phone"), "the device reports this firmware version", value="VERSION")
async def _firmware(twin: Twin, device: str, value: str | None) -> None:
    return None  # EdgeState/PhoneState.firmware reads the fault value


@fault("drop-voice-vlan", ("switch",), "the voice VLAN is deleted and removed from every port")
async def _drop_voice_vlan(twin: Twin, device: str, value: str | None) -> Callable[[], Awaitable[None]]:
    from .state import SwitchState

    st = twin.states[device]
    assert isinstance(st, SwitchState)
    dev = twin.lab.devices[device]
    vid = getattr(dev.facts, "voice_vlan", None)
    saved_name = st.vlans.pop(vid, None) if vid else None
    saved_ports = {p.name: p.voice_vlan for p in st.ports.values() if vid and p.voice_vlan == vid}
    for p in st.ports.values():
        if p.name in saved_ports:
            p.voice_vlan = None

    async def undo() -> None:
        if vid and saved_name is not None:
            st.vlans[vid] = saved_name
        for n, v in saved_ports.items():
            st.ports[n].voice_vlan = v

    return undo


@fault("options-silent", ("pstn", "edge"), "SIP OPTIONS are dropped; other SIP requests are answered")
async def _options_silent(twin: Twin, device: str, value: str | None) -> None:
    return None  # the SIP service checks the fault flag
