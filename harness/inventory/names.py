"""Names from the inventory that become parts of file paths, and the one rule they follow.

A device name becomes a file name in several places (the twin's host key
``<runtime>/host_keys/<device>``, an Edge's disk ``<runtime>/edge-disk/<device>`` and its log bundles
``<device>-logs-….tar.gz``, the provisioning journal ``.hil/journal/<switch>.json`` and its lock,
the Edge log download folder ``hil-logs-<device>-…``). A name that held ``/`` or started with
``.`` could write outside those folders (``../../../../x`` did), so every name in the inventory
(devices, groups, the lab, platforms, and the names that refer to them) follows :data:`NAME_PATTERN`,
checked when the inventory loads. Code that builds a path from a name calls :func:`path_in`, which
refuses anything else.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import StringConstraints

#: letters, digits, ``.``, ``_``, ``-``; starting with a letter or digit (so never ``.``, ``..`` or
#: a hidden file); project choice, the characters that are safe in a file name on every system
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
#: project choice: long enough for any host name label, short enough for file names with suffixes
NAME_MAX_CHARS = 64
NAME_RULE = (f"must be a name of letters, digits, '.', '_' and '-', starting with a letter or digit, at most "
             f"{NAME_MAX_CHARS} characters (names become parts of file names)")
_NAME_RE = re.compile(NAME_PATTERN)

#: a name as a pydantic type (the JSON Schema keeps the pattern, e.g. ``patternProperties`` of ``devices``)
Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN, max_length=NAME_MAX_CHARS)]


def name_problem(name: object) -> str | None:
    """Why ``name`` cannot be a name (:data:`NAME_RULE`), or ``None`` when it can."""
    if not isinstance(name, str | int) or isinstance(name, bool):
        return f"{NAME_RULE}, not {type(name).__name__} {name!r}"
    text = str(name)
    if len(text) > NAME_MAX_CHARS or not _NAME_RE.fullmatch(text):
        return NAME_RULE
    return None


def path_in(folder: Path, name: str, suffix: str = "") -> Path:
    """``folder / (name + suffix)`` for a name that follows :data:`NAME_PATTERN`.

    Raises:
        ValueError: ``name`` is not a valid name (it could leave ``folder``).
    """
    why = name_problem(name)
    if why:
        raise ValueError(f"{name!r}: {why}")
    return folder / f"{name}{suffix}"
