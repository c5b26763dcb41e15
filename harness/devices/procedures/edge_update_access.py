"""How the Edge software update reaches the Edge: the one seam between the update's steps
(:mod:`.edge_update`) and a way of managing an Edge.

:class:`EdgeUpdateAccess` is what the steps ask of an Edge: its running version, where its update
stands (:class:`SoftwareStatus`), the trunk calls in progress, stage, drain, cancel, install and the
boot that follows. A Genesys Edge is cloud-managed (its customer has no command line or console on
it), so the one way is :class:`ApiAccess`: the Genesys Cloud Platform API (one order, then the Edge
drains, installs and reboots by itself while the steps watch). Tests give the steps an access of
their own (an Edge in memory) to drive every branch of the state machine.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ...duties.profile import FirmwareTarget
from ...errors import LabError, LabUnreachable
from ..drivers.edge import Edge
from ..facts.cloud_edge_ops import SoftwareUpdate
from ..facts.cloud_edges import Edge as CloudEdge
from ..session import LabSession
from .image_check import ImageCheck


@dataclass(frozen=True)
class SoftwareStatus:
    """Where the Edge's software update stands, in the update's own words (:meth:`ApiAccess.software_status`
    maps the Edge's record and its update to them).

    Attributes:
        status: ``idle``, ``staging``, ``staged``, ``failed`` (staging failed), ``draining``,
            ``drained``, ``installing``, ``rebooting``, ``installed`` or ``rolled-back``.
        current_version: the version running. staged_version: the image staged (``None``: none).
        draining: new calls are refused. calls_in_progress: calls through the Edge now.
        last_error: why the last stage or install failed (``None``: it did not).
    """

    status: str
    current_version: str
    staged_version: str | None
    draining: bool
    calls_in_progress: int
    last_error: str | None


@dataclass(frozen=True)
class BootEnd:
    """How a boot ended: ``output`` the Edge printed from the boot banner to the end (``""``: none
    seen), ``problem`` why it did not end in time (``""``: it did)."""

    output: str
    problem: str = ""


class EdgeUpdateAccess(Protocol):
    """What the update's steps ask of an Edge. Every method raises LabError when the Edge cannot
    be reached (or refuses a command); waits return what they saw instead of raising a timeout."""

    @property
    def name(self) -> str:
        """The inventory name of the Edge."""
        ...

    @property
    def platform(self) -> str:
        """Its platform (the firmware targets are per platform)."""
        ...

    @property
    def management(self) -> str:
        """What the version and the update travel over, for messages (``"the Genesys Cloud API"``)."""
        ...

    def running_version(self) -> str:
        """The software version the Edge runs now."""
        ...

    def reconnect(self) -> None:
        """Forget the management session, so the next call opens a new one (after a reboot)."""
        ...

    def software_status(self) -> SoftwareStatus:
        """Where the Edge's own update stands."""
        ...

    def trunk_calls(self) -> int:
        """Trunk calls in progress now, inbound and outbound."""
        ...

    @property
    def self_driven(self) -> bool:
        """The Edge goes from staged to drain, install and reboot by itself once the update began
        (the API's one order), rather than step by step as told."""
        ...

    def check_target(self, lab: LabSession, target: FirmwareTarget) -> tuple[ImageCheck | None, str]:
        """Whether ``target`` can be given to the Edge: the image checked (``None``: no image to
        check) and why not (``""``: it can)."""
        ...

    def stage(self, target: FirmwareTarget) -> None:
        """Start downloading and verifying ``target`` (the Edge goes on in the background)."""
        ...

    def drain(self, timeout_s: int) -> None:
        """Refuse new calls; the Edge ends the calls left after ``timeout_s`` seconds."""
        ...

    def cancel(self) -> None:
        """End a drain and drop the staged image."""
        ...

    def install(self, timeout_s: float) -> str:
        """Install the staged image and watch the reboot begin: ``""`` once it began within
        ``timeout_s`` seconds, else why not."""
        ...

    def boot(self, timeout_s: float) -> BootEnd:
        """Watch the boot that :meth:`install` saw begin, for at most ``timeout_s`` seconds."""
        ...


DRAINING = ("WAIT", "WAIT_TIMEOUT", "TERMINATE")  # Edge.callDrainingState while it drains (GENESYS-API.md)
API_POLL_S = 0.2  # project choice: pause between two reads of the Edge's record while an update runs


class ApiAccess:
    """:class:`EdgeUpdateAccess` through the Genesys Cloud Platform API (the Edge driver's
    :class:`~harness.devices.drivers.edge_api.EdgeCloud` methods): how a customer updates a Genesys
    Edge. One order (``POST …/softwareupdate`` with ``callDrainingWaitTimeSeconds`` =
    ``drain_timeout_s``) and the Edge does the rest by itself (:attr:`self_driven`): it downloads and
    stages the version, drains (``callDrainingState``), installs and reboots (``onlineStatus``
    OFFLINE), and comes back on the new version (update ``status`` SUCCEEDED) or not (FAILED).
    The steps watch that: staged, drain begun, reboot begun (OFFLINE), back (ONLINE, update ended).

    ``start_timeout_s``: how long the Edge may take to begin its drain and its reboot after it
    staged (an update staged and never installed stops there)."""

    management = "the Genesys Cloud API"
    self_driven = True

    def __init__(self, edge: Edge, drain_timeout_s: float, start_timeout_s: float) -> None:
        self.edge = edge
        self.drain_timeout_s, self.start_timeout_s = drain_timeout_s, start_timeout_s
        self.offline_seen_at: float | None = None
        self.states: list[str] = []

    @property
    def name(self) -> str:
        return self.edge.name

    @property
    def platform(self) -> str:
        return self.edge.platform

    def _note(self, rec: CloudEdge, upd: SoftwareUpdate | None = None) -> None:
        seen = f"{rec.online_status} {rec.call_draining_state} {upd.status if upd else ''}".strip()
        if not self.states or self.states[-1].split(": ", 1)[1] != seen:
            self.states.append(f"{time.strftime('%H:%M:%S')}: {seen}")

    def running_version(self) -> str:
        """The record's ``softwareVersion`` while the Edge is ONLINE. Raises LabUnreachable while it is
        OFFLINE (Genesys Cloud cannot vouch for what it runs), LabProtocolError without a version."""
        rec = self.edge.online_record("its version cannot be read")
        if not rec.software_version:
            raise LabUnreachable(self.name, "api", self.edge.org().api().address,
                                 f"{self.name}'s record has no softwareVersion")
        return rec.software_version

    def reconnect(self) -> None:
        """Nothing to reopen: every read is one API call."""

    def software_status(self) -> SoftwareStatus:
        """The record and the update, in the words of :class:`SoftwareStatus`: ``staging`` (ordered,
        not staged), ``staged``, ``draining``, ``rebooting`` (OFFLINE while in progress),
        ``installed`` (SUCCEEDED), ``rolled-back`` (FAILED after the drain began), ``failed`` (FAILED
        before), ``idle`` (none, or ABORTED)."""
        rec, upd = self.edge.record(), self.edge.software_update()
        self._note(rec, upd)
        draining = (rec.call_draining_state or "NONE") in DRAINING
        status = upd.status or "NONE"
        error = None
        if status in ("IN_PROGRESS", "INIT"):
            state = ("rebooting" if not rec.online else "draining" if draining
                     else "staged" if rec.staged_version else "staging")
        elif status == "SUCCEEDED":
            state = "installed"
        elif status in ("FAILED", "EXCEPTION", "EXPIRED"):
            state = "rolled-back" if upd.execute_start_time else "failed"
            error = (f"software update to {upd.version.version if upd.version else '?'} ended {status} "
                     f"(Genesys Cloud gives no reason)")
        else:
            state = "idle"
        return SoftwareStatus(state, rec.software_version or "", rec.staged_version, draining,
                              rec.conversation_count or 0, error)

    def trunk_calls(self) -> int:
        """Calls in progress on the Edge's external trunks (their metrics; 0 without one)."""
        total = 0
        for trunk in self.edge.trunks("EXTERNAL"):
            m = self.edge.trunk_metrics(trunk.id)
            total += m.calls.inbound_call_count + m.calls.outbound_call_count
        return total

    def check_target(self, lab: LabSession, target: FirmwareTarget) -> tuple[ImageCheck | None, str]:
        """Genesys Cloud offers the Edge ``target.version`` (``softwareversions``); the image is
        Genesys', so no image is checked."""
        offered = [v.version for v in self.edge.software_versions()]
        if target.version in offered:
            return None, ""
        return None, (f"Genesys Cloud does not offer {target.version} to {self.name} (offered: "
                      f"{', '.join(offered) or 'none'}): the update was not started")

    def stage(self, target: FirmwareTarget) -> None:
        """Order the update (destructive: the Edge goes on to drain, install and reboot)."""
        self.edge.start_update(target.version, int(self.drain_timeout_s))

    def _wait(self, done: Callable[[], bool], timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while True:
            if done():
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(API_POLL_S)

    def drain(self, timeout_s: int) -> None:
        """The Edge drains by itself (with the wait time the order gave): wait until it began
        (``callDrainingState`` WAIT …), went OFFLINE or its update ended, within ``start_timeout_s``."""

        def begun() -> bool:
            rec, upd = self.edge.record(), self.edge.software_update()
            self._note(rec, upd)
            return (rec.call_draining_state or "NONE") in DRAINING or not rec.online or upd.ended

        self._wait(begun, self.start_timeout_s)

    def cancel(self) -> None:
        """``DELETE …/softwareupdate``."""
        self.edge.abort_update()

    def install(self, timeout_s: float) -> str:
        """The Edge installs by itself: ``""`` once it went OFFLINE (its reboot) or its update ended
        within ``timeout_s``, else why not (the staged version never installed)."""
        found: list[SoftwareUpdate] = []

        def rebooting() -> bool:
            rec, upd = self.edge.record(), self.edge.software_update()
            self._note(rec, upd)
            if not rec.online and self.offline_seen_at is None:
                self.offline_seen_at = time.monotonic()
            found[:] = [upd]
            return not rec.online or upd.ended

        if self._wait(rebooting, timeout_s):
            return ""
        staged = found[0].version.version if found and found[0].version else "?"
        return (f"the Edge did not begin installing {staged} within {timeout_s:g} s of its drain (update status "
                f"{found[0].status if found else '?'}): staged and not installed")

    def boot(self, timeout_s: float) -> BootEnd:
        """The reboot: until the Edge is ONLINE again and its update ended, within ``timeout_s``;
        the output lists the states seen (``rolling back`` when the update ended FAILED)."""
        last: list[SoftwareUpdate] = []

        def back() -> bool:
            try:
                rec, upd = self.edge.record(), self.edge.software_update()
            except LabError:
                return False
            self._note(rec, upd)
            last[:] = [upd]
            return rec.online and upd.ended

        if not self._wait(back, timeout_s):
            return BootEnd("", f"{self.name} was not ONLINE with its update ended within {timeout_s:g} s of its "
                               f"reboot: the Edge did not come back (states seen: {'; '.join(self.states[-5:])})")
        text = "\n".join(self.states) + "\n"
        if last and last[0].status == "FAILED" and last[0].execute_start_time:
            text += f"update FAILED after the install began: rolling back to {self.edge.record().software_version}\n"
        return BootEnd(text)
