"""The Allure report without a lab: analytics stripped and checked, allure found and pinned, the
categories and the duty summary in the generated report, the config found by a non-editable install."""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from allure_commons.logger import AllureFileLogger
from allure_commons.model2 import Label, StatusDetails
from allure_commons.model2 import TestResult as AllureResult

import harness
from harness.errors import LabError
from harness.evidence import allure_env, allure_report
from harness.evidence.allure_report import ReportError, external_urls, strip_analytics
from tests.conftest import REPO
from tests.evidence.allure_report_data import categories, global_attachments

ALLURE = REPO / "node_modules" / ".bin" / "allure"
needs_allure = pytest.mark.skipif(not ALLURE.exists(), reason="npm allure is not installed (`make setup`)")

#: the analytics block as Allure 3.18.0's awesome report writes it (report id and uuid vary)
GTAG = """    <script async src="https://www.googletagmanager.com/gtag/js?id=G-LNDJ3J7WT0"></script>
    <script>
        window.dataLayer = window.dataLayer || [];
        function gtag(){dataLayer.push(arguments);}
        gtag('js', new Date());
        gtag('config', 'G-LNDJ3J7WT0', {
          "report": "awesome",
          "allureVersion": "3.18.0",
          "reportUuid": "2b0ace64-c824-4fa4-ad23-d7a628ea7625",
          "single_file": "true"
        });
    </script>
"""
PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>r</title>
<link rel="icon" href="data:image/svg+xml,%3Csvg%3E%3C/svg%3E">
<style>.a { background: url(data:image/png;base64,AAAA) }</style></head>
<body><div id="app"></div>
<a href="https://allurereport.org">Powered by Allure Report</a>
<script src="data:text/javascript;base64,AAAA"></script>
{gtag}<script async>window.allureReportDataReady = true;</script>
</body></html>
"""


# ---- strip_analytics / external_urls -------------------------------------------------------------

def test_strip_analytics_removes_exactly_the_analytics_block():
    html = PAGE.replace("{gtag}", GTAG)
    assert external_urls(html) == ["https://www.googletagmanager.com/gtag/js?id=G-LNDJ3J7WT0"]
    stripped = strip_analytics(html)
    assert stripped == PAGE.replace("{gtag}", "")
    assert external_urls(stripped) == []


@pytest.mark.parametrize("gtag", ["", GTAG + GTAG, GTAG.replace("gtag('js', new Date());", "gtag('js', Date.now());"),
                                  GTAG.replace("G-LNDJ3J7WT0", "G-OTHER", 1)],
                         ids=["missing", "twice", "changed-shape", "two-ids"])
def test_strip_analytics_fails_loudly_when_the_template_changed(gtag):
    with pytest.raises(ReportError, match=r"found \d+ times, not once.*allure 3\.18\.0"):
        strip_analytics(PAGE.replace("{gtag}", gtag))


@pytest.mark.parametrize("extra", [
    '<script src="https://cdn.example.com/app.js"></script>',
    '<link rel="stylesheet" href="//fonts.example.com/css">',
    '<link rel="preconnect" href="https://fonts.gstatic.com">',
    '<img srcset="data:image/png;base64,AA 1x, https://img.example.com/a.png 2x">',
    '<iframe src="http://tracker.example/x"></iframe>',
    '<div style="background-image: url(\'https://img.example.com/bg.png\')"></div>',
    '<style>@import "https://fonts.example.com/f.css";</style>',
    '<meta http-equiv="refresh" content="0; url=https://example.com/">',
    '<script>window.dataLayer = [];</script>',
])
def test_strip_analytics_refuses_a_report_that_still_loads_from_outside(extra):
    html = PAGE.replace("{gtag}", GTAG).replace("</body>", extra + "</body>")
    with pytest.raises(ReportError, match="still loads from the network"):
        strip_analytics(html)


def test_external_urls_ignores_local_urls_and_links_a_person_follows():
    html = ('<a href="https://example.com">x</a><img src="data:image/png;base64,AA"><img src="pic.png">'
            '<iframe src="blob:null/1234"></iframe><script src="file:///tmp/x.js"></script>'
            '<link rel="icon" href="/favicon.ico">')
    assert external_urls(html) == []


# ---- finding allure, its version, generate's failures -----------------------------------------

def fake_allure(path: Path, version: str = "3.18.0", generate: str = "") -> Path:
    """An executable that answers ``--version`` with ``version`` and runs ``generate`` (shell) for
    ``generate`` with ``$out`` set to the ``-o`` folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n"
                    f'if [ "$1" = --version ]; then echo "{version}"; exit 0; fi\n'
                    'while [ $# -gt 0 ]; do [ "$1" = -o ] && out="$2"; shift; done\n'
                    f"{generate}\n")
    path.chmod(0o755)
    return path


def test_find_allure_prefers_hil_allure_then_cwd_then_the_checkout_then_path(tmp_path, monkeypatch):
    monkeypatch.delenv("HIL_ALLURE", raising=False)
    checkout, cwd, on_path = tmp_path / "checkout", tmp_path / "cwd", tmp_path / "bin"
    monkeypatch.setattr(allure_report, "CHECKOUT", checkout)
    monkeypatch.setenv("PATH", str(on_path))
    with pytest.raises(ReportError, match=r"allure \(npm, 3\.18\.0\) not found .*make setup.*HIL_ALLURE"):
        allure_report.find_allure(cwd)
    fake_allure(on_path / "allure")
    assert allure_report.find_allure(cwd) == on_path / "allure"
    fake_allure(checkout / "node_modules" / ".bin" / "allure")
    assert allure_report.find_allure(cwd) == checkout / "node_modules" / ".bin" / "allure"
    fake_allure(cwd / "node_modules" / ".bin" / "allure")
    assert allure_report.find_allure(cwd) == cwd / "node_modules" / ".bin" / "allure"
    named = fake_allure(tmp_path / "mine" / "allure")
    monkeypatch.setenv("HIL_ALLURE", str(named))
    assert allure_report.find_allure(cwd) == named
    monkeypatch.setenv("HIL_ALLURE", str(tmp_path / "nothing"))
    with pytest.raises(ReportError, match=r"HIL_ALLURE=.*nothing: no such file"):
        allure_report.find_allure(cwd)


@pytest.mark.parametrize(("version", "generate", "message"), [
    ("2.30.0", "", r"is allure 2\.30\.0; hil's report needs allure 3\.18\.0"),
    ("3.18.0", "echo 'boom: no results' >&2; exit 1", r"allure generate failed \(1\): boom: no results"),
    ("3.18.0", "exit 0", r"allure generate failed \(0\): no index.html written"),
    ("3.18.0", 'mkdir -p "$out"; echo "<html><body>no analytics</body></html>" > "$out/index.html"',
     r"analytics block was found 0 times"),
])
def test_generate_raises_one_clear_line_when_it_cannot_make_the_report(tmp_path, monkeypatch, version, generate,
                                                                     message):
    monkeypatch.setenv("HIL_ALLURE", str(fake_allure(tmp_path / "allure", version, generate)))
    out = tmp_path / "reports" / "allure-report.html"
    with pytest.raises(ReportError, match=message):
        allure_report.generate(tmp_path / "results", out, "t", history=tmp_path / "history.jsonl")
    assert not out.exists()


def test_the_allure_version_is_pinned_exactly_where_npm_installs_it():
    assert json.loads((REPO / "package.json").read_text())["dependencies"]["allure"] == allure_report.ALLURE_VERSION
    lock = json.loads((REPO / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/allure"]["version"] == allure_report.ALLURE_VERSION
    installed = REPO / "node_modules" / "allure" / "package.json"
    if installed.exists():
        assert json.loads(installed.read_text())["version"] == allure_report.ALLURE_VERSION


# ---- categories: one definition, and every lab error is a lab error --------------------------

def _all_subclasses(cls: type) -> list[type]:
    return [c for s in cls.__subclasses__() for c in (s, *_all_subclasses(s))]


def test_categories_put_every_lab_error_under_lab_broken_and_nothing_else():
    for m in pkgutil.walk_packages(harness.__path__, "harness."):  # every LabError subclass is defined
        importlib.import_module(m.name)
    lab_broken = next(c for c in allure_env.CATEGORIES if c["name"] == "Lab broken")
    regex = re.compile(lab_broken["messageRegex"])
    classes = set(_all_subclasses(LabError))
    assert len(classes) >= 5
    for cls in classes:
        exc = cls("phone4", "snmp", "127.0.3.4:1161", "no answer\nwithin 1 s")
        message = f"{cls.__module__}.{cls.__name__}: {exc}"  # allure-pytest's statusDetails.message
        assert regex.fullmatch(message) and regex.search(message), message
    for harness_error in ("KeyError: 'firmware'", "fixtures.plugin.ScenarioMadeNoCheck: x ended without a check",
                          "RuntimeError: retry after timeout: phone4", "harness error: timeout: x"):
        assert not regex.search(harness_error), harness_error
    assert [c["name"] for c in allure_env.CATEGORIES] == ["Duty not met: consequence of a root cause", "Duty not met",
                                                          "Lab broken", "Harness error"]
    # a consequence is told by the plugin's note under the message (harness.evidence.findings), nothing else
    consequence = re.compile(allure_env.CATEGORIES[0]["messageRegex"])
    noted = "harness.evidence.check.DutyNotMet: [NET-NTP] sw1: x = 2.5 s\nconsequence of: [NET-NTP] ntp servers: y\n"
    assert consequence.fullmatch(noted) and consequence.search(noted)
    assert not consequence.search("harness.evidence.check.DutyNotMet: [NET-NTP] sw1: consequence of: x = 2.5 s\n")


def test_allurerc_reads_the_same_categories_file():
    config = allure_report.CONFIG.read_text()
    assert 'new URL("./allure_categories.json", import.meta.url)' in config and "categories," in config
    assert allure_report.CONFIG.with_name("allure_categories.json").is_file()


# ---- a real report from a results folder -------------------------------------------------------

def write_result(results: Path, name: str, status: str, message: str | None = None) -> None:
    now = int(time.time() * 1000)
    AllureFileLogger(results).report_result(AllureResult(
        uuid=str(uuid.uuid4()), historyId=name, name=name, fullName=f"scenarios.test_x#{name}", status=status,
        statusDetails=StatusDetails(message=message, trace=f"E   {message}") if message else None, start=now,
        stop=now + 5, labels=[Label(name="epic", value="Maintenance"), Label(name="tag", value="MAINT-X")]))


SUMMARY = {"lab": {"name": "lab-a", "site": "Site A", "inventory": "lab.yaml", "inventory_sha256": "ab" * 32,
                   "emulated": True},
           "run": {"started": "2026-01-01T00:00:00+00:00", "finished": "2026-01-01T00:01:00+00:00",
                   "harness_version": "0.1.0", "commit": None, "profile": "default"},
           "verdict": "FAIL", "exit_code": 1, "counts": {"FAIL": 1},
           "duties": {"MAINT-X": {"title": "Versions", "verdict": "FAIL", "checks": ["test_fail"],
                                  "tests": {"total": 4, "passed": 1, "failed": 1, "broken": 2, "skipped": 0},
                                  "findings": ["phone2: firmware version = 5.9.0"], "skip_reasons": [],
                                  "evidence": []}},
           "tests": []}


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    if not ALLURE.exists():
        pytest.skip("npm allure is not installed (`make setup`)")
    base = tmp_path_factory.mktemp("allure")
    results = base / "allure-results"
    write_result(results, "test_pass", "passed")
    write_result(results, "test_fail", "failed",
                 "harness.evidence.check.DutyNotMet: [MAINT-X] phone2: firmware version = 5.9.0")
    write_result(results, "test_lab", "broken",
                 "harness.errors.LabTimeout: timeout: phone4 snmp 127.0.3.4:1161: no answer within 1 s x 2 tries")
    write_result(results, "test_bug", "broken", "KeyError: 'firmware'")
    allure_env.attach_summary(results, SUMMARY)
    return allure_report.generate(results, base / "allure-report.html", "hil duty report — lab-a",
                                  history=base / "history.jsonl")


def test_generated_report_has_hil_categories(generated):
    assert categories(generated) == {"Duty not met": {"test_fail"}, "Lab broken": {"test_lab"},
                                     "Harness error": {"test_bug"}}


def test_generated_report_carries_the_duty_summary_as_a_global_attachment(generated):
    summary = global_attachments(generated)["summary.md"]
    assert summary.startswith("# Duty summary: lab-a (Site A)")
    assert "| MAINT-X | FAIL | 4 | 1 | 1 | 2 | 0 | Versions |" in summary


def test_generated_report_loads_nothing_from_outside(generated):
    html = generated.read_text(encoding="utf-8")
    assert external_urls(html) == [] and "googletagmanager" not in html and "gtag(" not in html
    index = generated.with_suffix("") / "index.html"
    assert index.read_text(encoding="utf-8") == html  # the folder's copy is cleaned too
    assert (generated.parent / "history.jsonl").read_text().strip()


@needs_allure
def test_allure_itself_still_writes_the_block_that_is_stripped(generated, tmp_path):
    """If this fails, the pinned allure changed its template: look for a switch (allure3 issue 476)."""
    out = tmp_path / "raw"
    subprocess.run([str(ALLURE), "generate", str(generated.parent / "allure-results"), "-o", str(out), "-c",
                    str(allure_report.CONFIG)], check=True, capture_output=True, timeout=300,
                   env=dict(os.environ, HIL_ALLURE_HISTORY=str(tmp_path / "h.jsonl")))
    raw = (out / "index.html").read_text(encoding="utf-8")
    assert len(allure_report.ANALYTICS_BLOCK.findall(raw)) == 1
    assert external_urls(raw) == ["https://www.googletagmanager.com/gtag/js?id=G-LNDJ3J7WT0"]


# ---- the config in a non-editable install ------------------------------------------------------

@needs_allure
def test_a_non_editable_install_generates_the_report_with_its_packaged_config(generated, tmp_path):
    src = tmp_path / "src"
    for part in ("harness", "fixtures"):
        shutil.copytree(REPO / part, src / part, ignore=shutil.ignore_patterns("__pycache__"))
    for part in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(REPO / part, src / part)
    site = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation"]
    r = subprocess.run([*pip, "--target", str(site), str(src)],
                       capture_output=True, text=True, timeout=600, check=False)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert (site / "harness" / "evidence" / "allurerc.mjs").is_file()
    assert (site / "harness" / "evidence" / "allure_categories.json").is_file()
    reports = tmp_path / "elsewhere" / "reports"
    shutil.copytree(generated.parent / "allure-results", reports / "allure-results")
    env = {k: v for k, v in os.environ.items() if k != "HIL_ALLURE"}
    env |= {"PYTHONPATH": str(site), "PATH": f"{ALLURE.parent}{os.pathsep}{env['PATH']}"}  # allure found on PATH
    code = ("import harness, sys; from harness import cli; "
            "assert harness.__file__.startswith(sys.argv[1]), harness.__file__; "
            "sys.argv = ['hil', 'report', '--reports', 'reports']; cli.main()")
    r = subprocess.run([sys.executable, "-c", code, str(site)], cwd=reports.parent, env=env, capture_output=True,
                       text=True, timeout=300, check=False)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    html = reports / "allure-report.html"
    assert categories(html)["Lab broken"] == {"test_lab"}
    assert "googletagmanager" not in html.read_text(encoding="utf-8")
