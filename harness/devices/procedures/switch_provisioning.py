"""Access-port provisioning for IP phones: plan a diff, apply it as one batch, restore exactly.

The intent (:class:`SwitchIntent`) comes from the inventory: the switch's voice VLAN (and its name),
data VLAN, and every phone port on it. :func:`plan` compares it with the switch's running-config
and returns only the lines that change something, so a second apply sends nothing. Values the
plan writes:

- voice VLAN created and named; data VLAN created if missing;
- LLDP-MED ``network-policy profile P`` with ``voice vlan V cos 5`` and ``voice vlan V dscp 46``
  (CoS 5: STD-8021Q, DSCP 46: STD-RFC4594, the catalogue's ``lldp_med_cos``/``lldp_med_dscp``);
- per phone port: ``switchport mode access``, ``switchport access vlan DATA``, ``switchport voice
  vlan V``, ``network-policy P``, ``mls qos trust dscp``, ``spanning-tree portfast``, PoE on
  (``power inline auto`` where ``power inline never`` was set) and ``no shutdown`` where shut.

:class:`Provisioner` writes a journal (``<inventory folder>/.hil/journal/<switch>.json``, mode
0600, holding the running-config from before the change) ahead of the first config line, applies the
plan with :meth:`~harness.transports.cli.SwitchCli.config_batch`, and undoes it with the remediation
the hier_config library computes from the running-config back to the one in the journal. The
journal is removed only once the running-config equals the saved one line for line (volatile header
and timestamp lines aside, see :func:`config_lines`). A run that dies mid-batch leaves the journal;
the next one finds it (:meth:`Provisioner.recover`) and reports the switch restored or the exact
lines that remain applied. ``write memory`` runs only when the switch's ``facts.write_memory`` is set.

Where the switch stands is an explicit state machine: :class:`SwitchChange` (as found, journalled,
applied, refused, restored, left changed), moved by the Provisioner's steps (:class:`ChangeEvent`)
through the one transition function :func:`change_after`; ``Provisioner.state`` is where it stands
and ``Provisioner.history`` the steps that led there.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import os
import re
import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from filelock import FileLock
from hier_config import HConfig, Platform, WorkflowRemediation, get_hconfig

from ...errors import LabBusy, LabProtocolError
from ...inventory import LoadedLab
from ...inventory.models import Lab, PhoneDevice, SwitchDevice, SwitchFacts
from .run_lock import take_or_name_holder

if TYPE_CHECKING:
    from ...transports.cli_text import LineResult
    from ..drivers.switch import Switch

#: LLDP-MED voice policy the plan writes: STD-8021Q and STD-RFC4594 (catalogue NET-VOIP-HW thresholds)
VOICE_COS = 5
VOICE_DSCP = 46
#: lines of `show running-config` that change without a config change (never compared)
VOLATILE_PREFIXES = ("Building configuration", "Current configuration", "! Last configuration change",
                     "! NVRAM config last updated", "ntp clock-period")


_SECTION = re.compile(r"(interface \S+|vlan \d+|network-policy profile \d+)$")  # lines that open a section


@dataclass(frozen=True)
class PortIntent:
    """What one phone port must be: access port in ``access_vlan`` (None: leave the access VLAN)."""

    interface: str
    phone: str
    access_vlan: int | None
    voice_vlan: int
    trust: str = "dscp"
    portfast: bool = True
    poe: bool = True


@dataclass(frozen=True)
class SwitchIntent:
    """The voice configuration one switch must carry (see the module docstring for the lines)."""

    switch: str
    voice_vlan: int
    voice_vlan_name: str
    data_vlan: int | None
    ports: tuple[PortIntent, ...]
    policy_profile: int = 1
    cos: int = VOICE_COS
    dscp: int = VOICE_DSCP


def switch_intent(lab: Lab, switch: str, ports: list[str] | None = None) -> SwitchIntent:
    """The intent for ``switch`` from the inventory: every phone cabled to it (or only ``ports``).

    Raises ValueError when the switch has no ``facts.voice_vlan`` (nothing to provision).
    """
    dev = lab.devices[switch]
    assert isinstance(dev, SwitchDevice)
    f = dev.facts
    if f.voice_vlan is None:
        raise ValueError(f"{switch}: the inventory sets no voice_vlan; nothing to provision")
    wanted = []
    for name, d in lab.devices.items():
        sp = d.facts.switch_port if isinstance(d, PhoneDevice) else None
        if sp is not None and sp.switch == switch and (ports is None or sp.port in ports):
            wanted.append(PortIntent(sp.port, name, f.data_vlan, f.voice_vlan))
    return SwitchIntent(switch, f.voice_vlan, f.voice_vlan_name or "VOICE", f.data_vlan,
                        tuple(sorted(wanted, key=lambda p: p.interface)))


def journal_dir(loaded: LoadedLab) -> Path:
    """``<inventory folder>/.hil/journal``: where provisioning journals live for this inventory."""
    return loaded.path.resolve().parent / ".hil" / "journal"


def config_lines(text: str) -> list[str]:
    """The running-config as compared line for line: CRs, trailing blanks and volatile lines dropped."""
    out = []
    for raw in text.replace("\r", "").split("\n"):
        line = raw.rstrip()
        if line and not line.startswith(VOLATILE_PREFIXES):
            out.append(line)
    return out


def _hconfig(text: str) -> HConfig:
    return get_hconfig(Platform.CISCO_IOS, "\n".join(config_lines(text)))


def _children(conf: HConfig, section: str) -> list[str] | None:
    child = conf.get_child(equals=section)
    return None if child is None else [c.text for c in child.children]


def plan(running_config: str, intent: SwitchIntent) -> list[str]:
    """Config lines that bring ``running_config`` to ``intent`` (empty: nothing to change).

    Global lines first (VLANs, network-policy profile), then one ``interface`` block per port that
    needs a change, each listing only its missing lines. Raises ValueError when an intended port is
    not in the running-config.
    """
    conf = _hconfig(running_config)
    out: list[str] = []
    v = intent.voice_vlan
    vlan = _children(conf, f"vlan {v}")
    if vlan is None or f"name {intent.voice_vlan_name}" not in vlan:
        out += [f"vlan {v}", f"name {intent.voice_vlan_name}"]
    if intent.data_vlan and intent.data_vlan != 1 and _children(conf, f"vlan {intent.data_vlan}") is None:
        out += [f"vlan {intent.data_vlan}"]
    profile = f"network-policy profile {intent.policy_profile}"
    have = _children(conf, profile) or []
    policy = [f"voice vlan {v} cos {intent.cos}", f"voice vlan {v} dscp {intent.dscp}"]
    missing = [p for p in policy if p not in have]
    if missing:
        out += [profile, *missing]
    if out:
        out.append("exit")
    for port in intent.ports:
        lines = _children(conf, f"interface {port.interface}")
        if lines is None:
            raise ValueError(f"{intent.switch}: {port.interface} is not in the running-config")
        want = ["switchport mode access"]
        if port.access_vlan and port.access_vlan != 1:
            want.insert(0, f"switchport access vlan {port.access_vlan}")
        want += [f"switchport voice vlan {port.voice_vlan}", f"network-policy {intent.policy_profile}",
                 f"mls qos trust {port.trust}"]
        if port.portfast:
            want.append("spanning-tree portfast")
        todo = [w for w in want if w not in lines]
        if port.access_vlan == 1 and any(x.startswith("switchport access vlan ") for x in lines):
            todo.insert(0, "no switchport access vlan")
        if port.poe and "power inline never" in lines:
            todo.append("power inline auto")
        if "shutdown" in lines:
            todo.append("no shutdown")
        if todo:
            out += [f"interface {port.interface}", *todo]
    return out


def remediation(current: str, wanted: str) -> list[str]:
    """Lines (hier_config's IOS remediation, indentation stripped) that turn ``current`` into ``wanted``."""
    w = WorkflowRemediation(_hconfig(current), _hconfig(wanted))
    return [line.strip() for line in w.remediation_config.dump_simple()]


def config_diff(before: str, after: str) -> list[str]:
    """Lines that differ: ``- line`` only in ``before``, ``+ line`` only in ``after`` (order kept)."""
    return [d for d in difflib.unified_diff(config_lines(before), config_lines(after), lineterm="", n=0)
            if d[:1] in "+-" and not d.startswith(("+++", "---"))]


class ConfigRejected(Exception):
    """The switch refused a line of the batch. ``restored`` tells whether the rollback was exact."""

    def __init__(self, switch: str, line: str, message: str, restored: bool, remaining: list[str],
                 section: str = "") -> None:
        self.switch, self.line, self.message, self.section = switch, line, message, section
        self.restored, self.remaining = restored, remaining
        state = ("rolled back: the running-config equals the one before" if restored
                 else f"the rollback could not restore it, the running-config still differs: {'; '.join(remaining)}")
        where = f" (under {section!r})" if section else ""
        super().__init__(f"{switch}: rejected config line {line!r}{where}: {message}; {state}")


@dataclass
class ProvisionResult:
    """``lines`` sent (empty: already as intended), the answers, and seconds spent."""

    lines: list[str]
    answers: list[LineResult] = field(default_factory=list)
    seconds: float = 0.0


@dataclass(frozen=True)
class Restore:
    """``lines`` sent to undo; ``remaining`` the diff left after (empty: restored line for line)."""

    lines: list[str]
    remaining: list[str]

    @property
    def exact(self) -> bool:
        return not self.remaining


@dataclass(frozen=True)
class Recovery:
    """A journal left by an earlier run, as found: ``changed`` is the diff from the running-config
    the run started from (``- line`` missing now, ``+ line`` added by the run), ``remaining`` the
    lines that undo it; ``restore`` what undoing them did (None: not allowed to write)."""

    switch: str
    started_utc: str
    changed: list[str]
    remaining: list[str]
    restore: Restore | None

    @property
    def unresolved(self) -> bool:
        """Changes remain on the switch: not undone now (no writing allowed, or the undo fell short)."""
        return bool(self.remaining) and (self.restore is None or not self.restore.exact)

    def describe(self) -> str:
        if not self.remaining:
            return f"{self.switch}: the change of the run started {self.started_utc} had been undone; journal cleared"
        what = (f"{self.switch}: the run started {self.started_utc} left the running-config changed "
                f"({'; '.join(self.changed)}); undo: {'; '.join(self.remaining)}")
        if self.restore is None:
            return what + " (not restored: writing needs --allow-destructive)"
        return what + (" — restored now, line for line" if self.restore.exact
                       else f" — restore left: {'; '.join(self.restore.remaining)}")


class SwitchChange(StrEnum):
    """Where one switch's configuration stands for its :class:`Provisioner` (``Provisioner.state``)::

        as found ──journal──> journalled ──batch accepted──> applied ──undone──> restored
                                  │                                   └──undo fell short──> left changed
                                  └──line refused──> refused ──undone / undo fell short──> restored / left changed
        as found ──earlier change found──> left changed ──undone──> restored
        as found ──earlier change found undone──> restored

    ``journalled`` and later: the journal holds the running-config from before (removed at
    ``restored``); ``left changed``: it stays, with the lines that still differ.
    """

    AS_FOUND = "as found"
    JOURNALLED = "journalled"
    APPLIED = "applied"
    REFUSED = "refused"
    RESTORED = "restored"
    LEFT_CHANGED = "left changed"


class ChangeEvent(StrEnum):
    """A step of the :class:`Provisioner` that moves the switch's :class:`SwitchChange`."""

    JOURNAL = "journal"  # the running-config from before saved, a batch about to go out
    BATCH_ACCEPTED = "batch accepted"
    LINE_REFUSED = "line refused"
    UNDONE = "undone"  # the running-config equals the journal's line for line
    UNDO_FELL_SHORT = "undo fell short"
    EARLIER_CHANGE_FOUND = "earlier change found"  # a journal of an earlier run, its lines still applied
    EARLIER_CHANGE_FOUND_UNDONE = "earlier change found undone"


def change_after(state: SwitchChange, event: ChangeEvent) -> SwitchChange:
    """The transition function of a switch's change: where ``event`` takes it from ``state``.

    Raises:
        RuntimeError: a batch answer without its journal first (a fault of the Provisioner).
    """
    match event:
        case ChangeEvent.BATCH_ACCEPTED | ChangeEvent.LINE_REFUSED if state is not SwitchChange.JOURNALLED:
            raise RuntimeError(f"{event} in state {state}: a batch goes out after its journal")
        case ChangeEvent.JOURNAL:
            return SwitchChange.JOURNALLED
        case ChangeEvent.BATCH_ACCEPTED:
            return SwitchChange.APPLIED
        case ChangeEvent.LINE_REFUSED:
            return SwitchChange.REFUSED
        case ChangeEvent.UNDONE | ChangeEvent.EARLIER_CHANGE_FOUND_UNDONE:
            return SwitchChange.RESTORED
        case ChangeEvent.UNDO_FELL_SHORT | ChangeEvent.EARLIER_CHANGE_FOUND:
            return SwitchChange.LEFT_CHANGED


class Provisioner:
    """Provision one switch from its intent and put it back (see the module docstring).

    Args:
        switch: the driver (its one CLI session carries every batch);
        journal_dir: folder for the journal files (created on first write).
    ``state`` is where the switch stands (:class:`SwitchChange`), ``history`` the steps taken and
    the state each led to.
    Every method raises LabError when the switch does not answer; :meth:`apply` raises
    :class:`ConfigRejected` when the switch refuses a line (after rolling back).
    """

    SHOW_RUN = "show running-config"

    def __init__(self, switch: Switch, journal_dir: Path) -> None:
        self.switch = switch
        self.journal = journal_dir / f"{switch.name}.json"
        self.before: str | None = None
        self._lock = FileLock(str(journal_dir / f"{switch.name}.lock"))
        self.state = SwitchChange.AS_FOUND
        self.history: list[tuple[ChangeEvent, SwitchChange]] = []

    def _move(self, event: ChangeEvent) -> None:
        self.state = change_after(self.state, event)
        self.history.append((event, self.state))

    def _address(self) -> str:
        ssh = self.switch.device.ssh
        return f"{self.switch.device.host}:{ssh.port if ssh else 22}"

    def _take(self) -> None:
        """Hold the switch's provisioning lock (one run provisions a switch at a time).

        Raises LabBusy (the lab was not this run's alone: BROKEN, never FAIL) naming the other run
        when it holds the lock.
        """
        if self._lock.is_locked:
            return
        self.journal.parent.mkdir(parents=True, exist_ok=True)
        other = take_or_name_holder(self._lock, self.journal,
                                    lambda d: f"the run of pid {d['pid']} (started {d['started_utc']})")
        if other:
            raise LabBusy(self.switch.name, "cli", self._address(),
                          f"{other} is provisioning switch {self.switch.name}; not touching it")

    def release(self) -> None:
        """Let go of the provisioning lock (the journal, if any, stays for the next run)."""
        if self._lock.is_locked:
            self._lock.release(force=True)

    def running_config(self) -> str:
        return self.switch.send(self.SHOW_RUN)

    def _write_journal(self, before: str, lines: list[str]) -> None:
        self.journal.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.journal.with_suffix(".tmp")
        data = {"switch": self.switch.name, "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "pid": os.getpid(), "before": before, "lines": lines}
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(data, f)
        os.replace(tmp, self.journal)

    def _clear_journal(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.journal.unlink()
        self.release()

    def send_lines(self, lines: list[str]) -> list[LineResult]:
        """Journal, then send ``lines`` as one batch (any change: ``apply`` uses it, scenarios too).

        The first call keeps the running-config from before as the restore point. Raises
        :class:`ConfigRejected` (after rolling back) when the switch refuses a line.
        """
        self._take()
        if self.before is None:
            self.before = self.running_config()
        self._write_journal(self.before, lines)
        self._move(ChangeEvent.JOURNAL)
        answers = self.switch.cli().config_batch(lines)
        bad = next((i for i, a in enumerate(answers) if a.rejected), None)
        self._move(ChangeEvent.BATCH_ACCEPTED if bad is None else ChangeEvent.LINE_REFUSED)
        if bad is not None:
            r = self.restore()
            section = next((x for x in reversed(lines[:bad]) if _SECTION.match(x)), "")
            raise ConfigRejected(self.switch.name, lines[bad], answers[bad].rejected or "", r.exact, r.remaining,
                                 section)
        return answers

    def apply(self, intent: SwitchIntent) -> ProvisionResult:
        """Plan against the running-config and send the plan as one batch (nothing when it is empty)."""
        t0 = time.monotonic()
        current = self.running_config()
        if self.before is None:
            self.before = current
        lines = plan(current, intent)
        if not lines:
            return ProvisionResult([], seconds=time.monotonic() - t0)
        answers = self.send_lines(lines)
        if self._write_memory():
            self.switch.save()
        return ProvisionResult(lines, answers, time.monotonic() - t0)

    def restore(self) -> Restore:
        """Undo every change since the first :meth:`apply`; clears the journal when exact."""
        if self.before is None:
            return Restore([], [])
        before = self.before
        lines = remediation(self.running_config(), before)
        if lines:
            self.switch.cli().config_batch(lines)
        remaining = config_diff(before, self.running_config())
        self._move(ChangeEvent.UNDO_FELL_SHORT if remaining else ChangeEvent.UNDONE)
        if not remaining:
            self._clear_journal()
            if lines and self._write_memory():
                self.switch.save()
        return Restore(lines, remaining)

    def _write_memory(self) -> bool:
        """The inventory asks for ``write memory`` after a change (``facts.write_memory``)."""
        facts = self.switch.device.facts
        return isinstance(facts, SwitchFacts) and facts.write_memory

    def settle_leftover(self, write: bool) -> Recovery | None:
        """:meth:`recover`, and raise LabProtocolError (naming every change still on the switch)
        when a leftover remains unresolved: the switch's state is then the harness's, not the lab's."""
        found = self.recover(write)
        if found is not None and found.unresolved:
            raise LabProtocolError(self.switch.name, "cli", self._address(), found.describe())
        return found

    def recover(self, write: bool) -> Recovery | None:
        """Look for a journal an earlier run left; None when there is none.

        Reports how the running-config differs from the one the journal saved and the lines that
        undo it; with ``write`` those are sent now. The journal is removed once nothing differs.
        Raises LabBusy when another live run holds the switch, LabProtocolError when the journal is
        unreadable.
        """
        if not self.journal.exists():
            return None
        self._take()
        try:
            data = json.loads(self.journal.read_text())
            before = str(data["before"])
        except FileNotFoundError:
            self.release()
            return None
        except (ValueError, KeyError, TypeError) as e:
            self.release()
            raise LabProtocolError(self.switch.name, "cli", self._address(),
                                   f"provisioning journal {self.journal} is unreadable ({e}); compare the switch "
                                   "with its intended config by hand, then delete the file") from None
        current = self.running_config()
        remaining = remediation(current, before)
        self._move(ChangeEvent.EARLIER_CHANGE_FOUND if remaining else ChangeEvent.EARLIER_CHANGE_FOUND_UNDONE)
        restore = None
        if remaining and write:
            self.before = before
            restore = self.restore()
        elif not remaining:
            self._clear_journal()
        else:
            self.release()
        return Recovery(self.switch.name, str(data.get("started_utc", "?")), config_diff(before, current),
                        remaining, restore)
