"""Attestation records: what an accountable person confirms for a duty the hardware cannot prove.

The inventory names the file (``attestations: attestations.yaml``, relative to the inventory); its
records follow the project's DUTIES research note, section 3::

    attestations:
      - duty: PSTN-CAPACITY                        # a hybrid or attest duty of the catalogue
        statement: The carrier contract buys 23 channels for DIDs +1 317 555 0100-0102
        evidence:
          document: Carrier order form             # what the attached file is
          version: "2026-114"                      # optional
          file: evidence/carrier-order.pdf         # relative to this file
          sha256: 3f5a…                            # 64 hex digits: the SHA-256 of that file
        person: Jane Doe
        role: Telephony service owner
        date: 2026-03-01                           # when it was attested (not in the future)
        review_interval_months: 12                 # project choice; expired once the interval has passed
        relies_on: [test_max_calls_held_and_next_call_refused]   # optional: the automated tests it leans on

:func:`load_attestations` reads the file as the inventory is read (:mod:`.yamlfile`) and raises
:class:`~harness.errors.InventoryError` with one ``FILE:LINE: path: problem`` per problem: YAML
errors, unknown or missing keys, a duty the catalogue does not have or that is automated (the
caller gives the catalogue's kinds, this layer does not import it), an evidence file that is missing
or whose SHA-256 differs, a date in the future.

:func:`attestation_status` says where a duty stands on a given day: ``ATTESTED`` (the newest record
is within its review interval), ``ATTESTATION EXPIRED`` or ``ATTESTATION MISSING``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from dateutil.relativedelta import relativedelta
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from ..errors import InventoryError, InventoryProblem
from .keys import closest, fields_at, pydantic_message, unknown_key_message
from .yamlfile import Path_, read_side_file

ATTESTED = "ATTESTED"
MISSING = "ATTESTATION MISSING"
EXPIRED = "ATTESTATION EXPIRED"
#: project choice: an attestation file is a few records; as for an inventory, beyond that split it
MAX_ATTESTATION_BYTES = 16 * 2**20
#: duty kinds an attestation stands for (the catalogue's ``kind``)
ATTESTABLE_KINDS = ("hybrid", "attest")


def _sha256(v: str) -> str:
    v = v.strip().lower()
    if len(v) != 64 or any(c not in "0123456789abcdef" for c in v):
        raise ValueError("must be a SHA-256: 64 hex digits")
    return v


def _text(v: str) -> str:
    if not v.strip():
        raise ValueError("must not be empty")
    return v.strip()


Text = Annotated[str, AfterValidator(_text)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EvidenceRef(_Strict):
    """The document behind an attestation: its name (and version), the attached ``file`` (relative
    to the attestation file) and that file's ``sha256``."""

    document: Text
    version: str = ""
    file: Text
    sha256: Annotated[str, AfterValidator(_sha256)]


class Attestation(_Strict):
    """One record: ``duty`` attested by ``person`` (``role``) on ``date`` with ``statement`` and
    ``evidence``, valid ``review_interval_months`` from then; ``relies_on``: automated tests it leans on."""

    duty: Text
    statement: Text
    evidence: EvidenceRef
    person: Text
    role: Text
    date: dt.date
    review_interval_months: int = Field(gt=0)
    relies_on: list[str] = []

    @property
    def expires(self) -> dt.date:
        """The first day the record no longer holds (``date`` + the review interval)."""
        return self.date + relativedelta(months=self.review_interval_months)

    def as_dict(self) -> dict[str, Any]:
        d = self.model_dump(mode="json")
        d["expires"] = self.expires.isoformat()
        return d


class AttestationFile(_Strict):
    attestations: list[Attestation] = []


def load_attestations(path: Path, duty_kinds: Mapping[str, str], today: dt.date | None = None) -> list[Attestation]:
    """The records of ``path``, every one checked. ``duty_kinds``: duty ID -> catalogue kind;
    ``today``: the day a date must not be after (default: today, UTC).

    Raises:
        InventoryError: one problem per line at fault (see the module docstring).
    """
    today = today or dt.datetime.now(dt.UTC).date()
    data, problem = read_side_file(path, MAX_ATTESTATION_BYTES, "an attestation file")

    if not isinstance(data, dict):
        raise InventoryError([problem((), "must be a mapping with an 'attestations' list (see docs/inventory.md)")])
    try:
        parsed = AttestationFile.model_validate(data)
    except ValidationError as e:
        errors = e.errors()
        misspelt = {(*err["loc"][:-1], close) for err in errors if err["type"] == "extra_forbidden"
                    and (close := closest(str(err["loc"][-1]), fields_at([AttestationFile], err["loc"][:-1])))}
        raise InventoryError([_pydantic_problem(err, problem) for err in errors  # a misspelt key once, not twice
                              if not (err["type"] == "missing" and tuple(err["loc"]) in misspelt)]) from None
    problems = [p for i, rec in enumerate(parsed.attestations)
                for p in _record_problems(rec, ("attestations", i), path.parent, duty_kinds, today, problem)]
    if problems:
        raise InventoryError(problems)
    return parsed.attestations


def _pydantic_problem(err: Any, problem: Any) -> InventoryProblem:
    loc = tuple(err["loc"])
    if err["type"] == "extra_forbidden":
        where = ".".join(str(x) for x in loc[:-1]) or "an attestation file"
        return problem(loc, unknown_key_message(str(loc[-1]), fields_at([AttestationFile], loc[:-1]), where))
    return problem(loc, pydantic_message(err))


def _record_problems(rec: Attestation, loc: Path_, base: Path, duty_kinds: Mapping[str, str], today: dt.date,
                     problem: Any) -> list[InventoryProblem]:
    out = []
    kind = duty_kinds.get(rec.duty)
    if kind is None:
        hint = f"; did you mean {close}?" if (close := closest(rec.duty, duty_kinds)) else " (see `hil duties`)"
        out.append(problem((*loc, "duty"), f"unknown duty {rec.duty!r}{hint}"))
    elif kind not in ATTESTABLE_KINDS:
        out.append(problem((*loc, "duty"), f"{rec.duty} is an {kind} duty: a person's attestation stands only for "
                                           f"{' and '.join(ATTESTABLE_KINDS)} duties"))
    if rec.date > today:
        out.append(problem((*loc, "date"), f"{rec.date.isoformat()} is in the future (today is {today.isoformat()})"))
    file = Path(rec.evidence.file).expanduser()
    file = file if file.is_absolute() else base / file
    where = (*loc, "evidence", "file")
    if file.is_dir():
        out.append(problem(where, f"{rec.evidence.file} is a directory: name the attached file"))
    elif not file.is_file():
        out.append(problem(where, f"{rec.evidence.file} does not exist (a path is relative to the attestation file)"))
    else:
        got = _file_sha256(file)
        if got != rec.evidence.sha256:
            out.append(problem((*loc, "evidence", "sha256"),
                               f"does not match {rec.evidence.file}: its SHA-256 is {got}, the record says "
                               f"{rec.evidence.sha256} (the file changed since it was attested?)"))
    return out


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass(frozen=True)
class AttestationStatus:
    """Where a duty stands: ``status`` (:data:`ATTESTED`, :data:`EXPIRED` or :data:`MISSING`) and
    the newest ``record`` for it (None when missing)."""

    status: str
    record: Attestation | None = None

    @property
    def valid(self) -> bool:
        return self.status == ATTESTED

    def describe(self) -> str:
        """``ATTESTED by Jane Doe (Telephony owner) on 2026-03-01, until 2027-03-01`` and the like."""
        r = self.record
        if r is None:
            return self.status
        who = f"by {r.person} ({r.role}) on {r.date.isoformat()}"
        if self.valid:
            return f"{self.status} {who}, until {r.expires.isoformat()}"
        return (f"{self.status} on {r.expires.isoformat()} (attested {who}, review every "
                f"{r.review_interval_months} months)")

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "text": self.describe(),
                "record": self.record.as_dict() if self.record else None}


def attestation_status(records: Sequence[Attestation], duty: str, today: dt.date) -> AttestationStatus:
    """The status of ``duty`` on ``today``, from its newest record (by date) among ``records``."""
    mine = [r for r in records if r.duty == duty]
    if not mine:
        return AttestationStatus(MISSING)
    newest = max(mine, key=lambda r: r.date)
    return AttestationStatus(ATTESTED if today < newest.expires else EXPIRED, newest)
