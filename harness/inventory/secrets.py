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
MAX_SECRET_BYTES = 64 * 1024  # project choice: a key file, not a disk


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


def _value(ref: str, base_dir: Path | None) -> str:
    """The value ``ref`` names, or :class:`SecretResolutionError` saying why there is none."""
    m = REF_RE.match(ref)
    if not m:
        raise SecretResolutionError("must be a secret reference 'env:NAME' or 'file:PATH', not a literal")
    kind, target = m.groups()
    if kind == "env":
        if target not in os.environ:
            raise SecretResolutionError(f"environment variable {target} is not set")
        if not os.environ[target]:
            raise SecretResolutionError(f"environment variable {target} is set but empty")
        return os.environ[target]
    path = Path(target)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if not path.exists():
        raise SecretResolutionError(f"secret file {path} does not exist")
    if not path.is_file():
        raise SecretResolutionError(f"secret file {path} is not a regular file")
    try:
        with path.open("rb") as f:
            data = f.read(MAX_SECRET_BYTES + 1)
    except OSError as e:
        raise SecretResolutionError(f"cannot read secret file {path}: {e.strerror}") from None
    if len(data) > MAX_SECRET_BYTES:
        raise SecretResolutionError(f"secret file {path} is larger than {MAX_SECRET_BYTES // 1024} KiB")
    try:
        value = data.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError as e:  # the offset, never the bytes around it
        raise SecretResolutionError(f"secret file {path} is not UTF-8 text (bad byte at offset {e.start})") from None
    if not value:
        raise SecretResolutionError(f"secret file {path} is empty")
    return value


def resolve(ref: str, base_dir: Path | None = None) -> str:
    """Resolve ``env:NAME`` or ``file:PATH`` (relative to ``base_dir``) and register it for masking.

    Returns the value with a trailing newline stripped (``file:``). Raises
    :class:`SecretResolutionError` naming the reference, never the value: a literal, an unset or
    empty variable, a missing, unreadable, empty, non-UTF-8 or too large file.
    """
    value = _value(ref, base_dir)
    MASK.add(value)
    return value


def check(ref: str, base_dir: Path | None = None) -> str | None:
    """Return why ``ref`` cannot be resolved, or ``None`` when it can: the same checks as
    :func:`resolve` (the file is read), and nothing is registered or kept."""
    try:
        _value(ref, base_dir)
    except SecretResolutionError as e:
        return str(e)
    return None
