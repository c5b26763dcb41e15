"""What can be checked before a run, in one place: the inventory (models and cross-checks), a
driver for every platform, and the requirement profile and the attestation file the inventory
names. `hil inventory check`, `hil run` and the pytest plugin all call :func:`check_lab`; `hil inventory
check` also prints :func:`inventory_warnings` (what is valid but likely a slip)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from pathlib import Path

from .devices.registry import platform_problems
from .duties.catalogue import CATALOGUE
from .duties.profile import ProfileError, load_profile
from .errors import InventoryError
from .inventory import LoadedLab, load
from .inventory.attestations import Attestation, load_attestations
from .inventory.models import EdgeDevice, PstnDevice


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


def inventory_warnings(loaded: LoadedLab) -> list[str]:
    """What a valid inventory says that is likely a slip, one ``FILE:LINE: path: warning: …`` line each:
    a DID a carrier delivers (``pstn`` ``facts.dids``) that no Edge's ``dial_plan.dids`` routes (an
    inbound call to it rings no station, and the DATA-ACCURACY and PSTN checks have no station for it).
    Only where some Edge has a dial plan (without one, no inbound call is routed by the inventory)."""
    devices = loaded.lab.devices
    routed = {did for d in devices.values() if isinstance(d, EdgeDevice) and d.facts.dial_plan
              for did in d.facts.dial_plan.dids}
    if not any(isinstance(d, EdgeDevice) and d.facts.dial_plan for d in devices.values()):
        return []
    out = []
    for name, d in devices.items():
        if isinstance(d, PstnDevice):
            for i, did in enumerate(d.facts.dids):
                if did not in routed:
                    out.append(str(loaded.problem(("devices", name, "facts", "dids", i),
                                                  f"warning: the carrier delivers {did} and no Edge's "
                                                  "dial_plan.dids routes it to a station")))
    return out


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
