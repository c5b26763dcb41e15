"""``hil run``: check the inventory, bring up the twin if needed, run the scenarios, report.

Steps: load and check the inventory (exit 2 on problems) → take the lab's lease (:mod:`harness.lease`:
a lab another run holds is refused, exit 2, naming the holder, or waited for with ``--wait-lab``) →
lock the reports folder (another run writing it is refused, exit 2, before anything starts) → for an
emulated lab start the twin unless one runs (a running twin is used as it is, faults included) → run
pytest on the scenarios with Allure results, JUnit XML and the duty summary, written into
``<reports>/.this-run/`` → once pytest has run (not on a usage error only pytest can see, such as a bad
``-k`` expression, nor on an interrupt: the last run's reports stay), they replace the last run's →
generate the single-file Allure report → print the per-duty table → stop the twin if no other run uses
it → exit 0 / 1 / 3 (see :mod:`harness.evidence.summary`; PARTIAL and NOT SELECTED exit 0, the verdict
says what was left out). An HTML report that was asked for (no ``--no-html``) and could not be
generated breaks the run: exit 3, unless a duty failed (1 stands). This run's reports are masked file
by file (:mod:`harness.evidence.masking`) once pytest has exited and again once the HTML report is
made. On an emulated lab ``--allow-destructive`` also opens the site's update window
(``--in-update-window``), so the Edge update runs whatever the hour; on a real lab
``--in-update-window`` is a usage error.

pytest runs in a process group of its own and holds the lab lease, the reports lock and the run's
temporary folder with ``hil run`` (:mod:`harness.lifecycle`): SIGINT, SIGTERM or SIGHUP stop it
and everything it started, remove the temporary folders, print one ``interrupted`` line and exit
128 + the signal's number; after a SIGKILL of ``hil run`` pytest stops by itself and keeps the
locks until it is gone.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shlex
import shutil
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from . import lease, lifecycle
from .evidence import allure_report, junit
from .evidence.masking import mask_paths
from .evidence.summary import CHECKED
from .evidence.summary import parts as summary_parts
from .flock import Flock
from .inventory import LoadedLab
from .inventory.secrets import MASK
from .preflight import check_lab, selection_problems
from .twin import manager

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_BROKEN = 0, 1, 2, 3
#: pytest exit codes that mean nothing was run, and why (each makes `hil run` exit 2)
PYTEST_USAGE_CODES = {2: "collection failed or was interrupted", 4: "usage error (options, inventory, markers)",
                      5: "no scenario matched the selection"}
REPO = Path(__file__).resolve().parent.parent
VERDICT_STYLE = {"PASS": "green", "PARTIAL": "blue", "FAIL": "red", "BROKEN": "yellow", "SKIPPED": "cyan",
                 "NOT SELECTED": "dim", "NOT RUN": "dim", "ATTEST": "magenta", "ATTESTED": "green",
                 "ATTESTATION MISSING": "blue", "ATTESTATION EXPIRED": "blue"}


@dataclass
class RunOptions:
    inventory: Path
    reports: Path = Path("reports")
    scenarios: Path | None = None
    duties: list[str] = field(default_factory=list)
    devices: list[str] = field(default_factory=list)
    keyword: str | None = None
    allow_destructive: bool = False
    report_html: bool = True
    pytest_args: list[str] = field(default_factory=list)
    wait_lab_s: float = 0.0
    in_update_window: bool = False


def _scenarios_dir(opts: RunOptions) -> Path:
    if opts.scenarios:
        return opts.scenarios
    for cand in (Path.cwd() / "scenarios", opts.inventory.resolve().parent / "scenarios", REPO / "scenarios"):
        if cand.is_dir():
            return cand
    return REPO / "scenarios"


def generate_report(results: Path, out_html: Path, console: Console, title: str = "hil duty report") -> bool:
    """Generate the single-file Allure 3 report ``out_html`` from ``results``, offline (no analytics,
    nothing fetched from the network: :func:`harness.evidence.allure_report.generate`), with the run
    appended to ``history.jsonl`` beside it. False, after one line saying why, when it could not."""
    try:
        allure_report.generate(results, out_html, title, history=out_html.parent / "history.jsonl")
    except allure_report.ReportError as e:
        console.print(f"HTML report not generated: {e}", style="red", markup=False, highlight=False, soft_wrap=True)
        return False
    return True


def _styled(verdict: str) -> str:
    style = VERDICT_STYLE.get(verdict, "")
    return f"[{style}]{escape(verdict)}[/]" if style else escape(verdict)


def print_table(summary: dict, console: Console) -> None:
    """The per-duty table (a hybrid or attest duty with its parts on rows of their own, the reason a
    duty is PARTIAL or NOT SELECTED in "why"), the overall line, then every finding."""
    t = Table(title=f"Duties — {summary['lab']['name']} ({summary['lab']['site']})")
    for col in ("duty", "verdict", "tests", "pass", "fail", "broken", "skip", "desel", "title / why"):
        t.add_column(col)
    for duty_id, d in summary["duties"].items():
        c = d["tests"]
        why = "; ".join(d.get("reasons", [])) if d["verdict"] != "NOT SELECTED" else ""  # desel says it
        t.add_row(duty_id, _styled(d["verdict"]), str(c["total"]), str(c["passed"]), str(c["failed"]),
                  str(c["broken"]), str(c["skipped"]), str(c.get("deselected", 0)),
                  escape(d["title"]) + (f"\n[dim]{escape(why)}[/]" if why else ""))
        for label, status, text in summary_parts(d):
            t.add_row(f"  ↳ {label}", _styled(status), "", "", "", "", "", "",
                      escape(text.removeprefix(status).strip(" ,")))
    console.print(t)
    counts = summary.get("counts", {})
    checked = sum(counts.get(v, 0) for v in CHECKED)
    noun = "duty" if checked == 1 else "duties"
    console.print(f"[bold]Overall: {escape(summary.get('overall', summary['verdict']))}[/] for the {checked} {noun} "
                  f"checked ({', '.join(f'{n} {v}' for v, n in counts.items())})", soft_wrap=True)
    for d in summary["duties"].values():
        for f in d["findings"]:
            console.print(f"  {MASK(f)}", highlight=False, soft_wrap=True, markup=False)


def run(opts: RunOptions, console: Console | None = None) -> int:
    """Run ``opts`` and return the exit code; an interrupt (SIGINT, SIGTERM, SIGHUP, see
    :mod:`harness.lifecycle`) stops everything the run started, prints one ``interrupted`` line and
    returns 128 + the signal's number."""
    console = console or Console(width=None if sys.stdout.isatty() else 160)
    started = time.time()
    try:
        return _run(opts, console)
    except KeyboardInterrupt as e:
        signum = lifecycle.signal_of(e)
        written = opts.reports / "summary.json"
        summary = ("" if written.exists() and written.stat().st_mtime >= started
                   else "; no summary was written for this run, the last run's reports are left as they were")
        console.print(f"[yellow]interrupted ({signal.Signals(signum).name}): pytest and SIPp stopped, temporary "
                      "folders removed, the twin stopped unless another run or `hil lab up` keeps it"
                      f"{summary}[/]", soft_wrap=True)
        return 128 + signum


def _run(opts: RunOptions, console: Console) -> int:
    loaded, problems = check_lab(opts.inventory)
    for line in problems:
        console.print(line, highlight=False, markup=False, soft_wrap=True)
    if loaded is None or problems:
        return EXIT_USAGE
    wrong = selection_problems(opts.duties, opts.devices, loaded.lab.devices)
    for line in wrong:
        console.print(f"[red]{line}[/]", highlight=False, soft_wrap=True)
    if wrong:
        return EXIT_USAGE  # before the twin starts or the last run's reports are cleared
    held = _take_lab(loaded, opts, console)
    if held is None:
        return EXIT_USAGE
    try:
        return _run_on_lab(opts, loaded, held, console)
    finally:
        lease.release(held)  # after pytest ended: a child it was handed to would keep it anyway


def _take_lab(loaded: LoadedLab, opts: RunOptions, console: Console) -> lease.Lease | None:
    """The lab's lease for this run, or ``None`` after one line naming who holds it."""
    backend = lease.for_inventory(loaded.path)
    lab = lease.lab_id(loaded.lab.lab)
    me = lease.Holder.this_process("hil " + shlex.join(sys.argv[1:]), opts.reports)
    if opts.wait_lab_s > 0 and (who := lease.holder(lab, backend=backend)) is not None:
        console.print(f"lab {lab} is in use by {who.describe()}: waiting up to {opts.wait_lab_s:g} s for it",
                      markup=False, highlight=False, soft_wrap=True)
    try:
        return lease.acquire(lab, me, opts.wait_lab_s, backend=backend)
    except lease.LabBusy as e:
        console.print(f"{e}: wait for it (--wait-lab SECONDS) or stop it", style="red", markup=False,
                      highlight=False, soft_wrap=True)
    except OSError as e:
        console.print(f"lab {lab}: cannot take its lease in {loaded.path.parent / '.hil'}: {e.strerror or e}",
                      style="red", markup=False, highlight=False, soft_wrap=True)
    return None


def _run_on_lab(opts: RunOptions, loaded: LoadedLab, held: lease.Lease, console: Console) -> int:
    emulated = loaded.lab.lab.emulated
    if opts.in_update_window and not emulated:
        console.print(f"[red]--in-update-window: lab {escape(loaded.lab.lab.name)} is not emulated: a real Edge is "
                      "updated only inside its site's update window[/]", soft_wrap=True)
        return EXIT_USAGE
    if emulated and opts.allow_destructive and not opts.in_update_window and loaded.lab.lab.update_window:
        console.print("emulated lab: the Edge update runs as if inside the site's update window (--in-update-window)")
        opts = dataclasses.replace(opts, in_update_window=True)
    owned = [a for a in opts.pytest_args if a.split("=", 1)[0] in OWNED_OPTIONS]
    if owned:
        console.print(f"[red]{', '.join(owned)}: hil run sets this itself; use hil run's own options "
                      "(--inventory, --reports)[/]")
        return EXIT_USAGE
    locked = _lock_reports(opts, console)  # before the twin: a run refused starts nothing
    if locked is None:
        return EXIT_USAGE
    reports, lock = locked
    try:
        return _run_with_twin(opts, loaded, reports, lock, held, console)
    finally:
        lock.release()


def _run_with_twin(opts: RunOptions, loaded: LoadedLab, reports: Path, lock: Flock, held: lease.Lease,
                   console: Console) -> int:
    """Run pytest with the reports folder locked; an emulated lab's twin is started first (unless one
    runs) and stopped after, unless another run or ``hil lab up`` keeps it."""
    emulated = loaded.lab.lab.emulated
    started_twin = False
    if emulated:
        had_twin = manager.read_state(loaded.path) is not None
        try:
            info, started_twin = manager.up(loaded.path)  # also leases the twin to this run
        except manager.TwinError as e:
            console.print(str(e), style="red", markup=False, highlight=False)
            return EXIT_BROKEN
        except BaseException:  # interrupted (Ctrl-C, SIGTERM) while the twin was starting
            if not had_twin:
                manager.down(loaded.path)
            raise
    try:
        if emulated:
            console.print(f"lab twin {'started' if started_twin else 'already running'} (pid {info['pid']})")
        return _run_locked(opts, loaded.path, reports, lock, held, console)
    finally:
        if emulated:  # the last run to leave stops the twin; a `hil lab up` twin stays
            manager.stop_if_unused(loaded.path)


#: pytest options `hil run` sets itself; passing them through would mix two runs' settings
OWNED_OPTIONS = ("--inventory", "--alluredir", "--junitxml", "--junit-xml", "--hil-summary", "--scenario-root",
                 "--rootdir")


def _lock_reports(opts: RunOptions, console: Console) -> tuple[Path, Flock] | None:
    """The reports folder (made if missing) and its lock, taken without waiting; ``None`` after one
    line saying why when the folder cannot be used or another run is writing it."""
    reports = opts.reports.resolve()
    try:
        reports.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        console.print(f"[red]--reports {opts.reports}: cannot use it as the reports folder: {e.strerror}[/]")
        return None
    lock = Flock(reports / lifecycle.REPORTS_LOCK_NAME)  # handed to pytest, the writer: see harness.lifecycle
    if not lock.acquire(0):
        console.print(f"[red]another hil run is writing {reports}: wait for it, or give --reports another folder[/]",
                      soft_wrap=True)
        return None
    return reports, lock


#: where a run writes its reports until pytest has run (then they replace the last run's)
STAGING = ".this-run"
#: what a run writes into the reports folder (``history.jsonl`` is kept across runs)
RUN_REPORTS = ("allure-results", "allure-report", "summary.json", "summary.md", "junit.xml", "allure-report.html")


def _publish(staging: Path, reports: Path) -> None:
    """This run's reports (in ``staging``) replace the last run's in ``reports``."""
    for name in (*RUN_REPORTS, *(p.name for p in staging.iterdir())):
        old = reports / name
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)
    for new in staging.iterdir():
        new.rename(reports / new.name)
    shutil.rmtree(staging, ignore_errors=True)


def _run_locked(opts: RunOptions, inventory: Path, reports: Path, reports_lock: Flock, held: lease.Lease,
                console: Console) -> int:
    staging = reports / STAGING
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "allure-results").mkdir(parents=True)
    scenarios = _scenarios_dir(opts)
    cmd = [sys.executable, "-m", "pytest", str(scenarios), f"--inventory={inventory.resolve()}",
           f"--alluredir={staging / 'allure-results'}", f"--junitxml={staging / 'junit.xml'}",
           f"--hil-summary={staging}",
           "-p", "no:cacheprovider", "--tb=short", "-o", "console_output_style=count",
           f"--rootdir={scenarios.parent}", f"--scenario-root={scenarios}"]
    cmd += [f"--duty={d}" for d in opts.duties] + [f"--device={d}" for d in opts.devices]
    if opts.keyword:
        cmd += ["-k", opts.keyword]
    if opts.allow_destructive:
        cmd.append("--allow-destructive")
    if opts.in_update_window:
        cmd.append("--in-update-window")
    cmd += opts.pytest_args
    try:
        returncode = _pytest_process(cmd, reports_lock, held)
    except KeyboardInterrupt:
        shutil.rmtree(staging, ignore_errors=True)  # the last run's reports stay as they were
        raise
    mask_paths([staging])  # whatever pytest left unmasked (it was killed, a plugin wrote after ours)
    if returncode in PYTEST_USAGE_CODES:
        shutil.rmtree(staging, ignore_errors=True)
        console.print(f"[red]no run: {PYTEST_USAGE_CODES[returncode]} (see the output above); the last run's "
                      "reports are left as they were[/]", soft_wrap=True)
        return EXIT_USAGE
    _publish(staging, reports)
    results = reports / "allure-results"
    summary_file = reports / "summary.json"
    if not summary_file.exists():
        console.print(f"[red]pytest ended ({returncode}) without a summary: see the output above[/]")
        return EXIT_BROKEN
    summary = json.loads(summary_file.read_text())
    junit.broken_as_errors(reports / "junit.xml", summary)
    junit.add_verdicts(reports / "junit.xml", summary)
    report_failed = False
    if opts.report_html:
        html = reports / "allure-report.html"
        lab = summary["lab"]
        generated = generate_report(results, html, console, f"hil duty report — {lab['name']} ({lab['site']})")
        mask_paths([html, reports / "allure-report", reports / "history.jsonl"])
        if generated:
            console.print(f"Allure report: {html}", soft_wrap=True)
        else:
            report_failed = True
    print_table(summary, console)
    console.print(f"summary: {reports / 'summary.md'}  junit: {reports / 'junit.xml'}", soft_wrap=True)
    code = int(summary["exit_code"])
    if report_failed:  # the harness broke: exit 3, unless a duty was found not met (1 stands)
        console.print("[red]no HTML report: the run's Allure report could not be generated (see above); "
                      "--no-html skips it[/]", soft_wrap=True)
        return code if code == EXIT_FAIL else EXIT_BROKEN
    return code


def _pytest_process(cmd: list[str], reports_lock: Flock, held: lease.Lease) -> int:
    """Run pytest (``cmd``) as the run's child (:func:`harness.lifecycle.run_child`): in its own
    process group, with the run's temporary folder as ``TMPDIR``, holding the reports lock, the lab
    lease and the temporary folder's lock together with this process. Returns its exit status."""
    temp = lifecycle.RunTemp()
    try:
        temp_env, temp_fd = temp.child_env()
        reports_env, reports_fd = reports_lock.handover(lifecycle.REPORTS_LOCK_ENV)
        lab = held.handover()
        env = {**os.environ, lifecycle.RUN_PID_ENV: str(os.getpid()), **temp_env, **reports_env, **lab.env}
        return lifecycle.run_child(cmd, env, [temp_fd, reports_fd, *lab.fds])
    finally:
        temp.remove()
