"""The Edge software update (MAINT-EDGE-UPDATE, destructive): window, image, stage, drain, install,
reboot watched on the serial console, verify over SSH, rollback reported.

:func:`update_edge` takes one Edge to a :class:`~harness.duties.profile.FirmwareTarget` through
:data:`STEPS` (formats and the twin's side in ``docs/edge-update.md``):

1. ``window``: the site's update window (``lab.update_window``) must be open now, else nothing is
   touched (``EdgeUpdateReport.window_closed``, ``next_open``); then the site's update lock
   (``<inventory folder>/.hil/locks/edge-update-<site>.lock``, filelock, not waited for): one Edge
   per site at a time ([G-UPD]); another run holding it stops the update here.
2. ``image``: :func:`~harness.devices.procedures.image_check.check_image`: a 404 or a wrong SHA-256 stops the
   update before anything is staged (URL and both checksums in ``error``).
3. ``stage``: ``software stage <url> <sha256>``, then ``show software`` until ``staged`` (its version
   must be the target's) or ``failed`` (the Edge's reason), within :data:`STAGE_TIMEOUT_S`.
4. ``drain``: ``software drain <drain_timeout_s>`` (new calls refused), then ``show trunk`` until no
   trunk call is left, within ``drain_timeout_s`` + :data:`DRAIN_GRACE_S` (the Edge ends what is
   left at its timeout). ``during_drain`` (if given) is called once the drain began.
5. ``install``: the serial console is opened and read empty, ``software install`` is sent over SSH
   and the console must show the boot banner (:data:`BANNER`) within ``boot_timeout_s``.
6. ``reboot``: the console from the banner to the login prompt (:data:`LOGIN`), within
   ``boot_timeout_s``; ``seconds["reboot"]`` is that time. The console's TCP connection stays open
   through the reboot. ``rolling back`` in that output marks a failed install.
7. ``verify``: ``show version`` over SSH (retried until it answers, within ``boot_timeout_s`` of
   the banner) must give the target; ``show software`` gives the Edge's error after a rollback.

A failed stage or drain cancels the update on the Edge (``software cancel``: calls accepted again).
Nothing here raises for an Edge that fails its update: the report says what happened. A transport
failure before the install (the Edge unreachable, the console not openable) raises LabError; after
the install, SSH or the console not coming back is the finding (``step_reached`` ``reboot`` or
``verify``). Times in seconds per step. Limits are project choices, named where defined.
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
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from ...duties.profile import FirmwareTarget
from ...errors import LabError, LabTimeout
from ...transports.serial import SerialConsole
from ..drivers.edge import Edge
from ..facts.update_window import window_facts
from ..session import LabSession
from .image_check import ImageCheck, check_image

STEPS = ("window", "image", "stage", "drain", "install", "reboot", "verify")
STAGE_TIMEOUT_S = 600.0  # project choice: an Edge image (hundreds of MB) downloads within 10 min on a site link
DRAIN_GRACE_S = 10.0  # project choice: the Edge ends the calls left at its drain timeout within this
POLL_S = 0.2  # project choice: pause between two `show software` / `show trunk` polls
FLUSH_QUIET_S = 0.2  # project choice: the console counts as read empty after this much silence
BANNER = re.compile(r"(?i)bootloader|booting \S+ \(")  # a Genesys Edge's boot banner (console.py's twin banner)
LOGIN = re.compile(r"(?i)login: ?\Z")  # the getty's prompt: the boot is over
ROLLBACK = re.compile(r"(?i)rolling back")
ERROR_LINE = re.compile(r"(?im)^.*\b(?:error|failed)\b.*$")


@dataclass
class EdgeUpdateReport:
    """What one Edge update did.

    Attributes:
        edge: inventory name. target: the version asked for.
        version_before / version_after: ``show version`` over SSH before and after (``None``: not
            read, or the Edge did not come back). On a rollback ``version_after`` is the previous one.
        step_reached: the last of :data:`STEPS` started (``verify`` with no ``error``: done).
        seconds: step -> seconds it took (``reboot``: boot banner to login prompt; ``drain``: the
            drain command to no call left).
        error: why the update failed (``""``: it did not). rolled_back: the Edge said it rolled back.
        window_closed: the window is not open now (nothing touched); next_open: its next opening.
        already_on_target: the Edge already ran ``target`` (nothing touched: no drain, no reboot).
        image: the image check (``None``: not reached). calls_at_drain: trunk calls when the drain
            began. console: what the console showed from the boot banner on.
    """

    edge: str
    target: str
    version_before: str | None = None
    version_after: str | None = None
    step_reached: str = "window"
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
        return not self.error and self.step_reached == "verify" and self.version_after == self.target

    @property
    def total_s(self) -> float:
        return round(sum(self.seconds.values()), 3)

    def describe(self) -> str:
        """One line: versions, step reached, time taken per step, rollback and error."""
        steps = ", ".join(f"{k} {v:.1f} s" for k, v in self.seconds.items())
        now = f"now {self.version_after}" if self.version_after else "version after not read"
        text = (f"{self.edge}: {self.version_before} -> target {self.target}, {now}; step reached "
                f"{self.step_reached} after {self.total_s:.1f} s ({steps or 'no step timed'})")
        if self.rolled_back:
            text += f"; rolled back to {self.version_after}"
        return text + (f"; {self.error}" if self.error else "")


def lock_dir(lab: LabSession) -> Path:
    """``<inventory folder>/.hil/locks``: where the per-site update locks of this inventory live."""
    return lab.loaded.path.resolve().parent / ".hil" / "locks"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "site"


class _Clock:
    """Times the steps of one report."""

    def __init__(self, report: EdgeUpdateReport) -> None:
        self.report, self.step, self.t0 = report, "", time.monotonic()

    def start(self, step: str) -> None:
        self.stop()
        self.report.step_reached, self.step, self.t0 = step, step, time.monotonic()

    def stop(self) -> None:
        if self.step:
            self.report.seconds[self.step] = round(time.monotonic() - self.t0, 3)
            self.step = ""


def update_edge(lab: LabSession, edge: str, target: FirmwareTarget, *, drain_timeout_s: float,
                boot_timeout_s: float, now: dt.datetime | None = None,
                during_drain: Callable[[], Any] | None = None) -> EdgeUpdateReport:
    """Update Edge ``edge`` to ``target`` (steps in the module docstring); the report of what happened.

    ``drain_timeout_s``: what the Edge is given to let its calls end (the drain's timeout).
    ``boot_timeout_s``: how long the install may take to show the boot banner, and the boot to reach
    the login prompt and SSH. ``now``: the moment the window is judged at (aware; default: now).
    ``during_drain``: called once the drain began (a test call placed while the Edge drains); what it
    raises cancels the update and propagates.

    Raises:
        LabError: the Edge, its console or the provisioning server failed before the install.
    """
    drv = lab.driver(edge, Edge)
    report = EdgeUpdateReport(edge, target.version)
    clock = _Clock(report)
    clock.start("window")
    window = lab.lab.lab.update_window
    moment = now or dt.datetime.now(dt.UTC)
    if window is None:
        report.window_closed = True
        report.error = "the inventory records no lab.update_window: no update window to update in"
        clock.stop()
        return report
    facts = window_facts(window, moment)
    if not facts.contains(moment, window):
        report.window_closed, report.next_open = True, facts.next_open
        opens = facts.next_open.isoformat() if facts.next_open else "never again"
        report.error = (f"outside the update window ({window.rrule} {window.start}-{window.end} {window.time_zone}) "
                        f"at {moment.isoformat(timespec='seconds')}; next opening {opens}")
        clock.stop()
        return report
    site = lab.lab.lab.site
    folder = lock_dir(lab)
    folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(folder / f"edge-update-{_slug(site)}.lock"))
    info = folder / f"edge-update-{_slug(site)}.json"
    try:
        lock.acquire(timeout=0)
    except Timeout:
        other = "another run"
        with contextlib.suppress(OSError, ValueError, KeyError):
            d = json.loads(info.read_text())
            other = f"the run of pid {d['pid']} (updating {d['edge']} since {d['started_utc']})"
        report.error = f"{other} is updating an Edge of site {site!r}: one Edge per site at a time"
        clock.stop()
        return report
    try:
        info.write_text(json.dumps({"pid": os.getpid(), "edge": edge,
                                    "started_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}))
        report.version_before = drv.version().firmware
        if report.version_before == target.version:
            report.already_on_target, report.version_after = True, report.version_before
        else:
            _update(lab, drv, target, report, clock, drain_timeout_s, boot_timeout_s, during_drain)
    finally:
        clock.stop()
        with contextlib.suppress(OSError):
            info.unlink()
        lock.release(force=True)
    return report


def _update(lab: LabSession, drv: Edge, target: FirmwareTarget, report: EdgeUpdateReport, clock: _Clock,
            drain_timeout_s: float, boot_timeout_s: float, during_drain: Callable[[], Any] | None) -> None:
    clock.start("image")
    img = report.image = check_image(lab, drv.platform, target)
    if not img.ok:
        report.error = (f"image check stopped the update before staging: {img.problem} (expected SHA-256 "
                        f"{img.sha256_expected}, got {img.sha256_got or 'no image'})")
        return
    clock.start("stage")
    drv.software_stage(target.url, target.sha256)
    deadline = time.monotonic() + STAGE_TIMEOUT_S
    while True:
        sw = drv.software_status()
        if sw.status != "staging" or time.monotonic() > deadline:
            break
        time.sleep(POLL_S)
    if sw.status != "staged" or sw.staged_version != target.version:
        report.error = (f"staging failed: {sw.last_error}" if sw.status == "failed" else
                        f"staging did not finish within {STAGE_TIMEOUT_S:g} s (status {sw.status})"
                        if sw.status == "staging" else
                        f"the Edge staged version {sw.staged_version}, not {target.version} (status {sw.status})")
        _cancel(drv)
        return
    clock.start("drain")
    trunk = drv.trunk_status()
    report.calls_at_drain = trunk.inbound_calls + trunk.outbound_calls
    drv.software_drain(int(drain_timeout_s))
    try:
        if during_drain is not None:
            during_drain()
    except BaseException:
        _cancel(drv)
        raise
    deadline = time.monotonic() + drain_timeout_s + DRAIN_GRACE_S
    while True:
        trunk = drv.trunk_status()
        left = trunk.inbound_calls + trunk.outbound_calls
        if not left or time.monotonic() > deadline:
            break
        time.sleep(POLL_S)
    if left:
        report.error = (f"{left} trunk calls still in progress {drain_timeout_s + DRAIN_GRACE_S:g} s after the drain "
                        f"began (drain timeout {drain_timeout_s:g} s)")
        _cancel(drv)
        return
    clock.stop()
    console: SerialConsole = drv._console()
    _read_empty(console)
    clock.start("install")
    drv.software_install()
    try:
        console.expect([BANNER], timeout_s=boot_timeout_s, check_baud=False)
    except LabTimeout as e:
        report.error = f"no boot banner on the console within {boot_timeout_s:g} s of 'software install': {e.detail}"
        return
    clock.start("reboot")
    banner_at = time.monotonic()
    try:
        _, _, text = console.expect([LOGIN], timeout_s=boot_timeout_s, check_baud=False)
    except LabTimeout as e:
        report.error = (f"no login prompt on the console within {boot_timeout_s:g} s of the boot banner: the Edge "
                        f"did not come back ({e.detail})")
        return
    console.logged_in = False  # the reboot ended any console session
    report.console = text
    report.rolled_back = bool(ROLLBACK.search(text))
    clock.start("verify")
    version = _version_when_back(drv, banner_at + boot_timeout_s)
    if isinstance(version, LabError):
        report.error = f"SSH did not come back within {boot_timeout_s:g} s of the boot banner: {version}"
        return
    report.version_after = version
    sw = drv.software_status()
    if report.rolled_back or sw.status == "rolled-back":
        report.rolled_back = True
        errors = ERROR_LINE.findall(text)
        report.step_reached = "install"
        report.error = f"install failed and the Edge rolled back to {version}: " + \
            (sw.last_error or (errors[0].strip() if errors else "no reason given"))
    elif version != target.version:
        report.error = f"the Edge came back on {version}, not {target.version} (show software: {sw.status})"


def _version_when_back(drv: Edge, deadline: float) -> str | LabError:
    """``show version`` over SSH once SSH answers again (the session reconnects); the last error when
    it did not answer before ``deadline`` (monotonic)."""
    while True:
        try:
            return str(drv.version().firmware)
        except LabError as e:
            drv.drop_session("ssh")
            if time.monotonic() > deadline:
                return e
            time.sleep(POLL_S)


def _read_empty(console: SerialConsole) -> None:
    """Drop what the console line has sent so far (an old boot banner in the terminal server's buffer)."""
    with console.raw() as line:
        for _ in range(100):
            if not line.read(65536, FLUSH_QUIET_S):
                return


def _cancel(drv: Edge) -> None:
    """Best effort: the Edge takes calls again and forgets the staged image."""
    with contextlib.suppress(LabError):
        drv.software_cancel()
