"""MAINT-EDGE-UPDATE, the update: the harness's update flow (through an Edge in memory, and through
the twin's emulated Genesys Cloud API: order, drain, install, reboot, faults, heal) and the destructive
scenario (PASS healthy; FAIL under install-fails, never-returns, slow-boot, update-fails (the download
through the API fails), update-stays-staged; SKIPPED outside the window). The provisioning server's
image-404 and bad-checksum are the phone rollout's (tests/devices/procedures/test_firmware_rollout.py): an
Edge's release is Genesys' and never comes from that server.

Scenario runs get an inventory whose update window is open now (:func:`open_window`) and a profile
with a short boot limit (:data:`BOOT_MAX_S`), so an Edge that never returns costs seconds."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from filelock import FileLock

from harness.devices.procedures.edge_update import EdgeStep, lock_dir, update_edge
from harness.devices.procedures.edge_update_access import BootEnd, SoftwareStatus
from harness.devices.session import LabSession
from harness.duties.profile import FirmwareTarget, load_profile
from harness.inventory import LoadedLab
from harness.twin.manager import TwinControl
from tests.scenario_runner import ScenarioRun, run_scenarios

DUTY = "MAINT-EDGE-UPDATE"
TEST = "test_edge_software_update[edge1]"
OLD, NEW = "2026.11.1", "2026.12.0"
BOOT_MAX_S = 4  # profile override: the twin boots in 2 s; slow-boot=6 is over it, the give-up is 8 s


@pytest.fixture
def session(loaded: LoadedLab) -> Iterator[LabSession]:
    s = LabSession(loaded)
    yield s
    s.close()


@pytest.fixture
def target(loaded: LoadedLab) -> FirmwareTarget:
    return load_profile(loaded.relative(loaded.lab.profile)).firmware["genesys_edge"]


def _window_text(text: str, start: dt.datetime, end: dt.datetime) -> str:
    for old, new in (('start: "02:00"', f'start: "{start:%H:%M}"'), ('end: "05:00"', f'end: "{end:%H:%M}"'),
                     ("time_zone: America/Indiana/Indianapolis", "time_zone: UTC")):
        assert old in text, old
        text = text.replace(old, new)
    return text


@pytest.fixture
def open_window(twin: TwinControl, lab_path: Path) -> Iterator[None]:
    """The test lab's inventory and the twin's site (``update-window``) with a daily update window
    (UTC) that opened an hour ago, and its profile with ``boot_max_s`` :data:`BOOT_MAX_S`; all put
    back afterwards (the ``twin`` fixture heals the site)."""
    now = dt.datetime.now(dt.UTC)
    twin.fault("cloud", "update-window", f"{now - dt.timedelta(hours=1):%H:%M}-{now + dt.timedelta(hours=2):%H:%M}")
    with _edited(lab_path, lambda t: _window_text(t, now - dt.timedelta(hours=1), now + dt.timedelta(hours=2))), \
            _edited(lab_path.parent / "profiles" / "default.yaml",
                    lambda t: re.sub(rf"\n  {DUTY}\.boot_max_s: .*", "", t).replace(
                        "thresholds:\n", f"thresholds:\n  {DUTY}.boot_max_s: {BOOT_MAX_S}\n", 1)):
        yield


@pytest.fixture
def closed_window(twin: TwinControl, lab_path: Path) -> Iterator[dt.datetime]:
    """A window that opens in three hours (UTC), in the inventory and the twin's site; yields that opening."""
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    opens = now + dt.timedelta(hours=3)
    twin.fault("cloud", "update-window", f"{opens:%H:%M}-{opens + dt.timedelta(hours=3):%H:%M}")
    with _edited(lab_path, lambda t: _window_text(t, opens, opens + dt.timedelta(hours=3))):
        yield opens


@contextlib.contextmanager
def _edited(path: Path, change: Callable[[str], str]) -> Iterator[None]:
    """``path`` rewritten by ``change`` while the block runs, then put back."""
    original = path.read_text()
    path.write_text(change(original))
    try:
        yield
    finally:
        path.write_text(original)


def _run(lab_path: Path, tmp_path: Path, tag: str) -> tuple[ScenarioRun, dict]:  # type: ignore[type-arg]
    r = run_scenarios(lab_path, tmp_path / tag, f"--duty={DUTY}", "--allow-destructive", "-k",
                      "test_edge_software_update")
    return r, r.tests()[TEST]


# --- the update's steps ---------------------------------------------------------------------------


def test_one_edge_per_site_lock_stops_a_second_update(twin: TwinControl, session: LabSession,
                                                       target: FirmwareTarget, loaded: LoadedLab) -> None:
    folder = lock_dir(session)
    folder.mkdir(parents=True, exist_ok=True)
    site = loaded.lab.lab.site
    window = loaded.lab.lab.update_window
    assert window is not None
    inside = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)  # 03:00 in Indianapolis: inside 02:00-05:00
    with FileLock(str(folder / "edge-update-lab-site-a-emulated.lock")):
        r = update_edge(session, "edge1", target, drain_timeout_s=5, boot_timeout_s=5, now=inside)
    assert r.step_reached == "window" and not r.window_closed, r
    assert f"is updating an Edge of site {site!r}: one Edge per site at a time" in r.error, r.error
    assert twin.state("edge1")["software_status"] == "idle"


class _EdgeInMemory:
    """An :class:`~harness.devices.procedures.edge_update_access.EdgeUpdateAccess` that is no Edge of
    the twin: the update's steps reach the Edge only through this interface (as a Genesys Cloud API
    access would). ``stage_error``: staging fails with it; ``rollback``: the install rolls back."""

    name, platform, management = "edge1", "genesys_edge", "the in-memory Edge"
    self_driven = False

    def __init__(self, stage_error: str | None = None, rollback: str | None = None) -> None:
        self.stage_error, self.rollback = stage_error, rollback
        self.version, self.status = OLD, "idle"
        self.staged: str | None = None
        self.done: list[str] = []

    def running_version(self) -> str:
        return self.version

    def reconnect(self) -> None:
        self.done.append("reconnect")

    def software_status(self) -> SoftwareStatus:
        return SoftwareStatus(self.status, self.version, self.staged, False, 0,
                              self.stage_error if self.status == "failed" else self.rollback)

    def trunk_calls(self) -> int:
        return 0

    def check_target(self, lab: LabSession, target: FirmwareTarget) -> tuple[None, str]:
        return None, ""

    def stage(self, target: FirmwareTarget) -> None:
        self.done.append("stage")
        self.status, self.staged = ("failed", None) if self.stage_error else ("staged", NEW)

    def drain(self, timeout_s: int) -> None:
        self.done.append(f"drain {timeout_s}")

    def cancel(self) -> None:
        self.done.append("cancel")

    def install(self, timeout_s: float) -> str:
        self.done.append("install")
        return ""

    def boot(self, timeout_s: float) -> BootEnd:
        if self.rollback:
            self.status = "rolled-back"
            return BootEnd(f"install: ERROR: {NEW}: {self.rollback}\ninstall: rolling back to {OLD}\nedge1 login: ")
        self.version, self.status = NEW, "installed"
        return BootEnd("Booting edge1 (Genesys Edge) firmware ...\nedge1 login: ")


@pytest.mark.parametrize("case", ["healthy", "rollback", "stage fails"])
def test_the_update_reaches_the_edge_only_through_its_access(twin: TwinControl, session: LabSession,
                                                             target: FirmwareTarget, case: str) -> None:
    edge = _EdgeInMemory(stage_error="checksum differs" if case == "stage fails" else None,
                         rollback="self-test failed" if case == "rollback" else None)
    inside = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)  # 03:00 in Indianapolis: inside 02:00-05:00
    r = update_edge(session, "edge1", target, drain_timeout_s=5, boot_timeout_s=5, now=inside, access=edge)
    if case == "healthy":
        assert r.ok and r.steps == list(EdgeStep) and set(r.seconds) == set(EdgeStep), r.describe()
        assert edge.done == ["stage", "drain 5", "install"] and r.version_after == NEW
    elif case == "rollback":
        assert (r.step_reached, r.rolled_back, r.version_after) == ("install", True, OLD), r.describe()
        assert r.steps[-1] == EdgeStep.VERIFY and f"rolled back to {OLD}: self-test failed" in r.error
    else:
        assert r.steps == [EdgeStep.WINDOW, EdgeStep.IMAGE, EdgeStep.STAGE] and r.step_reached == "stage"
        assert r.error == "staging failed: checksum differs" and edge.done == ["stage", "cancel"], r.describe()
        assert r.version_after == OLD, r.describe()  # the Edge kept what it ran
    st = twin.state("edge1")  # the twin's Edge was never touched
    assert (st["software_status"], st["installed_firmware"]) == ("idle", OLD)


# --- the scenario ---------------------------------------------------------------------------------


def test_update_passes_on_the_healthy_twin(twin: TwinControl, open_window: None, lab_path: Path,
                                           tmp_path: Path) -> None:
    r, t = _run(lab_path, tmp_path, "healthy")
    assert t["verdict"] == "PASS", (t["message"], r.output[-3000:])
    what = {m["what"].split(" (")[0]: m for m in t["measurements"]}
    version = next(m for w, m in what.items() if w.startswith("software version after the update"))
    assert version["measured"] == NEW and version["limit"] == NEW
    reboot = what["reboot in Genesys Cloud"]
    assert 1.5 < reboot["measured"] <= BOOT_MAX_S and reboot["limit"] == BOOT_MAX_S, reboot
    drain = what["drain before the install"]
    assert drain["measured"] <= 90 and drain["unit"] == "min", drain
    refused = next(m for w, m in what.items() if w.startswith("answer to a new call"))
    assert refused["measured"] == 503
    kept = next(m for w, m in what.items() if w.startswith("audio echoed back during the drain"))
    assert kept["measured"] > 0
    assert twin.state("edge1")["installed_firmware"] == NEW
    boot = twin.state("edge1")["boot_time"]
    r, t = _run(lab_path, tmp_path, "again")  # on the target already: nothing is touched
    assert t["verdict"] == "SKIPPED" and f"edge1 already runs {NEW}" in t["message"], t
    assert twin.state("edge1")["boot_time"] == boot


def test_update_fails_and_rolls_back_under_install_fails(twin: TwinControl, open_window: None, lab_path: Path,
                                                         tmp_path: Path) -> None:
    twin.fault("edge1", "install-fails")
    r, t = _run(lab_path, tmp_path, "install-fails")
    msg = t["message"]
    assert t["verdict"] == "FAIL", (t["message"], r.output[-3000:])
    assert f"[{DUTY}] edge1: software version after the update from {OLD} (step reached install" in msg, msg
    assert f"= {OLD}; limit == {NEW}" in msg and f"rolled back to {OLD}" in msg, msg
    assert "ended FAILED (Genesys Cloud gives no reason)" in msg, msg  # the API names no reason
    st = twin.state("edge1")
    assert (st["installed_firmware"], st["software_status"]) == (OLD, "rolled-back")
    assert "post-install self-test failed" in st["software_error"]


def test_update_fails_at_reboot_when_the_edge_never_returns(twin: TwinControl, open_window: None, lab_path: Path,
                                                             tmp_path: Path) -> None:
    twin.fault("edge1", "never-returns")
    r, t = _run(lab_path, tmp_path, "never-returns")
    msg = t["message"]
    assert t["verdict"] == "FAIL", (t["message"], r.output[-3000:])
    assert "= nothing; limit == 2026.12.0" in msg and "step reached reboot" in msg, msg
    assert "did not come back" in msg and f"reboot {2 * BOOT_MAX_S}." in msg, msg


def test_slow_boot_beyond_the_limit_fails_the_boot_check(twin: TwinControl, open_window: None, lab_path: Path,
                                                         tmp_path: Path) -> None:
    twin.fault("edge1", "slow-boot", "6")
    r, t = _run(lab_path, tmp_path, "slow-boot")
    msg = t["message"]
    assert t["verdict"] == "FAIL", (t["message"], r.output[-3000:])
    took = re.search(r"edge1: reboot in Genesys Cloud \(OFFLINE until ONLINE with the update ended\) = ([\d.]+) s", msg)
    assert took and 5.5 <= float(took[1]) < 8.0, msg  # a 6 s boot, seen through 0.2 s polls of the API
    assert f"limit <= {BOOT_MAX_S:.1f} s (requirement profile default)" in msg, msg
    assert twin.state("edge1")["installed_firmware"] == NEW  # it came back, too late


def test_a_failed_download_stops_the_update_at_staging(twin: TwinControl, open_window: None, lab_path: Path,
                                                        tmp_path: Path) -> None:
    """Through the API the image is Genesys' (no provisioning-server image is checked): a download
    that fails (``update-fails``) stops the update at its stage step, the Edge untouched."""
    twin.fault("edge1", "update-fails")
    r, t = _run(lab_path, tmp_path, "update-fails")
    msg = t["message"]
    assert t["verdict"] == "FAIL", (t["message"], r.output[-3000:])
    assert f"[{DUTY}] edge1: software version after the update from {OLD} (step reached stage" in msg, msg
    assert f"staging failed: software update to {NEW} ended FAILED" in msg, msg
    assert "(step reached stage, " in msg and f"= {OLD}; limit == {NEW}" in msg, msg  # the version it kept
    st = twin.state("edge1")
    assert (st["staged_version"], st["installed_firmware"]) == (None, OLD)


def test_an_update_staged_and_never_installed_fails_at_install(twin: TwinControl, open_window: None,
                                                               lab_path: Path, tmp_path: Path) -> None:
    twin.fault("edge1", "update-stays-staged")
    r, t = _run(lab_path, tmp_path, "stays-staged")
    msg = t["message"]
    assert t["verdict"] == "FAIL", (t["message"], r.output[-3000:])
    assert "step reached drain" in msg and "staged and not installed" in msg, msg
    assert twin.state("edge1")["installed_firmware"] == OLD


def _run_readonly(lab_path: Path, tmp_path: Path, tag: str, test: str) -> dict:  # type: ignore[type-arg]
    r = run_scenarios(lab_path, tmp_path / tag, f"--duty={DUTY}", "-k", test)
    return r.tests()  # type: ignore[no-any-return]


def test_staged_check_passes_on_the_healthy_twin_and_fails_past_a_window(twin: TwinControl, lab_path: Path,
                                                                         tmp_path: Path) -> None:
    got = _run_readonly(lab_path, tmp_path, "staged-ok", "test_no_version_staged_past_a_window")
    assert got["test_no_version_staged_past_a_window[edge1]"]["verdict"] == "PASS", got
    twin.fault("edge1", "update-stays-staged")
    t = _run_readonly(lab_path, tmp_path, "staged-old", "test_no_version_staged_past_a_window")[
        "test_no_version_staged_past_a_window[edge1]"]
    msg = t["message"]
    assert t["verdict"] == "FAIL", t
    assert f"[{DUTY}] edge1: update windows {NEW} stayed staged and not installed = 1" in msg, msg
    assert "limit <= 0" in msg and "project choice" in msg and "a whole window ended" in msg, msg


def test_short_window_in_the_org_fails_the_length_check(twin: TwinControl, lab_path: Path, tmp_path: Path) -> None:
    got = _run_readonly(lab_path, tmp_path, "window-ok", "test_update_window_is_long_enough")
    assert got["test_update_window_is_long_enough"]["verdict"] == "PASS", got
    twin.fault("cloud", "short-update-window")
    t = _run_readonly(lab_path, tmp_path, "window-short", "test_update_window_is_long_enough")[
        "test_update_window_is_long_enough"]
    msg = t["message"]
    assert t["verdict"] == "FAIL", t
    assert "update window length (02:00-03:00" in msg and "= 1" in msg and "limit >= 2" in msg, msg


def test_outside_the_window_the_update_is_skipped_with_the_next_opening(
        twin: TwinControl, closed_window: dt.datetime, lab_path: Path, tmp_path: Path) -> None:
    r, t = _run(lab_path, tmp_path, "closed")
    assert t["verdict"] == "SKIPPED", (t["message"], r.output[-3000:])
    assert "outside the update window (FREQ=DAILY" in t["message"], t
    assert f"next opening {closed_window.isoformat()}" in t["message"], t
    # skipped for the hour, not the inventory: the duty's core check did not run, so PARTIAL, not SKIPPED
    assert t["skipped_for"] == "the update window", t
    duty = r.summary["duties"][DUTY]
    assert duty["verdict"] == "PARTIAL" and duty["reasons"][0].startswith(
        "core check not run: the software update (edge1: update not started: outside the update window"), duty
    assert twin.state("edge1")["software_status"] == "idle"
