"""Driver base class, the platform registry, and :class:`LabSession` (drivers of one run).

A driver is one class per role and platform, registered with :func:`register`. Drivers open their
transports lazily, reuse them for the whole run, return typed facts and never assert. Third-party
packages add platforms through the ``hil.drivers`` entry point (a module that calls ``register``).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from importlib import import_module
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from ..errors import LabError, LabUnreachable
from ..inventory import LoadedLab
from ..inventory.models import AnyDevice
from ..transports.transcript import BOOK, Transcript

D = TypeVar("D", bound="Driver")

REGISTRY: dict[tuple[str, str], type[Driver]] = {}


def register(role: str, platform: str) -> Callable[[type[D]], type[D]]:
    """Class decorator: ``@register("switch", "cisco_ios")``."""

    def deco(cls: type[D]) -> type[D]:
        cls.role = role
        cls.platform = platform
        REGISTRY[(role, platform)] = cls
        return cls

    return deco


_loaded_plugins = False


def load_platforms() -> None:
    """Import the built-in drivers and any ``hil.drivers`` entry points (once)."""
    global _loaded_plugins
    if _loaded_plugins:
        return
    for module in ("edge", "phone", "pstn", "provisioning", "switch"):
        import_module(f"{__package__}.{module}")

    for ep in entry_points(group="hil.drivers"):
        ep.load()
    _loaded_plugins = True


def platform_problems(loaded: LoadedLab) -> list[str]:
    """One ``file:line: path: message`` per device whose role/platform has no driver."""
    load_platforms()
    out = []
    for name, d in loaded.lab.devices.items():
        if (d.role, d.platform) not in REGISTRY:
            known = sorted(p for r, p in REGISTRY if r == d.role)
            out.append(str(loaded.problem(("devices", name, "platform"),
                                          f"no {d.role} driver for platform {d.platform!r} "
                                          f"(known: {', '.join(known)})")))
    return out


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


class LabSession:
    """The drivers of one run, created on first use; a transport that failed is quarantined.

    ``quarantine(name, error)`` blocks the error's transport of that device: every later session on
    it raises :class:`LabUnreachable` at once, so a dead transport costs one timeout, not one per
    test, while the device's other transports go on (an Edge whose WAN is down still has its
    console). Once every transport the device declares is blocked, ``driver(name)`` itself raises:
    the device is gone.
    """

    def __init__(self, loaded: LoadedLab) -> None:
        load_platforms()
        self.loaded = loaded
        self.lab = loaded.lab
        self._drivers: dict[str, Driver] = {}
        self._quarantined: dict[str, dict[str, LabError]] = {}
        self._lock = threading.Lock()

    def driver(self, name: str) -> Any:
        blocked = self._quarantined.get(name, {})
        dev = self.lab.devices[name]
        declared = {t for t in DECLARED_TRANSPORTS if getattr(dev, t) is not None}
        if blocked and declared <= set(blocked):
            raise quarantined_error(next(iter(blocked.values())))
        with self._lock:
            drv = self._drivers.get(name)
            if drv is None:
                cls = REGISTRY[(dev.role, dev.platform)]
                drv = self._drivers[name] = cls(name, dev, self.loaded)
                drv.blocked = self._quarantined.setdefault(name, {})
            return drv

    def quarantine(self, name: str, error: LabError) -> None:
        """Block ``error``'s transport of device ``name`` for the rest of the run."""
        if name not in self.lab.devices:
            return
        transport = transport_of(error.transport)
        blocked = self._quarantined.setdefault(name, {})
        blocked.setdefault(transport, error)
        d = self._drivers.get(name)
        if d:
            for key in list(d._sessions):
                if transport_of(key) == transport:
                    d.drop_session(key)

    def quarantined(self) -> dict[str, LabError]:
        """Devices with a blocked transport -> the first error that blocked one."""
        return {n: next(iter(b.values())) for n, b in self._quarantined.items() if b}

    def close(self) -> None:
        for d in self._drivers.values():
            d.close()
