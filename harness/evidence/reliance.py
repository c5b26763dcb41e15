"""What a check relied on, as the scenario declares it: the plugin reads it when a test would FAIL.

A FAIL stands only when the lab was sound in every part the check relied on (the rule is the
plugin's, :mod:`hil_pytest.plugin`). The plugin knows most of those parts itself: the devices a test
is parametrized with and the devices whose sessions it used (the transcript book, and the shared
reads it was handed). A scenario adds what the plugin cannot see:

* :func:`relies_on` — devices its result depends on although it drives none of them: an inbound
  call to a DID is answered by the phone the Edge routes it to (``relies_on("phone2")``);
* :func:`acts_on` — devices the test itself takes away (a software update, a firmware rollout):
  one that does not come back is the test's finding, so it is not asked whether it is alive;
* :func:`lab_state_guard` — a reading of lab state another actor could change (the Edge's live
  call count, the switch's configuration): the guard is called when the test would FAIL and
  returns what it saw that the check did not expect (``"2 calls already up on edge1"``), or None;
  an answer makes the test BROKEN ("lab busy: …") instead.

All three are reset by the plugin before each test (:data:`RELIANCE`) and are thread-safe. A guard
must not raise: what it cannot read it leaves to the liveness probe (return None).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

#: a guard: None when the lab was as the check needed it, else what was seen (one line)
LabStateGuard = Callable[[], str | None]


@dataclass
class Reliance:
    """What the running test declared: ``devices`` relied on, devices ``acted_on``, ``guards``."""

    devices: dict[str, None] = field(default_factory=dict)
    acted_on: dict[str, None] = field(default_factory=dict)
    guards: list[LabStateGuard] = field(default_factory=list)


class ReliedOn:
    """The running test's :class:`Reliance` (thread-safe; the plugin calls :meth:`reset` per test)."""

    def __init__(self) -> None:
        self._now = Reliance()
        self._lock = threading.Lock()

    def add_devices(self, names: tuple[str, ...]) -> None:
        with self._lock:
            self._now.devices.update(dict.fromkeys(names))

    def add_acted_on(self, names: tuple[str, ...]) -> None:
        with self._lock:
            self._now.acted_on.update(dict.fromkeys(names))

    def add_guard(self, guard: LabStateGuard) -> None:
        with self._lock:
            self._now.guards.append(guard)

    def reset(self) -> Reliance:
        """What was declared since the last reset; starts afresh."""
        with self._lock:
            now, self._now = self._now, Reliance()
            return now


RELIANCE = ReliedOn()


def relies_on(*devices: str) -> None:
    """The running check's result depends on ``devices`` (inventory names) although it may open no
    session to them: if one is dead when the check fails, the test is BROKEN naming it, not FAIL."""
    RELIANCE.add_devices(tuple(d for d in devices if d))


def acts_on(*devices: str) -> None:
    """The running test itself restarts or updates ``devices``: one that is gone after it acted is
    what the test found (a FAIL), not a broken lab, so the plugin does not probe it."""
    RELIANCE.add_acted_on(tuple(d for d in devices if d))


def lab_state_guard(guard: LabStateGuard) -> None:
    """Call ``guard`` if the running test would FAIL: a non-None answer ("2 calls already up on
    edge1") says the lab was not in the state the check needs, and makes the test BROKEN (lab busy)."""
    RELIANCE.add_guard(guard)
