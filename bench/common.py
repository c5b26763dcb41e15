"""Helpers the benchmarks share: a twin of a generated inventory, timing a call, and the
one-after-the-other baseline."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol, TypeVar

from harness.errors import LabError
from harness.inventory import LoadedLab, load
from harness.twin import manager

REPO = Path(__file__).resolve().parent.parent
T = TypeVar("T")


class Named(Protocol):
    """Anything with an inventory ``name`` (every driver)."""

    @property
    def name(self) -> str: ...


N = TypeVar("N", bound=Named)


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    """(seconds, result) of ``fn()``, wall clock."""
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def one_by_one(drivers: Iterable[N], call: Callable[[N], T]) -> dict[str, T | LabError]:
    """``call(driver)`` for each driver in turn: name -> result, or the LabError it raised."""
    out: dict[str, T | LabError] = {}
    for d in drivers:
        try:
            out[d.name] = call(d)
        except LabError as e:
            out[d.name] = e
    return out


@contextmanager
def twin_lab(prefix: str, inventory_text: str) -> Iterator[tuple[Path, LoadedLab, float]]:
    """A twin of ``inventory_text`` in a temp folder (with a copy of the twin's secrets), running.

    Yields (inventory path, loaded lab, seconds the twin took to start); stops the twin after.
    """
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        lab = Path(tmp) / "bench_lab.yaml"
        lab.write_text(inventory_text)
        shutil.copytree(REPO / "twin_secrets", Path(tmp) / "twin_secrets")
        loaded = load(lab)
        t0 = time.perf_counter()
        manager.up(lab)
        try:
            yield lab, loaded, time.perf_counter() - t0
        finally:
            manager.down(lab)
