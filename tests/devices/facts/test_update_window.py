"""The site's Edge update window: RRULE parts, length across midnight, openings, and the read-only
MAINT-EDGE-UPDATE checks (PASS on the shipped window, FAIL on a monthly or too short one)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from harness.devices.facts.update_window import rrule_parts, window_facts
from harness.errors import InventoryError
from harness.inventory import load
from harness.inventory.models import UpdateWindow
from tests.conftest import make_test_lab
from tests.scenario_runner import run_scenarios

UTC = dt.UTC


def test_facts_of_a_weekly_window_past_midnight():
    w = UpdateWindow(rrule="FREQ=WEEKLY;BYDAY=SA,SU", start="23:00", end="00:30", time_zone="Europe/Paris")
    f = window_facts(w, dt.datetime(2026, 12, 1, 12, tzinfo=UTC))
    assert (f.freq, f.weekdays, f.length_h) == ("WEEKLY", ("SA", "SU"), 1.5)
    assert f.next_open is not None and f.next_open.isoformat() == "2026-12-05T23:00:00+01:00"
    assert f.contains(dt.datetime(2026, 12, 5, 22, 15, tzinfo=UTC), w)  # 23:15 Saturday in Paris
    assert not f.contains(dt.datetime(2026, 12, 5, 23, 31, tzinfo=UTC), w)  # 00:31: closed
    assert not f.contains(dt.datetime(2026, 12, 3, 22, 15, tzinfo=UTC), w)  # a Thursday


def test_rrule_parts_accept_the_rrule_prefix():
    assert rrule_parts("RRULE:freq=daily;interval=1") == {"FREQ": "DAILY", "INTERVAL": "1"}


@pytest.mark.parametrize(("field", "value", "message"), [
    ("rrule", "FREQ=FORTNIGHTLY", "not an RFC 5545 RRULE"),
    ("start", "25:00", "must be a 24-hour time HH:MM"),
    ("time_zone", "Mars/Olympus", "not an IANA time zone"),
])
def test_bad_window_is_an_inventory_error_at_its_line(tmp_path, field, value, message):
    text = (make_test_lab(tmp_path / "src")).read_text()
    old = {"rrule": "rrule: FREQ=DAILY", "start": 'start: "02:00"',
           "time_zone": "time_zone: America/Indiana/Indianapolis"}
    lab = make_test_lab(tmp_path / "lab", text.replace(old[field], f'{field}: "{value}"'))
    with pytest.raises(InventoryError) as e:
        load(lab)
    assert f"lab.update_window.{field}" in str(e.value) and message in str(e.value), str(e.value)


def test_window_with_no_length_is_an_inventory_error_at_its_line(tmp_path):
    text = (make_test_lab(tmp_path / "src")).read_text()
    lab = make_test_lab(tmp_path / "lab", text.replace('end: "05:00"', 'end: "02:00"'))
    line = next(i for i, t in enumerate(lab.read_text().splitlines(), 1) if t.strip().startswith("update_window:"))
    with pytest.raises(InventoryError) as e:
        load(lab)
    assert f"{lab}:{line}: lab.update_window: start and end are both 02:00" in str(e.value), str(e.value)


@pytest.mark.parametrize(("window", "failing", "parts"), [
    ('rrule: FREQ=MONTHLY;BYMONTHDAY=1', "test_update_window_recurs_daily_or_weekly",
     ("update window recurrence (FREQ=MONTHLY;BYMONTHDAY=1) = MONTHLY", "limit in [DAILY, WEEKLY] (API-TF-SITE)")),
    ('end: "03:30"', "test_update_window_is_long_enough", ("update window length (02:00-03:30", "= 1.5 h", ">= 2 h")),
])
def test_window_checks_fail_on_rules_genesys_refuses(tmp_path, window, failing, parts):
    src = make_test_lab(tmp_path / "src").read_text()
    key = window.split(":")[0]
    old = {"rrule": "rrule: FREQ=DAILY", "end": 'end: "05:00"'}[key]
    # no device is read: run it as a real lab, without a twin, and without cloud: so the window is
    # the inventory's own (with cloud: it is the site's in Genesys Cloud)
    src = re.sub(r"(?m)^cloud:\n(?:  .*\n)+", "", src)
    lab = make_test_lab(tmp_path / "lab", src.replace(old, window).replace("emulated: true", "emulated: false"))
    r = run_scenarios(lab, tmp_path / "out", "--duty=MAINT-EDGE-UPDATE")
    t = r.tests("MAINT-EDGE-UPDATE")
    assert t[failing]["verdict"] == "FAIL", t
    for p in parts:
        assert p in t[failing]["message"], (p, t[failing]["message"])
    other = next(n for n in t if n != failing and n.startswith("test_update_window_"))
    assert t[other]["verdict"] == "PASS", t[other]
