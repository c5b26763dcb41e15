"""Measurements and verdicts: ``check(...)`` compares one measured value with its limit.

A check that is not met raises :class:`DutyNotMet` (an ``AssertionError``, so pytest and Allure
report FAIL, never BROKEN) with a message naming duty, device, what was measured, the measured
value and the limit with its unit and source::

    [PSTN-CONNECT] pstn1: SIP OPTIONS round trip = no answer within 2000 ms; limit <= 2000 ms (project choice)

Every check, passed or not, is kept in :data:`RECORD` so the plugin can attach the evidence of a
test to its report.

A check may also name the *shared inputs* it is about (:mod:`harness.evidence.findings` groups on
them): ``inputs_checked`` are the inputs the check itself judges (``"ntp server 10.0.0.123"``, the
site's resolver's record of a name), ``inputs_used`` the inputs its result hinged on although another
check judges them (a device clock judged against that NTP server). A failure whose every used input
failed its own check is reported as a consequence of those root findings; its verdict stays FAIL.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from ..duties.catalogue import Threshold


class DutyNotMet(AssertionError):
    """A duty check failed. ``measurement`` holds what was measured and the limit."""

    def __init__(self, measurement: Measurement) -> None:
        self.measurement = measurement
        super().__init__(measurement.message())


@dataclass(frozen=True)
class Measurement:
    duty: str
    device: str
    what: str
    measured: Any
    op: str
    limit: Any
    unit: str
    source: str
    passed: bool
    detail: str = ""
    inputs_checked: tuple[str, ...] = ()
    inputs_used: tuple[str, ...] = ()

    def _fmt(self, v: Any) -> str:
        if v is None:
            return "nothing"
        if isinstance(v, float):
            v = f"{v:.1f}"
        if isinstance(v, list | tuple | set | frozenset):
            v = "[" + ", ".join(str(x) for x in v) + "]"
        return f"{v} {self.unit}".rstrip()

    def message(self) -> str:
        head = f"[{self.duty}] {self.device}: {self.what} = {self._fmt(self.measured)}"
        if self.op == OBSERVED:
            return head
        tail = f"; limit {self.op} {self._fmt(self.limit)} ({self.source})"
        return head + tail + (f"; {self.detail}" if self.detail else "")

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["measured"] = _jsonable(self.measured)
        d["limit"] = _jsonable(self.limit)
        return d


def _jsonable(v: Any) -> Any:
    if isinstance(v, set | frozenset | tuple):
        return sorted(str(x) for x in v) if isinstance(v, set | frozenset) else list(v)
    return v


class Record:
    """Thread-safe list of the measurements made since the last :meth:`reset`."""

    def __init__(self) -> None:
        self._items: list[Measurement] = []
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def add(self, m: Measurement) -> None:
        with self._lock:
            self._items.append(m)

    def items(self) -> list[Measurement]:
        """The measurements made since the last :meth:`reset` (a copy; the record keeps them)."""
        with self._lock:
            return list(self._items)

    def reset(self) -> list[Measurement]:
        with self._lock:
            items, self._items = self._items, []
            return items


RECORD = Record()
OBSERVED = "observed"  # the op of evidence that has no limit (see :func:`observe`)

_OPS = {
    "<=": lambda a, b: a is not None and a <= b,
    "<": lambda a, b: a is not None and a < b,
    ">=": lambda a, b: a is not None and a >= b,
    "==": lambda a, b: a == b,
    "in": lambda a, b: a in b,
}


def check(measured: Any, limit: Threshold, *, duty: str, device: str, what: str,
          expected: Any = None, detail: str = "", inputs_checked: Iterable[str] = (),
          inputs_used: Iterable[str] = ()) -> Measurement:
    """Compare ``measured`` with ``limit`` (``limit.op``), record it, raise if not met.

    ``expected`` replaces ``limit.value`` when the limit's value is symbolic (e.g. the approved
    version list comes from the requirement profile while the threshold names the rule).
    ``measured=None`` means "no answer" and fails every comparison but ``== None``.
    ``inputs_checked`` / ``inputs_used`` name the shared inputs this check judges / relied on (module
    docstring; stable strings, the same on both sides).

    Raises:
        DutyNotMet: the comparison is false.
    """
    value = limit.value if expected is None else expected
    if isinstance(value, Iterable) and not isinstance(value, str) and limit.op != "in":
        raise TypeError("a list limit needs op 'in'")
    passed = bool(_OPS[limit.op](measured, value))
    m = Measurement(duty, device, what, measured, limit.op, value, limit.unit, limit.source, passed, detail,
                    tuple(dict.fromkeys(inputs_checked)), tuple(dict.fromkeys(inputs_used)))
    RECORD.add(m)
    if not passed:
        raise DutyNotMet(m)
    return m


def intent(name: str, value: Any, unit: str = "", op: str = "==", source: str = "inventory") -> Threshold:
    """A limit that comes from the lab's own intent (voice VLAN, MAC …): ``source`` says where,
    ``inventory`` by default, ``requirement profile`` or ``sent by the probe`` otherwise."""
    return Threshold(name, value, unit, op, source)  # type: ignore[arg-type]


def observe(measured: Any, *, duty: str, device: str, what: str, detail: str = "") -> Measurement:
    """Record evidence that has no limit of its own (what a device answered, which version it runs).

    Used where the check is made by the lab answering at all (LAB-READY: a device that does not
    answer raises a lab error instead). Never raises.
    """
    m = Measurement(duty, device, what, measured, OBSERVED, None, "", "observation", True, detail)
    RECORD.add(m)
    return m
