"""Helpers the benchmarks share: timing a call, and the one-after-the-other baseline."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from harness.errors import LabError


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """(seconds, result) of ``fn()``, wall clock."""
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def one_by_one(drivers: Iterable[Any], call: Callable[[Any], Any]) -> dict[str, Any]:
    """``call(driver)`` for each driver in turn: name -> result, or the LabError it raised."""
    out: dict[str, Any] = {}
    for d in drivers:
        try:
            out[d.name] = call(d)
        except LabError as e:
            out[d.name] = e
    return out
