"""What the plugin's tests share: a lab declared real (no twin runs, no device answers) with an empty
scenarios folder beside it, a way to write a scenario there, and a pytest run of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import REPO, make_test_lab


@pytest.fixture
def labdir(pytester: pytest.Pytester) -> Path:
    # No device is reached here, so no twin runs: the lab is declared real to keep the plugin from
    # asking for one (test_emulated_lab_without_twin_is_a_usage_error covers that check).
    text = (REPO / "lab_inventory.yaml").read_text().replace("emulated: true", "emulated: false")
    inv = make_test_lab(pytester.path, text)
    (pytester.path / "scenarios").mkdir()
    # These scenarios test the plugin, not a duty: each records one observation so that the
    # "a scenario must check something" rule (test_scenario_that_checks_nothing_is_broken) holds.
    (pytester.path / "scenarios" / "conftest.py").write_text(
        "import pytest\nfrom harness.evidence.check import observe\n\n"
        "@pytest.fixture(autouse=True)\ndef _evidence():\n"
        "    observe('ran', duty='LAB-READY', device='plugin-test', what='scenario body')\n")
    return inv


def write_scenario(pytester: pytest.Pytester, body: str, name: str = "test_s.py") -> None:
    (pytester.path / "scenarios" / name).write_text(body)


def run(pytester: pytest.Pytester, inv: Path, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(f"--inventory={inv}", "-p", "no:cacheprovider", "scenarios", *args)
