"""MAINT-EDGE-UPDATE, read-only part: the site's Edge update window meets the Genesys rules.

The window is the site's ``edge_auto_update_config`` as the inventory records it (``lab.update_window``):
recurrence DAILY or WEEKLY only, a weekly window on at least one day, at least 2 h long
([API-TF-SITE], [G-UPD-SCHED]; default 02:00-05:00 daily). A lab without a recorded window is
SKIPPED with that reason. The update itself (drain, install, reboot, verify) is destructive."""

import pytest

from harness.devices.edge_update import window_facts
from harness.evidence.check import check, observe

DUTY = "MAINT-EDGE-UPDATE"


def _window(lab):
    w = lab.lab.lab.update_window
    if w is None:
        pytest.skip("the inventory records no lab.update_window (the site's Edge update window)")
    return w


@pytest.mark.duty(DUTY)
def test_update_window_recurs_daily_or_weekly(lab, profile):
    w = _window(lab)
    f = window_facts(w)
    site = lab.lab.lab.site
    observe(f.next_open.isoformat() if f.next_open else None, duty=DUTY, device=site, what="next update window opens",
            detail=f"{w.rrule} {w.start}-{w.end} {w.time_zone}")
    check(f.freq, profile.threshold(DUTY, "window_recurrence"), duty=DUTY, device=site,
          what=f"update window recurrence ({w.rrule})")
    if f.freq == "WEEKLY":
        check(len(f.weekdays), profile.threshold(DUTY, "weekly_window_days"), duty=DUTY, device=site,
              what=f"days of the weekly update window ({w.rrule})")


@pytest.mark.duty(DUTY)
def test_update_window_is_long_enough(lab, profile):
    w = _window(lab)
    check(window_facts(w).length_h, profile.threshold(DUTY, "window_length_h"), duty=DUTY, device=lab.lab.lab.site,
          what=f"update window length ({w.start}-{w.end} {w.time_zone})")
