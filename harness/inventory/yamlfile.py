"""Read a YAML file of the project (the inventory, a requirement profile) with a line for every
key, and explain a file that cannot be read at the line where the fault is.

:func:`read_yaml` returns the round-trip tree and the line of every key; anything wrong raises
:class:`YamlFileError` with one line and one cause: unreadable, too large, not UTF-8 (the line of the
first bad byte), a character YAML forbids such as NUL (its line), nesting deeper than
:data:`MAX_NESTING_DEPTH` (the line where it goes too deep), an alias bomb, or a syntax error. A
syntax error inside a construct that is never closed is reported where the construct OPENED:
ruamel's ``context_mark`` for an open ``[``, ``{`` or quote that reaches the end of the file, and,
for a quote that a later quote closes by accident (the parser then stops lines further on), the
line of that first quote.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.composer import Composer, ComposerError
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.tokens import ScalarToken

from ..errors import InventoryError, InventoryProblem

Path_ = tuple[str | int, ...]

#: project choice: values after alias expansion (a "billion laughs" stops here)
MAX_EXPANDED_NODES = 2_000_000
#: project choice: mappings and lists inside each other; the deepest key of the inventory schema is
#: 8 levels down (``devices.edge1.facts.dial_plan.station_classes.executive.blocked.0``)
MAX_NESTING_DEPTH = 32

_UNCLOSED = ("while parsing a flow", "while scanning a quoted", "while scanning a block scalar")
_DUPLICATE = re.compile(r'found duplicate key "(.*?)" with value .*', re.S)
_CHARACTER_NAMES = {0: "NUL", 7: "BEL", 8: "backspace", 0x1B: "ESC", 0x7F: "DEL", 0xFEFF: "BOM",
                    0xFFFE: "non-character"}


class YamlFileError(Exception):
    """The file cannot be read as YAML: ``line`` (1-based, ``None`` when no line applies) and why."""

    def __init__(self, line: int | None, message: str) -> None:
        self.line = line
        self.message = message
        super().__init__(f"{line}: {message}" if line else message)


class _DepthLimitedComposer(Composer):
    """ruamel's composer (recursive, one Python frame per level and more) refusing to go deeper than
    :data:`MAX_NESTING_DEPTH`, so a deeply nested file is an error at its line, not a RecursionError."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_NESTING_DEPTH:
                mark = self.parser.peek_event().start_mark
                raise ComposerError(None, None, f"nested more than {MAX_NESTING_DEPTH} levels deep "
                                                "(mappings and lists inside each other)", mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def yaml_problem(e: MarkedYAMLError) -> str:
    """The parser's words for ``e``, short: a duplicate key is named without both values (which may
    be whole devices)."""
    what = (e.problem or e.context or "invalid YAML").strip()
    return _DUPLICATE.sub(r'duplicate key "\1" (each key once per mapping)', what)


def read_text(path: Path, max_bytes: int) -> str:
    """The file's text, read at most ``max_bytes`` (whatever ``stat()`` says).

    Raises:
        YamlFileError: not a regular file, unreadable, larger than ``max_bytes``, not UTF-8.
    """
    try:
        if path.exists() and not path.is_file() and not path.is_dir():
            raise YamlFileError(None, "not a regular file")
        with path.open("rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as e:
        raise YamlFileError(None, f"cannot read: {e.strerror}") from None
    if len(data) > max_bytes:
        raise YamlFileError(None, f"file is larger than {max_bytes // 2**20} MiB: this file is at most that")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise YamlFileError(line, f"not UTF-8 text (byte 0x{data[e.start]:02x} at offset {e.start})") from None


def parse(text: str) -> Any:
    """The round-trip tree of ``text`` (``CommentedMap``/``CommentedSeq``, so lines stay known).

    Raises:
        YamlFileError: the first syntax error, at its line (see the module's docstring).
    """
    yaml = YAML(typ="rt")
    yaml.Composer = _DepthLimitedComposer
    try:
        raw = yaml.load(text)
    except ReaderError as e:  # a character YAML does not allow; position counts characters
        line = text.count("\n", 0, e.position) + 1
        column = e.position - (text.rfind("\n", 0, e.position) + 1) + 1
        name = _CHARACTER_NAMES.get(e.character, "control character") if isinstance(e.character, int) else "character"
        code = f"U+{e.character:04X}" if isinstance(e.character, int) else repr(e.character)
        raise YamlFileError(line, f"invalid YAML: {name} ({code}) at column {column}: YAML text cannot hold it; "
                                  "remove it, or write it escaped in a double-quoted string") from None
    except MarkedYAMLError as e:
        raise YamlFileError(*_syntax_error(text, e)) from None
    except YAMLError as e:  # ruamel raises a few unmarked errors
        raise YamlFileError(None, f"invalid YAML: {e}") from None
    except RecursionError:  # not reached below MAX_NESTING_DEPTH; kept so no traceback can leak
        raise YamlFileError(None, f"invalid YAML: nested more than {MAX_NESTING_DEPTH} levels deep") from None
    if _expanded_size(raw, MAX_EXPANDED_NODES) > MAX_EXPANDED_NODES:
        raise YamlFileError(None, f"more than {MAX_EXPANDED_NODES:,} values once YAML aliases are expanded "
                                  "(an alias bomb, or a file to split)")
    return raw


def read_yaml(path: Path, max_bytes: int) -> tuple[Any, dict[Path_, int]]:
    """:func:`read_text` then :func:`parse`: the tree and the line of every key (:func:`key_lines`)."""
    raw = parse(read_text(path, max_bytes))
    return raw, key_lines(raw)


def read_side_file(path: Path, max_bytes: int, what: str) -> tuple[Any, Callable[[Path_, str], InventoryProblem]]:
    """Read a YAML file that sits beside an inventory (an attestation file, a carrier file): its plain
    data and a function making a problem at a key path's line (``problem(("sip", "host"), "…")``).

    Raises InventoryError: the path is a directory (``is a directory, not {what}``) or the file is
    not YAML this project reads (:class:`YamlFileError`, at its line)."""
    if path.is_dir():
        raise InventoryError([InventoryProblem(str(path), None, "", f"is a directory, not {what}")])
    try:
        raw, lines = read_yaml(path, max_bytes)
    except YamlFileError as e:
        raise InventoryError([InventoryProblem(str(path), e.line, "", e.message)]) from None

    def problem(loc: Path_, message: str) -> InventoryProblem:
        return InventoryProblem(str(path), nearest_line(lines, loc), ".".join(str(x) for x in loc), message)

    return plain(raw), problem


def _syntax_error(text: str, e: MarkedYAMLError) -> tuple[int | None, str]:
    """Line and words for a syntax error: where the unclosed construct opened when there is one."""
    mark = e.problem_mark or e.context_mark
    what = yaml_problem(e)
    if e.context_mark and e.context and e.context.startswith(_UNCLOSED):
        # the parser only notices at the end of the file (or the first ':' it cannot accept): point at the opener
        return e.context_mark.line + 1, f"invalid YAML: unclosed {e.context.split(' a ', 1)[-1]} ({what})"
    line = mark.line + 1 if mark else None
    if line is not None and (runaway := _runaway_quote(text, line)):
        opened, closed, quote = runaway
        return opened, (f"invalid YAML: unclosed quoted scalar: the {quote} opened on this line is closed only "
                        f"by the {quote} on line {closed}, and the parser stops on line {line} ({what})")
    return line, f"invalid YAML: {what}"


def _runaway_quote(text: str, error_line: int) -> tuple[int, int, str] | None:
    """``(opened, closed, quote)`` of a quoted scalar that spans lines and ends just before the
    syntax error at ``error_line`` (1-based): a quote left open that a later quote closed. Chained
    runaways (each closing on the line the next opens) go back to the first."""
    spans: list[tuple[int, int, str]] = []  # multi-line quoted scalars, in file order (0-based lines)
    try:
        for tok in YAML(typ="rt").scan(text):
            if tok.start_mark.line + 1 > error_line:
                break
            if isinstance(tok, ScalarToken) and tok.style in ('"', "'") and tok.end_mark.line > tok.start_mark.line:
                spans.append((tok.start_mark.line, tok.end_mark.line, tok.style))
    except YAMLError:
        pass  # the scanner stops at its own error; the spans before it are what counts
    hit = next((i for i in range(len(spans) - 1, -1, -1)
                if spans[i][0] + 1 < error_line <= spans[i][1] + 2), None)
    if hit is None:
        return None
    while hit > 0 and spans[hit - 1][1] == spans[hit][0]:
        hit -= 1
    start, end, quote = spans[hit]
    return start + 1, end + 1, quote


def _expanded_size(node: Any, budget: int) -> int:
    """Values in ``node`` counting every alias use again; stops counting past ``budget``."""
    count, todo = 0, [node]
    while todo and count <= budget:
        n = todo.pop()
        count += 1
        if isinstance(n, dict):
            todo.extend(n.values())
        elif isinstance(n, list):
            todo.extend(n)
    return count


def _lines(node: Any, prefix: Path_, out: dict[Path_, int]) -> None:
    """Record the 1-based line of every key and sequence item under ``node``."""
    if isinstance(node, CommentedMap):
        for k in node:
            try:
                out[(*prefix, str(k))] = node.lc.key(k)[0] + 1
            except (KeyError, TypeError):
                continue
            _lines(node[k], (*prefix, str(k)), out)
    elif isinstance(node, CommentedSeq):
        for i, item in enumerate(node):
            try:
                out[(*prefix, i)] = node.lc.item(i)[0] + 1
            except (KeyError, TypeError):
                continue
            _lines(item, (*prefix, i), out)


def key_lines(node: Any) -> dict[Path_, int]:
    """The 1-based line of every key and sequence item of a round-trip-loaded YAML ``node``, by path
    (``("devices", "edge1", "ssh")``)."""
    out: dict[Path_, int] = {}
    _lines(node, (), out)
    return out


def nearest_line(lines: Mapping[Path_, int], path: Path_) -> int | None:
    """The line of ``path`` in ``lines`` (from :func:`key_lines`), else of its nearest ancestor."""
    for n in range(len(path), 0, -1):
        if path[:n] in lines:
            return lines[path[:n]]
    return None


def plain(node: Any) -> Any:
    """``node`` as plain dicts and lists (string keys), as pydantic expects."""
    if isinstance(node, dict):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    return node
