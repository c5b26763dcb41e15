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

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

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
    pass


def load_profile(path: Path | None) -> Profile:
    """Load a profile, or the empty default when ``path`` is None. Raises :class:`ProfileError`."""
    if path is None:
        return Profile(name="catalogue defaults")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        prof = Profile.model_validate(data)
    except (OSError, yaml.YAMLError, ValidationError) as e:
        raise ProfileError(f"{path}: {e}") from None
    for key in prof.thresholds:
        duty_id, _, name = key.partition(".")
        if duty_id not in CATALOGUE:
            raise ProfileError(f"{path}: thresholds.{key}: unknown duty {duty_id}")
        try:
            CATALOGUE[duty_id].threshold(name)
        except KeyError as e:
            raise ProfileError(f"{path}: thresholds.{key}: {e.args[0]}") from None
    return prof
