"""Warnings of third-party libraries that tell a hil user nothing, filtered once, narrowly (by category
and by the module that raises them), before those libraries are imported.

:func:`filter_third_party_warnings` runs when the ``harness`` package is imported, so it comes first in
every process hil starts: the ``hil`` command, the lab twin (``python -m harness.twin``), the pytest
plugin and the benchmarks. pyproject.toml's pytest ``filterwarnings`` repeats the entries for test runs.

Filtered:

- ``CryptographyDeprecationWarning`` raised in ``asyncssh.*``: asyncssh names cryptography's DSA key
  classes in type aliases at import, and cryptography (43 and later) deprecates each of those names,
  so every process that imports asyncssh printed 10 lines ("DSA is deprecated …"), e.g. after the
  table of ``hil lab fault --list``. Only the lab twin uses asyncssh, and its host keys are Ed25519;
  the same warning raised by any other module still shows.
"""

from __future__ import annotations

import warnings

from cryptography.utils import CryptographyDeprecationWarning

#: (category, module regex) of each filtered warning; the regex must match the raising module's full name
FILTERED: tuple[tuple[type[Warning], str], ...] = (
    (CryptographyDeprecationWarning, r"asyncssh(\..*)?"),
)


def filter_third_party_warnings() -> None:
    """Ignore the warnings of :data:`FILTERED` from here on (idempotent: ``warnings`` drops duplicates)."""
    for category, module in FILTERED:
        warnings.filterwarnings("ignore", category=category, module=module)
