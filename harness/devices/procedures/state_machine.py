"""The explicit state machine the multi-step procedures run on, in the style of labgrid's strategies.

A procedure names its steps in an :class:`enum.StrEnum` (a member's value is the step's name in
reports and messages: ``report.step_reached == "done"`` and ``f"step {report.step_reached}"`` read
as plain text) and has ONE transition function, ``step(state) -> next state | None``: it does the
work of ``state`` and returns the step that follows, or ``None`` to stop in ``state`` (the
procedure's report says why). :func:`run_steps` runs that function from the first step and tells
the report each step as it starts and how long it took; the report keeps the steps taken, the
step it stopped in and why.

``driver_of`` gives a device's driver as the class a procedure needs (a ValueError otherwise), so a
procedure's driver parameters are typed.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from typing import TypeVar

from ..driver import Driver
from ..session import LabSession

StepT = TypeVar("StepT", bound=enum.Enum)
DriverT = TypeVar("DriverT", bound=Driver)


def run_steps(first: StepT, step: Callable[[StepT], StepT | None], *, entered: Callable[[StepT], None],
              left: Callable[[StepT, float], None] | None = None) -> StepT:
    """Run the transition function ``step`` from ``first`` until it returns ``None``.

    ``entered(state)`` is called as each step starts (the report records it), ``left(state,
    seconds)`` as it ends, also when it raised (``seconds``: monotonic time the step took).

    Returns:
        The state the machine stopped in.
    Raises:
        Whatever ``step`` raises, after ``left`` was told.
    """
    state = first
    while True:
        entered(state)
        started = time.monotonic()
        try:
            following = step(state)
        finally:
            if left is not None:
                left(state, time.monotonic() - started)
        if following is None:
            return state
        state = following


def driver_of(lab: LabSession, name: str, cls: type[DriverT]) -> DriverT:
    """The driver of device ``name`` as a ``cls``.

    Raises:
        ValueError: the inventory's device ``name`` is driven by another class (another role).
        LabError: every transport of the device is quarantined.
    """
    drv = lab.driver(name)
    if not isinstance(drv, cls):
        dev = lab.lab.devices[name]
        raise ValueError(f"{name} is a {dev.role} ({dev.platform}), not a {cls.__name__}")
    return drv
