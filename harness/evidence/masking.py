"""The last line of defence for secrets: mask the files a run wrote, in place.

Transcripts, errors and the twin's log are masked where they are written
(:data:`harness.inventory.secrets.MASK`). What other code writes (allure-pytest's results and the
captured output it attaches, pytest's JUnit XML, the duty summary, Allure's generated report) is
masked afterwards, file by file, by :func:`mask_paths`: the pytest plugin does it when pytest ends,
and ``hil run`` again once pytest has exited and once the HTML report is generated.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from ..inventory.secrets import MASK

MAX_MASKED_BYTES = 512 * 2**20  # project choice: larger files are no report of ours; left alone


def mask_file(path: Path) -> bool:
    """Replace every registered secret form in the file at ``path`` by ``*****``; True when it
    changed. A file holding NUL bytes (an image, an archive) is binary and left alone; bytes that
    are not UTF-8 in a text file pass through unchanged. The file is replaced atomically, with its
    permissions kept.

    Raises:
        OSError: the file cannot be read or replaced.
    """
    if path.stat().st_size > MAX_MASKED_BYTES:
        return False
    data = path.read_bytes()
    if b"\0" in data:
        return False
    masked = MASK.mask_bytes(data)
    if masked == data:
        return False
    tmp = path.with_name(f".{path.name}.masking")
    tmp.write_bytes(masked)
    os.chmod(tmp, path.stat().st_mode & 0o7777)
    tmp.replace(path)
    return True


def mask_paths(paths: Iterable[Path]) -> list[Path]:
    """Mask every regular file among ``paths`` and under the folders among them (symbolic links are
    not followed; missing paths are skipped). Returns the files that changed."""
    changed: list[Path] = []
    for root in paths:
        if root.is_symlink() or not root.exists():
            continue
        files = [root] if root.is_file() else [p for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink()]
        for f in files:
            if mask_file(f):
                changed.append(f)
    return changed
