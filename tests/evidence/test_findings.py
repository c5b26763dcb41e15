"""Grouping failures by root cause (harness.evidence.findings): a failure whose shared inputs all
failed their own check is a consequence listed under that root; everything else stands alone; every
failed test appears once under each root its checks hang on, with those checks inside it; verdicts
and exit codes do not change."""

from __future__ import annotations

import time
from typing import Any

import pytest

from harness.duties.catalogue import Threshold
from harness.evidence.check import RECORD, DutyNotMet, check
from harness.evidence.findings import group
from harness.evidence.summary import build, render_markdown

LIMIT = Threshold("clock_offset_s", 1, "s", "<=", "project choice")
NTP = "ntp server 10.0.0.123"


def measured(value: float, device: str, **inputs: Any) -> dict[str, Any]:
    try:
        m = check(value, LIMIT, duty="NET-NTP", device=device, what="clock offset", **inputs)
    except DutyNotMet as e:
        m = e.measurement
    RECORD.reset()
    return m.as_dict()


def rec(name: str, *measurements: dict[str, Any], verdict: str | None = None, message: str = "") -> dict[str, Any]:
    failed = [m for m in measurements if not m["passed"]]
    if verdict is None:
        verdict = "FAIL" if failed else "PASS"
    return {"nodeid": f"scenarios/network/test_ntp.py::{name}", "duty": "NET-NTP", "devices": [],
            "verdict": verdict, "message": message or ("x" if failed else ""), "duration_s": 0.1,
            "measurements": list(measurements), "failure": bool(failed), "explained_failure": None,
            "core": None, "skipped_for": None}


def server_off() -> dict[str, Any]:
    return rec("test_servers", measured(2.5, "ntp servers", inputs_checked=(NTP,)))


def clock_off(device: str, value: float = 2.5, inputs_used: tuple[str, ...] = (NTP,)) -> dict[str, Any]:
    return rec(f"test_clock[{device}]", measured(value, device, inputs_used=inputs_used))


def test_failures_that_used_a_failed_input_are_its_consequences():
    tests = [server_off(), clock_off("sw1"), clock_off("phone1"), clock_off("phone2")]
    findings = group(tests)
    assert len(findings) == 1
    f = findings[0]
    assert f["root"]["device"] == "ntp servers" and f["inputs"] == [NTP]
    assert f["root"]["message"] == "[NET-NTP] ntp servers: clock offset = 2.5 s; limit <= 1 s (project choice)"
    assert [c["device"] for c in f["consequences"]] == ["sw1", "phone1", "phone2"]
    c = f["consequences"][0]
    assert (c["measured"], c["limit"], c["duty"], c["because"]) == (2.5, 1, "NET-NTP", [NTP])


def test_the_root_may_fail_after_its_consequences():
    findings = group([clock_off("sw1"), server_off(), clock_off("phone1")])
    assert len(findings) == 1 and [c["device"] for c in findings[0]["consequences"]] == ["sw1", "phone1"]


def test_nothing_is_grouped_when_the_input_passed():
    tests = [rec("test_servers", measured(0.01, "ntp servers", inputs_checked=(NTP,))), clock_off("sw1"),
             clock_off("phone1")]
    findings = group(tests)
    assert [f["root"]["device"] for f in findings] == ["sw1", "phone1"]
    assert all(not f["consequences"] and not f["inputs"] for f in findings)


def test_a_failure_that_also_used_an_input_that_did_not_fail_stands_alone():
    other = "ntp server 10.0.0.124"
    findings = group([server_off(), clock_off("sw1", inputs_used=(NTP, other))])
    assert [(f["root"]["device"], len(f["consequences"])) for f in findings] == [("ntp servers", 0), ("sw1", 0)]


def test_grouping_inside_one_test_and_through_a_chain():
    name = "dns name a.example at 10.0.0.53"
    one = rec("test_one", measured(2, "dns 10.0.0.53", inputs_checked=(name,)),
              measured(2, "dns 10.0.0.53 tcp", inputs_used=(name,)))
    # a consequence that is itself the root of another input: its consequences go to the top root
    chained = rec("test_two", measured(3, "edge1", inputs_used=(name,), inputs_checked=("edge1 resolver",)))
    last = rec("test_three", measured(4, "phone1", inputs_used=("edge1 resolver",)))
    findings = group([one, chained, last])
    assert len(findings) == 1
    # the root's own test once, its consequence inside it; each other test once
    root = findings[0]["root"]
    assert root["device"] == "dns 10.0.0.53" and [c["device"] for c in root["checks"]] == ["dns 10.0.0.53",
                                                                                          "dns 10.0.0.53 tcp"]
    assert [c["because"] for c in root["checks"]] == [[], [name]]
    assert [c["device"] for c in findings[0]["consequences"]] == ["edge1", "phone1"]


def test_every_failed_test_appears_once_and_other_verdicts_are_left_out():
    tests = [server_off(), clock_off("sw1"), rec("test_dead", verdict="BROKEN", message="sw2: timeout"),
             rec("test_bare", verdict="FAIL", message="assert 1 == 2"), clock_off("phone1", 0.2)]
    findings = group(tests)
    listed = [f["root"]["nodeid"] for f in findings] + [c["nodeid"] for f in findings for c in f["consequences"]]
    assert sorted(listed) == sorted(t["nodeid"] for t in tests if t["verdict"] == "FAIL")
    bare = findings[1]["root"]
    assert bare["message"] == "assert 1 == 2" and bare["measured"] is None
    assert [c["message"] for c in bare["checks"]] == ["assert 1 == 2"]


def rows_and_count(name: str, *inputs: str) -> dict[str, Any]:
    """A test with one failed row per input and a count that relies on all of them (DATA-ACCURACY's)."""
    rows = [measured(2.5, f"row {k}", inputs_used=(k,)) for k in inputs]
    return rec(name, *rows, measured(float(len(inputs)) + 1, "count", inputs_used=inputs))


def test_a_test_with_several_failed_checks_is_one_consequence_with_its_checks():
    other = "ntp server 10.0.0.124"
    servers = rec("test_servers", measured(2.5, "ntp servers", inputs_checked=(NTP, other)))
    findings = group([servers, rows_and_count("test_rows", NTP, other), clock_off("sw1")])
    (f,) = findings
    assert [c["nodeid"].split("::")[-1] for c in f["consequences"]] == ["test_rows", "test_clock[sw1]"]
    rows = f["consequences"][0]
    # the test as the check that failed it (its count, the last), every input its checks used, each check inside
    assert rows["device"] == "count" and rows["because"] == [NTP, other], rows
    assert [(c["device"], c["because"]) for c in rows["checks"]] == [
        ("row ntp server 10.0.0.123", [NTP]), ("row ntp server 10.0.0.124", [other]), ("count", [NTP, other])]
    assert [c["device"] for c in f["consequences"][1]["checks"]] == ["sw1"]
    assert [(c["device"], c["because"]) for c in f["root"]["checks"]] == [("ntp servers", [])]


def test_a_test_whose_checks_hang_on_two_roots_is_listed_once_under_each():
    other = "dns name a.example at 10.0.0.53"
    ntp = server_off()
    dns = rec("test_dns", measured(2, "dns 10.0.0.53", inputs_checked=(other,)))
    both = rec("test_both", measured(2.5, "row ntp", inputs_used=(NTP,)),
               measured(2.5, "row dns", inputs_used=(other,)), measured(2.5, "row own"))
    findings = group([ntp, dns, both])
    by_root = {f["root"]["device"]: f for f in findings}
    assert set(by_root) == {"ntp servers", "dns 10.0.0.53", "row own"}
    for root, row in (("ntp servers", "row ntp"), ("dns 10.0.0.53", "row dns")):
        (c,) = by_root[root]["consequences"]
        assert c["nodeid"].endswith("test_both") and [k["device"] for k in c["checks"]] == [row], c
    assert by_root["row own"]["consequences"] == [] and len(by_root["row own"]["root"]["checks"]) == 1


def test_the_summary_lists_each_test_once_with_its_checks(loaded):
    other = "ntp server 10.0.0.124"
    servers = rec("test_servers", measured(2.5, "ntp servers", inputs_checked=(NTP, other)),
                  measured(2.5, "ntp servers spread", inputs_used=(NTP,)))
    now = time.time()
    s = build(loaded, [servers, rows_and_count("test_rows", NTP, other), clock_off("sw1")], started=now, finished=now)
    (f,) = s["findings"]
    assert len(f["consequences"]) == 2 and len(f["root"]["checks"]) == 2
    md = render_markdown(s)
    part = md[md.index("## Findings"):]
    assert "1 finding, 1 of them the root cause of other failures" in part
    assert "- in the same test, failed with it (1):\n  - \\[NET-NTP\\] ntp servers spread: clock offset" in part, part
    assert "- consequences (2 tests, 4 failed checks):" in part, part
    assert part.count("test\\_rows") == 1, part  # once, its three checks under it
    head = part.index("  - scenarios/network/test\\_ntp.py::test\\_rows, 3 failed checks:")
    assert part.index("    - \\[NET-NTP\\] row ntp server 10.0.0.123: clock offset", head) > head
    assert "  - \\[NET-NTP\\] sw1: clock offset = 2.5 s; limit \\<= 1 s (project choice) (scenarios" in part, part


def test_the_summary_lists_findings_and_keeps_verdicts(loaded):
    tests = [server_off(), clock_off("sw1"), clock_off("phone1")]
    now = time.time()
    s = build(loaded, tests, started=now, finished=now)
    assert s["exit_code"] == 1 and s["duties"]["NET-NTP"]["verdict"] == "FAIL"
    assert s["duties"]["NET-NTP"]["tests"]["failed"] == 3
    assert len(s["findings"]) == 1 and len(s["findings"][0]["consequences"]) == 2
    md = render_markdown(s)
    assert "## Findings" in md and "1 finding, 1 of them the root cause of other failures" in md
    head = md.index("### 1. \\[NET-NTP\\] ntp servers: clock offset = 2.5 s")
    assert md.index("  - \\[NET-NTP\\] sw1: clock offset = 2.5 s", head) > head
    assert build(loaded, [], started=now, finished=now)["findings"] == []
    assert "## Findings" not in render_markdown(build(loaded, [], started=now, finished=now))


@pytest.mark.parametrize("inputs", [("a", "a", "b")])
def test_a_check_keeps_each_input_once(inputs):
    m = measured(0.1, "sw1", inputs_used=inputs)
    assert m["inputs_used"] == ("a", "b")
