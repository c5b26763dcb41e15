"""The harness host's own clock discipline, as the Linux kernel keeps it (``adjtimex(2)``, read only).

A clock disciplined by an NTP daemon (chrony, ntpd, systemd-timesyncd) has the kernel's ``STA_UNSYNC``
status bit clear and a ``maxerror`` bound that the daemon keeps small; an undisciplined clock has the
bit set and the bound grown to 16 s (the kernel's NTP model, RFC 1589 §3, carried into Linux's
``adjtimex``). The call with ``modes = 0`` changes nothing and needs no privilege. The standard library
has no binding for it, so :func:`host_clock` calls the C library through ctypes; on a system without
``adjtimex`` the clock is reported as not known to be synchronized.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from dataclasses import dataclass

STA_UNSYNC = 0x0040  # <linux/timex.h>: the clock is not synchronized
TIME_ERROR = 5  # adjtimex(2)'s return value: the clock is not synchronized
_US_PER_S = 1e6  # maxerror and esterror are in microseconds (adjtimex(2))


class _Timeval(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long)]


class _Timex(ctypes.Structure):  # struct timex of <sys/timex.h> (glibc), with its 11 ints of padding
    _fields_ = [("modes", ctypes.c_uint), ("offset", ctypes.c_long), ("freq", ctypes.c_long),
                ("maxerror", ctypes.c_long), ("esterror", ctypes.c_long), ("status", ctypes.c_int),
                ("constant", ctypes.c_long), ("precision", ctypes.c_long), ("tolerance", ctypes.c_long),
                ("time", _Timeval), ("tick", ctypes.c_long), ("ppsfreq", ctypes.c_long),
                ("jitter", ctypes.c_long), ("shift", ctypes.c_int), ("stabil", ctypes.c_long),
                ("jitcnt", ctypes.c_long), ("calcnt", ctypes.c_long), ("errcnt", ctypes.c_long),
                ("stbcnt", ctypes.c_long), ("tai", ctypes.c_int), ("_padding", ctypes.c_int * 11)]


@dataclass(frozen=True)
class HostClock:
    """``synchronized``: an NTP daemon disciplines the clock (``STA_UNSYNC`` clear and the state not
    ``TIME_ERROR``); ``max_error_s``: the kernel's bound on its error, seconds (``None`` when unknown)."""

    synchronized: bool
    max_error_s: float | None

    def describe(self) -> str:
        bound = f", error bound {self.max_error_s:.3f} s" if self.max_error_s is not None else ""
        return ("synchronized" if self.synchronized else "not synchronized") + bound + " (adjtimex)"


def host_clock() -> HostClock:
    """The harness host's clock discipline (module docstring). Never raises."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name, use_errno=True)
        call = libc.adjtimex
    except (OSError, AttributeError):
        return HostClock(False, None)
    t = _Timex()
    state = call(ctypes.byref(t))
    if state < 0:
        return HostClock(False, None)
    return HostClock(not (t.status & STA_UNSYNC) and state != TIME_ERROR, t.maxerror / _US_PER_S)
