"""The driver base class: one driver per device of a run, transports opened lazily and reused.

Drivers return typed facts and never assert. A transport that failed earlier in the run is
*blocked* (quarantined): every later session on it raises :class:`~harness.errors.LabUnreachable`
at once. What a driver can do is told by the capabilities it implements
(:mod:`harness.devices.capabilities`); :meth:`Driver.probe` reaches the device over one transport
through the capability that owns it. A driver keeps the transcripts of its sessions, so a read
shared by many tests can say which slices of them it consumed (:meth:`Driver.transcript_marks`,
:meth:`Driver.transcript_slices`).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from ..errors import LabError, LabUnreachable
from ..inventory import LoadedLab
from ..inventory.models import AnyDevice
from ..transports.transcript import BOOK, Transcript, TranscriptSlice
from .capabilities import (
    TRANSPORTS,
    CliDevice,
    ConsoleDevice,
    GenesysCloudOrg,
    HttpServer,
    SipEndpoint,
    SnmpAgent,
    SshHost,
)

#: the inventory transport a lab error's transport belongs to (a switch CLI runs over ssh …)
ERROR_TRANSPORT = {"cli": "ssh", "serial": "console", "rtp": "sip"}
DECLARED_TRANSPORTS: tuple[str, ...] = TRANSPORTS
S = TypeVar("S")  # a transport session (SSHSession, SnmpClient, SwitchCli …)


def quarantined_error(e: LabError) -> LabUnreachable:
    """What a use of a transport blocked by ``e`` (earlier in the run) raises: BROKEN at once."""
    return LabUnreachable(e.device, e.transport, e.address, f"quarantined after earlier failure: {e.detail}")


def transport_of(name: str) -> str:
    """``"cli"`` -> ``"ssh"``, ``"serial"`` -> ``"console"``, a session key ``"snmp-poll"`` ->
    ``"snmp"``, ``"sipp ssh"`` -> ``"ssh"``; other names stay as they are."""
    tokens = name.replace("-", " ").split() or [name]
    for t in reversed(tokens):
        t = ERROR_TRANSPORT.get(t, t)
        if t in DECLARED_TRANSPORTS:
            return t
    return tokens[0]


class Driver:
    """Base of every device driver.

    Attributes:
        name: inventory name; ``device``: the validated inventory entry; ``loaded``: the lab
        (for secret resolution and paths); ``blocked``: transports quarantined in this run
        (transport -> the error), shared with the :class:`LabSession`.
    """

    role: ClassVar[str]
    platform: ClassVar[str]
    #: the run's Genesys Cloud org (``LabSession.cloud``), set by the LabSession that made the driver;
    #: ``None`` for a driver made on its own. Raises LookupError when the inventory has no ``cloud:``.
    cloud: Callable[[], GenesysCloudOrg] | None = None

    def __init__(self, name: str, device: AnyDevice, loaded: LoadedLab) -> None:
        self.name = name
        self.device = device
        self.loaded = loaded
        self._sessions: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.blocked: dict[str, LabError] = {}
        self._transcripts: dict[str, tuple[str, Transcript]] = {}  # name -> (inventory transport, transcript)
        self._transcripts_lock = threading.Lock()  # apart: sessions open transcripts under self._lock

    # -- helpers for subclasses -----------------------------------------------------------

    def transcript(self, transport: str, address: str) -> Transcript:
        """The run's transcript ``"<name> <transport> <address>"`` (``transport``: ``ssh``, ``cli``,
        ``snmp``, ``serial``, ``sip``, ``http`` …), kept among this driver's transcripts."""
        t = BOOK.open(f"{self.name} {transport} {address}")
        with self._transcripts_lock:
            self._transcripts[t.name] = (transport_of(transport), t)
        return t

    def transcript_marks(self) -> dict[str, int]:
        """A mark of each transcript this driver has opened (to pass to :meth:`transcript_slices`)."""
        with self._transcripts_lock:
            return {n: t.mark() for n, (_, t) in self._transcripts.items()}

    def transcript_slices(self, since: dict[str, int], transport: str | None = None) -> tuple[TranscriptSlice, ...]:
        """The parts of this driver's transcripts written after ``since`` (from
        :meth:`transcript_marks`; a transcript opened later counts from its start), optionally only
        those of one inventory ``transport`` (``ssh`` covers the switch CLI, ``console`` the serial line)."""
        with self._transcripts_lock:
            items = list(self._transcripts.items())
        out = []
        for n, (t_transport, t) in items:
            start, end = since.get(n, 0), t.mark()
            if end > start and (transport is None or t_transport == transport):
                out.append(TranscriptSlice(n, start, end))
        return tuple(out)

    def resolve(self, ref: str | None) -> str | None:
        return self.loaded.resolve(ref) if ref else None

    @property
    def known_hosts(self) -> Path:
        ssh = self.device.ssh
        return self.loaded.relative(ssh.known_hosts if ssh else "~/.ssh/known_hosts")

    def session(self, key: str, opener: Callable[[], S]) -> S:
        """The open session ``key`` (``"ssh"``, ``"snmp"`` …), opened by ``opener`` on first use.

        Raises:
            LabUnreachable: the session's transport was quarantined earlier in the run.
        """
        e = self.blocked.get(transport_of(key))
        if e is not None:
            raise quarantined_error(e)
        with self._lock:
            s = self._sessions.get(key)
            if s is None:
                s = self._sessions[key] = opener()
            return s

    def drop_session(self, key: str) -> None:
        with self._lock:
            s = self._sessions.pop(key, None)
        if s is not None:
            with contextlib.suppress(Exception):  # closing a dead session must not mask the original error
                s.close()

    def transports(self) -> list[str]:
        """Transports the inventory declares for this device, in a stable order."""
        d = self.device
        return [t for t in DECLARED_TRANSPORTS if getattr(d, t) is not None]

    def probe(self, transport: str) -> str:
        """Reach the device over ``transport`` with its credentials; return a one-line identity.

        The capability that owns the transport answers: ``ssh`` a :class:`~.capabilities.CliDevice`
        (its CLI) or an :class:`~.capabilities.SshHost`, ``snmp`` an :class:`~.capabilities.SnmpAgent`,
        ``console`` a :class:`~.capabilities.ConsoleDevice`, ``sip`` a :class:`~.capabilities.SipEndpoint`,
        ``http`` an :class:`~.capabilities.HttpServer`.

        Raises:
            LabError: unreachable, timed out or credentials refused.
            NotImplementedError: the driver has no capability over that transport.
        """
        match transport:
            case "ssh" if isinstance(self, CliDevice | SshHost):
                return self.probe_ssh()
            case "snmp" if isinstance(self, SnmpAgent):
                return self.probe_snmp()
            case "console" if isinstance(self, ConsoleDevice):
                return self.probe_console()
            case "sip" if isinstance(self, SipEndpoint):
                return self.probe_sip()
            case "http" if isinstance(self, HttpServer):
                return self.probe_http()
        raise NotImplementedError(f"{type(self).__name__} has no capability over {transport}")

    def close(self) -> None:
        for key in list(self._sessions):
            self.drop_session(key)


