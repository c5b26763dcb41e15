"""Secret references (``env:NAME``, ``file:PATH``) and the process-wide masking registry.

Drivers resolve a secret when they connect; for masking, though, every secret an inventory
references is resolved and registered with :data:`MASK` when the inventory is loaded
(:func:`register_references`, called by :func:`harness.inventory.load`), so that every process that
loads it (``hil run``, its pytest, the twin) masks all of them from its first line of output, not
only those it happened to use. A reference that cannot be resolved is skipped there: the loader's
checks report it as before.

:data:`MASK` replaces a secret with ``*****`` in every form a device, a protocol or a report shows
it in (:func:`text_forms`): as written, hex (plain, ``:``- or space-separated), base64 (padded or
not, standard or URL-safe, and where it sits inside a longer base64 text such as an HTTP Basic
credential), URL-encoded, escaped in JSON and in XML/HTML; HTTP Basic credentials of the inventory's
user names (:meth:`SecretMask.add_basic`); binary keys such as SNMPv3 localized keys
(:meth:`SecretMask.add_key`, registered by :mod:`harness.transports.snmp` and the twin's agent).
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import json
import logging
import os
import re
import sys
import threading
import urllib.parse
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

REF_RE = re.compile(r"^(env|file):(.+)$")
MASK_TEXT = "*****"
MAX_SECRET_BYTES = 64 * 1024  # project choice: a key file, not a disk
MIN_SECRET_CHARS = 3  # project choice: shorter values cannot be masked without wrecking ordinary text
MIN_FORM_CHARS = 8  # project choice: an encoded form shorter than this turns up by chance in hex dumps and IDs
#: inventory keys whose value is a secret reference (harness.inventory.models: SecretRef fields)
SECRET_FIELDS = frozenset({"password", "key_file", "enable_secret", "community", "auth_key", "priv_key",
                           "client_secret", "token"})


def _b64_forms(data: bytes) -> set[str]:
    """``data`` in base64, padded and unpadded, standard and URL-safe alphabets, and the characters
    that ``data`` alone decides when it starts 0, 1 or 2 bytes into a longer base64 text (a
    password after ``user:`` in an HTTP Basic credential, a value inside an encoded blob)."""
    out: set[str] = set()
    for k in range(3):
        enc = base64.b64encode(bytes(k) + data).decode()
        first, end = -(-8 * k // 6), 8 * (k + len(data)) // 6  # characters whose 6 bits all come from data
        core = enc[first:end]
        if k == 0:
            out |= {enc, enc.rstrip("=")}
        out.add(core)
    return out | {f.replace("+", "-").replace("/", "_") for f in out}


def _hex_forms(data: bytes) -> set[str]:
    """``data`` as hex: plain, ``aa:bb`` (how this harness shows binary SNMP strings) and ``aa bb``
    (hex dumps), each in lower and upper case."""
    pairs = [f"{b:02x}" for b in data]
    forms = {"".join(pairs), ":".join(pairs), " ".join(pairs)}
    return forms | {f.upper() for f in forms}


def text_forms(value: str) -> set[str]:
    """``value`` and the forms of it that a device, a protocol or a report may show: as is, escaped
    in JSON and in XML/HTML, URL-encoded (``%xx`` and ``+`` for space), hex and base64 of its UTF-8
    bytes (see :func:`_hex_forms`, :func:`_b64_forms`). Encoded forms shorter than
    :data:`MIN_FORM_CHARS` are left out."""
    data = value.encode()
    encoded = _hex_forms(data) | _b64_forms(data)
    encoded |= {urllib.parse.quote(value, safe=""), urllib.parse.quote_plus(value, safe=""),
                json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1],
                html.escape(value), html.escape(value, quote=False)}
    return {value} | {f for f in encoded if len(f) >= MIN_FORM_CHARS}


def basic_auth_forms(user: str, password: str) -> set[str]:
    """The HTTP Basic credential of ``user`` and ``password`` (RFC 7617: base64 of ``user:password``)."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {token, token.rstrip("=")}


def key_forms(key: bytes) -> set[str]:
    """A binary key (an SNMPv3 localized key) as hex (plain, ``:``- or space-separated, both cases)
    and base64."""
    return _hex_forms(key) | _b64_forms(key)


def _alternation(words: list[str]) -> str:
    """A regular expression matching any of ``words`` (sorted, distinct, none empty), the longest
    one where several start at the same place. Built as a trie (common prefixes once, one branch
    per next character), which ``re`` scans in time nearly independent of the number of words; a
    flat ``a|b|c…`` of a few thousand forms is ~100 times slower."""
    first, last = words[0], words[-1]  # sorted: what they share, all share
    n = next((i for i, (a, b) in enumerate(zip(first, last, strict=False)) if a != b), min(len(first), len(last)))
    prefix = first[:n]
    if prefix:
        rest = [w[len(prefix):] for w in words]
        optional = "" in rest
        rest = [r for r in rest if r]
        if not rest:
            return re.escape(prefix)
        inner = _alternation(rest)
        return re.escape(prefix) + (f"(?:{inner})?" if optional else inner)
    branches = [_alternation(list(group)) for _, group in itertools.groupby(words, key=lambda w: w[0])]
    return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"


class SecretMask:
    """Every secret registered in this process, in every form, and masks them in text.

    Thread-safe; the pattern is rebuilt on the first use after a registration.
    """

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._forms: set[str] = set()
        self._lock = threading.Lock()
        self._pattern: re.Pattern[str] | None = None
        self._dirty = False

    def _add_forms(self, forms: Iterable[str]) -> None:
        with self._lock:
            new = set(forms) - self._forms
            if new:
                self._forms |= new
                self._dirty = True

    def add(self, value: str) -> None:
        """Register a secret and its :func:`text_forms`; a value shorter than :data:`MIN_SECRET_CHARS`
        is ignored (masking it would wreck ordinary text)."""
        if len(value) < MIN_SECRET_CHARS:
            return
        with self._lock:
            if value in self._values:
                return
            self._values.add(value)
        self._add_forms(text_forms(value))

    def add_basic(self, user: str, password: str) -> None:
        """Register the HTTP Basic credential of ``user`` with ``password`` (and ``password`` itself)."""
        self.add(password)
        if len(password) >= MIN_SECRET_CHARS:
            self._add_forms(basic_auth_forms(user, password))

    def add_key(self, key: bytes) -> None:
        """Register a binary key (an SNMPv3 localized key) in its :func:`key_forms`; keys shorter
        than 8 bytes (none that USM uses) are ignored."""
        if len(key) >= 8:
            self._add_forms(key_forms(key))

    def _compiled(self) -> re.Pattern[str] | None:
        if self._dirty:
            with self._lock:
                if self._dirty:
                    self._pattern = re.compile(_alternation(sorted(self._forms))) if self._forms else None
                    self._dirty = False
        return self._pattern

    def __call__(self, text: str) -> str:
        """``text`` with every registered form of every secret replaced by ``*****``."""
        pattern = self._compiled() if text else None
        return pattern.sub(MASK_TEXT, text) if pattern else text

    def mask_bytes(self, data: bytes) -> bytes:
        """``data`` (UTF-8 text, or anything: bytes that are not UTF-8 pass through unchanged) masked."""
        return self(data.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")

    def values(self) -> frozenset[str]:
        """The secrets registered (as resolved, without their encoded forms)."""
        return frozenset(self._values)

    def forms(self) -> frozenset[str]:
        """Every string this mask replaces."""
        with self._lock:
            return frozenset(self._forms)


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


def _mappings(node: Any) -> Iterator[dict[Any, Any]]:
    """Every mapping in a tree of YAML values (mappings and lists), depth first."""
    todo = [node]
    while todo:
        n = todo.pop()
        if isinstance(n, dict):
            yield n
            todo.extend(n.values())
        elif isinstance(n, list):
            todo.extend(n)


def register_references(tree: Any, base_dir: Path | None) -> int:
    """Resolve every secret reference in ``tree`` (an inventory as read from YAML, or device
    settings as plain values) and register it with :data:`MASK`, with the HTTP Basic credential of
    the ``username`` (or OAuth ``client_id``) beside it. A reference is a string under one of :data:`SECRET_FIELDS` that
    reads ``env:…`` or ``file:…``; one that cannot be resolved is skipped (the inventory checks
    report it). Returns how many distinct values were registered."""
    found: dict[str, str | None] = {}
    for mapping in _mappings(tree):
        for key, ref in mapping.items():
            if key not in SECRET_FIELDS or not isinstance(ref, str) or not REF_RE.match(ref):
                continue
            if ref not in found:
                try:
                    found[ref] = _value(ref, base_dir)
                except SecretResolutionError:
                    found[ref] = None
            value = found[ref]
            if value is None:
                continue
            MASK.add(value)
            user = mapping.get({"password": "username", "client_secret": "client_id"}.get(key, ""))
            if isinstance(user, str) and user and not REF_RE.match(user):  # HTTP Basic, OAuth client Basic
                MASK.add_basic(user, value)
    return len({v for v in found.values() if v is not None})


class MaskedStream(io.TextIOBase):
    """A text stream that writes to ``target`` masked with :data:`MASK`.

    With ``whole_lines`` (the default) it writes whole lines only, so a secret split over two
    writes is still caught, and :meth:`flush` writes a pending partial line, masked, too; without
    it each write is masked as it comes (for a terminal that shows progress within a line)."""

    def __init__(self, target: TextIO, whole_lines: bool = True) -> None:
        self.target = target
        self.whole_lines = whole_lines
        self._pending = ""
        self._lock = threading.Lock()

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        if not self.whole_lines:
            self.target.write(MASK(s))
            return len(s)
        with self._lock:
            text = self._pending + s
            cut = text.rfind("\n") + 1
            self._pending = text[cut:]
            if cut:
                self.target.write(MASK(text[:cut]))
        return len(s)

    def flush(self) -> None:
        with self._lock:
            if self._pending:
                self.target.write(MASK(self._pending))
                self._pending = ""
        self.target.flush()

    def fileno(self) -> int:
        return self.target.fileno()

    def isatty(self) -> bool:
        return self.target.isatty()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return str(getattr(self.target, "encoding", None) or "utf-8")


def mask_standard_streams() -> None:
    """Put :data:`sys.stdout` and :data:`sys.stderr` behind :class:`MaskedStream` (once), so what
    this process prints, logs (handlers made afterwards) or dumps as a traceback is masked."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if not isinstance(stream, MaskedStream):
            setattr(sys, name, MaskedStream(stream))


def mask_log_records() -> None:
    """Mask every log record this process makes from now on, when it is made (a record factory,
    :func:`logging.setLogRecordFactory`): whatever handler gets it later (pytest's log capture, a
    file, the terminal) sees the message masked. Installing it twice changes nothing."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "masks_secrets", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not fit the format: logging reports that at emit time
            return record
        masked = MASK(message)
        if masked != message:
            record.msg, record.args = masked, None
        return record

    factory.masks_secrets = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
