"""Fixtures shared by the scenario self-tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """Where one scenario run writes its reports (summary.json, summary.md)."""
    return tmp_path / "reports"
