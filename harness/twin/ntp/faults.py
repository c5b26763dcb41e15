"""The ``ntp`` unit's faults (``hil lab fault ntp NAME[=VALUE]``), read by the SNTP server (:mod:`.server`)
on every request, on every address the unit serves:

* ``ntp-offset=[ADDRESS:]SECONDS``: the servers' clock (only ADDRESS's, when given) runs SECONDS
  ahead (negative: behind) of true time; their answers' receive and transmit timestamps carry it. The
  devices keep true time, so they disagree with it; two servers apart disagree with each other.
* ``ntp-silent``: requests are dropped unanswered (the server's address is there; its NTP service
  says nothing).
* ``ntp-server-silent=ADDRESS``: only that server drops its requests; the others answer.
* ``ntp-unsynchronized``: the servers answer as a server that has lost its upstream does: leap
  indicator 3 (alarm) and stratum 16 (RFC 5905 §7.3).
"""

from __future__ import annotations

import math

from ..core.faults import declare, declare_value
from ..core.twin import Twin
from .state import NtpState

ROLE = ("ntp",)
MAX_OFFSET_S = 86400.0  # project choice: a day either way is any clock error a site shows


def offset_seconds(name: str, value: str) -> tuple[str | None, float]:
    """``[ADDRESS:]SECONDS`` as ``(address or None, seconds)``, seconds within ±:data:`MAX_OFFSET_S`;
    ValueError otherwise (the address is checked against the unit when the fault is applied)."""
    address, _, seconds = value.rpartition(":")
    try:
        s = float(seconds)
    except ValueError:
        s = math.nan
    if not math.isfinite(s) or abs(s) > MAX_OFFSET_S:
        raise ValueError(f"fault {name} needs [ADDRESS:]SECONDS, SECONDS a number from -{MAX_OFFSET_S:g} to "
                         f"{MAX_OFFSET_S:g}, got {value!r}")
    return address or None, s


async def _check_address(twin: Twin, unit: str, value: tuple[str | None, float]) -> None:
    st = twin.states[unit]
    assert isinstance(st, NtpState)
    if value[0] is not None and value[0] not in st.servers:
        raise ValueError(f"fault {NTP_OFFSET.name}: the unit serves no NTP on {value[0]!r} "
                         f"(it serves {', '.join(st.servers)})")
    return None  # the server reads NTP_OFFSET.value(state) on every request


NTP_OFFSET = declare_value("ntp-offset", ROLE, "the site's NTP servers' clock (only ADDRESS's, when given) runs "
                           "SECONDS ahead (negative: behind)", "[ADDRESS:]SECONDS", offset_seconds, _check_address)
NTP_SILENT = declare("ntp-silent", ROLE, "the site's NTP servers drop every request unanswered")
NTP_UNSYNCHRONIZED = declare("ntp-unsynchronized", ROLE, "the site's NTP servers answer unsynchronized (leap 3, "
                             "stratum 16)")


def server_address(name: str, value: str) -> str:
    """The ``ADDRESS`` of ``ntp-server-silent`` (checked against the unit when the fault is applied)."""
    if not value:
        raise ValueError(f"fault {name} needs ADDRESS, one of the unit's NTP server addresses")
    return value


async def _check_server(twin: Twin, unit: str, value: str) -> None:
    st = twin.states[unit]
    assert isinstance(st, NtpState)
    if value not in st.servers:
        raise ValueError(f"fault {NTP_SERVER_SILENT.name}: the unit serves no NTP on {value!r} "
                         f"(it serves {', '.join(st.servers)})")
    return None  # the server reads NTP_SERVER_SILENT.value(state) on every request


NTP_SERVER_SILENT = declare_value("ntp-server-silent", ROLE, "one of the site's NTP servers (ADDRESS) drops every "
                                  "request; the others answer", "ADDRESS", server_address, _check_server)
