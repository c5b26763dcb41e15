"""Pure judgement of clocks against the site's NTP source (NET-NTP). No I/O.

A device's offset is its clock minus the reference's at the same moment: the reference's time at the
harness moment the device was read is the harness's time plus the harness's offset against the NTP
server (:meth:`~harness.transports.ntp.NtpReading.reference_time`). Units: seconds; positive: the
device is ahead.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..devices.facts.clocks import ClockReading
from ..transports.ntp import UNSYNCHRONIZED_STRATUM, NtpReading


def device_offset_s(reading: ClockReading, reference: NtpReading) -> float:
    """The device's clock minus the NTP reference's, seconds."""
    return reading.device_time - reference.reference_time(reading.harness_time)


def effective_stratum(reading: NtpReading) -> int:
    """The server's stratum as a synchronization judgement: 16 (unsynchronized) when the leap indicator
    says alarm (3) or the stratum is 0 (unspecified, or a kiss-o'-death), else the stratum (RFC 5905 §7.3)."""
    return UNSYNCHRONIZED_STRATUM if reading.leap == 3 or reading.stratum == 0 else reading.stratum


def sharpest(readings: Sequence[ClockReading]) -> ClockReading:
    """The reading with the smallest uncertainty (the first of equals). ValueError when there is none."""
    if not readings:
        raise ValueError("no clock reading to choose from")
    return min(readings, key=lambda r: r.uncertainty_s)


def servers_to_ask(site: Sequence[str] | None, inventory: Sequence[str]) -> list[str]:
    """The servers NET-NTP asks: the site's (what its Edges are told) then the inventory's not on it,
    each once, in that order."""
    return list(dict.fromkeys([*(site or ()), *inventory]))


def not_on_both(site: Iterable[str], inventory: Iterable[str]) -> tuple[list[str], list[str]]:
    """``(on the site only, in the inventory only)``, each sorted; names compared without case."""
    s = {x.lower(): x for x in site}
    i = {x.lower(): x for x in inventory}
    return sorted(s[k] for k in s.keys() - i.keys()), sorted(i[k] for k in i.keys() - s.keys())


def spread_s(readings: Iterable[NtpReading]) -> float:
    """How far apart the servers' clocks are: the largest minus the smallest offset, seconds (0 for one)."""
    offsets = [r.offset_s for r in readings]
    return max(offsets) - min(offsets) if offsets else 0.0


def ntp_server_input(server: str) -> str:
    """The shared input a clock judged against ``server`` relied on, as NET-NTP's checks name it
    (:mod:`harness.evidence.findings`): ``"ntp server 10.0.0.123"``."""
    return f"ntp server {server}"


def explained_by_reference(offset_s: float, reference: NtpReading, limit_s: float) -> bool:
    """Whether a device clock ``offset_s`` off ``reference`` keeps true time (the harness's clock)
    within ``limit_s``: then the reference's own error is what made the offset, seconds."""
    return abs(offset_s + reference.offset_s) <= limit_s
