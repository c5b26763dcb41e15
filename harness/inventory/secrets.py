"""Secret references (``env:NAME``, ``file:PATH``) and the process-wide masking registry.

Secrets are resolved at connect time, never at load time, and every resolved value is registered
with :data:`MASK` so that transcripts, logs, reports and error messages replace it with ``*****``.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

REF_RE = re.compile(r"^(env|file):(.+)$")
MASK_TEXT = "*****"
MAX_SECRET_CHARS = 64 * 1024  # project choice: a key file, not a disk


class SecretMask:
    """Holds every secret value resolved in this process and masks them in text."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()
        self._pattern: re.Pattern[str] | None = None

    def add(self, value: str) -> None:
        if len(value) < 3:  # too short to mask without wrecking ordinary text; project choice
            return
        with self._lock:
            if value not in self._values:
                self._values.add(value)
                ordered = sorted(self._values, key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(v) for v in ordered))

    def __call__(self, text: str) -> str:
        pattern = self._pattern
        return pattern.sub(MASK_TEXT, text) if pattern and text else text

    def values(self) -> frozenset[str]:
        return frozenset(self._values)


MASK = SecretMask()


class SecretResolutionError(Exception):
    """A reference names an unset variable or a missing file."""


def resolve(ref: str, base_dir: Path | None = None) -> str:
    """Resolve ``env:NAME`` or ``file:PATH`` (relative to ``base_dir``) and register it for masking.

    Returns the value with a trailing newline stripped (``file:``). Raises
    :class:`SecretResolutionError` naming the reference, never the value.
    """
    m = REF_RE.match(ref)
    if not m:
        raise SecretResolutionError(f"not a secret reference: must be 'env:NAME' or 'file:PATH' ({ref[:4]}…)")
    kind, target = m.groups()
    if kind == "env":
        if target not in os.environ:
            raise SecretResolutionError(f"environment variable {target} is not set")
        value = os.environ[target]
    else:
        path = Path(target)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        if not path.is_file():
            raise SecretResolutionError(f"secret file {path} is not a regular file")
        try:
            with path.open(encoding="utf-8") as f:
                value = f.read(MAX_SECRET_CHARS + 1).rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as e:
            why = getattr(e, "strerror", None) or e
            raise SecretResolutionError(f"cannot read secret file {path}: {why}") from None
        if not value:
            raise SecretResolutionError(f"secret file {path} is empty")
    MASK.add(value)
    return value


def check(ref: str, base_dir: Path | None = None) -> str | None:
    """Return why ``ref`` cannot be resolved, or ``None`` when it can (nothing is registered)."""
    m = REF_RE.match(ref)
    if not m:
        return "must be a secret reference 'env:NAME' or 'file:PATH', not a literal"
    kind, target = m.groups()
    if kind == "env":
        return None if target in os.environ else f"environment variable {target} is not set"
    path = Path(target)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if not path.exists():
        return f"secret file {path} does not exist"
    if not path.is_file():
        return f"secret file {path} is not a regular file"
    return None if path.stat().st_size else f"secret file {path} is empty"
