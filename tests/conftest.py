"""Fixtures for the harness's own tests: a lab twin of a copy of the shipped inventory.

The copy moves every 127.0.x.y address to ``$HIL_TEST_NET.x.y`` (default ``127.77``) so the tests
never touch a twin a person started with ``hil lab up`` on the default lab. A test that starts a lab
of its own puts it on one of the next networks (:func:`other_net`, up to 6 further /16 ranges).

Under pytest-xdist every worker gets its own block of :data:`NETS_PER_WORKER` ranges: worker ``gwN``
runs on ``HIL_TEST_NET`` + 7·N (``127.77``, ``127.84``, ``127.91`` …), set into ``$HIL_TEST_NET``
before any test module reads it, so the modules and the ``hil``/pytest processes they start follow.

Every test that uses the running twin (the ``twin`` or ``twin_process`` fixture) is marked ``twin``;
modules whose tests start a twin of their own carry ``pytestmark = pytest.mark.twin``. So
``pytest -m "not twin" tests`` runs the unit tests alone.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock

from harness.devices.drivers.pstn import PstnSimulator
from harness.inventory import LoadedLab, load
from harness.transports.sip.ua import SipUserAgent
from harness.transports.transcript import Transcript
from harness.twin import manager
from tests.scenario_runner import ScenarioRun

REPO = Path(__file__).resolve().parent.parent
#: real device captures from public repositories (../shared/realworld/INDEX.md gives their sources and
#: licences, which keep them out of this repository): ``$HIL_REALWORLD``, else the shared folder beside
#: the checkout. Tests that read them skip, saying so, where the folder is absent.
CAPTURES = Path(os.environ.get("HIL_REALWORLD") or REPO.parent / "shared" / "realworld")
#: /16 ranges one pytest process uses: TEST_NET and other_net(1) … other_net(6)
NETS_PER_WORKER = 7
#: fixtures that start (or hand out) the session's running twin
TWIN_FIXTURES = frozenset({"twin", "twin_process"})


def worker_net() -> str:
    """This process's test network: ``$HIL_TEST_NET`` (default ``127.77``), moved up by
    :data:`NETS_PER_WORKER` ranges per pytest-xdist worker number (``PYTEST_XDIST_WORKER=gw2`` -> +14).
    The base is kept in ``$HIL_TEST_NET_BASE``, so a pytest started inside a worker stays on its net."""
    base = os.environ.get("HIL_TEST_NET_BASE") or os.environ.get("HIL_TEST_NET", "127.77")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return base
    os.environ["HIL_TEST_NET_BASE"] = base
    first, second = base.split(".")
    net = int(second) + NETS_PER_WORKER * int(worker[2:])
    if net + NETS_PER_WORKER - 1 > 255:
        raise pytest.UsageError(f"worker {worker} needs {first}.{net} and up: fewer workers or a lower HIL_TEST_NET")
    return f"{first}.{net}"


TEST_NET = worker_net()
os.environ["HIL_TEST_NET"] = TEST_NET  # test modules and the processes they start read it

# Bytecode caching on for the suite and every process it starts. Container images often set
# PYTHONDONTWRITEBYTECODE; then each of the few hundred Python processes the suite starts (a pytest per
# scenario self-test run, `hil run`s, lab twins) compiles the harness anew, and pytest re-does its
# assertion rewriting of it (the `hil` plugin's distribution is rewritten): about 1 s of CPU per process,
# most of a short scenario run. The caches go to the git-ignored __pycache__ folders, as Python's default.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = False


@pytest.hookimpl(tryfirst=True)  # before -m selects on the marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if TWIN_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.twin)


def other_net(offset: int) -> str:
    """A second, third … test network next to ``TEST_NET`` (``127.77`` + 1 -> ``127.78``), for tests
    that start a twin of their own; move ``HIL_TEST_NET`` and they all move with it."""
    first, second = TEST_NET.split(".")
    return f"{first}.{int(second) + offset}"


def make_test_lab(dest: Path, text: str | None = None) -> Path:
    """Copy the shipped inventory, profile and twin secrets into ``dest`` with shifted addresses."""
    dest.mkdir(parents=True, exist_ok=True)
    text = text if text is not None else (REPO / "lab_inventory.yaml").read_text()
    (dest / "lab_inventory.yaml").write_text(text.replace("127.0.", f"{TEST_NET}."))
    for d in ("profiles", "twin_secrets"):
        if not (dest / d).exists():
            shutil.copytree(REPO / d, dest / d)
    for profile in (dest / "profiles").glob("*.yaml"):  # image URLs name lab addresses too
        profile.write_text(profile.read_text().replace("127.0.", f"{TEST_NET}."))
    return dest / "lab_inventory.yaml"


@contextlib.contextmanager
def edited(path: Path, old: str, new: str) -> Iterator[None]:
    """``path`` with ``old`` (found exactly once) replaced by ``new`` while the block runs, then as it
    was. For a test's own settings in the session's lab file: the scenario runs read it anew each
    time, the twin only at its start."""
    original = path.read_text()
    assert original.count(old) == 1, old
    path.write_text(original.replace(old, new))
    try:
        yield
    finally:
        path.write_text(original)


@pytest.fixture(scope="session")
def lab_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_test_lab(tmp_path_factory.mktemp("lab"))


@pytest.fixture(scope="session")
def loaded(lab_path: Path) -> LoadedLab:
    return load(lab_path)


@pytest.fixture(scope="session")
def twin_process(lab_path: Path) -> Iterator[manager.TwinControl]:
    manager.up(lab_path)
    try:
        yield manager.TwinControl(lab_path)
    finally:
        manager.down(lab_path)


@pytest.fixture
def twin(twin_process: manager.TwinControl) -> Iterator[manager.TwinControl]:
    """The running twin, healed after the test whatever the test broke."""
    yield twin_process
    twin_process.heal_all()


@dataclass(frozen=True)
class HealthyRun:
    """One ``hil run`` of every duty (no ``--duty``, no ``-k``; the Allure HTML report too) on a healthy
    twin, shared by the tests that only read what a healthy run reports (see :func:`healthy_run`)."""

    returncode: int
    stdout: str
    stderr: str
    #: the run's reports folder (summary.json, summary.md, junit.xml, allure-results/, allure-report.html)
    reports: Path
    #: the lab file it ran on: under pytest-xdist the worker that ran it first, so its addresses are on
    #: that worker's network (``net``), not necessarily on this worker's ``TEST_NET``
    lab_path: Path
    net: str

    @property
    def run(self) -> ScenarioRun:
        """The run's summary as a :class:`ScenarioRun` (``output`` is the ``hil run`` console)."""
        summary = json.loads((self.reports / "summary.json").read_text())
        return ScenarioRun(self.returncode, self.stdout + self.stderr, summary)

    @property
    def allure_dir(self) -> Path:
        return self.reports / "allure-results"


@pytest.fixture
def healthy_run(twin: manager.TwinControl, lab_path: Path, tmp_path_factory: pytest.TempPathFactory) -> HealthyRun:
    """The session's healthy full run, made once for the whole pytest session (every xdist worker).

    A full run is about 50 s of calls and QoS windows. The tests that only read a healthy run's reports
    (every duty PASS, each scenario's figures and attachments) share one: the first test to ask starts
    ``hil run`` on its worker's twin (healthy: the ``twin`` fixture heals it after every test) while
    holding a file lock in the session's shared temporary folder; the others wait on the lock and read
    the reports it left. A test that breaks the twin never uses it."""
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # popen-gwN's parent: the one folder of this pytest session
    folder = shared / "healthy-run"
    record = folder / "run.json"
    with FileLock(str(shared / "healthy-run.lock")):
        if not record.exists():
            folder.mkdir(exist_ok=True)
            reports = folder / "reports"
            r = subprocess.run([sys.executable, "-m", "harness.cli", "run", "--inventory", str(lab_path), "--reports",
                                str(reports)], capture_output=True, text=True, timeout=600, check=False, cwd=REPO)
            record.write_text(json.dumps({"returncode": r.returncode, "stdout": r.stdout, "stderr": r.stderr,
                                          "reports": str(reports), "lab_path": str(lab_path), "net": TEST_NET}))
        data = json.loads(record.read_text())
    return HealthyRun(data["returncode"], data["stdout"], data["stderr"], Path(data["reports"]),
                      Path(data["lab_path"]), data["net"])


@pytest.fixture
def pstn(loaded: LoadedLab) -> Iterator[PstnSimulator]:
    """The PSTN simulator driver for ``pstn1`` of the test lab, closed after the test."""
    d = PstnSimulator("pstn1", loaded.lab.devices["pstn1"], loaded)
    yield d
    d.close()


@pytest.fixture
def agents(request: pytest.FixtureRequest) -> Iterator[Callable[..., SipUserAgent]]:
    """``make(host, name="peer", **kw)``: a probe SipUserAgent on ``host`` (an address, or ``n`` for
    ``<the test module's NET>.n``), closed after the test."""
    made: list[SipUserAgent] = []

    def make(host: str | int, name: str = "peer", **kw: Any) -> SipUserAgent:
        h = f"{request.module.NET}.{host}" if isinstance(host, int) else host
        ua = SipUserAgent(name, Transcript(f"{name} sip {h}"), h, **kw)
        made.append(ua)
        return ua

    yield make
    for ua in made:
        ua.close()


def with_default_sigint(argv: list[str]) -> list[str]:
    """``argv`` run with SIGINT at its default, through a one-line launcher that resets it and
    execs ``argv``: a process started from a test inherits an ignored SIGINT when the test process
    ignores it (pytest-xdist workers may), and Python then never raises KeyboardInterrupt."""
    reset = "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])"
    return [sys.executable, "-c", reset, *argv]


def grows(get: Callable[[], int], during_s: float = 0.5) -> int:
    """How much ``get()`` grows in ``during_s`` seconds."""
    before = get()
    time.sleep(during_s)
    return get() - before


def wait_for(pred: Callable[[], Any], timeout_s: float = 5.0, step_s: float = 0.05) -> Any:
    """Poll ``pred`` every ``step_s`` until it is truthy or ``timeout_s`` passed; its last value."""
    deadline = time.monotonic() + timeout_s
    while True:
        v = pred()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(step_s)


def stop_process(proc: subprocess.Popen[Any]) -> None:
    """Stop a real peer a test started (SIGTERM, then SIGKILL after 5 s) and reap it."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
