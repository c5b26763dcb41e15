"""The version a SIP Server/User-Agent header shows (DATA-ACCURACY's Edge side by side), and the names of the
org's records as shared inputs of the findings."""

from __future__ import annotations

import pytest

from harness.checks.org_records import edge_record_input, phone_record_input, version_in_header


@pytest.mark.parametrize(("header", "org", "shown"), [
    ("Genesys Edge (virtual) 2026.11.1", "2026.11.1", "2026.11.1"),  # the twin Edge's Server header
    ("Genesys Edge (virtual) 2026.11.1", "2026.12.0", "2026.11.1"),  # another version on the wire
    ("Edge/1.0.2-rc1 build 7", None, "1.0.2-rc1"),
    ("PolycomVVX-VVX_411-UA/6.4.3.5001", "6.4.3.5001", "6.4.3.5001"),
    ("Genesys Edge", "2026.11.1", None),  # a header that shows no version: not compared
    (None, "2026.11.1", None),
    ("", None, None),
])
def test_version_in_header(header: str | None, org: str | None, shown: str | None) -> None:
    assert version_in_header(header, org) == shown


def test_a_phone_record_input_is_the_same_however_the_mac_is_written() -> None:
    key = "phone record of hardware id 00:04:f2:00:00:02"
    assert phone_record_input("00:04:f2:00:00:02") == key
    assert phone_record_input("0004F2000002") == key  # a hardware ID as Genesys Cloud stores it
    assert phone_record_input("0004.f200.0002") == key  # as a Cisco forwarding table shows it
    assert phone_record_input(" NOT-A-MAC ") == "phone record of hardware id not-a-mac"


def test_an_edge_record_input_names_the_edge_and_the_field() -> None:
    assert edge_record_input("edge1", "onlineStatus") == "genesys cloud record of edge edge1: onlineStatus"
    assert edge_record_input("edge1", "softwareVersion") != edge_record_input("edge2", "softwareVersion")
