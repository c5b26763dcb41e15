"""The docs that are generated from code say what the code says, and the docs name only code that exists."""

from __future__ import annotations

import importlib
import itertools
import re

from harness.cli import catalogue_markdown
from harness.duties.catalogue import CATALOGUE
from harness.duties.map import duty_map, map_markdown, map_text
from harness.transports.cloud.permissions import table_markdown
from tests.conftest import REPO

DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
#: the repository's folders a doc may name a path in (`harness/devices/driver.py`, `tests/cli/`, ...)
ROOTS = ("harness", "tests", "scenarios", "fixtures", "bench", "profiles", "docs")
#: a path under one of ROOTS, not inside a URL; `{a,b}` alternatives, `*` globs and `<name>` placeholders allowed
PATH = re.compile(r"(?<![\w/.:-])((?:" + "|".join(ROOTS) + r")/[\w./*<>{},-]*)")
#: a dotted module name (`harness.devices.drivers.phone.firmware_audit`), also under the plugin's installed name
DOTTED = re.compile(r"(?<![\w.])((?:harness|hil_pytest)(?:\.\w+)+)")
#: a Python file named by itself or by its last folders (`switch.py`, `servers/sip_ua.py`)
PY_FILE = re.compile(r"(?<![\w/.:*>-])([\w/-]*\w\.py)\b")
SOURCE_DIRS = ("harness", "fixtures", "scenarios", "tests", "bench")


def _expand(path: str) -> list[str]:
    """``harness/devices/{registry,session}.py`` -> both paths; ``<role>`` -> ``*``."""
    path = re.sub(r"<[^>]*>", "*", path.rstrip(".,;:"))
    parts = re.split(r"\{([^}]*)\}", path)
    choices = [[p] if i % 2 == 0 else p.split(",") for i, p in enumerate(parts)]
    return ["".join(c) for c in itertools.product(*choices)]


def _exists(path: str) -> bool:
    return any(REPO.glob(path)) if "*" in path else (REPO / path).exists()


def _resolves(dotted: str) -> bool:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


def _source_files() -> list[str]:
    found = [p.name for p in REPO.glob("*.py")]
    for folder in SOURCE_DIRS:
        found += [p.relative_to(REPO).as_posix() for p in (REPO / folder).rglob("*.py") if "__pycache__" not in p.parts]
    return found


def test_duties_page_is_the_catalogue():
    page = (REPO / "docs" / "duties.md").read_text()
    assert catalogue_markdown() in page, "docs/duties.md is stale: regenerate with `hil duties --markdown`"


def test_duties_page_holds_the_current_duty_map():
    page = (REPO / "docs" / "duties.md").read_text()
    assert map_markdown(duty_map()) in page, "docs/duties.md is stale: regenerate with `hil duties --map --markdown`"


def test_cloud_api_page_holds_the_current_permissions_table():
    page = (REPO / "docs" / "cloud-api.md").read_text()
    assert table_markdown() in page, "docs/cloud-api.md is stale: regenerate with `hil cloud permissions --markdown`"


def test_every_path_in_the_duty_map_exists():
    paths = re.findall(r"`([^`]+/[^`]+)`", map_markdown(duty_map()))
    assert paths and all((REPO / p).is_file() for p in paths), [p for p in paths if not (REPO / p).is_file()]


def test_architecture_walkthrough_shows_the_current_map_of_net_voip_hw():
    page = (REPO / "docs" / "architecture.md").read_text()
    now = map_text([r for r in duty_map() if r.duty.id == "NET-VOIP-HW"])
    assert f"$ hil duties --map NET-VOIP-HW\n{now}\n```" in page, "docs/architecture.md: Find your way is stale"


def test_docs_name_exactly_the_duties_a_scenario_checks():
    checked = {r.duty.id for r in duty_map() if r.scenarios}
    duties_page = (REPO / "docs" / "duties.md").read_text()
    sentence = duties_page.split("Checked by a scenario today:", 1)[1].split("(", 1)[0]
    assert set(re.findall(r"[A-Z]+(?:-[A-Z0-9]+)+", sentence)) == checked
    readme = (REPO / "README.md").read_text()
    table = readme.split("| duty | checks |", 1)[1].split("\n\n", 1)[0]
    assert set(re.findall(r"^\| ([A-Z][A-Z0-9-]+) \|", table, re.M)) == checked


def test_readme_names_every_duty_checked_today():
    readme = (REPO / "README.md").read_text()
    for duty_id in ("LAB-READY", "MAINT-VERSION-MATRIX", "NET-VOIP-HW", "PSTN-CONNECT"):
        assert duty_id in readme and duty_id in CATALOGUE


def test_every_path_the_docs_name_exists():
    missing = [f"{doc.name}: {p}" for doc in DOCS for p in PATH.findall(doc.read_text())
               if not all(_exists(x) for x in _expand(p))]
    assert not missing, "docs name paths that do not exist:\n" + "\n".join(missing)


def test_every_module_name_the_docs_use_exists():
    wrong = [f"{doc.name}: {d}" for doc in DOCS for d in DOTTED.findall(doc.read_text()) if not _resolves(d)]
    # the plugin is imported as hil_pytest: a `fixtures.…` module name in the docs is stale
    wrong += [f"{doc.name}: {d}" for doc in DOCS for d in re.findall(r"(?<![\w.])fixtures\.\w+", doc.read_text())]
    assert not wrong, "docs use module names that do not exist:\n" + "\n".join(wrong)


def test_every_python_file_the_docs_name_exists():
    files = _source_files()
    missing = [f"{doc.name}: {name}" for doc in DOCS for name in PY_FILE.findall(doc.read_text())
               if not any(f == name or f.endswith("/" + name) for f in files)]
    assert not missing, "docs name Python files that do not exist:\n" + "\n".join(missing)


MARKER = re.compile(r"^(<{7} |>{7} |={7}$)", re.M)


def test_no_file_keeps_a_merge_conflict_marker() -> None:
    """No doc, code, inventory or profile keeps a line git writes into a file it could not merge."""
    files = [*DOCS, *(p for d in (*SOURCE_DIRS, "profiles", "docs") for p in (REPO / d).rglob("*")
                      if p.suffix in (".py", ".md", ".yaml", ".yml", ".json", ".xml", ".txt")),
             REPO / "lab_inventory.yaml", REPO / "Makefile", REPO / "pyproject.toml"]
    kept = [f"{p.relative_to(REPO)}:{s.count(chr(10), 0, m.start()) + 1}" for p in files if p.is_file()
            for s in [p.read_text(errors="replace")] for m in MARKER.finditer(s)]
    assert kept == []
