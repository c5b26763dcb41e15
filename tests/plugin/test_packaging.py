"""The distribution: a wheel installs ``harness`` and the plugin as ``hil_pytest``, never a top-level
``fixtures`` (testtools' PyPI package of that name must keep working beside hil), and the plugin is
loaded once, under that one name."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO

#: what a build must not see: a stale ``build/lib`` would put old packages into the wheel
NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "node_modules", "build", "dist", "*.egg-info", ".hil",
                                    "reports", "allure-report", "__pycache__", ".*_cache", "tests")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    """The wheel of a clean copy of the repository, built offline with the venv's setuptools."""
    tmp = tmp_path_factory.mktemp("wheel")
    shutil.copytree(REPO, tmp / "src", ignore=NOT_SOURCE)
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                        "-w", str(tmp / "out"), str(tmp / "src")], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    (whl,) = (tmp / "out").glob("hil-*.whl")
    return zipfile.ZipFile(whl)


def test_wheel_has_no_top_level_fixtures_package(wheel: zipfile.ZipFile) -> None:
    top = {name.split("/", 1)[0] for name in wheel.namelist()}
    assert "fixtures" not in top
    assert {t for t in top if not t.endswith(".dist-info")} == {"harness", "hil_pytest"}
    entry_points = next(n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt"))
    assert "hil = hil_pytest.plugin" in wheel.read(entry_points).decode().splitlines()


def test_wheel_has_every_harness_package_and_data_file(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    for init in (REPO / "harness").rglob("__init__.py"):
        assert init.relative_to(REPO).as_posix() in names
    for pattern in ("devices/templates/*.textfsm", "transports/sipp/scenarios/*.xml"):
        files = list((REPO / "harness").glob(pattern))
        assert files and all(f.relative_to(REPO).as_posix() in names for f in files)
    for module in (REPO / "fixtures").glob("*.py"):
        assert f"hil_pytest/{module.name}" in names


def test_plugin_is_loaded_once_under_its_own_name(request: pytest.FixtureRequest) -> None:
    plugin = request.config.pluginmanager.get_plugin("hil")
    assert plugin is not None and plugin.__name__ == "hil_pytest.plugin"
    assert not [m for m in sys.modules if m == "fixtures" or m.startswith("fixtures.")]


def test_no_module_imports_the_folder_name() -> None:
    """The folder is ``fixtures/`` in the repository only; code imports ``hil_pytest``."""
    wrong = re.compile(r"^\s*(from|import)\s+fixtures\b", re.MULTILINE)
    offenders = [str(p.relative_to(REPO)) for d in ("harness", "fixtures", "scenarios", "tests", "bench")
                 for p in (REPO / d).rglob("*.py") if wrong.search(p.read_text())]
    assert offenders == []


def test_the_folder_refuses_to_be_imported_as_fixtures() -> None:
    r = subprocess.run([sys.executable, "-c", "import fixtures"], cwd=REPO, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 1 and "installed as 'hil_pytest'" in r.stderr


def test_hil_coexists_with_a_package_named_fixtures(tmp_path: Path) -> None:
    """A stand-in for testtools' ``fixtures`` on the path, and a pytest run that loads the hil plugin
    and imports that ``fixtures``: both work in one process (no download: the name is what clashed)."""
    site = tmp_path / "site"
    (site / "fixtures").mkdir(parents=True)
    (site / "fixtures" / "__init__.py").write_text("class Fixture:\n    pass\n")
    (tmp_path / "test_other.py").write_text(
        "import fixtures\nimport hil_pytest.plugin\n\n"
        "def test_both(pytestconfig):\n"
        f"    assert fixtures.__file__ == {str(site / 'fixtures' / '__init__.py')!r}\n"
        "    assert pytestconfig.pluginmanager.get_plugin('hil') is hil_pytest.plugin\n")
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_other.py"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120,
                       env={**os.environ, "PYTHONPATH": str(site)})
    assert r.returncode == 0, r.stdout + r.stderr

