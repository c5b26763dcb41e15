"""MAINT-EDGE-UPDATE: the site's Edge update window meets the Genesys rules, and (destructive) an Edge
software update inside it is staged, drained, installed, watched through its reboot and verified.

Read-only part. The window is the site's ``edgeAutoUpdateConfig`` read from Genesys Cloud (the
inventory's ``lab.update_window`` for a lab without ``cloud:``): recurrence DAILY or WEEKLY only, a
weekly window on at least one day, at least 2 h long ([API-TF-SITE], [G-UPD-SCHED]; default
02:00-05:00 daily). A site without a window is SKIPPED with that reason. Each Edge's record and
update (``GET …/edges/{edgeId}``, ``…/softwareupdate``): a version staged (``stagedVersion``) since
before a whole opening of the window that has ended is FAIL (``staged_past_windows`` 0, DUTIES.md
project choice: "not after one full update window").

Update (``--allow-destructive``, :mod:`harness.devices.procedures.edge_update`, docs/edge-update.md;
through the Genesys Cloud API, :class:`~harness.devices.procedures.edge_update_access.ApiAccess`:
a Genesys Edge has no customer command line, so without ``cloud:`` the update is BROKEN): per Edge,
to the requirement profile's ``firmware.genesys_edge`` target; the duty's core check (without it the
duty is PARTIAL, never PASS). Outside the window nothing is touched and the test is SKIPPED naming
the next opening; on an emulated lab ``--in-update-window`` judges the window at its next opening
(the ``update_moment`` fixture), so the update runs whatever the hour. A test call to one of the Edge's DIDs is
up when the drain begins; during the drain a second call must be refused (``draining_call_status``
503, project choice) while the first one is kept (its audio still echoed back,
``kept_call_audio_packets``); the first call is then hung up. Checks: Genesys Cloud offers the
Edge the target version (else the update is not started); the version after
the update equals the target (the message names Edge, versions, step reached and time taken; a
rolled-back install FAILs here with the Edge's error); the drain took at most ``drain_min``
([G-UPD-VOICE]); the reboot (through the API: from the Edge seen OFFLINE to ONLINE with its update
ended) at most
``boot_max_s`` (project choice). The drain is given ``drain_min`` as its timeout; the boot is given
twice ``boot_max_s`` before the Edge counts as not coming back.

Teardown: none. On the twin the harness's tests heal the Edge (back on the inventory's version); on
a real lab an update is not undone: the Edge stays on the target (rolling an Edge back is a
Genesys Cloud operation, not the harness's). The Edge is the test's to take away (``acts_on``): one
that does not come back is the finding, not a broken lab; the drain's test calls rely on the phones
their DIDs ring."""

import datetime as dt
import json

import pytest

from harness.checks.images import judge_image
from harness.devices.drivers.edge import Edge
from harness.devices.facts.update_window import whole_window_between, window_facts
from harness.devices.procedures import trunk_calls
from harness.devices.procedures.edge_update import site_update_window, update_edge
from harness.devices.procedures.trunk_calls import TrunkProbe
from harness.devices.session import LabSession
from harness.duties.catalogue import Threshold
from harness.duties.profile import Profile
from harness.evidence.attach import attach
from harness.evidence.check import check, intent, observe
from harness.evidence.reliance import acts_on, relies_on
from harness.evidence.skips import skip_for_run
from harness.inventory.models import PhoneDevice, UpdateWindow
from harness.transports.sip.call_base import CallResult
from harness.transports.sip.ua import CallHandle

DUTY = "MAINT-EDGE-UPDATE"


def _window(lab: LabSession) -> UpdateWindow:
    w, source = site_update_window(lab)
    if w is None:
        pytest.skip(f"{source} has no Edge update window")
    return w


@pytest.mark.duty(DUTY)
def test_no_version_staged_past_a_window(edge: Edge, lab: LabSession, profile: Profile) -> None:
    if lab.lab.cloud is None:
        pytest.skip("the inventory has no cloud: section: an Edge's staged version is read from Genesys Cloud")
    w = _window(lab)
    rec = edge.record()
    if not rec.staged_version:
        observe("none", duty=DUTY, device=edge.name, what="version staged and not installed",
                detail=f"runs {rec.software_version}")
        return
    update = edge.software_update()
    since = update.download_start_time
    now = dt.datetime.now(dt.UTC)
    ended = whole_window_between(w, dt.datetime.fromisoformat(since), now) if since else None
    detail = (f"{rec.staged_version} staged since {since or 'an unknown time'} (update status {update.status}), "
              f"runs {rec.software_version}; window {w.rrule} {w.start}-{w.end} {w.time_zone}"
              + (f"; a whole window ended {ended.isoformat(timespec='minutes')} with it still staged" if ended else ""))
    check(1 if ended else 0, profile.threshold(DUTY, "staged_past_windows"), duty=DUTY, device=edge.name,
          what=f"update windows {rec.staged_version} stayed staged and not installed", detail=detail)


@pytest.mark.duty(DUTY)
def test_update_window_recurs_daily_or_weekly(lab: LabSession, profile: Profile) -> None:
    w = _window(lab)
    f = window_facts(w)
    site = lab.lab.cloud_site if lab.lab.cloud is not None else lab.lab.lab.site
    observe(f.next_open.isoformat() if f.next_open else None, duty=DUTY, device=site, what="next update window opens",
            detail=f"{w.rrule} {w.start}-{w.end} {w.time_zone}")
    check(f.freq, profile.threshold(DUTY, "window_recurrence"), duty=DUTY, device=site,
          what=f"update window recurrence ({w.rrule})")
    if f.freq == "WEEKLY":
        check(len(f.weekdays), profile.threshold(DUTY, "weekly_window_days"), duty=DUTY, device=site,
              what=f"days of the weekly update window ({w.rrule})")


@pytest.mark.duty(DUTY)
def test_update_window_is_long_enough(lab: LabSession, profile: Profile) -> None:
    w = _window(lab)
    site = lab.lab.cloud_site if lab.lab.cloud is not None else lab.lab.lab.site
    check(window_facts(w).length_h, profile.threshold(DUTY, "window_length_h"), duty=DUTY, device=site,
          what=f"update window length ({w.start}-{w.end} {w.time_zone})")


class _DrainProbe:
    """Test calls around the drain: ``kept`` is up before it; ``during()`` places ``refused`` and
    exercises (then hangs up) ``kept`` while the Edge drains."""

    def __init__(self, edge: Edge, lab: LabSession) -> None:
        self.edge = edge
        plan = edge.device.facts.dial_plan
        self.dids = list(plan.dids) if plan is not None and edge.device.sip is not None else []
        if plan is not None:  # an inbound call is answered by the phone its DID rings
            by_ext = {d.facts.extension: n for n, d in lab.lab.devices.items()
                      if isinstance(d, PhoneDevice) and d.facts.extension}
            relies_on(*(by_ext.get(plan.dids[d], "") for d in self.dids[:2]))
        self.probe: TrunkProbe | None = None
        self.kept: CallHandle | None = None
        self.refused: CallHandle | None = None
        self.refused_result: CallResult | None = None
        self.kept_call: trunk_calls.TestCall | None = None  # (a Test* name would be collected here)

    def before(self) -> None:
        if not self.dids:
            return
        self.probe = TrunkProbe(self.edge.name, self.edge.device,
                                self.edge.transcript("sip", f"{self.edge.device.host} drain test calls"))
        self.kept = self.probe.inbound(self.dids[0])

    def during(self) -> None:
        if self.probe is None or self.kept is None:
            return
        self.refused = self.probe.inbound(self.dids[1 % len(self.dids)])
        self.refused_result = self.refused.result()  # read now: the probe is closed before the checks
        self.kept_call = self.probe.exercise(self.kept, f"inbound {self.dids[0]} (up when the drain began)")

    def close(self) -> None:
        for call in (self.kept, self.refused):
            if call is not None and call.state == "confirmed":
                call.bye()
        if self.probe is not None:
            self.probe.close()


@pytest.mark.duty(DUTY)
@pytest.mark.core("the software update")
@pytest.mark.destructive
def test_edge_software_update(edge: Edge, lab: LabSession, profile: Profile, update_moment: dt.datetime) -> None:
    target = profile.firmware.get(edge.platform)
    if target is None:
        pytest.skip(f"requirement profile {profile.name} names no target software for {edge.platform}")
    acts_on(edge.name)
    boot = profile.threshold(DUTY, "boot_max_s")
    drain = profile.threshold(DUTY, "drain_min")
    calls = _DrainProbe(edge, lab)
    window, _ = site_update_window(lab)
    if window is not None and window_facts(window, update_moment).contains(update_moment, window):
        calls.before()
    try:
        report = update_edge(lab, edge.name, target, drain_timeout_s=drain.number * 60,
                             boot_timeout_s=2 * boot.number, now=update_moment, during_drain=calls.during)
    finally:
        calls.close()
    if report.window_closed:
        hint = " (an emulated lab opens it with --in-update-window)" if lab.lab.lab.emulated else ""
        skip_for_run(f"{edge.name}: update not started: {report.error}{hint}", "the update window")
    if report.already_on_target:
        pytest.skip(f"{edge.name} already runs {target.version}, the target of requirement profile {profile.name}: "
                    "nothing to update (no drain, no reboot)")
    attach(f"{edge.name} software update", json.dumps(
        {"summary": report.describe(), "seconds": report.seconds, "rolled_back": report.rolled_back,
         "calls_at_drain": report.calls_at_drain, "console": report.console}, indent=2), "json")
    where = report.describe()
    img = report.image
    if img is not None and not img.ok:
        judge_image(img, target, profile, duty=DUTY, what=f"{edge.platform} {target.version} image", context=where)
    want = Threshold("software version after the update", target.version, "", "==",
                     f"requirement profile {profile.name}")
    check(report.version_after, want, duty=DUTY, device=edge.name,
          what=f"software version after the update from {report.version_before} (step reached "
               f"{report.step_reached}, {report.total_s:.1f} s)", detail=where)
    if report.error:
        check(report.step_reached, intent("update step reached", "verify"), duty=DUTY, device=edge.name,
              what="software update", detail=where)
    if "drain" in report.seconds:
        check(round(report.seconds["drain"] / 60, 3), drain, duty=DUTY, device=edge.name,
              what=f"drain before the install ({report.calls_at_drain} trunk calls when it began)", detail=where)
    if "reboot" in report.seconds:
        check(report.seconds["reboot"], boot, duty=DUTY, device=edge.name,
              what="reboot in Genesys Cloud (OFFLINE until ONLINE with the update ended)", detail=where)
    _judge_drain_calls(edge, calls, profile)


def _judge_drain_calls(edge: Edge, calls: _DrainProbe, profile: Profile) -> None:
    if calls.refused_result is None or calls.kept_call is None:
        observe("no test call", duty=DUTY, device=edge.name, what="calls during the drain",
                detail="the Edge has no DID in the inventory, or the drain was not reached")
        return
    r = calls.refused_result
    check(r.final_code, profile.threshold(DUTY, "draining_call_status"), duty=DUTY, device=edge.name,
          what=f"answer to a new call to {calls.dids[1 % len(calls.dids)]} while the Edge drains",
          detail=r.final_reason or (r.error or "no final answer"))
    kept = calls.kept_call
    check(kept.audio_back, profile.threshold(DUTY, "kept_call_audio_packets"), duty=DUTY, device=edge.name,
          what=f"audio echoed back during the drain on {kept.label}",
          detail=f"answered {kept.result.final_code}; {kept.result.rtp_sent_packets} RTP packets sent by the probe")
