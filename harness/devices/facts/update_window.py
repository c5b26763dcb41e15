"""The site's Edge software update window (Genesys ``Site.edge_auto_update_config``: rrule, start,
end, time zone), as the org's API gives it (:func:`window_of_site`) or the inventory records it.

:func:`window_facts` turns an :class:`~harness.inventory.models.UpdateWindow` into what the Genesys
rules are about: the recurrence (``DAILY``/``WEEKLY``/…), the weekdays of a weekly window, the
length in hours (an end before the start runs past midnight), and the next opening. Sources:
recurrence DAILY or WEEKLY only, weekly with at least one day, at least 2 h long, default
02:00-05:00 daily ([API-TF-SITE], [G-UPD-SCHED]).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from dateutil.rrule import rrule, rruleset, rrulestr

from ...inventory.models import UpdateWindow
from .cloud_sites import EdgeAutoUpdateConfig


def rrule_parts(rrule: str) -> dict[str, str]:
    """``FREQ=WEEKLY;BYDAY=SA,SU`` -> ``{"FREQ": "WEEKLY", "BYDAY": "SA,SU"}`` (RFC 5545 §3.3.10 form;
    dateutil has already validated the rule, and keeps these parts private)."""
    body = rrule.strip()
    if body.upper().startswith("RRULE:"):
        body = body[6:]
    return {k.strip().upper(): v.strip().upper() for k, _, v in (p.partition("=") for p in body.split(";") if p)}


@dataclass(frozen=True)
class WindowFacts:
    """``freq``: RRULE frequency name; ``weekdays``: BYDAY of the rule (``()`` when it has none);
    ``length_h``: hours from start to end; ``next_open``: the next opening after ``now`` in the
    window's time zone (``None`` when the rule has no further occurrence)."""

    freq: str
    weekdays: tuple[str, ...]
    length_h: float
    next_open: dt.datetime | None

    def contains(self, moment: dt.datetime, window: UpdateWindow) -> bool:
        """``moment`` (aware) falls inside an opening of the window."""
        tz = zoneinfo.ZoneInfo(window.time_zone)
        local = moment.astimezone(tz)
        rule = _rule(window, local - dt.timedelta(days=8))
        last = rule.before(local.replace(tzinfo=None), inc=True)
        return last is not None and local.replace(tzinfo=None) < last + dt.timedelta(hours=self.length_h)


def _rule(window: UpdateWindow, around: dt.datetime) -> rrule | rruleset:
    h, m = (int(x) for x in window.start.split(":"))
    start = around.replace(hour=h, minute=m, second=0, microsecond=0, tzinfo=None)
    return rrulestr(window.rrule, dtstart=start)


def window_facts(window: UpdateWindow, now: dt.datetime | None = None) -> WindowFacts:
    """The facts of ``window`` (``now``: aware datetime, default the current time)."""
    tz = zoneinfo.ZoneInfo(window.time_zone)
    local_now = (now or dt.datetime.now(dt.UTC)).astimezone(tz)
    rule = _rule(window, local_now - dt.timedelta(days=1))
    sh, sm = (int(x) for x in window.start.split(":"))
    eh, em = (int(x) for x in window.end.split(":"))
    minutes = (eh * 60 + em - sh * 60 - sm) % (24 * 60)
    parts = rrule_parts(window.rrule)
    weekdays = tuple(d for d in parts.get("BYDAY", "").split(",") if d)
    nxt = rule.after(local_now.replace(tzinfo=None))
    return WindowFacts(parts.get("FREQ", ""), weekdays, minutes / 60.0, nxt.replace(tzinfo=tz) if nxt else None)


def window_of_site(config: EdgeAutoUpdateConfig) -> UpdateWindow:
    """The site's ``edgeAutoUpdateConfig`` (Genesys Cloud API) as an :class:`UpdateWindow`: the times of
    day of its local ``start`` and ``end`` date-times, its ``rrule`` and ``time_zone``.

    Raises:
        ValueError: a value the inventory's own window would refuse (an unknown time zone, an
            rrule that does not parse, no length).
    """
    return UpdateWindow(rrule=config.rrule, start=f"{config.start:%H:%M}", end=f"{config.end:%H:%M}",
                        time_zone=config.time_zone)


def whole_window_between(window: UpdateWindow, since: dt.datetime, now: dt.datetime) -> dt.datetime | None:
    """The end of the first opening of ``window`` that began at or after ``since`` and ended by ``now``
    (both aware), ``None`` when no whole window fits between them: an Edge that staged a version at
    ``since`` and still has it staged at ``now`` left it past that window (DUTIES.md: "not after one
    full update window", project choice)."""
    tz = zoneinfo.ZoneInfo(window.time_zone)
    a, b = since.astimezone(tz).replace(tzinfo=None), now.astimezone(tz).replace(tzinfo=None)
    length = dt.timedelta(hours=window_facts(window, now).length_h)
    opening = _rule(window, a - dt.timedelta(days=1)).after(a, inc=True)
    if opening is None or opening + length > b:
        return None
    return (opening + length).replace(tzinfo=tz)
