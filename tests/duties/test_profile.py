"""Requirement profiles: threshold overrides, the compatibility matrix and the errors a bad profile gives."""

from __future__ import annotations

import pytest

from harness.duties.profile import ProfileError, load_profile
from tests.conftest import REPO


def test_shipped_profile_loads_with_its_matrix():
    p = load_profile(REPO / "profiles" / "default.yaml")
    assert p.compatibility_of("2026.11.1", "generic_sip_phone", "6.4.3").verdict == "compatible"
    c = p.compatibility_of("2026.11.1", "generic_sip_phone", "7.1")
    assert (c.verdict, c.allowed) == ("incompatible", ">=6.4,<7")
    assert p.compatibility_of("2025.1.0", "generic_sip_phone", "6.4.3").verdict == "edge-not-listed"
    assert p.compatibility_of("2026.11.1", "other_phone", "1.0").verdict == "platform-not-listed"
    assert p.compatibility_of("2026.11.1", "generic_sip_phone", "UC 7.x build").verdict == "unparsable"


def test_every_row_covering_the_edge_must_allow_the_phone(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("name: t\ncompatibility:\n"
                 "  - {edge: '>=2026.1', phones: {vvx: '>=6.0'}}\n"
                 "  - {edge: '>=2026.11', phones: {vvx: '>=6.4'}}\n")
    p = load_profile(f)
    assert p.compatibility_of("2026.5", "vvx", "6.1").verdict == "compatible"
    c = p.compatibility_of("2026.11.1", "vvx", "6.1")
    assert (c.verdict, c.allowed) == ("incompatible", ">=6.4")


@pytest.mark.parametrize(("text", "line", "expected"), [
    ("name: t\ncompatibility:\n  - {edge: 'newest', phones: {}}\n", 3, "compatibility.0.edge"),
    ("name: t\ncompatibility:\n  - {edge: '>=1', phones: {vvx: 'about 6'}}\n", 3, "compatibility.0.phones"),
    ("name: t\ncompatibility:\n  - {edge: '>=1', phones: {}, extra: 1}\n", 3, "compatibility.0.extra"),
    ("name: t\ncompatibility:\n  - edge: '>=2026.12,<2026.10'\n    phones: {}\n", 3,
     "'>=2026.12,<2026.10' admits no version: >=2026.12 and <2026.10 cannot both hold"),
    ("name: t\ncompatibility:\n  - edge: '>=1'\n    phones:\n      vvx: '>=7,<=6.9'\n", 5,
     "compatibility.0.phones.vvx: '>=7,<=6.9' admits no version"),
    ("name: t\ncompatibility:\n  - {edge: '>6.4,<=6.4', phones: {}}\n", 3, "admits no version"),
    ("name: t\nthresholds:\n  PSTN-CONNECT.options_rtt_ms: 0\n", 3, "must be > 0"),
    ("name: t\n\nthresholds: {PSTN-CONNECT.nothing: 1}\n", 3, "has no threshold 'nothing'"),
    ("name: t\nthresholds:\n  NO-SUCH-DUTY.x: 1\n", 3, "unknown duty NO-SUCH-DUTY"),
    ("name: t\nthreshold: {}\n", 2, "threshold: unknown key"),
    ("name: t\nthresholds: {}\nthresholds: {}\n", 3, 'invalid YAML: duplicate key "thresholds" (each key once'),
    ("name: t\napproved_firmware: {vvx: ['6.4.4']}\nfirmware:\n  vvx:\n    version: '6.4.9'\n"
     "    url: http://x/y.bin\n    sha256: " + "a" * 64 + "\n", 5,
     "firmware.vvx.version: target 6.4.9 is not in approved_firmware.vvx (6.4.4)"),
])
def test_bad_profile_names_file_line_and_field(tmp_path, text, line, expected):
    f = tmp_path / "p.yaml"
    f.write_text(text)
    with pytest.raises(ProfileError) as e:
        load_profile(f)
    assert f"{f}:{line}: " in str(e.value) and expected in str(e.value), str(e.value)


@pytest.mark.parametrize("spec", [">=6.4,<7", "==6.4.3", ">=6.4,<=6.4", "~=6.4", "!=6.5", "==6.*,<7", ">=7,!=7.1"])
def test_ranges_that_admit_a_version_are_accepted(tmp_path, spec):
    f = tmp_path / "p.yaml"
    f.write_text(f"name: t\ncompatibility:\n  - {{edge: '>=1', phones: {{vvx: '{spec}'}}}}\n")
    assert load_profile(f).compatibility[0].phones["vvx"] == spec
