"""The ``ntp`` unit's faults (``hil lab fault ntp NAME[=VALUE]``), read by the SNTP server (:mod:`.server`)
on every request, on every address the unit serves:

* ``ntp-offset=SECONDS``: the server's clock runs SECONDS ahead (negative: behind) of true time; its
  answers' receive and transmit timestamps carry it (what devices synchronized to it would follow).
* ``ntp-silent``: requests are dropped unanswered (the server's address is there; its NTP service
  says nothing).
* ``ntp-unsynchronized``: the servers answer as a server that has lost its upstream does: leap
  indicator 3 (alarm) and stratum 16 (RFC 5905 §7.3).
"""

from __future__ import annotations

import math

from ..core.faults import declare, declare_value

ROLE = ("ntp",)
MAX_OFFSET_S = 86400.0  # project choice: a day either way is any clock error a site shows


def offset_seconds(name: str, value: str) -> float:
    """``SECONDS`` as a float, -:data:`MAX_OFFSET_S` .. +:data:`MAX_OFFSET_S`; ValueError otherwise."""
    try:
        s = float(value)
    except ValueError:
        s = math.nan
    if not math.isfinite(s) or abs(s) > MAX_OFFSET_S:
        raise ValueError(f"fault {name} needs SECONDS, a number from -{MAX_OFFSET_S:g} to {MAX_OFFSET_S:g}, "
                         f"got {value!r}")
    return s


NTP_OFFSET = declare_value("ntp-offset", ROLE, "the site's NTP servers' clock runs SECONDS ahead (negative: behind)",
                           "SECONDS", offset_seconds)
NTP_SILENT = declare("ntp-silent", ROLE, "the site's NTP servers drop every request unanswered")
NTP_UNSYNCHRONIZED = declare("ntp-unsynchronized", ROLE, "the site's NTP servers answer unsynchronized (leap 3, "
                             "stratum 16)")
