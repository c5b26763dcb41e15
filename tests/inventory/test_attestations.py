"""Attestation records (``attestations:`` in the inventory): loaded and checked like the inventory,
every problem a ``FILE:LINE: path: problem`` line of ``hil inventory check`` (exit 2), and the status
of a duty on a given day (ATTESTED, ATTESTATION EXPIRED, ATTESTATION MISSING)."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest

from harness.duties.catalogue import CATALOGUE
from harness.errors import InventoryError
from harness.inventory.attestations import (
    ATTESTED,
    EXPIRED,
    MISSING,
    attestation_status,
    load_attestations,
)
from harness.preflight import check_lab
from tests.conftest import REPO, make_test_lab
from tests.inventory.test_loader import assert_clean, hil, line_at

KINDS = {d.id: d.kind for d in CATALOGUE.values()}
EVIDENCE = b"Carrier order 2026-114: 23 channels, DIDs +1 317 555 0100-0102\n"
TODAY = dt.date(2026, 6, 1)


def record(duty: str = "PSTN-CAPACITY", *, date: str = "2026-03-01", months: int = 12, sha: str | None = None,
           file: str = "evidence/order.txt", extra: str = "") -> str:
    sha = sha or hashlib.sha256(EVIDENCE).hexdigest()
    return (f"  - duty: {duty}\n"
            f"    statement: The carrier contract buys 23 channels\n"
            f"    evidence:\n"
            f"      document: Carrier order form\n"
            f"      version: \"2026-114\"\n"
            f"      file: {file}\n"
            f"      sha256: {sha}\n"
            f"    person: Jane Doe\n"
            f"    role: Telephony service owner\n"
            f"    date: {date}\n"
            f"    review_interval_months: {months}\n{extra}")


def attestation_file(folder: Path, *records: str) -> Path:
    (folder / "evidence").mkdir(parents=True, exist_ok=True)
    (folder / "evidence" / "order.txt").write_bytes(EVIDENCE)
    path = folder / "attestations.yaml"
    path.write_text("attestations:\n" + "".join(records))
    return path


def test_a_valid_record_loads_and_attests_its_duty_until_its_review_is_due(tmp_path):
    path = attestation_file(tmp_path, record(extra="    relies_on: [test_max_calls_held_and_next_call_refused]\n"))
    records = load_attestations(path, KINDS, today=TODAY)
    assert [r.duty for r in records] == ["PSTN-CAPACITY"] and records[0].expires == dt.date(2027, 3, 1)
    ok = attestation_status(records, "PSTN-CAPACITY", TODAY)
    assert ok.status == ATTESTED and ok.valid
    assert ok.describe() == "ATTESTED by Jane Doe (Telephony service owner) on 2026-03-01, until 2027-03-01"
    late = attestation_status(records, "PSTN-CAPACITY", dt.date(2027, 3, 1))
    assert late.status == EXPIRED and not late.valid
    assert late.describe().startswith("ATTESTATION EXPIRED on 2027-03-01 (attested by Jane Doe")
    assert attestation_status(records, "MAINT-EDGE-LOGS", TODAY).status == MISSING


def test_the_newest_record_of_a_duty_counts(tmp_path):
    path = attestation_file(tmp_path, record(date="2024-01-01"), record(date="2026-02-01"))
    status = attestation_status(load_attestations(path, KINDS, today=TODAY), "PSTN-CAPACITY", TODAY)
    assert status.valid and status.record is not None and status.record.date == dt.date(2026, 2, 1)


@pytest.mark.parametrize(("change", "anchor", "path", "message"), [
    (lambda r: r.replace("    person:", "    persn:"), "persn:", "attestations.0.persn",
     "unknown key; did you mean person?"),
    (lambda r: r.replace("duty: PSTN-CAPACITY", "duty: PSTN-CAPACTY"), "duty:", "attestations.0.duty",
     "unknown duty 'PSTN-CAPACTY'; did you mean PSTN-CAPACITY?"),
    (lambda r: r.replace("duty: PSTN-CAPACITY", "duty: NET-VOIP-HW"), "duty:", "attestations.0.duty",
     "NET-VOIP-HW is an automated duty: a person's attestation stands only for hybrid and attest duties"),
    (lambda r: r.replace("date: 2026-03-01", "date: 2026-07-01"), "date:", "attestations.0.date",
     "2026-07-01 is in the future (today is 2026-06-01)"),
    (lambda r: r.replace("review_interval_months: 12", "review_interval_months: 0"), "review_interval_months",
     "attestations.0.review_interval_months", "must be greater than 0"),
    (lambda r: r.replace("order.txt", "missing.pdf"), "file:", "attestations.0.evidence.file",
     "evidence/missing.pdf does not exist (a path is relative to the attestation file)"),
    (lambda r: r.replace("    person: Jane Doe\n", ""), "duty:", "attestations.0.person", "required key is missing"),
])
def test_a_bad_record_is_an_error_at_its_line(tmp_path, change, anchor, path, message):
    file = attestation_file(tmp_path, record("ENV-EDGE"), change(record()))
    text = file.read_text()
    second = text.index("  - duty:", text.index("  - duty:") + 1)  # the changed record is the second
    line = text.count("\n", 0, text.index(anchor, second)) + 1
    with pytest.raises(InventoryError) as e:
        load_attestations(file, KINDS, today=TODAY)
    shown = path.replace("attestations.0", "attestations.1")
    assert [str(p) for p in e.value.problems] == [f"{file}:{line}: {shown}: {message}"], e.value.problems


def test_a_changed_evidence_file_is_an_error_naming_both_checksums(tmp_path):
    file = attestation_file(tmp_path, record())
    (tmp_path / "evidence" / "order.txt").write_bytes(EVIDENCE + b"amended\n")
    got = hashlib.sha256(EVIDENCE + b"amended\n").hexdigest()
    with pytest.raises(InventoryError) as e:
        load_attestations(file, KINDS, today=TODAY)
    line = line_at(file.read_text(), "sha256:")
    assert str(e.value) == (f"{file}:{line}: attestations.0.evidence.sha256: does not match evidence/order.txt: its "
                            f"SHA-256 is {got}, the record says {hashlib.sha256(EVIDENCE).hexdigest()} (the file "
                            "changed since it was attested?)")


def test_yaml_errors_and_a_file_that_is_no_mapping(tmp_path):
    bad = tmp_path / "a.yaml"
    bad.write_text("attestations:\n  - duty: [PSTN-CAPACITY\n")
    with pytest.raises(InventoryError, match=rf"^{bad}:2: invalid YAML: unclosed"):
        load_attestations(bad, KINDS)
    bad.write_text("- duty: PSTN-CAPACITY\n")
    with pytest.raises(InventoryError, match=r"must be a mapping with an 'attestations' list"):
        load_attestations(bad, KINDS)


def test_inventory_check_reports_the_attestation_file_at_its_lines(tmp_path):
    text = (REPO / "lab_inventory.yaml").read_text().replace("profile: profiles/default.yaml",
                                                               "profile: profiles/default.yaml\n"
                                                               "attestations: attestations.yaml")
    inv = make_test_lab(tmp_path, text)
    file = attestation_file(tmp_path, record(sha="ab" * 32))
    line = line_at(file.read_text(), "sha256:")
    r = hil("inventory", "check", str(inv), cwd=tmp_path)
    assert r.returncode == 2, r.stdout + r.stderr
    assert f"{file}:{line}: attestations.0.evidence.sha256: does not match evidence/order.txt" in r.stdout, r.stdout
    assert_clean(r)
    attestation_file(tmp_path, record())
    loaded, problems = check_lab(inv)
    assert loaded is not None and problems == [], problems
    file.unlink()
    _, problems = check_lab(inv)
    key = line_at(inv.read_text(), "attestations:")
    assert problems == [f"{inv}:{key}: attestations: attestation file attestations.yaml does not exist"], problems
