"""Requirement profiles: what a site has agreed to (approved versions, threshold overrides).

A profile is a YAML file named by the inventory's ``profile`` key::

    name: default
    approved_firmware: {<platform>: [<version>, ...]}
    compatibility:                        # the Edge x phone firmware matrix (MAINT-VERSION-MATRIX)
      - edge: ">=2026.10,<2026.12"        # PEP 440 specifier set of Edge versions
        phones: {<platform>: ">=6.4,<7"}  # firmware each phone platform must run beside them
    firmware:                             # target images (MAINT-PHONE-FIRMWARE, MAINT-EDGE-UPDATE)
      <platform>: {version: "6.4.4", url: "http://…/x.bin", sha256: "<64 hex digits>"}
    thresholds: {"<DUTY-ID>.<threshold name>": <value>}

Errors name the file, the line of the key at fault and its path (``profiles/x.yaml:7:
compatibility.0.phones.vvx: '>=7,<6' admits no version: …``); a range no version can satisfy is
such an error. Thresholds not overridden come from the catalogue. A value that only loosens a source-backed
threshold is allowed but reported with the profile as its source.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version
from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError, field_validator
from ruamel.yaml import YAML  # as for inventories: duplicate keys are errors
from ruamel.yaml.error import MarkedYAMLError

from ..inventory.loader import key_lines, nearest_line, plain, pydantic_message, yaml_problem
from .catalogue import CATALOGUE, Threshold


def _specifier(v: str) -> str:
    try:
        spec = SpecifierSet(v)
    except InvalidSpecifier:
        raise ValueError(f"{v!r} is not a version range like '>=6.4,<7' (PEP 440 specifiers)") from None
    if (why := _empty_because(spec)) is not None:
        raise ValueError(f"{v!r} admits no version: {why}")
    return v


def _empty_because(spec: SpecifierSet) -> str | None:
    """Why no version can be in ``spec`` (a lower bound above an upper one), or None.

    Only plain bounds count (``>= > == ~= <= <``); ``!=`` and wildcards never make a range empty here."""
    lows: list[tuple[Version, bool, str]] = []  # (version, inclusive, as written)
    highs: list[tuple[Version, bool, str]] = []
    for s in spec:
        try:
            v = Version(s.version)
        except InvalidVersion:
            continue  # "==6.*" and the like
        if s.operator in (">=", ">", "==", "~="):
            lows.append((v, s.operator != ">", str(s)))
        if s.operator in ("<=", "<", "=="):
            highs.append((v, s.operator != "<", str(s)))
    if not lows or not highs:
        return None
    low = max(lows, key=lambda b: (b[0], not b[1]))
    high = min(highs, key=lambda b: (b[0], b[1]))
    if low[0] > high[0] or (low[0] == high[0] and not (low[1] and high[1])):
        return f"{low[2]} and {high[2]} cannot both hold (an inverted range?)"
    return None


VersionRange = Annotated[str, AfterValidator(_specifier)]


class CompatibilityRule(BaseModel):
    """One row of the compatibility matrix: Edges whose version is in ``edge`` need phones of each
    listed platform on firmware in its range (ranges are PEP 440 specifier sets)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    edge: VersionRange
    phones: dict[str, VersionRange]


class FirmwareTarget(BaseModel):
    """The firmware a platform must run: ``version``, the image ``url`` and its ``sha256`` (64 hex
    digits). The harness checks the image against ``sha256`` before any device is touched."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str
    url: str
    sha256: str

    @field_validator("sha256")
    @classmethod
    def _check_sha(cls, v: str) -> str:
        v = v.strip().lower()
        if len(v) != 64 or any(c not in "0123456789abcdef" for c in v):
            raise ValueError("must be a SHA-256: 64 hex digits")
        return v

    @field_validator("url")
    @classmethod
    def _check_url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return v


class Compatibility(BaseModel):
    """What the matrix says about one Edge version and one phone firmware.

    ``verdict``: ``compatible``, ``incompatible`` (the phone's firmware is outside the range the
    Edge's row gives its platform), ``edge-not-listed`` (no row covers the Edge's version),
    ``platform-not-listed`` (the Edge's rows say nothing of the phone's platform) or ``unparsable``
    (a version that is no PEP 440 version). ``allowed``: the range the row gives, ``""`` when none.
    """

    model_config = ConfigDict(frozen=True)

    verdict: str
    allowed: str = ""


class Profile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str = ""
    approved_firmware: dict[str, list[str]] = {}
    compatibility: list[CompatibilityRule] = []
    firmware: dict[str, FirmwareTarget] = {}
    thresholds: dict[str, float | str] = {}

    def compatibility_of(self, edge_version: str, platform: str, firmware: str) -> Compatibility:
        """Look ``firmware`` of a ``platform`` phone up in the row(s) covering ``edge_version``.

        Every row whose ``edge`` range holds the version counts; the phone must be inside the
        range of each that lists its platform. Never raises (bad versions give ``unparsable``)."""
        try:
            ev, fv = Version(edge_version), Version(firmware)
        except InvalidVersion:
            return Compatibility(verdict="unparsable")
        rows = [r for r in self.compatibility if ev in SpecifierSet(r.edge)]
        if not rows:
            return Compatibility(verdict="edge-not-listed")
        ranges = [r.phones[platform] for r in rows if platform in r.phones]
        if not ranges:
            return Compatibility(verdict="platform-not-listed")
        bad = [s for s in ranges if fv not in SpecifierSet(s)]
        return Compatibility(verdict="incompatible" if bad else "compatible", allowed=" and ".join(bad or ranges))

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
    """The profile cannot be used; the message is ``FILE[:LINE]: path: problem`` (the line of the key at fault)."""


def _read(path: Path) -> tuple[object, dict[tuple[str | int, ...], int]]:
    """The profile's data and the line of each key (see :func:`~harness.inventory.loader.key_lines`)."""
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as e:
        raise ProfileError(f"{path}: cannot read: {e.strerror}") from None
    except UnicodeDecodeError as e:
        raise ProfileError(f"{path}: not UTF-8 text (byte at offset {e.start})") from None
    try:
        raw = YAML(typ="rt").load(text) or {}
        return plain(raw), key_lines(raw)
    except MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ProfileError(f"{where}: invalid YAML: {yaml_problem(e)}") from None
    except Exception as e:  # ruamel raises a few unmarked errors
        raise ProfileError(f"{path}: invalid YAML: {e}") from None


def load_profile(path: Path | None) -> Profile:
    """Load a profile, or the empty default when ``path`` is None.

    Raises:
        ProfileError: unreadable, not YAML, duplicate keys, unknown keys, a firmware target not in the
            platform's ``approved_firmware`` list (when it has one), an override of a threshold
            the catalogue does not have, or a value of the wrong kind (a number where the catalogue
            has a number: non-negative, and positive for ``*_ms``/``*_s`` limits).
    """
    if path is None:
        return Profile(name="catalogue defaults")
    data, lines = _read(path)

    def error(loc: tuple[str | int, ...], message: str) -> ProfileError:
        line = nearest_line(lines, loc)
        where = f"{path}:{line}" if line else str(path)
        return ProfileError(f"{where}: {'.'.join(str(x) for x in loc)}: {message}")

    try:
        prof = Profile.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        raise error(tuple(err["loc"]), pydantic_message(err)) from None
    for platform, target in prof.firmware.items():
        approved = prof.approved_firmware.get(platform)
        if approved is not None and target.version not in approved:
            raise error(("firmware", platform, "version"),
                        f"target {target.version} is not in approved_firmware.{platform} ({', '.join(approved)})")
    for key, value in prof.thresholds.items():
        duty_id, _, name = key.partition(".")
        loc = ("thresholds", key)
        if duty_id not in CATALOGUE:
            raise error(loc, f"unknown duty {duty_id}")
        try:
            base = CATALOGUE[duty_id].threshold(name)
        except KeyError as e:
            raise error(loc, e.args[0]) from None
        if isinstance(base.value, int | float) and not isinstance(base.value, bool):
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise error(loc, f"must be a number ({base.unit}), not {value!r}")
            timed = name.endswith(("_ms", "_s", "_min", "_h"))
            if value < 0 or (timed and value == 0):
                raise error(loc, f"must be {'> 0' if timed else '>= 0'} {base.unit}")
    return prof
