"""The twin Edge's software update state machine: download, stage, drain, install, reboot, come back
(or roll back), as Genesys Cloud orders it.

The emulated API (:mod:`harness.twin.cloud.resources.edge_software`: ``POST …/softwareupdate``)
hands the order to the :class:`EdgeSoftware` of its Edge (:meth:`EdgeSoftware.api_update`); the state
lives in :class:`~.state.EdgeState` (``software_status``, ``staged_version``, ``software_error``,
``draining``, ``update_*``), which the API's record and update render. Formats and the whole flow
are in ``docs/edge-update.md``; in short: the release is downloaded (:data:`DOWNLOAD_S`) and staged;
the drain refuses new calls ``503`` (sip.py) while calls in progress go on until they end or the
order's ``callDrainingWaitTimeSeconds`` passed, then the Edge ends them (BYE); the install stops every
service of the Edge (it is OFFLINE in the API) and after :data:`BOOT_S` (``slow-boot=SECONDS``: that
long) starts them again on the new version. A Genesys Edge has no customer console, so nobody watches
its boot but through the API.

Faults: ``update-fails`` (the download fails), ``update-stays-staged`` (staged, never installed),
``install-fails`` (after the boot the Edge rolls back to the previous version: status ``rolled-back``,
the error in ``software_error``); ``never-returns`` (the services stay down until healed);
``slow-boot``. Heal (:func:`heal`) cancels whatever runs, puts the Edge back on its inventory version
with status ``idle``, and starts its services when a reboot had them stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Coroutine
from typing import Any

from ..core.shared_faults import DOWN, NEVER_RETURNS, SLOW_BOOT
from ..core.twin import Twin
from ..provisioning.images import firmware_image
from .faults import INSTALL_FAILS, UPDATE_FAILS, UPDATE_STAYS_STAGED
from .state import EdgeState, initial_state

log = logging.getLogger("hil.twin.software")

PLATFORM = "genesys_edge"
BOOT_S = 2.0  # project choice: a real Edge boots in minutes; the twin's is short so updates stay quick
INSTALL_DELAY_S = 0.3  # project choice: the answer to `software install` reaches the client first
ROLLBACK_BOOT_S = 0.5  # project choice: the second boot, back on the previous version
DRAIN_POLL_S = 0.1  # project choice: how often a drain looks at the calls in progress
MAX_DRAIN_S = 24 * 3600  # project choice: a drain longer than a day is a typo
INSTALL_ERROR = "post-install self-test failed: service media did not start"  # install-fails' reason
BUSY = ("staging", "installing", "rebooting")
DOWNLOAD_S = 0.3  # project choice: how long the twin Edge takes to download a release from Genesys Cloud


class EdgeSoftware:
    """The software state machine of one Edge (one per Edge and twin, see :func:`machine`)."""

    def __init__(self, twin: Twin, device: str) -> None:
        st = twin.states[device]
        assert isinstance(st, EdgeState)
        self.twin, self.device, self.st = twin, device, st
        self.task: asyncio.Task[None] | None = None  # a download or an install
        self.drain_task: asyncio.Task[None] | None = None

    # -- the Genesys Cloud API (POST/DELETE …/edges/{edgeId}/softwareupdate) ----------------------

    def api_update(self, version: str, drain_timeout_s: int) -> str:
        """Start the update to release ``version`` as Genesys Cloud orders it: download (from
        Genesys, :func:`~harness.twin.provisioning.images.firmware_image` stands for the release),
        stage, drain with ``drain_timeout_s``, install and reboot, one after the other. ``""`` once
        started, else why it is refused (busy, a drain in progress)."""
        st = self.st
        if st.software_status in BUSY or st.software_status in ("draining", "drained"):
            return f"a software update of {self.device} is already in progress ({st.software_status})"
        if not 0 <= drain_timeout_s <= MAX_DRAIN_S:
            return f"callDrainingWaitTimeSeconds must be 0-{MAX_DRAIN_S}, got {drain_timeout_s}"
        st.software_status, st.staged_version, st.software_error = "staging", None, None
        st.update_version, st.update_started_at = version, time.time()
        st.update_executed_at = st.update_ended_at = None
        st.update_drain_s = drain_timeout_s
        self._spawn(self._api_update(version, drain_timeout_s), "api update")
        return ""

    def api_cancel(self) -> str:
        """Abort the update ordered through the API (``DELETE …/softwareupdate``): the download or the
        drain stops, the staged version is dropped; ``""``, or why not (the install already began)."""
        st = self.st
        if st.software_status in ("installing", "rebooting"):
            return f"{self.device} is installing {st.staged_version}: too late to abort"
        if self.task is not None and not self.task.done():
            self.task.cancel()
        self._cancel_drain()
        st.draining, st.staged_version = False, None
        st.software_status = "aborted" if st.update_version else "idle"
        st.update_ended_at = time.time()
        return ""

    async def _api_update(self, version: str, drain_timeout_s: int) -> None:
        st = self.st
        await asyncio.sleep(DOWNLOAD_S)
        if UPDATE_FAILS.on(st):
            self._fail(f"download of Genesys Cloud Edge {version} failed: the release's checksum does not match")
            st.update_ended_at = time.time()
            return
        firmware_image(PLATFORM, version)  # the release the Edge was given (deterministic bytes)
        st.staged_version, st.software_status = version, "staged"
        if UPDATE_STAYS_STAGED.on(st):
            return  # staged and never installed (until healed or aborted)
        st.update_executed_at = time.time()
        st.draining, st.software_status = True, "draining"
        await self._drain(drain_timeout_s)
        st.software_status = "installing"
        await self._install(version)
        st.update_ended_at = time.time()

    def calls(self) -> int:
        """Calls in progress through the Edge (trunk and station calls)."""
        st = self.st
        return st.trunk_inbound_calls + st.trunk_outbound_calls + st.station_calls

    # -- tasks ---------------------------------------------------------------------------------

    def _spawn(self, coro: Coroutine[Any, Any, None], what: str) -> None:
        self.task = asyncio.create_task(coro, name=f"software {what} {self.device}")

    def _cancel_drain(self) -> None:
        task, self.drain_task = self.drain_task, None
        if task is not None and not task.done():
            task.cancel()

    async def cancel(self) -> None:
        """Stop the download, install or drain in progress (heal)."""
        for task in (self.task, self.drain_task):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self.task = self.drain_task = None

    def _fail(self, why: str) -> None:
        log.info("%s: software stage: %s", self.device, why)
        self.st.software_status, self.st.software_error, self.st.staged_version = "failed", why, None

    async def _drain(self, timeout_s: int) -> None:
        deadline = time.monotonic() + timeout_s
        while self.calls() and time.monotonic() < deadline:
            await asyncio.sleep(DRAIN_POLL_S)
        if self.calls():
            sip = next((getattr(s, "core", None) for s in self.twin.services.get(self.device, [])
                        if s.name == "sip-trunk"), None)
            ended = sip.end_calls() if sip is not None else 0
            log.info("%s: drain timeout after %d s: %d calls ended", self.device, timeout_s, ended)
        if self.st.software_status == "draining":
            self.st.software_status = "drained"

    async def _install(self, version: str) -> None:
        st, twin = self.st, self.twin
        await asyncio.sleep(INSTALL_DELAY_S)
        previous = st.installed_firmware
        self._cancel_drain()
        st.software_status = "rebooting"
        await twin.stop_services(self.device)
        st.draining = False
        st.installed_firmware = version
        if NEVER_RETURNS.on(st):
            return  # away until healed (heal starts the services)
        await asyncio.sleep(SLOW_BOOT.value(st) or BOOT_S)
        if NEVER_RETURNS.on(st) or DOWN.on(st):
            return
        if INSTALL_FAILS.on(st):
            st.software_error = f"install of {version} failed: {INSTALL_ERROR}; rolled back to {previous}"
            st.installed_firmware = previous
            await asyncio.sleep(ROLLBACK_BOOT_S)
            st.software_status = "rolled-back"
        else:
            st.software_error, st.software_status = None, "installed"
        st.staged_version = None
        st.boot_time = time.time()
        await twin.start_services(self.device)


def machine(twin: Twin, device: str) -> EdgeSoftware:
    """The Edge's state machine (created on first use, kept in ``twin.shared``)."""
    machines: dict[str, EdgeSoftware] = twin.shared.setdefault("edge-software", {})
    m = machines.get(device)
    if m is None:
        m = machines[device] = EdgeSoftware(twin, device)
    return m


async def heal(twin: Twin, device: str) -> None:
    """Cancel what runs, put the Edge back on its inventory version (status ``idle``) and start its
    services when a reboot had them stopped (the role's heal hook)."""
    st = twin.states[device]
    assert isinstance(st, EdgeState)
    m = twin.shared.get("edge-software", {}).get(device)
    if m is not None:
        await m.cancel()
    st.installed_firmware = initial_state(device, twin.lab.devices[device]).installed_firmware
    st.software_status, st.staged_version, st.software_error, st.draining = "idle", None, None, False
    st.update_version = st.update_started_at = st.update_executed_at = st.update_ended_at = None
    if not twin.running(device) and twin.services.get(device) and not DOWN.on(st):
        await twin.start_services(device)
