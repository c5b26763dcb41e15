"""The explicit state machine the multi-step procedures run on, in the style of labgrid's strategies.

A procedure names its steps in an :class:`enum.StrEnum` (a member's value is the step's name in
reports and messages: ``report.step_reached == "done"`` and ``f"step {report.step_reached}"`` read
as plain text) and has ONE transition function, ``step(state) -> next state | None``: it does the
work of ``state`` and returns the step that follows, or ``None`` to stop in ``state`` (the
procedure's report says why). :func:`run_steps` runs that function from the first step and tells
the report each step as it starts and how long it took; the report keeps the steps taken, the
step it stopped in and why. Users: the phone upgrade (:mod:`.firmware_rollout`) and the Edge update
(:mod:`.edge_update`). Switch provisioning's machine (:mod:`.switch_provisioning`) is not run to an
end by one call: the scenario's calls move it, through its transition function ``change_after``.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from typing import TypeVar

StepT = TypeVar("StepT", bound=enum.Enum)


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

