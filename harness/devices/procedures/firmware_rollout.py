"""Phone firmware rollout in waves (MAINT-PHONE-FIRMWARE, destructive): canary, waves, watch, report.

:func:`rollout` upgrades the phones of one platform to a :class:`~harness.duties.profile.FirmwareTarget`:

1. **Image check** (:func:`~harness.devices.procedures.image_check.check_image`): a 404 or a wrong SHA-256 stops
   the rollout for the platform before any phone is touched (``RolloutReport.stopped`` names the
   URL and both checksums).
2. **Waves**: a canary phone first (the first name given), then the others in waves of
   ``wave_size``, at most ``concurrency`` phones at once within a wave. A failed canary stops the
   rollout; a phone that never comes back (or a lab error) stops the later waves. Phones of a wave
   already started run to their end.
3. **Per phone**, the explicit state machine of :class:`PhoneStep`, run by :func:`phone_step`:
   read its version (SNMP) → write its configuration file on its provisioning server
   (``facts.provisioning``, else the inventory's only one) → ``check-sync`` (SIP NOTIFY, must be
   answered 200) → watch it go away (SNMP stops answering; on the twin, the phone MIB tells a
   download/checksum failure at once) → watch it come back (SNMP answers with a sysUpTime younger
   than the check-sync: a phone that only missed one poll did not reboot and is watched again; read
   the version: the old one again is a failure, never a pass) → wait until it is registered again
   at its registrar Edge, as Genesys Cloud sees it (the phone's record, found by its MAC,
   OPERATIONAL and IN_SERVICE on that Edge:
   :meth:`~harness.devices.drivers.edge_api.EdgeCloud.registered_phones`). :class:`PhoneUpgrade` keeps
   the steps taken, the step it stopped in (``step_reached``) and why (``error``).

Times are seconds from the moment the check-sync was answered. :func:`restore` puts the phones
whose inventory entry says ``restore_firmware: true`` back on the version they had (the image of
that version on the same server, its SHA-256 as the server serves it). Nothing here raises for a
phone that fails: the report says what happened; a transport failure where the lab is at fault
(phone unreachable before it was touched, provisioning server or Edge unreachable) is kept as
``PhoneUpgrade.lab_error`` for the scenario to raise (BROKEN). The image check's own transport
failure raises LabError.
"""

from __future__ import annotations

import contextlib
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum

from ...duties.profile import FirmwareTarget
from ...errors import LabError, LabProtocolError
from ...inventory.models import PhoneDevice
from ..drivers.edge import Edge
from ..drivers.phone import Phone, PolledFirmware
from ..drivers.provisioning import FirmwareConfig, ProvisioningServer
from ..facts.cloud_phones import PhoneRecord
from ..session import LabSession
from .image_check import ImageCheck, check_image
from .state_machine import run_steps


class PhoneStep(StrEnum):
    """The steps of one phone's upgrade (``PhoneUpgrade.step_reached``: the one it stopped in)::

        not started ─> read version ─> write config ─┬─> check-sync ─> go away ─> come back ─> register ─> done
                                                     │                  ^            │
                                                     │                  └────────────┘ missed a poll, no reboot
                                                     └─> done: already on the target, nothing to flash

    Any step but ``done`` may stop the upgrade; ``PhoneUpgrade.error`` then says why.
    """

    NOT_STARTED = "not started"
    READ_VERSION = "read version"
    WRITE_CONFIG = "write config"
    CHECK_SYNC = "check-sync"
    GO_AWAY = "go away"
    COME_BACK = "come back"
    REGISTER = "register"
    DONE = "done"


POLL_S = 0.1  # project choice: pause between two polls of a phone (SNMP) or of its Edge (SSH)
STATUS_EVERY_S = 0.5  # project choice: while waiting for the reboot, ask the phone MIB why not this often
UPTIME_SLACK_S = 1.0  # sysUpTime is in 1/100 s and read a little after the poll was sent


@dataclass
class PhoneUpgrade:
    """One phone in a rollout.

    Attributes:
        name, wave (0: the canary, or the first wave without one).
        version_before / version_after: as the phone reported them over SNMP (``None``: not read,
            or away). A phone not started has both read at the end of the rollout.
        step_reached: the :class:`PhoneStep` it stopped in (``done``: upgraded and registered);
            steps: every step taken, in order (``go away``/``come back`` twice when a missed poll
            was not a reboot).
        went_away_s / back_s / registered_s: seconds after check-sync when SNMP stopped
            answering, answered again, and the Edge listed the phone registered.
        total_s: seconds the whole upgrade of this phone took (read version to the end).
        error: why it failed (``""``: it did not); lab_error: a LabError that makes it BROKEN.
    """

    name: str
    wave: int = 0
    version_before: str | None = None
    version_after: str | None = None
    step_reached: PhoneStep = PhoneStep.NOT_STARTED
    steps: list[PhoneStep] = field(default_factory=list)
    went_away_s: float | None = None
    back_s: float | None = None
    registered_s: float | None = None
    total_s: float | None = None
    error: str = ""
    lab_error: LabError | None = field(default=None, compare=False, repr=False)

    @property
    def ok(self) -> bool:
        return self.step_reached == PhoneStep.DONE and not self.error and self.lab_error is None

    @property
    def never_returned(self) -> bool:
        return self.step_reached == PhoneStep.COME_BACK and self.back_s is None and bool(self.error)

    @property
    def config_written(self) -> bool:
        """The rollout wrote this phone's configuration file (it got past ``write config``)."""
        order = list(PhoneStep)
        return order.index(self.step_reached) > order.index(PhoneStep.WRITE_CONFIG)

    def record_step(self, step: PhoneStep) -> None:
        """The upgrade entered ``step`` (the state machine calls this as each step starts)."""
        self.steps.append(step)
        self.step_reached = step

    def describe(self) -> str:
        """``"version before 6.4.3, after 6.4.4, step done, went away 0.4 s, back 2.1 s, registered 2.2 s"``."""
        def s(v: float | None) -> str:
            return "-" if v is None else f"{v:.1f} s"

        after = self.version_after or ("away" if self.went_away_s is not None and self.back_s is None else "unknown")
        out = (f"version before {self.version_before or 'unknown'}, after {after}, step {self.step_reached}, "
               f"went away {s(self.went_away_s)}, back {s(self.back_s)}, registered {s(self.registered_s)}, "
               f"total {s(self.total_s)}")
        return out + (f": {self.error}" if self.error else "")


@dataclass
class RolloutReport:
    """A rollout of one platform: the image check, each phone, the planned ``waves`` (names; wave 0
    is the canary when there is one), how many ran, why it ``stopped`` early (``""``: it did not)
    and its ``total_s``."""

    platform: str
    target: FirmwareTarget
    image: ImageCheck | None
    phones: list[PhoneUpgrade]
    waves: list[list[str]]
    waves_run: int = 0
    stopped: str = ""
    total_s: float = 0.0
    canary: bool = True

    def phone(self, name: str) -> PhoneUpgrade:
        return next(u for u in self.phones if u.name == name)

    @property
    def lab_errors(self) -> list[LabError]:
        return [u.lab_error for u in self.phones if u.lab_error is not None]

    def where(self) -> str:
        """Which phone runs which version now: ``"phone1 6.4.4, phone3 away, phone4 6.4.3 (not started)"``."""
        parts = []
        for u in self.phones:
            if u.step_reached == PhoneStep.NOT_STARTED:
                parts.append(f"{u.name} {u.version_after or 'unknown'} (not started)")
            elif u.version_after is None and u.went_away_s is not None:
                parts.append(f"{u.name} away (was {u.version_before or 'unknown'})")
            else:
                parts.append(f"{u.name} {u.version_after or 'unknown'}")
        return ", ".join(parts)

    def summary(self) -> str:
        head = (f"{self.platform} -> {self.target.version}: {self.waves_run} of {len(self.waves)} wave(s) run in "
                f"{self.total_s:.1f} s")
        return head + (f"; stopped: {self.stopped}" if self.stopped else "") + f"; now: {self.where()}"

    def table(self) -> str:
        """The per-phone table (text) for the report."""
        def s(v: float | None) -> str:
            return "-" if v is None else f"{v:.1f}"

        rows = [("phone", "wave", "before", "after", "step", "away s", "back s", "registered s", "total s", "error")]
        for u in self.phones:
            rows.append((u.name, str(u.wave), u.version_before or "-", u.version_after or "-", u.step_reached,
                         s(u.went_away_s), s(u.back_s), s(u.registered_s), s(u.total_s),
                         u.error or (str(u.lab_error) if u.lab_error else "")))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r[:-1], widths, strict=False)) + "  " + r[-1] for r in rows]
        return self.summary() + "\n\n" + "\n".join(line.rstrip() for line in lines) + "\n"


def provisioning_of(lab: LabSession, phone: str) -> str:
    """The provisioning server a phone fetches its configuration from: ``facts.provisioning``, else
    the inventory's only provisioning device. Raises ValueError when that is ambiguous or missing."""
    named = getattr(lab.lab.devices[phone].facts, "provisioning", None)
    if named:
        return str(named)
    found = [n for n, d in lab.lab.devices.items() if d.role == "provisioning"]
    if len(found) != 1:
        raise ValueError(f"{phone}: {len(found)} provisioning servers in the inventory and facts.provisioning "
                         "names none")
    return found[0]


@dataclass(frozen=True)
class Timeouts:
    """Deadlines of one phone's upgrade, seconds: to go away after check-sync, to come back after
    going away, to be registered after coming back."""

    away_s: float = 300.0
    back_s: float = 600.0
    register_s: float = 600.0


def upgrade_phone(lab: LabSession, name: str, target: FirmwareTarget, timeouts: Timeouts, wave: int = 0,
                  poll_s: float = POLL_S) -> PhoneUpgrade:
    """Take one phone through :class:`PhoneStep` to ``target``; never raises (see :class:`PhoneUpgrade`)."""
    u = PhoneUpgrade(name, wave)
    start = time.monotonic()
    try:
        run = PhoneUpgradeRun(lab, u, target, timeouts, poll_s)
        run_steps(PhoneStep.READ_VERSION, lambda state: phone_step(state, run), entered=u.record_step)
    except LabError as e:
        u.lab_error = e
        u.error = u.error or f"lab error at step {u.step_reached}: {e}"
    except ValueError as e:  # the inventory cannot say where the config goes, no sip for the phone …
        u.error = f"at step {u.step_reached}: {e}"
    u.total_s = time.monotonic() - start
    return u


def phone_step(state: PhoneStep, run: PhoneUpgradeRun) -> PhoneStep | None:
    """The transition function of one phone's upgrade: do the work of ``state`` and return the step
    that follows, ``None`` to stop in ``state`` (``run.upgrade.error`` says why; ``""`` when done).

    Raises:
        LabError: a device of the lab failed (the phone before the check-sync, its provisioning
            server, its Edge). ValueError: the inventory cannot say where the configuration goes.
    """
    match state:
        case PhoneStep.READ_VERSION:
            run.read_version()
            return PhoneStep.WRITE_CONFIG
        case PhoneStep.WRITE_CONFIG:
            return PhoneStep.DONE if run.write_config() else PhoneStep.CHECK_SYNC
        case PhoneStep.CHECK_SYNC:
            return PhoneStep.GO_AWAY if run.check_sync() else None
        case PhoneStep.GO_AWAY:
            return PhoneStep.COME_BACK if run.go_away() else None
        case PhoneStep.COME_BACK:
            reading = run.come_back()
            if reading is None:
                return None
            if not run.rebooted(reading):
                return PhoneStep.GO_AWAY
            return PhoneStep.REGISTER if run.on_target(reading) else None
        case PhoneStep.REGISTER:
            return PhoneStep.DONE if run.registered() else None
        case _:  # not started (never entered), done
            return None


class PhoneUpgradeRun:
    """What the steps of one phone's upgrade share while it runs: the phone, its inventory entry,
    the target, the deadlines and the moment the check-sync was answered.

    Raises ValueError (at construction) when ``name`` is not a phone of the inventory.
    """

    def __init__(self, lab: LabSession, upgrade: PhoneUpgrade, target: FirmwareTarget, timeouts: Timeouts,
                 poll_s: float) -> None:
        dev = lab.lab.devices[upgrade.name]
        if not isinstance(dev, PhoneDevice):
            raise ValueError(f"{upgrade.name} is a {dev.role}, not a phone")
        self.lab, self.device, self.phone = lab, dev, lab.driver(upgrade.name, Phone)
        self.upgrade, self.target, self.timeouts, self.poll_s = upgrade, target, timeouts, poll_s
        self.synced_at = 0.0  # monotonic seconds when the check-sync was answered
        self.status_asked_s = 0.0  # seconds after the check-sync the phone MIB was last asked why not

    def since_sync_s(self) -> float:
        return time.monotonic() - self.synced_at

    def read_version(self) -> None:
        self.upgrade.version_before = self.phone.firmware().firmware

    def write_config(self) -> bool:
        """Write the phone's configuration file for the target; True when the phone runs the target
        already (the configuration says so, nothing to flash)."""
        u = self.upgrade
        server = self.lab.driver(provisioning_of(self.lab, u.name), ProvisioningServer)
        server.put_phone_config(self.device.facts.mac,
                                FirmwareConfig(self.target.version, self.target.url, self.target.sha256))
        if u.version_before != self.target.version:
            return False
        u.version_after = u.version_before
        return True

    def check_sync(self) -> bool:
        """NOTIFY check-sync; False (``error`` set) unless it was answered 200."""
        code = self.phone.check_sync()
        if code != 200:
            self.upgrade.error = f"check-sync NOTIFY answered {code}" if code else "check-sync NOTIFY: no answer"
            return False
        self.synced_at = time.monotonic()
        return True

    def go_away(self) -> bool:
        """Poll until a poll goes unanswered (``went_away_s``: when it was sent); False (``error``
        set) when the phone still answers ``away_s`` after the check-sync or says it did not flash."""
        u, away_s = self.upgrade, self.timeouts.away_s
        while (sent := self.since_sync_s()) >= 0 and (reading := self.phone.poll_firmware()) is not None:
            if self.since_sync_s() > away_s:
                u.version_after = reading.firmware
                u.error = f"still answering {away_s:g} s after check-sync: it did not reboot"
                _why(self.phone, u)
                return False
            if self._did_not_flash(reading):
                return False
            time.sleep(self.poll_s)
        u.went_away_s = sent
        return True

    def _did_not_flash(self, reading: PolledFirmware) -> bool:
        """Every :data:`STATUS_EVERY_S`: the phone MIB says the upgrade ended without a flash
        (download or checksum failed); then ``error`` says why."""
        if self.since_sync_s() - self.status_asked_s < STATUS_EVERY_S:
            return False
        self.status_asked_s = self.since_sync_s()
        status = self.phone.upgrade_status()
        if status.state != "idle" or not status.error:
            return False
        self.upgrade.version_after = reading.firmware
        self.upgrade.error = f"did not flash: {status.error}"
        return True

    def come_back(self) -> PolledFirmware | None:
        """Poll until the phone answers again; ``None`` (``error`` set) when it did not within ``back_s``
        of going away (an unanswered poll waited its own timeout already)."""
        u, back_s = self.upgrade, self.timeouts.back_s
        went_away_s = u.went_away_s
        assert went_away_s is not None  # go away set it
        while (reading := self.phone.poll_firmware()) is None:
            if self.since_sync_s() - went_away_s > back_s:
                u.error = f"went away {went_away_s:.1f} s after check-sync and did not come back within {back_s:g} s"
                return None
        return reading

    def rebooted(self, reading: PolledFirmware) -> bool:
        """The phone booted since the check-sync (sysUpTime restarted). If not, it only missed a
        poll: it did not go away after all (``went_away_s`` cleared) and is watched again."""
        if reading.uptime_s is None or reading.uptime_s <= self.since_sync_s() + UPTIME_SLACK_S:
            return True
        self.upgrade.went_away_s = None
        return False

    def on_target(self, reading: PolledFirmware) -> bool:
        """Back (``back_s``, ``version_after``) on the target; False (``error`` set) on the version it
        had or on another one."""
        u = self.upgrade
        u.back_s = self.since_sync_s()
        u.version_after = reading.firmware
        if u.version_after == u.version_before:
            u.error = f"came back on {u.version_after}, the version it had: same version after reboot"
            return False
        if u.version_after != self.target.version:
            u.error = f"came back on {u.version_after}, not the target {self.target.version}"
            return False
        return True

    def registered(self) -> bool:
        """Wait until Genesys Cloud sees the phone (its record, by MAC) registered with its registrar
        Edge (``registered_s``); True at once when it has none. False (``error`` set) after ``register_s``."""
        u, sip, register_s = self.upgrade, self.device.sip, self.timeouts.register_s
        if sip is None or sip.registrar is None:
            return True  # nothing to register with: back on the target is the end
        watch = _registrations(self.lab, sip.registrar)
        back = time.monotonic()
        while self.device.facts.mac not in watch.read(back):
            if time.monotonic() - back > register_s:
                u.error = f"back on {u.version_after} but not registered at {sip.registrar} within {register_s:g} s"
                return False
            time.sleep(self.poll_s)
        u.registered_s = self.since_sync_s()
        return True


class _RegistrationWatch:
    """The phones registered with one Edge (:meth:`~harness.devices.drivers.edge_api.EdgeCloud.registered_phones`,
    by MAC) shared by the phones of a wave: a thread that needs a read newer than ``after`` (monotonic
    seconds) gets the one another thread made meanwhile, so ten phones waiting cost one API listing
    per poll, not ten one after the other."""

    def __init__(self, edge: Edge) -> None:
        self.edge = edge
        self.lock = threading.Lock()
        self.at = -1.0
        self.regs: dict[str, PhoneRecord] = {}

    def read(self, after: float) -> dict[str, PhoneRecord]:
        asked = time.monotonic()
        with self.lock:
            if self.at < max(after, asked - POLL_S):
                self.regs = self.edge.registered_phones()
                self.at = time.monotonic()
            return self.regs


_WATCHES: weakref.WeakKeyDictionary[LabSession, dict[str, _RegistrationWatch]] = weakref.WeakKeyDictionary()
_WATCHES_LOCK = threading.Lock()


def _registrations(lab: LabSession, edge: str) -> _RegistrationWatch:
    with _WATCHES_LOCK:
        watches = _WATCHES.setdefault(lab, {})
        driver = lab.driver(edge, Edge)
        w = watches.get(edge)
        if w is None or w.edge is not driver:
            w = watches[edge] = _RegistrationWatch(driver)
        return w


def _why(phone: Phone, u: PhoneUpgrade) -> None:
    try:
        status = phone.upgrade_status()
    except LabError:
        return
    if status.error:
        u.error += f"; the phone says: {status.error}"


def plan_waves(phones: list[str], wave_size: int, canary: bool) -> list[list[str]]:
    """``[[canary], [next wave_size], …]`` (no canary wave when ``canary`` is false)."""
    if wave_size < 1:
        raise ValueError(f"wave_size must be >= 1, got {wave_size}")
    head, rest = (phones[:1], phones[1:]) if canary else ([], list(phones))
    return ([head] if head else []) + [rest[i:i + wave_size] for i in range(0, len(rest), wave_size)]


def _run_wave(lab: LabSession, wave: list[str], index: int, target: FirmwareTarget, timeouts: Timeouts,
              concurrency: int, poll_s: float) -> list[PhoneUpgrade]:
    if len(wave) == 1 or concurrency <= 1:
        return [upgrade_phone(lab, n, target, timeouts, index, poll_s) for n in wave]
    with ThreadPoolExecutor(min(concurrency, len(wave)), thread_name_prefix=f"rollout wave {index}") as ex:
        return list(ex.map(lambda n: upgrade_phone(lab, n, target, timeouts, index, poll_s), wave))


def _read_untouched(lab: LabSession, u: PhoneUpgrade) -> None:
    with contextlib.suppress(LabError):
        u.version_before = u.version_after = lab.driver(u.name, Phone).firmware().firmware


def rollout(lab: LabSession, phones: list[str], target: FirmwareTarget, *, wave_size: int = 10,
            concurrency: int = 10, canary: bool = True, timeouts: Timeouts | None = None,
            poll_s: float = POLL_S) -> RolloutReport:
    """Upgrade ``phones`` (inventory names, one platform; the first is the canary) to ``target``.

    Returns:
        The :class:`RolloutReport` (never raises for a phone that fails).
    Raises:
        ValueError: no phones, phones of several platforms, or ``wave_size``/``concurrency`` < 1.
        LabError: the image check could not reach the provisioning server.
    """
    if not phones:
        raise ValueError("no phones to upgrade")
    platforms = {lab.lab.devices[n].platform for n in phones}
    if len(platforms) != 1:
        raise ValueError(f"one platform per rollout, got {', '.join(sorted(platforms))}")
    if concurrency < 1:
        raise ValueError(f"concurrency must be >= 1, got {concurrency}")
    platform = platforms.pop()
    waves = plan_waves(phones, wave_size, canary)
    by_name = {n: PhoneUpgrade(n, i) for i, w in enumerate(waves) for n in w}
    report = RolloutReport(platform, target, None, [by_name[n] for n in phones], waves, canary=canary)
    start = time.monotonic()
    report.image = img = check_image(lab, platform, target)
    if not img.ok:
        report.stopped = f"image check: {img.problem}; no phone was touched"
    else:
        _run_waves(lab, report, by_name, timeouts or Timeouts(), concurrency, poll_s)
    report.phones = [by_name[n] for n in phones]
    for u in report.phones:
        if u.step_reached == PhoneStep.NOT_STARTED:
            _read_untouched(lab, u)
    report.total_s = time.monotonic() - start
    return report


def _run_waves(lab: LabSession, report: RolloutReport, by_name: dict[str, PhoneUpgrade], timeouts: Timeouts,
               concurrency: int, poll_s: float) -> None:
    """Run the planned waves in order into ``by_name`` until one of them stops the rollout
    (``report.waves_run``, ``report.stopped``)."""
    waves = report.waves
    for i, wave in enumerate(waves):
        for u in _run_wave(lab, wave, i, report.target, timeouts, concurrency, poll_s):
            by_name[u.name] = u
        report.waves_run = i + 1
        report.stopped = _stop_after_wave(report, i, [by_name[n] for n in wave])
        if report.stopped:
            return


def _stop_after_wave(report: RolloutReport, index: int, done: list[PhoneUpgrade]) -> str:
    """Why the rollout stops after wave ``index`` (``""``: it goes on): the canary failed, or a phone
    of the wave never came back or hit a lab error while waves are left."""
    waves = report.waves
    later = sum(len(w) for w in waves[index + 1:])
    if report.canary and index == 0 and not done[0].ok:
        return (f"canary {done[0].name} failed at step {done[0].step_reached}: {done[0].error}; "
                f"{later} phone(s) not started")
    gone = [u.name for u in done if u.never_returned]
    broken = [u.name for u in done if u.lab_error is not None]
    if not (gone or broken) or index + 1 >= len(waves):
        return ""
    why = "; ".join(([f"{', '.join(gone)} did not come back"] if gone else []) +
                    ([f"lab error on {', '.join(broken)}"] if broken else []))
    return f"{why} in wave {index}; waves {index + 1}-{len(waves) - 1} ({later} phone(s)) not started"


def restore(lab: LabSession, report: RolloutReport, *, concurrency: int = 10, timeouts: Timeouts | None = None,
            poll_s: float = POLL_S) -> list[PhoneUpgrade]:
    """Put back the original firmware of the phones whose inventory entry says ``restore_firmware``
    and whose configuration the rollout wrote: their configuration file names their old version
    again (the image of that version on the server of the target image, its SHA-256 as served),
    and those not on it any more are check-synced and watched as in a rollout.

    Returns:
        One :class:`PhoneUpgrade` per phone restored (``error`` says what did not work).
    Raises:
        LabError: the provisioning server could not be reached for the old image.
    """
    touched = [u for u in report.phones if u.config_written and u.version_before
               and getattr(lab.lab.devices[u.name].facts, "restore_firmware", False)]
    if not touched or report.image is None or report.image.server is None:
        return []
    server = lab.driver(report.image.server, ProvisioningServer)
    targets: dict[str, FirmwareTarget] = {}
    for u in touched:
        version = u.version_before
        assert version is not None
        if version not in targets:
            targets[version] = _old_image(server, report.platform, version)

    def one(u: PhoneUpgrade) -> PhoneUpgrade:
        assert u.version_before is not None
        return upgrade_phone(lab, u.name, targets[u.version_before], timeouts or Timeouts(), u.wave, poll_s)

    with ThreadPoolExecutor(max(1, min(concurrency, len(touched))), thread_name_prefix="restore") as ex:
        return list(ex.map(one, touched))


def _old_image(server: ProvisioningServer, platform: str, version: str) -> FirmwareTarget:
    """The image of ``version`` on ``server``, with its SHA-256 as served. Raises LabError (not 200)."""
    url = server.image_url(platform, version)
    d = server.image(url)
    if d.status != 200:
        raise LabProtocolError(server.name, "http", url, f"image of {version} to restore answered HTTP {d.status}")
    return FirmwareTarget(version=version, url=url, sha256=d.sha256)
