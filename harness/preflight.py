"""What can be checked before a run, in one place: the inventory (models and cross-checks), a
driver for every platform, and the requirement profile the inventory names. `hil inventory
check`, `hil run` and the pytest plugin all call :func:`check_lab`."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from pathlib import Path

from .devices.registry import platform_problems
from .duties.catalogue import CATALOGUE
from .duties.profile import ProfileError, load_profile
from .errors import InventoryError
from .inventory import LoadedLab, load


def check_lab(path: Path) -> tuple[LoadedLab | None, list[str]]:
    """The loaded lab (``None`` when the inventory itself is invalid) and one line per problem
    (``FILE:LINE: path: message``)."""
    try:
        loaded = load(path)
    except InventoryError as e:
        return None, [str(p) for p in e.problems]
    problems = platform_problems(loaded)
    if loaded.lab.profile:
        try:
            load_profile(loaded.relative(loaded.lab.profile))
        except ProfileError as e:
            problems.append(str(e))
    return loaded, problems


def selection_problems(duties: Iterable[str], devices: Iterable[str], known_devices: Collection[str]) -> list[str]:
    """What is wrong with a ``--duty``/``--device`` selection, one line each: IDs the catalogue does
    not have (with the right spelling when only the case differs), names ``known_devices`` lacks.
    ``hil run`` checks this before it starts a twin or clears reports; the plugin for plain pytest."""
    out = []
    by_upper = {d.upper(): d for d in CATALOGUE}
    for d in duties:
        if d not in CATALOGUE:
            hint = f"; did you mean {by_upper[d.upper()]}?" if d.upper() in by_upper else " (see `hil duties`)"
            out.append(f"--duty {d}: no such duty{hint}")
    for name in devices:
        if name not in known_devices:
            out.append(f"--device {name}: no such device in the inventory ({', '.join(sorted(known_devices))})")
    return out
