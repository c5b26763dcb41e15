"""What can be checked before a run, in one place: the inventory (models and cross-checks), a
driver for every platform, and the requirement profile the inventory names. `hil inventory
check`, `hil run` and the pytest plugin all call :func:`check_lab`."""

from __future__ import annotations

from pathlib import Path

from ..devices.base import platform_problems
from ..errors import InventoryError
from ..inventory import LoadedLab, load
from .profile import ProfileError, load_profile


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
