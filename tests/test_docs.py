"""The docs that are generated from code say what the code says."""

from __future__ import annotations

from harness.cli import catalogue_markdown
from harness.duties.catalogue import CATALOGUE
from tests.conftest import REPO


def test_duties_page_is_the_catalogue():
    page = (REPO / "docs" / "duties.md").read_text()
    assert catalogue_markdown() in page, "docs/duties.md is stale: regenerate with `hil duties --markdown`"


def test_readme_names_every_duty_checked_today():
    readme = (REPO / "README.md").read_text()
    for duty_id in ("LAB-READY", "MAINT-VERSION-MATRIX", "NET-VOIP-HW", "PSTN-CONNECT"):
        assert duty_id in readme and duty_id in CATALOGUE
