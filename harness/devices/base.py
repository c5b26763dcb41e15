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


class Driver:
    """Base of every device driver.

    Attributes:
        name: inventory name; ``device``: the validated inventory entry; ``loaded``: the lab
        (for secret resolution and paths).
    """

    role: ClassVar[str]
    platform: ClassVar[str]

    def __init__(self, name: str, device: AnyDevice, loaded: LoadedLab) -> None:
        self.name = name
        self.device = device
        self.loaded = loaded
        self._sessions: dict[str, Any] = {}
        self._lock = threading.Lock()

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
        """The open session ``key`` (``"ssh"``, ``"snmp"`` …), opened by ``opener`` on first use."""
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
    """The drivers of one run, created on first use; a device that failed is quarantined.

    ``quarantine(name, error)`` makes every later ``driver(name)`` raise :class:`LabUnreachable`
    at once, so a dead device costs one timeout, not one per test.
    """

    def __init__(self, loaded: LoadedLab) -> None:
        load_platforms()
        self.loaded = loaded
        self.lab = loaded.lab
        self._drivers: dict[str, Driver] = {}
        self._quarantined: dict[str, LabError] = {}
        self._lock = threading.Lock()

    def driver(self, name: str) -> Any:
        if name in self._quarantined:
            e = self._quarantined[name]
            raise LabUnreachable(e.device, e.transport, e.address, f"quarantined after earlier failure: {e.detail}")
        with self._lock:
            drv = self._drivers.get(name)
            if drv is None:
                dev = self.lab.devices[name]
                cls = REGISTRY[(dev.role, dev.platform)]
                drv = self._drivers[name] = cls(name, dev, self.loaded)
            return drv

    def quarantine(self, name: str, error: LabError) -> None:
        if name in self.lab.devices:
            self._quarantined.setdefault(name, error)
            d = self._drivers.get(name)
            if d:
                d.close()

    def quarantined(self) -> dict[str, LabError]:
        return dict(self._quarantined)

    def close(self) -> None:
        for d in self._drivers.values():
            d.close()
