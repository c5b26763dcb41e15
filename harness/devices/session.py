"""The drivers of one run (:class:`LabSession`), created on first use, with per-transport quarantine."""

from __future__ import annotations

import threading
from typing import Any

from ..errors import LabError
from ..inventory import LoadedLab
from .driver import DECLARED_TRANSPORTS, Driver, quarantined_error, transport_of
from .registry import REGISTRY, load_platforms


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
