"""The twin phone's firmware state machine: check-sync, download, verify, flash, reboot, come back.

As Polycom and Yealink phones take it (docs/firmware.md):

* A SIP ``NOTIFY`` outside a dialog with ``Event: check-sync`` (RFC 3265 style; parameters such as
  ``;reboot=true`` are ignored) is answered ``200 OK`` and starts a check-sync unless one is
  running; any other event package (or none) gets ``489 Bad Event`` with ``Allow-Events: check-sync``.
* check-sync fetches ``<config_path><mac>.cfg`` (the MAC the phone has now, 12 hex digits) from
  its provisioning server over HTTP, from the phone's own address: the inventory's
  ``facts.provisioning``, else the inventory's only provisioning device. The file's
  ``firmware.version`` equal to the installed one: nothing to do. Else ``downloading`` the
  image at ``firmware.url`` (HTTP, streamed through SHA-256), ``verifying`` it against
  ``firmware.sha256``, ``flashing`` (:data:`FLASH_S`), ``rebooting``: every service of the phone
  (SIP, SNMP) stops for :data:`BOOT_S` (the ``slow-boot=SECONDS`` fault: that long), the phone
  comes back on the new version (``boot_time`` reset, ``boots`` + 1, state ``up``) and its SIP
  service registers again.
* A config that cannot be fetched or names no firmware, an image download that fails (404, timeout)
  or a checksum that differs: no reboot, version unchanged, ``PhoneState.last_upgrade_error`` says
  why (also served over SNMP, docs/twin-snmp.md) and the state goes back to ``idle``.

The phone reads its configuration file itself (:func:`read_config`: ``key = value`` lines, ``#``
comments), as a real phone's firmware does; it shares no code with the harness driver that writes
the file, so a format mistake on either side shows.

Faults: ``no-apply`` (reboots, comes back on the old version), ``never-returns`` (goes away and
stays away until healed), ``slow-boot=SECONDS``. Heal (:func:`heal`) cancels a check-sync in
progress, puts the phone back on its inventory firmware (state ``idle``, error cleared) and starts
its services if a reboot had them stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import ssl
import time
from dataclasses import dataclass

import httpx

from ...inventory.models import PhoneDevice, ProvisioningDevice
from ...transports.sip.stack import ServerTransaction
from ..core.shared_faults import DOWN, NEVER_RETURNS, SLOW_BOOT
from ..core.twin import Twin
from .faults import NO_APPLY
from .state import DEFAULT_FIRMWARE, PhoneState

log = logging.getLogger("hil.twin.firmware")

BOOT_S = 1.5  # project choice: a desk phone boots in 60-120 s; the twin's is short so rollouts stay quick
FLASH_S = 0.2  # project choice: writing the image
HTTP_TIMEOUT_S = 10.0  # project choice: per HTTP request of the phone (config, image)
MAX_IMAGE_BYTES = 512 << 20  # a phone refuses an image larger than its flash
EVENT = "check-sync"


_TLS: list[ssl.SSLContext] = []


@dataclass(frozen=True)
class FirmwareOrder:
    """What the phone's configuration file tells it to run: version, image URL, image SHA-256."""

    version: str
    url: str
    sha256: str


def config_file(mac: str) -> str:
    """The configuration file a phone with ``mac`` asks for: ``00:04:f2:00:00:01`` -> ``0004f2000001.cfg``."""
    return mac.replace(":", "").lower() + ".cfg"


def read_config(text: str) -> FirmwareOrder | None:
    """The ``firmware.version``, ``firmware.url`` and ``firmware.sha256`` keys of a configuration file
    (``key = value`` lines; ``#`` comments), ``None`` when one of the three is missing."""
    keys: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.lstrip().startswith("#"):
            keys[key.strip()] = value.strip()
    try:
        return FirmwareOrder(keys["firmware.version"], keys["firmware.url"], keys["firmware.sha256"])
    except KeyError:
        return None


def _tls() -> ssl.SSLContext:
    """One TLS context for every phone: building one (CA bundle) costs ~50 ms of the twin's loop,
    which a wave of phones checking in at once would pay one after the other."""
    if not _TLS:
        _TLS.append(ssl.create_default_context())
    return _TLS[0]


def provisioning_server(twin: Twin, device: str) -> str | None:
    """The provisioning device ``device`` fetches its config from: ``facts.provisioning``, else the
    inventory's only provisioning device with ``http`` (``None``: none, or several and none named)."""
    dev = twin.lab.devices[device]
    if isinstance(dev, PhoneDevice) and dev.facts.provisioning:
        return dev.facts.provisioning
    found = [n for n, d in twin.lab.devices.items() if isinstance(d, ProvisioningDevice) and d.http is not None]
    return found[0] if len(found) == 1 else None


class PhoneFirmware:
    """The firmware state machine of one phone (kept across reboots in ``twin.shared``)."""

    def __init__(self, twin: Twin, device: str) -> None:
        st = twin.states[device]
        assert isinstance(st, PhoneState)
        self.twin, self.device, self.state = twin, device, st
        self.task: asyncio.Task[None] | None = None

    @property
    def busy(self) -> bool:
        return self.task is not None and not self.task.done()

    def on_notify(self, txn: ServerTransaction) -> None:
        """Answer an out-of-dialog NOTIFY: 200 and a check-sync for ``Event: check-sync``, else 489."""
        event = (txn.req.headers.get("Event") or "").split(";", 1)[0].strip().lower()
        if event != EVENT:
            txn.reply(489, "Bad Event", extra=[("Allow-Events", EVENT)])
            return
        txn.reply(200)
        if not self.busy:
            self.task = asyncio.create_task(self.check_sync(), name=f"check-sync {self.device}")

    def cancel(self) -> None:
        task, self.task = self.task, None
        if task is not None and not task.done():
            task.cancel()

    def _fail(self, why: str) -> None:
        log.info("%s: check-sync: %s", self.device, why)
        self.state.last_upgrade_error = why
        self.state.firmware_state = "idle"

    async def check_sync(self) -> None:
        """Fetch the config and, when it names another version, download, verify, flash and reboot."""
        st = self.state
        server = provisioning_server(self.twin, self.device)
        dev = self.twin.lab.devices.get(server) if server else None
        if not isinstance(dev, ProvisioningDevice) or dev.http is None:
            self._fail("no provisioning server to fetch the configuration from")
            return
        url = f"http://{dev.host}:{dev.http.port}{dev.facts.config_path}{config_file(st.mac)}"
        transport = httpx.AsyncHTTPTransport(local_address=st.host, verify=_tls())
        async with httpx.AsyncClient(transport=transport, timeout=HTTP_TIMEOUT_S) as http:
            try:
                r = await http.get(url)
            except httpx.HTTPError as e:
                self._fail(f"configuration {url}: {type(e).__name__}: {e}")
                return
            if r.status_code != 200:
                self._fail(f"configuration {url}: HTTP {r.status_code}")
                return
            cfg = read_config(r.text)
            if cfg is None:
                self._fail(f"configuration {url} names no firmware.version, firmware.url and firmware.sha256")
                return
            if cfg.version == st.installed_firmware:
                st.last_upgrade_error = None
                return  # up to date: nothing to flash
            st.firmware_state = "downloading"
            digest = hashlib.sha256()
            size = 0
            try:
                async with http.stream("GET", cfg.url) as img:
                    if img.status_code != 200:
                        self._fail(f"download {cfg.url}: HTTP {img.status_code}")
                        return
                    async for chunk in img.aiter_bytes():
                        size += len(chunk)
                        if size > MAX_IMAGE_BYTES:
                            self._fail(f"download {cfg.url}: larger than {MAX_IMAGE_BYTES} bytes")
                            return
                        digest.update(chunk)
            except httpx.HTTPError as e:
                self._fail(f"download {cfg.url}: {type(e).__name__}: {e}")
                return
        st.firmware_state = "verifying"
        if digest.hexdigest() != cfg.sha256.lower():
            self._fail(f"checksum of {cfg.url}: SHA-256 {digest.hexdigest()} of {size} bytes, the configuration "
                       f"says {cfg.sha256}")
            return
        st.firmware_state = "flashing"
        await asyncio.sleep(FLASH_S)
        st.last_upgrade_error = None
        await self.reboot(cfg.version)

    async def reboot(self, version: str) -> None:
        """Stop every service, wait the boot time, come back on ``version`` (``no-apply``: the old
        one). ``never-returns`` (at reboot or during the boot) keeps the phone away; a ``down``
        applied meanwhile leaves the restart to its heal."""
        st, twin = self.state, self.twin
        st.firmware_state = "rebooting"
        booted = st.installed_firmware if NO_APPLY.on(st) else version
        await twin.stop_services(self.device)
        st.installed_firmware = booted
        if NEVER_RETURNS.on(st):
            return
        await asyncio.sleep(SLOW_BOOT.value(st) or BOOT_S)
        if NEVER_RETURNS.on(st) or DOWN.on(st):
            return
        st.boots += 1
        st.boot_time = time.time()
        await twin.start_services(self.device)
        st.firmware_state = "up"


def machine(twin: Twin, device: str) -> PhoneFirmware:
    """The phone's state machine (one per phone and twin, created on first use)."""
    machines: dict[str, PhoneFirmware] = twin.shared.setdefault("phone-firmware", {})
    m = machines.get(device)
    if m is None:
        m = machines[device] = PhoneFirmware(twin, device)
    return m


async def heal(twin: Twin, device: str) -> None:
    """Cancel a check-sync in progress, put the phone back on its inventory firmware (state ``idle``,
    error cleared) and start its services if a reboot had them stopped (the role's heal hook)."""
    st = twin.states[device]
    assert isinstance(st, PhoneState)
    m = twin.shared.get("phone-firmware", {}).get(device)
    if m is not None:
        task = m.task
        m.cancel()
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
    dev = twin.lab.devices[device]
    assert isinstance(dev, PhoneDevice)
    st.installed_firmware = dev.facts.firmware or DEFAULT_FIRMWARE  # as initial_state
    st.firmware_state, st.last_upgrade_error = "idle", None
    if not twin.running(device) and twin.services.get(device):
        await twin.start_services(device)
