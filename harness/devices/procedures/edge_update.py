"""The Edge software update (MAINT-EDGE-UPDATE, destructive) through Genesys Cloud: window, check,
order, drain, install, reboot watched through the Edge's record, verify, rollback reported.

:func:`update_edge` takes one Edge to a :class:`~harness.duties.profile.FirmwareTarget`. Its steps are
the explicit state machine of :class:`EdgeStep`, run by the one transition function
:func:`edge_step`; the steps reach the Edge through :class:`~.edge_update_access.EdgeUpdateAccess`
(:class:`~.edge_update_access.ApiAccess`: a Genesys Edge is cloud-managed, its customer has no
command line or console on it; formats and the twin's side in ``docs/edge-update.md``):

1. ``window``: the site's update window (:func:`site_update_window`: the org's site, else
   ``lab.update_window``) must be open now, else nothing is
   touched (``EdgeUpdateReport.window_closed``, ``next_open``); then the site's update lock
   (``<inventory folder>/.hil/locks/edge-update-<site>.lock``, filelock, not waited for): one Edge
   per site at a time ([G-UPD]); another run holding it stops the update here. Then the version the
   Edge runs: on the target already, nothing is touched (``already_on_target``).
2. ``image``: Genesys Cloud must offer the Edge the target version (``softwareversions``); the image
   is Genesys' own, so no image is checked.
3. ``stage``: the update is ordered (``POST …/softwareupdate``, the drain's wait time
   ``drain_timeout_s``); then the Edge's record and update until the version is staged or the
   update failed (the Edge's reason), within :data:`STAGE_TIMEOUT_S`.
4. ``drain``: the Edge drains by itself (``callDrainingState``); its trunk calls in progress are
   read until none is left, within ``drain_timeout_s`` + :data:`DRAIN_GRACE_S` (the Edge ends what
   is left at its timeout). ``during_drain`` (if given) is called once the drain began.
5. ``install``: the Edge must begin its reboot (OFFLINE) within ``boot_timeout_s``.
6. ``reboot``: from OFFLINE until it is ONLINE again with its update ended, within
   ``boot_timeout_s``; ``seconds["reboot"]`` is that time. An update that ended FAILED after the
   install began is a rollback.
7. ``verify``: the record's ``softwareVersion`` (read until the Edge answers, within
   ``boot_timeout_s``) must be the target.

A failed stage or drain aborts the update (``DELETE …/softwareupdate``: calls accepted again).
Nothing here raises for an Edge that fails its update: the report says what happened, with the
steps taken, the step it stopped in and why. A failure of the API before the install raises
LabError; after the install, the Edge not coming back is the finding (``step_reached`` ``reboot``
or ``verify``). Times in seconds per step. Limits are project choices, named where defined.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from filelock import FileLock

from ...duties.profile import FirmwareTarget
from ...errors import LabError, LabProtocolError
from ...inventory.models import UpdateWindow
from ..drivers.edge import Edge
from ..facts.update_window import window_facts, window_of_site
from ..session import LabSession
from .edge_update_access import ApiAccess, EdgeUpdateAccess, SoftwareStatus
from .image_check import ImageCheck
from .run_lock import take_or_name_holder
from .state_machine import run_steps


class EdgeStep(StrEnum):
    """The steps of an Edge update (``EdgeUpdateReport.step_reached``: the one it stopped in)::

        window ─> image ─> stage ─> drain ─> install ─> reboot ─> verify

    Any step may stop the update, ``EdgeUpdateReport.error`` saying why (at ``window`` without an
    error: the Edge runs the target already). A rollback seen at ``verify`` is reported at
    ``install``, the step that failed.
    """

    WINDOW = "window"
    IMAGE = "image"
    STAGE = "stage"
    DRAIN = "drain"
    INSTALL = "install"
    REBOOT = "reboot"
    VERIFY = "verify"


STAGE_TIMEOUT_S = 600.0  # project choice: an Edge image (hundreds of MB) downloads within 10 min on a site link
DRAIN_GRACE_S = 10.0  # project choice: the Edge ends the calls left at its drain timeout within this
POLL_S = 0.2  # project choice: pause between two reads of the update's state / the trunk's calls
PAST_STAGED = ("draining", "drained", "installing", "rebooting", "installed", "rolled-back")
ROLLBACK = re.compile(r"(?i)rolling back")
ERROR_LINE = re.compile(r"(?im)^.*\b(?:error|failed)\b.*$")


@dataclass
class EdgeUpdateReport:
    """What one Edge update did.

    Attributes:
        edge: inventory name. target: the version asked for.
        version_before / version_after: the record's ``softwareVersion`` before and after (``None``: not
            read, or the Edge did not come back). On a rollback ``version_after`` is the previous one;
            after an update stopped before its install, the version the Edge kept.
        step_reached: the :class:`EdgeStep` it stopped in (``verify`` with no ``error``: done);
            steps: every step taken, in order.
        seconds: step -> seconds it took (``reboot``: from OFFLINE to ONLINE with the update ended;
            ``drain``: from the drain's start to no call left).
        error: why the update failed (``""``: it did not). rolled_back: the Edge said it rolled back.
        window_closed: the window is not open now (nothing touched); next_open: its next opening.
        already_on_target: the Edge already ran ``target`` (nothing touched: no drain, no reboot).
        image: the image check (``None``: not reached). calls_at_drain: trunk calls when the drain
            began. console: what the Edge showed through its reboot (the states its record and
            update went through; the name is the field's, from when a console was read).
    """

    edge: str
    target: str
    version_before: str | None = None
    version_after: str | None = None
    step_reached: EdgeStep = EdgeStep.WINDOW
    steps: list[EdgeStep] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    error: str = ""
    rolled_back: bool = False
    window_closed: bool = False
    already_on_target: bool = False
    next_open: dt.datetime | None = None
    image: ImageCheck | None = None
    calls_at_drain: int = 0
    console: str = ""

    @property
    def ok(self) -> bool:
        return not self.error and self.step_reached == EdgeStep.VERIFY and self.version_after == self.target

    @property
    def total_s(self) -> float:
        return round(sum(self.seconds.values()), 3)

    def record_step(self, step: EdgeStep) -> None:
        """The update entered ``step`` (the state machine calls this as each step starts)."""
        self.steps.append(step)
        self.step_reached = step

    def record_seconds(self, step: EdgeStep, seconds: float) -> None:
        """``step`` took ``seconds`` (the state machine calls this as each step ends)."""
        self.seconds[str(step)] = round(seconds, 3)

    def describe(self) -> str:
        """One line: versions, step reached, time taken per step, rollback and error."""
        steps = ", ".join(f"{k} {v:.1f} s" for k, v in self.seconds.items())
        now = f"now {self.version_after}" if self.version_after else "version after not read"
        text = (f"{self.edge}: {self.version_before} -> target {self.target}, {now}; step reached "
                f"{self.step_reached} after {self.total_s:.1f} s ({steps or 'no step timed'})")
        if self.rolled_back:
            text += f"; rolled back to {self.version_after}"
        return text + (f"; {self.error}" if self.error else "")


def site_update_window(lab: LabSession) -> tuple[UpdateWindow | None, str]:
    """The site's Edge update window and where it was read: the org's site
    (``edgeAutoUpdateConfig``, ``"the site … in Genesys Cloud"``) when the inventory has ``cloud:``,
    else the inventory's ``lab.update_window`` (``"the inventory's lab.update_window"``).

    Raises:
        LabError: the API failed (NotInOrg: the org has no such site). LabProtocolError: the site's
            window does not read as a window.
    """
    if lab.lab.cloud is None:
        return lab.lab.lab.update_window, "the inventory's lab.update_window"
    org = lab.cloud()
    site = org.site()
    where = f"site {site.name!r} in Genesys Cloud"
    config = site.edge_auto_update_config
    if config is None:
        return None, where
    try:
        return window_of_site(config), where
    except ValueError as e:
        raise LabProtocolError(org.name, "api", org.api().address,
                               f"{where}: edgeAutoUpdateConfig does not read as an update window: {e}") from None


def lock_dir(lab: LabSession) -> Path:
    """``<inventory folder>/.hil/locks``: where the per-site update locks of this inventory live."""
    return lab.loaded.path.resolve().parent / ".hil" / "locks"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "site"


def update_edge(lab: LabSession, edge: str, target: FirmwareTarget, *, drain_timeout_s: float,
                boot_timeout_s: float, now: dt.datetime | None = None,
                during_drain: Callable[[], object] | None = None,
                access: EdgeUpdateAccess | None = None) -> EdgeUpdateReport:
    """Update Edge ``edge`` to ``target`` (steps in the module docstring); the report of what happened.

    ``drain_timeout_s``: what the Edge is given to let its calls end (the drain's timeout).
    ``boot_timeout_s``: how long the install may take to begin (the Edge OFFLINE), and the reboot to
    end (ONLINE, update ended). ``now``: the moment the window is judged at (aware; default: now).
    ``during_drain``: called once the drain began (a test call placed while the Edge drains); what it
    raises cancels the update and propagates. ``access``: how the steps reach the Edge (default:
    :class:`~.edge_update_access.ApiAccess`, its start timeout ``boot_timeout_s``).

    Raises:
        LabError: the Genesys Cloud API failed before the install (LabUnreachable without ``cloud:``
            in the inventory: a Genesys Edge is updated through its org).
    """
    if access is None:
        drv = lab.driver(edge, Edge)
        drv.org()  # LabUnreachable at once without cloud:
        access = ApiAccess(drv, drain_timeout_s, boot_timeout_s)
    report = EdgeUpdateReport(edge, target.version)
    run = EdgeUpdateRun(lab, access, target, report, drain_timeout_s, boot_timeout_s, now or dt.datetime.now(dt.UTC),
                   during_drain)
    try:
        run_steps(EdgeStep.WINDOW, lambda state: edge_step(state, run), entered=report.record_step,
                  left=report.record_seconds)
    finally:
        run.site_lock.release()
    return report


def edge_step(state: EdgeStep, run: EdgeUpdateRun) -> EdgeStep | None:
    """The transition function of an Edge update: do the work of ``state`` and return the step that
    follows, ``None`` to stop in ``state`` (``run.report`` says why).

    Raises:
        LabError: the Genesys Cloud API failed before the install.
    """
    match state:
        case EdgeStep.WINDOW:
            return EdgeStep.IMAGE if run.window_open() and run.site_locked() and run.needs_update() else None
        case EdgeStep.IMAGE:
            return EdgeStep.STAGE if run.image_ok() else None
        case EdgeStep.STAGE:
            return EdgeStep.DRAIN if run.staged() else None
        case EdgeStep.DRAIN:
            return EdgeStep.INSTALL if run.drained() else None
        case EdgeStep.INSTALL:
            return EdgeStep.REBOOT if run.install_began() else None
        case EdgeStep.REBOOT:
            return EdgeStep.VERIFY if run.came_back() else None
        case EdgeStep.VERIFY:
            run.verify()
            return None


class _SiteLock:
    """The site's update lock (one Edge per site at a time, [G-UPD]): a file lock that is not waited
    for, and beside it a note of the run holding it (pid, Edge, since when)."""

    def __init__(self, folder: Path, site: str) -> None:
        self.folder, self.site = folder, site
        self.lock = FileLock(str(folder / f"edge-update-{_slug(site)}.lock"))
        self.note = folder / f"edge-update-{_slug(site)}.json"
        self.held = False

    def take(self, edge: str) -> str:
        """Hold the lock while ``edge`` updates: ``""`` once held, else who holds it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        other = take_or_name_holder(self.lock, self.note, lambda d: f"the run of pid {d['pid']} (updating "
                                                                    f"{d['edge']} since {d['started_utc']})")
        if other:
            return other
        self.held = True
        self.note.write_text(json.dumps({"pid": os.getpid(), "edge": edge,
                                         "started_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}))
        return ""

    def release(self) -> None:
        if not self.held:
            return
        with contextlib.suppress(OSError):
            self.note.unlink()
        self.lock.release(force=True)
        self.held = False


class EdgeUpdateRun:
    """What the steps of one Edge update share while it runs: the Edge (through its access), the
    target, the time limits, the site's lock and the moment the boot banner showed."""

    def __init__(self, lab: LabSession, access: EdgeUpdateAccess, target: FirmwareTarget, report: EdgeUpdateReport,
                 drain_timeout_s: float, boot_timeout_s: float, moment: dt.datetime,
                 during_drain: Callable[[], object] | None) -> None:
        self.lab, self.access, self.target, self.report = lab, access, target, report
        self.drain_timeout_s, self.boot_timeout_s, self.moment = drain_timeout_s, boot_timeout_s, moment
        self.during_drain = during_drain
        self.site_lock = _SiteLock(lock_dir(lab), lab.lab.lab.site)
        self.banner_at = 0.0  # monotonic seconds when the boot banner showed

    def window_open(self) -> bool:
        """The site's update window (:func:`site_update_window`) holds the moment; else
        ``window_closed``, ``next_open``, ``error``."""
        report, moment = self.report, self.moment
        window, source = site_update_window(self.lab)
        if window is None:
            report.window_closed = True
            report.error = f"{source} has no Edge update window: no update window to update in"
            return False
        facts = window_facts(window, moment)
        if facts.contains(moment, window):
            return True
        report.window_closed, report.next_open = True, facts.next_open
        opens = facts.next_open.isoformat() if facts.next_open else "never again"
        report.error = (f"outside the update window ({window.rrule} {window.start}-{window.end} {window.time_zone}) "
                        f"at {moment.isoformat(timespec='seconds')}; next opening {opens}")
        return False

    def site_locked(self) -> bool:
        """This run holds the site's update lock; else ``error`` names the run that does."""
        other = self.site_lock.take(self.report.edge)
        if other:
            self.report.error = (f"{other} is updating an Edge of site {self.site_lock.site!r}: one Edge per site "
                                 "at a time")
        return not other

    def needs_update(self) -> bool:
        """``version_before`` is not the target; else ``already_on_target`` (nothing is touched)."""
        report = self.report
        report.version_before = self.access.running_version()
        if report.version_before != self.target.version:
            return True
        report.already_on_target, report.version_after = True, report.version_before
        return False

    def image_ok(self) -> bool:
        """The target can be given to the Edge (its image on the provisioning server with its SHA-256,
        or the version offered by Genesys Cloud); else ``error``."""
        self.report.image, problem = self.access.check_target(self.lab, self.target)
        self.report.error = problem
        return not problem

    def staged(self) -> bool:
        """Stage the target and poll until the Edge staged it; else ``error``, and the update is cancelled."""
        self.access.stage(self.target)
        deadline = time.monotonic() + STAGE_TIMEOUT_S
        while (sw := self.access.software_status()).status == "staging" and time.monotonic() <= deadline:
            time.sleep(POLL_S)
        if sw.status == "staged" and sw.staged_version == self.target.version:
            return True
        if self.access.self_driven and sw.status in PAST_STAGED:
            return True  # the Edge went on by itself (drain, install) before this poll saw it staged
        self.report.error = _staging_problem(sw, self.target.version)
        _cancel(self.access)
        self._kept_version()
        return False

    def _kept_version(self) -> None:
        """After an update stopped before its install: ``version_after`` is what the Edge runs now (read
        again; ``None`` when it cannot be read)."""
        try:
            self.report.version_after = self.access.running_version()
        except LabError:
            self.report.version_after = None

    def drained(self) -> bool:
        """Drain, call ``during_drain``, then poll until no trunk call is left; else ``error``, and
        the update is cancelled (also when ``during_drain`` raised, which propagates)."""
        self.report.calls_at_drain = self.access.trunk_calls()
        self.access.drain(int(self.drain_timeout_s))
        if self.access.self_driven and (sw := self.access.software_status()).status in ("staging", "staged"):
            self.report.error = (f"the Edge has {sw.staged_version or 'nothing'} staged and did not begin its drain "
                                 f"within {self.boot_timeout_s:g} s: staged and not installed (status {sw.status})")
            _cancel(self.access)
            self._kept_version()
            return False
        try:
            if self.during_drain is not None:
                self.during_drain()
        except BaseException:
            _cancel(self.access)
            raise
        give_up_s = self.drain_timeout_s + DRAIN_GRACE_S
        deadline = time.monotonic() + give_up_s
        while (left := self.access.trunk_calls()) and time.monotonic() <= deadline:
            time.sleep(POLL_S)
        if not left:
            return True
        self.report.error = (f"{left} trunk calls still in progress {give_up_s:g} s after the drain began "
                             f"(drain timeout {self.drain_timeout_s:g} s)")
        _cancel(self.access)
        self._kept_version()
        return False

    def install_began(self) -> bool:
        """Install; the reboot began within ``boot_timeout_s``, else ``error``."""
        self.report.error = self.access.install(self.boot_timeout_s)
        return not self.report.error

    def came_back(self) -> bool:
        """The boot ended within ``boot_timeout_s`` (``console``, ``rolled_back`` from its output);
        else ``error``: the Edge did not come back."""
        self.banner_at = time.monotonic()
        end = self.access.boot(self.boot_timeout_s)
        if end.problem:
            self.report.error = end.problem
            return False
        self.report.console = end.output
        self.report.rolled_back = bool(ROLLBACK.search(end.output))
        return True

    def verify(self) -> None:
        """``version_after`` once the Edge answers again; ``error`` unless it is the target. A
        rollback is reported at ``install``, the step that failed, with the Edge's reason."""
        report = self.report
        version = _version_when_back(self.access, self.banner_at + self.boot_timeout_s)
        if isinstance(version, LabError):
            report.error = (f"{self.access.management} did not come back within {self.boot_timeout_s:g} s of the "
                            f"boot banner: {version}")
            return
        report.version_after = version
        sw = self.access.software_status()
        if report.rolled_back or sw.status == "rolled-back":
            report.rolled_back = True
            errors = ERROR_LINE.findall(report.console)
            report.step_reached = EdgeStep.INSTALL
            report.error = f"install failed and the Edge rolled back to {version}: " + \
                (sw.last_error or (errors[0].strip() if errors else "no reason given"))
        elif version != self.target.version:
            report.error = f"the Edge came back on {version}, not {self.target.version} (update state: {sw.status})"


def _staging_problem(sw: SoftwareStatus, target_version: str) -> str:
    """Why staging did not give the target: the Edge's error, a timeout, or another version staged."""
    if sw.status == "failed":
        return f"staging failed: {sw.last_error}"
    if sw.status == "staging":
        return f"staging did not finish within {STAGE_TIMEOUT_S:g} s (status {sw.status})"
    return f"the Edge staged version {sw.staged_version}, not {target_version} (status {sw.status})"


def _version_when_back(access: EdgeUpdateAccess, deadline: float) -> str | LabError:
    """The running version once the Edge answers again (the session reconnects); the last error when
    it did not answer before ``deadline`` (monotonic)."""
    while True:
        try:
            return access.running_version()
        except LabError as e:
            access.reconnect()
            if time.monotonic() > deadline:
                return e
            time.sleep(POLL_S)


def _cancel(access: EdgeUpdateAccess) -> None:
    """Best effort: the Edge takes calls again and forgets the staged image."""
    with contextlib.suppress(LabError):
        access.cancel()
