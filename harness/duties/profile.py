"""Requirement profiles: what a site has agreed to (approved versions, threshold overrides).

A profile is a YAML file named by the inventory's ``profile`` key::

    name: default
    approved_firmware: {<platform>: [<version>, ...]}
    thresholds: {"<DUTY-ID>.<threshold name>": <value>}

Thresholds not overridden come from the catalogue. A value that only loosens a source-backed
threshold is allowed but reported with the profile as its source.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError
from ruamel.yaml import YAML  # as for inventories: duplicate keys are errors
from ruamel.yaml.error import MarkedYAMLError

from .catalogue import CATALOGUE, Threshold


class Profile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str = ""
    approved_firmware: dict[str, list[str]] = {}
    thresholds: dict[str, float | str] = {}

    def threshold(self, duty_id: str, name: str) -> Threshold:
        """The catalogue threshold, with this profile's value when it overrides it."""
        base = CATALOGUE[duty_id].threshold(name)
        key = f"{duty_id}.{name}"
        if key in self.thresholds and self.thresholds[key] != base.value:
            return Threshold(base.name, self.thresholds[key], base.unit, base.op, f"requirement profile {self.name}")
        return base

    def approved(self, platform: str) -> list[str]:
        return list(self.approved_firmware.get(platform, []))


class ProfileError(Exception):
    """The profile cannot be used; the message is ``FILE[:LINE]: path: problem``."""


def _read(path: Path) -> object:
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as e:
        raise ProfileError(f"{path}: cannot read: {e.strerror}") from None
    except UnicodeDecodeError as e:
        raise ProfileError(f"{path}: not UTF-8 text (byte at offset {e.start})") from None
    try:
        return YAML(typ="safe", pure=True).load(text) or {}
    except MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ProfileError(f"{where}: invalid YAML: {(e.problem or e.context or '').strip()}") from None
    except Exception as e:  # ruamel raises a few unmarked errors
        raise ProfileError(f"{path}: invalid YAML: {e}") from None


def load_profile(path: Path | None) -> Profile:
    """Load a profile, or the empty default when ``path`` is None.

    Raises:
        ProfileError: unreadable, not YAML, duplicate keys, unknown keys, an override of a threshold
            the catalogue does not have, or a value of the wrong kind (a number where the catalogue
            has a number: non-negative, and positive for ``*_ms``/``*_s`` limits).
    """
    if path is None:
        return Profile(name="catalogue defaults")
    data = _read(path)
    try:
        prof = Profile.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        loc = ".".join(str(x) for x in err["loc"])
        raise ProfileError(f"{path}: {loc}: {err['msg']}") from None
    for key, value in prof.thresholds.items():
        duty_id, _, name = key.partition(".")
        if duty_id not in CATALOGUE:
            raise ProfileError(f"{path}: thresholds.{key}: unknown duty {duty_id}")
        try:
            base = CATALOGUE[duty_id].threshold(name)
        except KeyError as e:
            raise ProfileError(f"{path}: thresholds.{key}: {e.args[0]}") from None
        if isinstance(base.value, int | float) and not isinstance(base.value, bool):
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise ProfileError(f"{path}: thresholds.{key}: must be a number ({base.unit}), not {value!r}")
            timed = name.endswith(("_ms", "_s", "_min", "_h"))
            if value < 0 or (timed and value == 0):
                raise ProfileError(f"{path}: thresholds.{key}: must be {'> 0' if timed else '>= 0'} {base.unit}")
    return prof
