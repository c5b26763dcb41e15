"""What can be checked before a run, in one place: the inventory (models and cross-checks), a
driver for every platform, and the requirement profile and the attestation file the inventory
names. `hil inventory check`, `hil run` and the pytest plugin all call :func:`check_lab`."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from pathlib import Path

from .devices.registry import platform_problems
from .duties.catalogue import CATALOGUE
from .duties.profile import ProfileError, load_profile
from .errors import InventoryError
from .inventory import LoadedLab, load
from .inventory.attestations import Attestation, load_attestations


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
    try:
        attestations_of(loaded)
    except InventoryError as e:
        problems.extend(str(p) for p in e.problems)
    return loaded, problems


def attestations_of(loaded: LoadedLab) -> list[Attestation]:
    """The attestation records of the file the inventory names (``[]`` when it names none), checked
    against the duty catalogue.

    Raises:
        InventoryError: one ``FILE:LINE: path: problem`` per problem of the file.
    """
    if not loaded.lab.attestations:
        return []
    path = loaded.relative(loaded.lab.attestations)
    if not path.is_file():
        return []  # the inventory's own check says so, at the line of its `attestations` key
    return load_attestations(path, {d.id: d.kind for d in CATALOGUE.values()})


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
