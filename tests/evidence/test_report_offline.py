"""`hil run`'s HTML report on the twin: opened in headless Chromium with the network cut it renders
completely (results, hil's categories, the duty summary) and asks nothing of any other host; a
report that cannot be generated fails the run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.conftest import REPO
from tests.evidence.allure_report_data import categories, global_attachments

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None,
                                    reason="Chromium is not installed (Debian package chromium; `make setup`)")
#: URL schemes a page can load without the network
LOCAL_SCHEMES = ("file", "data", "blob", "about")


def hil(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True, text=True, timeout=300,
                          check=False, cwd=REPO, env=env)


@contextmanager
def offline_page() -> Iterator[tuple[Page, list[str]]]:
    """A Chromium page with the network cut (every host name resolves to nothing, and every request
    for a non-local URL is aborted), and the list of every URL the page asked for, local or not
    (documents, scripts, styles, fonts, images, fetch/XHR, beacons, WebSockets)."""
    requested: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--host-resolver-rules=MAP * ~NOTFOUND", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", "--disable-sync"])
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000}, service_workers="block")
            context.on("request", lambda request: requested.append(request.url))
            context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
                tuple(f"{s}:" for s in LOCAL_SCHEMES)) else route.abort("internetdisconnected"))
            page = context.new_page()
            page.on("websocket", lambda ws: requested.append(ws.url))
            yield page, requested
        finally:
            browser.close()


def outside(requested: list[str]) -> list[str]:
    return [u for u in requested if not u.startswith(tuple(f"{s}:" for s in LOCAL_SCHEMES))]


@needs_chromium
def test_the_offline_browser_sees_every_kind_of_request_a_page_makes(tmp_path):
    """The check below can fail: a page that phones home in five ways is caught five times."""
    page_file = tmp_path / "phones-home.html"
    page_file.write_text("""<!DOCTYPE html><html><head>
<link rel="stylesheet" href="https://fonts.example.com/css2?family=Inter">
<script async src="https://www.googletagmanager.com/gtag/js?id=G-TEST"></script></head>
<body><img src="https://img.example.com/pixel.gif"><p id="done"></p>
<script>
  navigator.sendBeacon("https://beacon.example.com/collect", "opened");
  fetch("https://api.example.com/v1/ping").catch(() => {}).finally(() => {
    document.getElementById("done").textContent = "done";
  });
</script></body></html>""")
    with offline_page() as (page, requested):
        page.goto(page_file.as_uri(), wait_until="load")
        expect(page.locator("#done")).to_have_text("done")
    hosts = {u.split("/")[2] for u in outside(requested)}
    assert hosts >= {"fonts.example.com", "www.googletagmanager.com", "img.example.com", "beacon.example.com",
                     "api.example.com"}, requested


@pytest.fixture(scope="module")
def failed_and_broken_run(twin_process, lab_path, tmp_path_factory) -> Path:
    """The reports of `hil run --duty MAINT-VERSION-MATRIX` with phone2 on an unapproved firmware
    (FAIL) and phone4 down (BROKEN by a lab error)."""
    reports = tmp_path_factory.mktemp("offline") / "reports"
    twin_process.fault("phone2", "firmware", "5.9.0")
    twin_process.fault("phone4", "down")
    try:
        r = hil("run", "--inventory", str(lab_path), "--reports", str(reports), "--duty", "MAINT-VERSION-MATRIX")
    finally:
        twin_process.heal_all()
    assert r.returncode == 1, r.stdout[-3000:] + r.stderr[-2000:]
    assert f"Allure report: {reports / 'allure-report.html'}" in r.stdout
    return reports


def test_a_fail_and_a_lab_outage_show_under_hils_categories(failed_and_broken_run):
    cats = categories(failed_and_broken_run / "allure-report.html")
    assert set(cats) == {"Duty not met", "Lab broken"}, cats  # no "Test errors", no "Product errors"
    assert "test_phone_runs_an_approved_version[phone2]" in cats["Duty not met"]
    assert "test_phone_runs_an_approved_version[phone4]" in cats["Lab broken"]
    assert not any("phone4" in name for name in cats["Duty not met"])


def test_the_duty_summary_is_a_global_attachment_of_the_report(failed_and_broken_run):
    attached = global_attachments(failed_and_broken_run / "allure-report.html")["summary.md"]
    assert attached == (failed_and_broken_run / "summary.md").read_text()


@needs_chromium
def test_report_renders_completely_with_the_network_cut_and_loads_nothing_from_outside(failed_and_broken_run):
    html = failed_and_broken_run / "allure-report.html"
    with offline_page() as (page, requested):
        page.goto(html.as_uri(), wait_until="load")
        # the report's own JavaScript ran: the results tree by epic, the counts, the lab metadata
        expect(page.get_by_text("Maintenance").first).to_be_visible()
        expect(page.get_by_text("hil duty report — hil-twin").first).to_be_visible()
        expect(page.get_by_text("test_phone_runs_an_approved_version[phone2]").first).to_be_visible()
        page.get_by_test_id("nav-tab-categories").click()
        expect(page.get_by_text("Duty not met").first).to_be_visible()
        expect(page.get_by_text("Lab broken").first).to_be_visible()
        page.get_by_test_id("nav-tab-globalAttachments").click()
        page.get_by_text("summary.md").first.click()
        summary = page.frame_locator('iframe[title="Markdown attachment"]').locator("body")
        expect(summary).to_contain_text("Duty summary: hil-twin")
        expect(summary).to_contain_text("Overall: FAIL")
        expect(summary).to_contain_text("MAINT-VERSION-MATRIX")
    assert requested and requested[0] == html.as_uri()
    assert outside(requested) == [], outside(requested)


def test_a_report_that_cannot_be_generated_fails_the_run(twin, lab_path, tmp_path):
    env = dict(os.environ, HIL_ALLURE=str(tmp_path / "no-allure-here"))
    run = ("run", "--inventory", str(lab_path), "--duty", "CFG-STATION")
    r = hil(*run, "--reports", str(tmp_path / "r1"), env=env)
    assert r.returncode == 3, r.stdout[-3000:]
    assert f"HTML report not generated: HIL_ALLURE={tmp_path / 'no-allure-here'}: no such file" in r.stdout
    assert "no HTML report: the run's Allure report could not be generated" in r.stdout
    assert (tmp_path / "r1" / "summary.json").is_file() and not (tmp_path / "r1" / "allure-report.html").exists()
    # --no-html asks for no report: nothing to fail
    r = hil(*run, "--reports", str(tmp_path / "r2"), "--no-html", env=env)
    assert r.returncode == 0, r.stdout[-3000:]
    assert "HTML report" not in r.stdout
    # a duty found not met stands: exit 1, with the report's failure said
    twin.fault("phone2", "firmware", "5.9.0")
    r = hil("run", "--inventory", str(lab_path), "--duty", "MAINT-VERSION-MATRIX", "--reports", str(tmp_path / "r3"),
            env=env)
    assert r.returncode == 1, r.stdout[-3000:]
    assert "no HTML report" in r.stdout
