"""One root cause, one finding: the failed checks of a run grouped by the shared input they hinged on.

A check names the shared inputs it is about (:func:`~harness.evidence.check.check`'s
``inputs_checked`` and ``inputs_used``: stable strings such as ``"ntp server 10.0.0.123"`` or
``"dns name login.mypurecloud.com at 10.0.0.53"``). The check that judges an input itself declares it
*checked*; a check whose result hinged on it declares it *used* (a device clock judged against that
NTP server, a lookup of that name from another vantage point). When the input's own check failed,
every failure that used only failed inputs is a *consequence*: it is listed under the root finding
(the first failed check of its first input, followed to the top when that one is itself a
consequence) instead of standing as one more unrelated failure. When the input's check passed, or
did not run, or a failure also used an input that did not fail, nothing is grouped: the failure is
its own finding.

Which inputs a failure names is its check's to say, and it names those its result hung on, not every
input it read (an emergency call the Edge refused names the site's number plan when the plans leave
the number unclassified, the Block List when a blocked prefix covers it, both when both do): the
grouping asks every input named to have failed, so a failure that may have a cause no check found
stands as its own finding.

Grouping is presentation: every failed test of the run appears in the findings, once under each root
its failed checks hang on (one root, nearly always: a test whose checks hang on two roots is listed
under both, each time with the checks of that root), as the root's test or as one consequence, with
its failed checks under that root inside it (a device is never dropped); each stays FAIL; verdicts
and exit codes do not change.

:func:`group` works on the plugin's per-test records (``summary.json``'s ``tests``), so it groups
across the tests of a run and inside one test alike. Each finding::

    {"root": failure + {"checks": [check, ...]}, "inputs": [the failed inputs the root judged],
     "consequences": [failure + {"because": [inputs used], "checks": [check, ...]}, ...]}

``root`` is the failed check that judged the input first, ``checks`` every failed check of its test
under this root (the root itself among them). Each consequence is one test: the fields of the last of
its failed checks under the root (the one that failed the test, when it is among them), ``because``
every input those checks used, and ``checks`` all of them. Each failure (and each check: a failure +
``{"because": [inputs it used]}``, ``[]`` for the root itself) is ``{"nodeid", "duty", "device",
"what", "measured", "op", "limit", "unit", "source", "message", "inputs_checked", "inputs_used"}`` (a
failed test whose failure carries no measurement, a bare ``assert``, has its message, its devices and
``None`` for the rest).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import fields
from typing import Any

from .check import OBSERVED, Measurement

_MEASUREMENT_FIELDS = {f.name for f in fields(Measurement)}


def message_of(m: Mapping[str, Any]) -> str:
    """The one-line message of a recorded measurement (``Measurement.as_dict()``), as its check raised it."""
    d = {k: v for k, v in m.items() if k in _MEASUREMENT_FIELDS}
    d["inputs_checked"], d["inputs_used"] = tuple(m.get("inputs_checked", ())), tuple(m.get("inputs_used", ()))
    return Measurement(**d).message()


def _failure(test: Mapping[str, Any], m: Mapping[str, Any] | None) -> dict[str, Any]:
    if m is None:
        return {"nodeid": test["nodeid"], "duty": test["duty"], "device": ", ".join(test.get("devices", [])) or None,
                "what": None, "measured": None, "op": None, "limit": None, "unit": None, "source": None,
                "message": test["message"], "inputs_checked": [], "inputs_used": []}
    return {"nodeid": test["nodeid"], "duty": m["duty"], "device": m["device"], "what": m["what"],
            "measured": m["measured"], "op": m["op"], "limit": m["limit"], "unit": m["unit"], "source": m["source"],
            "message": message_of(m), "inputs_checked": list(m.get("inputs_checked", ())),
            "inputs_used": list(m.get("inputs_used", ()))}


def failures(tests: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Every failure of the run's FAIL tests, in run order: each failed check (an observation never
    fails), or the test's message when it failed without one."""
    out: list[dict[str, Any]] = []
    for t in tests:
        if t["verdict"] != "FAIL":
            continue
        failed = [m for m in t.get("measurements", []) if not m["passed"] and m["op"] != OBSERVED]
        out += [_failure(t, m) for m in failed] or [_failure(t, None)]
    return out


def group(tests: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The run's findings (module docstring), in the order their roots failed."""
    found = failures(tests)
    first_root: dict[str, int] = {}  # failed input -> index of the first failure that judged it
    for i, f in enumerate(found):
        for key in f["inputs_checked"]:
            first_root.setdefault(key, i)
    parent: dict[int, int] = {}

    def top(i: int) -> int:
        while i in parent:
            i = parent[i]
        return i

    for i, f in enumerate(found):
        used = f["inputs_used"]
        if used and all(k in first_root for k in used) and top(first_root[used[0]]) != i:
            parent[i] = first_root[used[0]]  # never a loop: a failure is not its own root's root

    roots = [i for i in range(len(found)) if top(i) == i]
    # per root, the failed checks under it by test, each test once, in the order their first check failed
    by_test: dict[int, dict[str, list[dict[str, Any]]]] = {i: {} for i in roots}
    for i, f in enumerate(found):
        because = list(f["inputs_used"]) if top(i) != i else []
        by_test[top(i)].setdefault(f["nodeid"], []).append({**f, "because": because})
    out = []
    for i in roots:
        tests_here = by_test[i]
        root = {**found[i], "checks": tests_here.pop(found[i]["nodeid"])}
        out.append({"root": root, "inputs": [k for k in found[i]["inputs_checked"] if first_root[k] == i],
                    "consequences": [_test_entry(checks) for checks in tests_here.values()]})
    return out


def _test_entry(checks: list[dict[str, Any]]) -> dict[str, Any]:
    """One consequence: a test, once, as the last of its failed ``checks`` under the root (the one that
    failed the test, when it is among them: a test stops at the check that raises), ``because`` every
    input they used, and ``checks`` all of them."""
    because = list(dict.fromkeys(k for c in checks for k in c["because"]))
    return {**checks[-1], "because": because, "checks": checks}


def failed_inputs(measurements: Iterable[Measurement]) -> dict[str, str]:
    """The inputs judged by the failed ones among ``measurements``, each with the message of the first
    check that failed it (what :func:`causes_of` looks a failure's inputs up in)."""
    out: dict[str, str] = {}
    for m in measurements:
        if not m.passed and m.op != OBSERVED:
            for key in m.inputs_checked:
                out.setdefault(key, m.message())
    return out


def causes_of(m: Measurement, failed: Mapping[str, str]) -> list[str]:
    """The root findings (messages, each once) the failed check ``m`` is a consequence of, given the
    ``failed`` inputs known so far (:func:`failed_inputs`); ``[]`` unless every input it used failed."""
    used = m.inputs_used
    if not used or not all(k in failed and failed[k] != m.message() for k in used):
        return []
    return list(dict.fromkeys(failed[k] for k in used))
