"""Device clock encodings (harness.devices.facts.clocks): DateAndTime (RFC 2579) and NTP timestamps
both ways, and IOS ``show clock`` through the real ntc-templates template."""

from __future__ import annotations

import datetime as dt

import pytest

from harness.devices.facts.clocks import (
    date_and_time,
    from_date_and_time,
    from_ntp_timestamp,
    ios_clock,
    ntp_timestamp,
    octets,
)
from harness.transports.cli import parse_output

T = dt.datetime(2026, 12, 6, 11, 45, 7, 350000, tzinfo=dt.UTC).timestamp()


def test_date_and_time_round_trips_to_the_decisecond() -> None:
    raw = date_and_time(T)
    assert raw.hex(":") == "07:ea:0c:06:0b:2d:07:03:2b:00:00"
    assert from_date_and_time(raw) == pytest.approx(T - 0.05, abs=1e-6)
    assert from_date_and_time(raw[:8]) == pytest.approx(T - 0.05, abs=1e-6)  # 8 octets: taken as UTC


def test_date_and_time_east_of_utc_is_ahead() -> None:
    local = bytes.fromhex("07ea0c060d2d07032b0200")  # 13:45:07.3 +02:00 is 11:45:07.3 UTC
    assert from_date_and_time(local) == pytest.approx(T - 0.05, abs=1e-6)
    west = bytes.fromhex("07ea0c06062d07032d0500")  # 06:45:07.3 -05:00
    assert from_date_and_time(west) == pytest.approx(T - 0.05, abs=1e-6)


@pytest.mark.parametrize("raw", ["07:ea:0c", "07:ea:0d:06:0b:2d:07:03", "07:ea:0c:06:0b:2d:07:0c"])
def test_a_bad_date_and_time_is_a_value_error(raw: str) -> None:
    with pytest.raises(ValueError, match="DateAndTime"):
        from_date_and_time(octets(raw))


def test_ntp_timestamps_round_trip() -> None:
    assert from_ntp_timestamp(ntp_timestamp(T)) == pytest.approx(T, abs=1e-6)
    with pytest.raises(ValueError, match="never set"):
        from_ntp_timestamp(bytes(8))
    with pytest.raises(ValueError, match="8 octets"):
        from_ntp_timestamp(b"\x01")


def test_octets_takes_the_snmp_transports_forms() -> None:
    assert octets("07:ea:0c") == b"\x07\xea\x0c" and octets(b"ab") == b"ab" and octets("ab") == b"ab"


@pytest.mark.parametrize("text", ["11:45:07.350 UTC Sun Dec 6 2026\n", "*11:45:07.350 UTC Sun Dec 6 2026\n"])
def test_ios_show_clock_through_ntc_templates(text: str) -> None:
    rows = parse_output("cisco_ios", "show clock", text)
    assert ios_clock(rows[0]) == pytest.approx(T, abs=1e-6)


def test_a_local_zone_is_refused_by_name() -> None:
    rows = parse_output("cisco_ios", "show clock", "06:45:07.350 EST Sun Dec 6 2026\n")
    with pytest.raises(ValueError, match="zone 'EST'"):
        ios_clock(rows[0])
