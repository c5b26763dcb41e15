"""Pydantic's validation errors in the inventory's words, and which keys a model takes at a path
(for ``did you mean …?`` on an unknown key)."""

from __future__ import annotations

import difflib
import types
from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

from .models import ROLES
from .names import NAME_PATTERN, NAME_RULE


def _members(tp: Any) -> list[Any]:
    """``tp`` without ``Annotated`` and ``None``, one entry per member of a union."""
    origin = get_origin(tp)
    if origin is Annotated:
        return _members(get_args(tp)[0])
    if origin is Union or origin is types.UnionType:
        return [m for a in get_args(tp) if a is not type(None) for m in _members(a)]
    return [tp]


def fields_at(models: Iterable[type[BaseModel]], loc: Sequence[str | int]) -> set[str]:
    """The keys the mapping at ``loc`` inside any of ``models`` takes (empty when ``loc`` leads
    nowhere or to a free-form mapping). A mapping key or list index in ``loc`` steps into the
    value type (``("facts", "dial_plan", "station_classes", "lobby")`` -> StationClass's keys)."""
    current: list[Any] = list(models)
    for step in loc:
        nxt: list[Any] = []
        for tp in current:
            for t in _members(tp):
                if isinstance(t, type) and issubclass(t, BaseModel):
                    f = t.model_fields.get(str(step))
                    if f is not None:
                        nxt.append(f.annotation)
                elif get_origin(t) is dict:
                    nxt.append(get_args(t)[1])
                elif get_origin(t) is list:
                    nxt.append(get_args(t)[0])
        current = nxt
    return {k for tp in current for t in _members(tp)
            if isinstance(t, type) and issubclass(t, BaseModel) for k in t.model_fields}


def closest(word: str, known: Iterable[str]) -> str | None:
    """The entry of ``known`` closest to ``word`` when one is close enough (difflib's default
    similarity ratio of 0.6; same letters in another case always are)."""
    known = list(known)
    same = [k for k in known if k.lower() == word.lower()]
    close = same or difflib.get_close_matches(word, known, n=1)
    return close[0] if close else None


def unknown_key_message(key: str, known: Iterable[str], where: str = "") -> str:
    """``unknown key; did you mean community?`` when a known key is close (:func:`closest`), else
    ``unknown key; <where> takes a, b, c`` (or just ``unknown key`` when nothing is known)."""
    known = sorted(set(known))
    if close := closest(key, known):
        return f"unknown key; did you mean {close}?"
    if known:
        return f"unknown key; {where or 'this mapping'} takes {', '.join(known)}"
    return "unknown key"


def pydantic_message(err: Mapping[str, Any]) -> str:
    """A pydantic error in the inventory's words (``unknown key``, ``required key is missing``,
    ``must be …``, ``is null …``)."""
    msg = str(err["msg"])
    t = err["type"]
    if t == "extra_forbidden":
        return "unknown key"
    if t == "missing":
        return "required key is missing"
    if t in ("union_tag_invalid", "union_tag_not_found"):
        return f"role must be one of {', '.join(repr(r) for r in ROLES)}"
    if t in ("model_type", "model_attributes_type", "dict_type"):
        return "is null (nothing after the colon): write a mapping here" if err.get("input", 0) is None else \
            "must be a mapping"
    if t == "list_type" and err.get("input", 0) is None:
        return "is null (nothing after the colon): write a list here"
    if t == "string_pattern_mismatch" and (err.get("ctx") or {}).get("pattern") == NAME_PATTERN:
        return NAME_RULE
    for a, b in (("Input should be", "must be"), ("Value error, ", ""), ("String should", "must"),
                 ("Input should", "must")):
        msg = msg.replace(a, b)
    return msg
