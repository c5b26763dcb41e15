"""The driver base class: one driver per device of a run, transports opened lazily and reused.

Drivers return typed facts and never assert. A transport that failed earlier in the run is
*blocked* (quarantined): every later session on it raises :class:`~harness.errors.LabUnreachable`
at once.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from ..errors import LabError, LabUnreachable
from ..inventory import LoadedLab
from ..inventory.models import AnyDevice
from ..transports.transcript import BOOK, Transcript

#: the inventory transport a lab error's transport belongs to (a switch CLI runs over ssh …)
ERROR_TRANSPORT = {"cli": "ssh", "serial": "console", "rtp": "sip"}
DECLARED_TRANSPORTS = ("ssh", "snmp", "console", "sip", "http")


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

    def __init__(self, name: str, device: AnyDevice, loaded: LoadedLab) -> None:
        self.name = name
        self.device = device
        self.loaded = loaded
        self._sessions: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.blocked: dict[str, LabError] = {}

    # -- helpers for subclasses -----------------------------------------------------------

    def transcript(self, transport: str, address: str) -> Transcript:
        return BOOK.open(f"{self.name} {transport} {address}")

    def resolve(self, ref: str | None) -> str | None:
        return self.loaded.resolve(ref) if ref else None

    @property
    def known_hosts(self) -> Path:
        ssh = self.device.ssh
        return self.loaded.relative(ssh.known_hosts if ssh else "~/.ssh/known_hosts")

    def session(self, key: str, opener: Callable[[], Any]) -> Any:
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
        return [t for t in ("ssh", "snmp", "console", "sip", "http") if getattr(d, t) is not None]

    def probe(self, transport: str) -> str:
        """Reach the device over ``transport`` with its credentials; return a one-line identity.

        Dispatches to ``probe_<transport>()`` (``probe_ssh``, ``probe_snmp``, ``probe_console``,
        ``probe_sip``), which drivers and their mixins provide.

        Raises:
            LabError: unreachable, timed out or credentials refused.
            NotImplementedError: the driver has no probe for that transport.
        """
        fn = getattr(self, f"probe_{transport}", None)
        if fn is None:
            raise NotImplementedError(f"{type(self).__name__} has no probe for {transport}")
        return str(fn())

    def close(self) -> None:
        for key in list(self._sessions):
            self.drop_session(key)


