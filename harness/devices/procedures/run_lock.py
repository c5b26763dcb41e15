"""One run at a time: a lock file taken without waiting, and who holds it when it is taken.

The Edge update holds one per site, switch provisioning one per switch; beside each lock the run
holding it keeps a JSON note (pid, since when, what it does) that names it to the run refused.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout


def take_or_name_holder(lock: FileLock, note: Path, holder: Callable[[dict[str, Any]], str]) -> str:
    """Take ``lock`` without waiting: ``""`` once held; else who holds it, as ``holder`` words the
    JSON ``note`` that run wrote (``"another run"`` when the note cannot be read or lacks a key)."""
    try:
        lock.acquire(timeout=0)
    except Timeout:
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            return holder(json.loads(note.read_text()))
        return "another run"
    return ""
