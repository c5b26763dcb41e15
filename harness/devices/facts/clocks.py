"""Device clocks as devices show them, to epoch seconds (UTC) and back. Pure functions, no I/O.

* SNMP ``HOST-RESOURCES-MIB::hrSystemDate`` (1.3.6.1.2.1.25.1.2.0, RFC 2790), a ``DateAndTime``
  (SNMPv2-TC, RFC 2579): 8 or 11 octets, year (2, big-endian), month, day, hour, minutes, seconds,
  deci-seconds, then direction ``+``/``-`` and hours and minutes from UTC (8 octets: local time of
  an unknown zone, taken as UTC). Resolution 0.1 s.
* SNMP ``CISCO-NTP-MIB::cntpSysClock`` (1.3.6.1.4.1.9.9.168.1.1.10.0), an ``NTPTimeStamp``: 8 octets,
  seconds since 1900-01-01 (32 bits) and a 32-bit fraction (RFC 5905 §6).
* IOS ``show clock`` through ntc-templates ``cisco_ios_show_clock`` (``TIME`` ``12:04:05.123``,
  ``TIMEZONE``, ``DAYWEEK``, ``MONTH`` ``Mar``, ``DAY``, ``YEAR``): only UTC (or GMT) is read; a
  device set to a local zone is a ValueError naming it (its offset is not in the output).

The SNMP transport hands an OCTET STRING it cannot print as colon-separated hex (``07:ea:0c:…``),
which :func:`octets` turns back into bytes.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass

HR_SYSTEM_DATE = "1.3.6.1.2.1.25.1.2.0"  # HOST-RESOURCES-MIB hrSystemDate (RFC 2790)
CNTP_SYS_CLOCK = "1.3.6.1.4.1.9.9.168.1.1.10.0"  # CISCO-NTP-MIB cntpSysClock
NTP_EPOCH_DELTA_S = 2208988800  # 1900-01-01 to 1970-01-01 (RFC 5905 §6)
_UTC_NAMES = {"UTC", "GMT", "Z"}
_HEX = re.compile(r"[0-9a-fA-F]{2}(:[0-9a-fA-F]{2})+")


@dataclass(frozen=True)
class ClockReading:
    """A device's clock read once: ``device_time`` (epoch seconds, as the device shows it) at
    ``harness_time`` (the harness's clock half way through the request), ``uncertainty_s`` (half the
    round trip plus the value's resolution), ``source`` (``"cli show clock"``, ``"snmp hrSystemDate"`` …)."""

    device_time: float
    harness_time: float
    uncertainty_s: float
    source: str


def octets(value: object) -> bytes:
    """An OCTET STRING as the SNMP transport returned it (bytes, colon hex, or printable text) as bytes."""
    if isinstance(value, bytes):
        return value
    text = str(value)
    if _HEX.fullmatch(text):
        return bytes.fromhex(text.replace(":", ""))
    return text.encode("latin-1")


def date_and_time(t: float) -> bytes:
    """Epoch seconds ``t`` as an 11-octet ``DateAndTime`` in UTC (``+0:0``), deci-seconds truncated."""
    d = dt.datetime.fromtimestamp(t, dt.UTC)
    return struct.pack(">HBBBBBBcBB", d.year, d.month, d.day, d.hour, d.minute, d.second,
                       d.microsecond // 100_000, b"+", 0, 0)


def from_date_and_time(raw: bytes) -> float:
    """A ``DateAndTime`` (8 or 11 octets) as epoch seconds.

    Raises:
        ValueError: not 8 or 11 octets, or a field out of range.
    """
    if len(raw) not in (8, 11):
        raise ValueError(f"a DateAndTime has 8 or 11 octets, not {len(raw)} ({raw.hex(':')})")
    year, month, day, hour, minute, second, deci = struct.unpack(">HBBBBBB", raw[:8])
    if deci > 9 or second > 60:
        raise ValueError(f"DateAndTime {raw.hex(':')}: seconds {second}.{deci} out of range")
    try:
        t = dt.datetime(year, month, day, hour, minute, min(second, 59), tzinfo=dt.UTC).timestamp()
    except ValueError as e:
        raise ValueError(f"DateAndTime {raw.hex(':')}: {e}") from None
    t += (second - min(second, 59)) + deci / 10
    if len(raw) == 11:
        sign, hours, minutes = raw[8:9], raw[9], raw[10]
        if sign not in (b"+", b"-") or hours > 13 or minutes > 59:
            raise ValueError(f"DateAndTime {raw.hex(':')}: bad UTC offset")
        east = (hours * 3600 + minutes * 60) * (1 if sign == b"+" else -1)
        t -= east  # local time east of UTC is ahead of it
    return t


def ntp_timestamp(t: float) -> bytes:
    """Epoch seconds ``t`` as an 8-octet NTP timestamp (era 0)."""
    ntp = t + NTP_EPOCH_DELTA_S
    seconds = int(ntp)
    return struct.pack(">II", seconds & 0xFFFFFFFF, int((ntp - seconds) * 2**32) & 0xFFFFFFFF)


def from_ntp_timestamp(raw: bytes) -> float:
    """An 8-octet NTP timestamp as epoch seconds (era 0, 1900–2036).

    Raises:
        ValueError: not 8 octets, or zero (RFC 5905: the clock was never set).
    """
    if len(raw) != 8:
        raise ValueError(f"an NTP timestamp has 8 octets, not {len(raw)} ({raw.hex(':')})")
    seconds, fraction = struct.unpack(">II", raw)
    if seconds == 0 and fraction == 0:
        raise ValueError("NTP timestamp 0: the clock was never set")
    return seconds - NTP_EPOCH_DELTA_S + fraction / 2**32


def ios_clock(record: Mapping[str, object]) -> float:
    """One ntc-templates ``cisco_ios_show_clock`` record as epoch seconds.

    Raises:
        ValueError: a zone other than UTC/GMT (its offset is not in the output), or a bad field.
    """
    record = {k.upper(): v for k, v in record.items()}  # netmiko lowercases the template's names
    zone = str(record.get("TIMEZONE", ""))
    if zone.upper() not in _UTC_NAMES:
        raise ValueError(f"show clock is in zone {zone!r}: only UTC can be compared (set 'clock timezone UTC 0' "
                         "or read the clock over SNMP)")
    hms, _, frac = str(record.get("TIME", "")).partition(".")
    try:
        h, m, s = (int(x) for x in hms.split(":"))
        month = list(calendar.month_abbr).index(str(record.get("MONTH", ""))[:3].title())
        d = dt.datetime(int(str(record.get("YEAR"))), month, int(str(record.get("DAY"))), h, m, s,
                        tzinfo=dt.UTC)
    except ValueError as e:
        raise ValueError(f"show clock record {dict(record)!r} is no date: {e}") from None
    return d.timestamp() + (float(f"0.{frac}") if frac.isdigit() else 0.0)


__all__ = ["CNTP_SYS_CLOCK", "HR_SYSTEM_DATE", "ClockReading", "date_and_time", "from_date_and_time",
           "from_ntp_timestamp", "ios_clock", "ntp_timestamp", "octets"]
