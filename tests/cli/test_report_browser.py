"""The Allure report `hil run` writes, looked at in a real browser (headless Chromium, file://)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.cli.test_run import hil

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def rendered_dom(cmd: list[str], rendered: str, attempts: int = 3) -> str:
    """The DOM headless Chromium dumps, once it holds ``rendered`` (text only the report's scripts
    write) or after ``attempts`` dumps. With both cores busy (parallel tests) a dump can come before
    the scripts finished, whatever the virtual-time budget: such a dump is taken again."""
    dom = ""
    for _ in range(attempts):
        dom = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False).stdout
        if rendered in dom:
            break
    return dom


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian package chromium; `make setup`)")
def test_single_file_report_renders_from_file_url(twin, lab_path, tmp_path):
    twin.fault("phone2", "firmware", "5.9.0")
    reports = tmp_path / "reports"
    r = hil("run", "--inventory", str(lab_path), "--reports", str(reports), "--duty", "MAINT-VERSION-MATRIX")
    assert r.returncode == 1, r.stdout[-3000:]
    html = reports / "allure-report.html"
    assert html.is_file()
    cmd = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--no-first-run", "--disable-sync", f"--user-data-dir={tmp_path / 'chr'}",
           "--virtual-time-budget=8000", "--dump-dom", html.as_uri()]
    dom = rendered_dom(cmd, "Maintenance")
    # the report's own JavaScript ran: the tree of results by epic, the failed count, the lab metadata
    assert "Maintenance" in dom, dom[:2000]
    assert "Failed" in dom and "hil-twin" in dom
    assert "hil duty report" in dom
