"""The single-file Allure 3 HTML report of a run, made to stay home.

:func:`generate` runs the npm ``allure`` generator (version :data:`ALLURE_VERSION`, pinned exactly in
``package.json``) on a results folder with the configuration shipped in this package
(:data:`CONFIG`), then removes what Allure writes into every report to phone home, and checks that
nothing the browser would fetch from elsewhere is left.

Why the post-processing: Allure 3's report templates load Google Tag Manager (``gtag.js``) and send
the report's id, Allure version and single-file flag to Google Analytics whenever the report is
opened; ``analyticsEnable: true`` is hard-coded in the awesome plugin's generator, with no config
option or environment variable to turn it off in 3.18.0 (allure3 issue 476; Allure 2's
``ALLURE_NO_ANALYTICS`` has no Allure 3 counterpart yet). Labs are often offline, and a partner's
evidence must not tell a third party when it is opened. :func:`strip_analytics` removes exactly
that block, and fails loudly (:class:`ReportError`, so ``hil run`` fails) when the block is missing,
doubled, or changed shape, so that an Allure upgrade cannot silently bring the beacon back.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

from ..inventory.secrets import MASK

#: the npm ``allure`` version whose report template :data:`ANALYTICS_BLOCK` matches (package.json pins it)
ALLURE_VERSION = "3.18.0"
#: the Allure 3 configuration ``allure generate -c`` is given (package data: found in every install)
CONFIG = Path(__file__).with_name("allurerc.mjs")
#: the source checkout this module lives in (an editable install); its ``node_modules`` may hold allure
CHECKOUT = Path(__file__).resolve().parents[2]
#: environment variable naming the allure executable to use (overrides the search)
ALLURE_ENV = "HIL_ALLURE"
#: deadline of one ``allure generate`` (a nightly run's few thousand results take well under a minute)
GENERATE_TIMEOUT_S = 300.0
#: deadline of ``allure --version``
VERSION_TIMEOUT_S = 60.0

#: The analytics block of Allure 3.18.0's awesome report (``packages/plugin-awesome/src/generators.ts``,
#: rendered): the gtag.js loader and the inline script that configures it with the report's id.
ANALYTICS_BLOCK = re.compile(
    r'[ \t]*<script async src="https://www\.googletagmanager\.com/gtag/js\?id=(?P<id>G-[A-Z0-9]+)"></script>\s*'
    r"<script>\s*window\.dataLayer = window\.dataLayer \|\| \[\];\s*"
    r"function gtag\(\)\{dataLayer\.push\(arguments\);\}\s*"
    r"gtag\('js', new Date\(\)\);\s*"
    r"gtag\('config', '(?P=id)', \{[^<]*\}\);\s*"
    r"</script>[ \t]*\n?")
#: traces of analytics that must not survive :func:`strip_analytics`
ANALYTICS_TRACES = ("googletagmanager", "google-analytics", "gtag(", "dataLayer")

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
#: a URL with a scheme (``https:``, ``ws:`` …) or protocol-relative (``//host/…``)
_ABSOLUTE = re.compile(r"^\s*(?:(?P<scheme>[a-z][a-z0-9+.-]*):|//)", re.IGNORECASE)
#: schemes a browser resolves without the network
_LOCAL_SCHEMES = {"data", "blob", "file", "about", "javascript"}
#: attributes whose URL the browser fetches by itself (``href`` only on ``<link>``/``<base>``/SVG: an
#: ``<a href>`` is fetched only when a person follows it)
_LOADING_ATTRS = {"src", "srcset", "poster", "data", "background", "ping", "xlink:href", "imagesrcset"}
_CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)|@import\s+['"]([^'"]+)""", re.IGNORECASE)


class ReportError(Exception):
    """The HTML report could not be made, or not made offline: the message says why and what to do."""


def _is_external(url: str) -> bool:
    m = _ABSOLUTE.match(url)
    if m is None:
        return False  # relative: resolved against the report's own file:// location
    scheme = m.group("scheme")
    return scheme is None or scheme.lower() not in _LOCAL_SCHEMES


class _ExternalUrls(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_style = tag == "style"
        for name, value in attrs:
            if not value:
                continue
            urls: list[str] = []
            if name in _LOADING_ATTRS or (name == "href" and tag not in ("a", "area")):
                urls = [part.strip().split(" ")[0] for part in value.split(",")] if "srcset" in name else [value]
            elif name == "style":
                urls = [a or b for a, b in _CSS_URL.findall(value)]
            elif tag == "meta" and name == "content" and "url=" in value.lower():
                urls = [value[value.lower().index("url=") + 4:]]
            self.found += [u.strip() for u in urls if _is_external(u)]

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.found += [u for a, b in _CSS_URL.findall(data) if _is_external(u := a or b)]


def external_urls(html: str) -> list[str]:
    """Every URL in ``html`` that the browser would fetch from the network as the page loads: element
    sources (scripts, images, frames, media), ``<link>`` hrefs (styles, preconnects, icons), CSS
    ``url()``/``@import`` in ``<style>`` and ``style=``, a meta refresh. ``data:``, ``blob:`` and
    ``file:`` URLs and relative ones are local; links a person must follow (``<a href>``) are not
    fetched. Script code is not run: what scripts fetch is checked in a browser (tests)."""
    parser = _ExternalUrls()
    parser.feed(html)
    parser.close()
    return parser.found


def strip_analytics(html: str) -> str:
    """``html`` (an Allure :data:`ALLURE_VERSION` awesome report) without its Google Analytics block.

    Raises :class:`ReportError` when the block is not there exactly once in the shape
    :data:`ANALYTICS_BLOCK` describes, or when any trace of analytics (:data:`ANALYTICS_TRACES`) or any
    URL the browser would fetch from the network (:func:`external_urls`) is left afterwards.
    """
    stripped, removed = ANALYTICS_BLOCK.subn("", html)
    if removed != 1:
        raise ReportError(f"the Allure report's analytics block was found {removed} times, not once: Allure's "
                          f"report template changed (hil expects allure {ALLURE_VERSION}); update "
                          "harness/evidence/allure_report.py before using this allure version")
    traces = [t for t in ANALYTICS_TRACES if t in stripped]
    urls = external_urls(stripped)
    if traces or urls:
        raise ReportError("the Allure report still loads from the network after removing its analytics "
                          f"({', '.join(traces + urls)[:300]}): Allure's report template changed (hil expects "
                          f"allure {ALLURE_VERSION}); update harness/evidence/allure_report.py")
    return stripped


def find_allure(cwd: Path | None = None) -> Path:
    """The ``allure`` executable: ``$HIL_ALLURE`` when set, else the first of
    ``<cwd>/node_modules/.bin/allure``, ``<source checkout>/node_modules/.bin/allure`` (an editable
    install), ``allure`` on ``PATH``. Raises :class:`ReportError` when there is none."""
    named = os.environ.get(ALLURE_ENV)
    if named:
        if not Path(named).is_file():
            raise ReportError(f"{ALLURE_ENV}={named}: no such file")
        return Path(named)
    bases = (cwd or Path.cwd(), CHECKOUT)
    for base in bases:
        candidate = base / "node_modules" / ".bin" / "allure"
        if candidate.is_file():
            return candidate
    on_path = shutil.which("allure")
    if on_path:
        return Path(on_path)
    raise ReportError(f"allure (npm, {ALLURE_VERSION}) not found in {bases[0]}/node_modules, "
                      f"{bases[1]}/node_modules or on PATH: run `make setup` (npm install) or set {ALLURE_ENV}")


def _output(proc: subprocess.CompletedProcess[str]) -> str:
    return " ".join(_ANSI.sub("", MASK(proc.stderr or proc.stdout or "")).split())[-500:]


def allure_version(allure: Path) -> str:
    """What ``allure --version`` prints (``"3.18.0"``). Raises :class:`ReportError` when it cannot run."""
    try:
        proc = subprocess.run([str(allure), "--version"], capture_output=True, text=True,
                              timeout=VERSION_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise ReportError(f"{allure} --version: {e}") from None
    if proc.returncode != 0:
        raise ReportError(f"{allure} --version failed ({proc.returncode}): {_output(proc)}")
    return proc.stdout.strip().splitlines()[-1].strip() if proc.stdout.strip() else ""


def generate(results: Path, out_html: Path, title: str, *, history: Path) -> Path:
    """Generate the single-file report ``out_html`` from the Allure results folder ``results``.

    Allure writes into ``out_html`` without its suffix (``reports/allure-report/``: ``index.html`` and
    its JSON) and appends the run to the history file ``history`` (JSON lines). Both ``index.html``
    and ``out_html`` are written without analytics (:func:`strip_analytics`). Returns ``out_html``.

    Raises :class:`ReportError` (one line: what failed and what to do) when allure is missing or not
    :data:`ALLURE_VERSION`, when ``allure generate`` fails or times out (:data:`GENERATE_TIMEOUT_S`), or
    when the report would load anything from the network.
    """
    allure = find_allure()
    version = allure_version(allure)
    if version != ALLURE_VERSION:
        raise ReportError(f"{allure} is allure {version or '(no version)'}; hil's report needs allure "
                          f"{ALLURE_VERSION} (npm, pinned in package.json): run `make setup` or set {ALLURE_ENV}")
    out_dir = out_html.with_suffix("")
    env = dict(os.environ, HIL_ALLURE_HISTORY=str(history))
    cmd = [str(allure), "generate", str(results), "-o", str(out_dir), "-c", str(CONFIG), "--report-name", title]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=GENERATE_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise ReportError(f"allure generate did not finish within {GENERATE_TIMEOUT_S:.0f} s") from None
    except OSError as e:
        raise ReportError(f"allure generate could not start: {e}") from None
    index = out_dir / "index.html"
    if proc.returncode != 0 or not index.is_file():
        raise ReportError(f"allure generate failed ({proc.returncode}): {_output(proc) or 'no index.html written'}")
    html = strip_analytics(index.read_text(encoding="utf-8"))
    index.write_text(html, encoding="utf-8")
    out_html.write_text(html, encoding="utf-8")
    return out_html
