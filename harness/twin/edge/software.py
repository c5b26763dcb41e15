"""The twin Edge's software update state machine: stage, drain, install, reboot, come back (or roll back).

The Edge CLI (:mod:`.cli`, over SSH, shell and console alike) hands ``software …`` commands to
the :class:`EdgeSoftware` of its Edge; the state lives in :class:`~.state.EdgeState`
(``software_status``, ``staged_version``, ``software_error``, ``draining``) and ``show software``
prints it. Formats and the whole flow are in ``docs/edge-update.md``; in short:

* ``software stage <url> <sha256>``: the Edge downloads the image over HTTP(S) (httpx, from its own
  address, :data:`HTTP_TIMEOUT_S` per request), streams it through SHA-256 and compares; the image
  names its platform and version in its first line (``HIL-FIRMWARE genesys_edge 2026.12.0``, as
  :func:`harness.twin.provisioning.images.firmware_image` makes them). Status ``staging`` → ``staged``,
  or ``failed`` with the reason (HTTP status, transport error, checksum, not an Edge image) in
  ``software_error``. The command answers at once; the download runs in the background.
* ``software drain <timeout_s>``: new calls are refused ``503`` (sip.py) from now on; calls in
  progress go on until they end or ``timeout_s`` passed, then the Edge ends them (BYE). Status
  ``draining`` → ``drained`` (no call left).
* ``software install``: needs a staged image. After :data:`INSTALL_DELAY_S` (the CLI's answer leaves
  first) every service of the Edge stops except its console line, which stays connected and prints
  the install line and the boot banner (:func:`boot_banner`, now showing the new version); after
  :data:`BOOT_S` (``slow-boot=SECONDS``: that long) the services start again and the console
  prints ``edge1 login:``. Status ``rebooting`` → ``installed``.
* ``software cancel``: the drain ends and the staged image is dropped (status ``idle``).

Faults: ``install-fails`` (after the boot the console prints ``install: ERROR: …`` and ``install:
rolling back to <previous>``, a second boot banner of the previous version, and the Edge comes
back on it: status ``rolled-back``, the error in ``software_error``); ``never-returns`` (the console
shows the boot banner and then nothing; SSH, SIP and SNMP stay down until healed); ``slow-boot``.
Heal (:func:`heal`) cancels whatever runs, puts the Edge back on its inventory version with status
``idle``, and starts its services when a reboot had them stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import time
from collections.abc import Callable, Coroutine
from typing import Any

import httpx

from ..core.shared_faults import DOWN, NEVER_RETURNS, SLOW_BOOT
from ..core.twin import Twin
from ..provisioning.images import firmware_image
from ..servers.console import ConsoleService
from .faults import INSTALL_FAILS, UPDATE_FAILS, UPDATE_STAYS_STAGED, WAN_DOWN
from .state import EdgeState, initial_state

log = logging.getLogger("hil.twin.software")

PLATFORM = "genesys_edge"
BOOT_S = 2.0  # project choice: a real Edge boots in minutes; the twin's is short so updates stay quick
INSTALL_DELAY_S = 0.3  # project choice: the answer to `software install` reaches the client first
ROLLBACK_BOOT_S = 0.5  # project choice: the second boot, back on the previous version
HTTP_TIMEOUT_S = 10.0  # project choice: per HTTP request of the Edge
MAX_IMAGE_BYTES = 1 << 30  # an Edge refuses an image larger than its update partition
DRAIN_POLL_S = 0.1  # project choice: how often a drain looks at the calls in progress
MAX_DRAIN_S = 24 * 3600  # project choice: a drain longer than a day is a typo
INSTALL_ERROR = "post-install self-test failed: service media did not start"  # install-fails' reason
_SHA = re.compile(r"[0-9a-fA-F]{64}")
_HEADER = re.compile(rb"HIL-FIRMWARE (\S+) (\S+)\n")
BUSY = ("staging", "installing", "rebooting")
DOWNLOAD_S = 0.3  # project choice: how long the twin Edge takes to download a release from Genesys Cloud


def boot_banner(twin: Twin, device: str) -> str:
    """What the Edge prints on its console while it boots: bootloader, kernel and service lines,
    with its model and (fault-aware) firmware."""
    st = twin.states[device]
    assert isinstance(st, EdgeState)
    return (f"\nGenesys Cloud Edge bootloader 2.1\n"
            f"Booting {device} ({st.model}) firmware {st.firmware} ...\n"
            "[    0.000000] Linux version 6.1.0-edge (builder@genesys) #1 SMP\n"
            "[    1.204311] eth0: link up, 1000 Mb/s, full duplex\n"
            "Starting services: sip-trunk phone-trunk media cloud-link ... done\n\n")


class EdgeSoftware:
    """The software state machine of one Edge (one per Edge and twin, see :func:`machine`)."""

    def __init__(self, twin: Twin, device: str) -> None:
        st = twin.states[device]
        assert isinstance(st, EdgeState)
        self.twin, self.device, self.st = twin, device, st
        self.task: asyncio.Task[None] | None = None  # a download or an install
        self.drain_task: asyncio.Task[None] | None = None

    # -- the CLI -------------------------------------------------------------------------------

    def command(self, args: list[str]) -> str:
        """Run ``software <args>``; the CLI's answer (``% …`` when refused, see docs/edge-update.md)."""
        verb = args[0].lower() if args else ""
        st = self.st
        if verb == "stage":
            if len(args) != 3 or not args[1].startswith(("http://", "https://")) or not _SHA.fullmatch(args[2]):
                return "% Usage: software stage <http(s)://url> <sha256 (64 hex digits)>\n"
            if st.software_status in BUSY:
                return f"% Software update busy: {st.software_status}\n"
            st.software_status, st.staged_version, st.software_error = "staging", None, None
            self._spawn(self._stage(args[1], args[2].lower()), "stage")
            return f"Staging {args[1]}\n"
        if verb == "drain":
            if len(args) != 2 or not args[1].isdigit() or not 0 <= int(args[1]) <= MAX_DRAIN_S:
                return f"% Usage: software drain <timeout_s 0-{MAX_DRAIN_S}>\n"
            if st.software_status in BUSY:
                return f"% Software update busy: {st.software_status}\n"
            if st.draining:
                return "% Already draining\n"
            st.draining, st.software_status = True, "draining"
            self._cancel_drain()
            self.drain_task = asyncio.create_task(self._drain(int(args[1])), name=f"drain {self.device}")
            return (f"Draining: new calls refused (503); {self.calls()} calls in progress, ended after "
                    f"{int(args[1])} s\n")
        if verb == "install" and len(args) == 1:
            if st.software_status in BUSY:
                return f"% Software update busy: {st.software_status}\n"
            if st.staged_version is None:
                return "% No software staged: software stage <url> <sha256> first\n"
            st.software_status = "installing"
            self._spawn(self._install(st.staged_version), "install")
            return f"Installing {st.staged_version}: the Edge reboots now\n"
        if verb == "cancel" and len(args) == 1:
            if st.software_status in BUSY:
                return f"% Software update busy: {st.software_status}\n"
            self._cancel_drain()
            st.draining, st.staged_version, st.software_status = False, None, "idle"
            return "Update cancelled: drain ended, staged software dropped\n"
        return "% Usage: software stage <url> <sha256> | software drain <timeout_s> | software install | " \
               "software cancel\n"


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

    async def _stage(self, url: str, sha256: str) -> None:
        digest, size, head = hashlib.sha256(), 0, b""
        transport = httpx.AsyncHTTPTransport(local_address=self.st.host)
        try:
            async with httpx.AsyncClient(transport=transport, timeout=HTTP_TIMEOUT_S) as http, \
                    http.stream("GET", url) as r:
                if r.status_code != 200:
                    self._fail(f"download {url}: HTTP {r.status_code}")
                    return
                async for chunk in r.aiter_bytes():
                    size += len(chunk)
                    if size > MAX_IMAGE_BYTES:
                        self._fail(f"download {url}: larger than {MAX_IMAGE_BYTES} bytes")
                        return
                    if len(head) < 256:
                        head += chunk[:256]
                    digest.update(chunk)
        except httpx.HTTPError as e:
            self._fail(f"download {url}: {type(e).__name__}: {e}")
            return
        got = digest.hexdigest()
        if got != sha256:
            self._fail(f"checksum of {url}: SHA-256 {got} of {size} bytes, expected {sha256}")
            return
        m = _HEADER.match(head)
        if m is None or m[1].decode() != PLATFORM:
            what = f"an image for {m[1].decode()}" if m else "not a software image"
            self._fail(f"{url} is {what}, not Genesys Edge software")
            return
        self.st.staged_version, self.st.software_status = m[2].decode(), "staged"

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

    def console(self) -> ConsoleService | None:
        """The Edge's console service (``None``: it has none), which stays up through the reboot."""
        return next((s for s in self.twin.services.get(self.device, []) if isinstance(s, ConsoleService)), None)

    async def _install(self, version: str) -> None:
        st, twin = self.st, self.twin
        await asyncio.sleep(INSTALL_DELAY_S)
        previous = st.installed_firmware
        self._cancel_drain()
        st.software_status = "rebooting"
        await twin.stop_services(self.device, keep=("console",))
        st.draining = False
        st.installed_firmware = version
        console = self.console()
        say: Callable[..., None] = console.boot if console is not None else (lambda text, done=False: None)
        say(f"\ninstall: Genesys Cloud Edge {version} written to the update partition\n"
            "The system is going down for reboot NOW!\n" + boot_banner(twin, self.device))
        if NEVER_RETURNS.on(st):
            return  # away until healed (heal starts the services)
        await asyncio.sleep(SLOW_BOOT.value(st) or BOOT_S)
        if NEVER_RETURNS.on(st) or DOWN.on(st):
            return
        if INSTALL_FAILS.on(st):
            st.software_error = f"install of {version} failed: {INSTALL_ERROR}; rolled back to {previous}"
            say(f"install: ERROR: {version}: {INSTALL_ERROR}\ninstall: rolling back to {previous}\n")
            st.installed_firmware = previous
            say(boot_banner(twin, self.device))
            await asyncio.sleep(ROLLBACK_BOOT_S)
            st.software_status = "rolled-back"
        else:
            st.software_error, st.software_status = None, "installed"
        st.staged_version = None
        st.boot_time = time.time()
        await twin.start_services(self.device)
        if WAN_DOWN.on(st):  # the WAN is still down after the reboot (faults.py: wan-down)
            for s in twin.services.get(self.device, []):
                if s.name == "ssh":
                    await s.stop()
        say("", done=True)


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
    console = m.console() if m is not None else None
    if console is not None and console.state == "booting":
        console.boot("", done=True)
