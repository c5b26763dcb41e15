"""The version a SIP Server/User-Agent header shows (DATA-ACCURACY's Edge side by side)."""

from __future__ import annotations

import pytest

from harness.checks.org_records import version_in_header


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
