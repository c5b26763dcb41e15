"""NET-NTP's pure judgement (harness.checks.clocks): a device's offset against the reference at the
moment it was read, which servers to ask, the lists compared, the servers' spread."""

from __future__ import annotations

import pytest

from harness.checks.clocks import (
    device_offset_s,
    effective_stratum,
    explained_by_reference,
    not_on_both,
    ntp_server_input,
    servers_to_ask,
    sharpest,
    spread_s,
)
from harness.devices.facts.clocks import ClockReading
from harness.transports.ntp import NtpReading


def _ntp(server: str, offset_s: float) -> NtpReading:
    return NtpReading(server, f"{server}:123", 2, 0, "192.0.2.1", offset_s, 0.001, 1000.0)


def test_device_offset_is_against_the_reference_at_the_moment_read() -> None:
    ref = _ntp("a", 0.25)  # the server is 0.25 s ahead of the harness
    r = ClockReading(device_time=2000.0, harness_time=1999.0, uncertainty_s=0.1, source="snmp hrSystemDate")
    assert device_offset_s(r, ref) == pytest.approx(0.75)  # the reference reads 1999.25 then
    behind = ClockReading(device_time=1997.0, harness_time=1999.0, uncertainty_s=0.1, source="x")
    assert device_offset_s(behind, ref) == pytest.approx(-2.25)


def test_servers_to_ask_site_first_each_once() -> None:
    assert servers_to_ask(["ntp1", "ntp2"], ["ntp2", "ntp3"]) == ["ntp1", "ntp2", "ntp3"]
    assert servers_to_ask(None, ["ntp3"]) == ["ntp3"]
    assert servers_to_ask((), ()) == []


def test_lists_compared_without_case() -> None:
    assert not_on_both(["NTP1.example.com", "10.0.0.1"], ["ntp1.example.com", "10.0.0.2"]) == (["10.0.0.1"],
                                                                                                 ["10.0.0.2"])
    assert not_on_both([], []) == ([], [])


def test_spread_is_largest_minus_smallest_offset() -> None:
    assert spread_s([_ntp("a", 0.1), _ntp("b", -0.4), _ntp("c", 0.0)]) == pytest.approx(0.5)
    assert spread_s([_ntp("a", 3.0)]) == 0.0 and spread_s([]) == 0.0


def test_the_sharpest_reading_is_judged() -> None:
    vague, sharp = (ClockReading(1.0, 1.0, u, "x") for u in (0.4, 0.02))
    assert sharpest([vague, sharp, ClockReading(2.0, 2.0, 0.02, "y")]) is sharp
    with pytest.raises(ValueError):
        sharpest([])


def test_an_alarm_or_stratum_0_is_unsynchronized() -> None:
    r = _ntp("a", 0.0)
    assert effective_stratum(r) == 2
    assert effective_stratum(NtpReading("a", "a:123", 2, 3, "", 0.0, 0.0, 0.0)) == 16
    assert effective_stratum(NtpReading("a", "a:123", 0, 0, "RATE", 0.0, 0.0, 0.0)) == 16


def test_a_clock_off_only_by_the_references_own_error_is_explained_by_it() -> None:
    ahead = _ntp("10.0.0.123", 2.5)  # the server runs 2.5 s ahead of the harness (true time)
    assert explained_by_reference(-2.5, ahead, 1.0)  # the device keeps true time: the server made the offset
    assert not explained_by_reference(-5.5, ahead, 1.0)  # 3 s behind true time on its own too
    assert not explained_by_reference(3.0, _ntp("x", 0.0), 1.0)  # a true reference explains nothing
    assert ntp_server_input("10.0.0.123") == "ntp server 10.0.0.123"
