"""The harness host's clock discipline (harness.transports.hostclock): adjtimex read without changing
anything, never raising; what it says is the machine's (a container's clock is often undisciplined)."""

from __future__ import annotations

import ctypes

from harness.transports import hostclock
from harness.transports.hostclock import HostClock, host_clock


def test_the_host_clock_is_read_without_raising() -> None:
    c = host_clock()
    assert isinstance(c.synchronized, bool)
    assert c.max_error_s is None or c.max_error_s >= 0
    assert c.describe().endswith("(adjtimex)")


def test_the_struct_is_the_kernels_size() -> None:
    # struct timex is 208 bytes on 64-bit Linux (glibc <sys/timex.h>); 4-byte longs make it smaller
    assert ctypes.sizeof(hostclock._Timex) == (208 if ctypes.sizeof(ctypes.c_long) == 8 else 128)


def test_describe_says_what_stands_in_the_way() -> None:
    assert HostClock(False, 16.0).describe() == "not synchronized, error bound 16.000 s (adjtimex)"
    assert HostClock(True, 0.012).describe() == "synchronized, error bound 0.012 s (adjtimex)"
