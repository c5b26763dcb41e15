"""Tagging the Allure results with the run's findings once all are known (harness.evidence.allure_findings),
on a small results folder written the way allure-pytest writes it: a consequence that ran before its
root is tagged, a root is never tagged (not even with a consequence of its own inside), a rewrite is
idempotent, and every result stays in its status."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from harness.evidence.allure_env import CATEGORIES
from harness.evidence.allure_findings import consequences_by_test, tag_consequences

ROOT, WIRE, OTHER, PASSED = "s/test_org.py::test_list", "s/test_wire.py::test_calls[edge1]", "s/test_x.py::test_x", \
    "s/test_x.py::test_ok"
ROOT_MSG = "[SEC-TOLL-FRAUD] cloud prefix Block List: the org does not block = 1 prefixes"
INPUT = "org block list +1900"


def _failure(nodeid: str, message: str, because: list[str] | None = None) -> dict[str, Any]:
    f: dict[str, Any] = {"nodeid": nodeid, "message": message}
    if because is not None:
        f["because"] = because
    return f


FINDINGS = [
    {"root": _failure(ROOT, ROOT_MSG), "inputs": [INPUT],
     "consequences": [_failure(WIRE, "[SEC-TOLL-FRAUD] edge1: INVITEs at the carrier = 1", [INPUT]),
                      _failure(ROOT, "[SEC-TOLL-FRAUD] cloud: count = 1", [INPUT])]},  # the root's own check
    {"root": _failure(OTHER, "[NET-NTP] x: y = 2"), "inputs": [], "consequences": []},
]


def _write(d: Path, nodeid: str, status: str, message: str | None) -> Path:
    result: dict[str, Any] = {"uuid": nodeid, "name": nodeid.split("::")[-1], "status": status,
                              "labels": [{"name": "duty", "value": "SEC-TOLL-FRAUD"},
                                         {"name": "nodeid", "value": nodeid}]}
    if message is not None:
        result["statusDetails"] = {"message": message, "trace": "the trace"}
    path = d / f"{abs(hash(nodeid))}-result.json"
    path.write_text(json.dumps(result))
    return path


def _results(d: Path) -> dict[str, dict[str, Any]]:
    out = {}
    for p in d.glob("*-result.json"):
        r = json.loads(p.read_text())
        out[next(lb["value"] for lb in r["labels"] if lb["name"] == "nodeid")] = r
    return out


def _category(result: dict[str, Any]) -> str:
    for c in CATEGORIES:  # first match wins, as in Allure
        regex = c.get("messageRegex")
        if result["status"] in c["matchedStatuses"] and (
                regex is None or re.fullmatch(regex, result.get("statusDetails", {}).get("message", ""))):
            return str(c["name"])
    return "none"


def _folder(tmp_path: Path) -> Path:
    d = tmp_path / "allure-results"
    d.mkdir()
    # the wire's test ran first: its result was written before the org's list failed, untagged
    _write(d, WIRE, "failed", "harness.evidence.check.DutyNotMet: [SEC-TOLL-FRAUD] edge1: INVITEs at the carrier = 1")
    # the root's own count check was noted at test time as a consequence of its own row (the old behaviour)
    _write(d, ROOT, "failed", f"harness.evidence.check.DutyNotMet: [SEC-TOLL-FRAUD] cloud: count = 1\n"
                              f"consequence of: {ROOT_MSG}")
    _write(d, OTHER, "failed", "harness.evidence.check.DutyNotMet: [NET-NTP] x: y = 2")
    _write(d, PASSED, "passed", None)
    return d


def test_a_consequence_is_known_by_its_root_and_a_root_never_by_its_own():
    assert consequences_by_test(FINDINGS) == {
        WIRE: {ROOT_MSG: [f"  - [SEC-TOLL-FRAUD] edge1: INVITEs at the carrier = 1 (because {INPUT})"]}}


def test_a_consequence_that_ran_before_its_root_is_tagged_and_the_root_is_not(tmp_path):
    d = _folder(tmp_path)
    assert tag_consequences(d, FINDINGS) == 1
    res = _results(d)
    wire = res[WIRE]
    assert wire["statusDetails"]["message"] == ("harness.evidence.check.DutyNotMet: [SEC-TOLL-FRAUD] edge1: INVITEs "
                                                f"at the carrier = 1\nconsequence of: {ROOT_MSG}")
    assert wire["statusDetails"]["trace"] == "the trace" and wire["status"] == "failed"
    (att,) = wire["attachments"]
    assert att["name"] == "root cause" and att["type"] == "text/plain", att
    text = (d / att["source"]).read_text()
    assert text.startswith(ROOT_MSG + "\n  - [SEC-TOLL-FRAUD] edge1: INVITEs at the carrier = 1") \
        and f"(because {INPUT})" in text, text
    # the root: its own consequence line gone, no attachment, in "Duty not met"
    root = res[ROOT]
    assert root["statusDetails"]["message"] == "harness.evidence.check.DutyNotMet: [SEC-TOLL-FRAUD] cloud: count = 1"
    assert root["attachments"] == []
    assert _category(wire) == "Duty not met: consequence of a root cause"
    assert _category(root) == _category(res[OTHER]) == "Duty not met"
    assert res[PASSED]["status"] == "passed" and "attachments" not in res[PASSED]  # untouched


def test_a_rewrite_is_idempotent_and_follows_the_findings(tmp_path):
    d = _folder(tmp_path)
    tag_consequences(d, FINDINGS)
    first = _results(d)
    assert tag_consequences(d, FINDINGS) == 1
    again = _results(d)
    assert again[WIRE]["statusDetails"] == first[WIRE]["statusDetails"]
    assert len(again[WIRE]["attachments"]) == 1
    assert len(list(d.glob("*-attachment.txt"))) == 1  # the first rewrite's attachment went with it
    # findings without the group: nothing is a consequence any more, nothing is left tagged
    assert tag_consequences(d, [{**FINDINGS[0], "consequences": []}, FINDINGS[1]]) == 0
    res = _results(d)
    assert "consequence of" not in res[WIRE]["statusDetails"]["message"] and res[WIRE]["attachments"] == []
    assert list(d.glob("*-attachment.txt")) == []


def test_a_consequence_of_two_roots_names_both_once(tmp_path):
    d = tmp_path / "r"
    d.mkdir()
    _write(d, WIRE, "failed", "DutyNotMet: w")
    other = {"root": _failure(OTHER, "[X] root two"), "inputs": ["b"],
             "consequences": [_failure(WIRE, "w", ["b"]), _failure(WIRE, "w2", ["b"])]}
    assert tag_consequences(d, [FINDINGS[0], other]) == 1
    msg = _results(d)[WIRE]["statusDetails"]["message"]
    assert msg == f"DutyNotMet: w\nconsequence of: {ROOT_MSG}\nconsequence of: [X] root two", msg
