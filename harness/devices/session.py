"""The drivers of one run (:class:`LabSession`), created on first use, with per-transport quarantine."""

from __future__ import annotations

import threading
from typing import TypeVar, overload

from ..errors import LabError
from ..inventory import LoadedLab
from ..inventory.models import CLOUD_NAME, AnyDevice
from ..transports.transcript import TranscriptSlice
from .driver import DECLARED_TRANSPORTS, Driver, quarantined_error, transport_of
from .drivers.cloud import CloudOrg
from .registry import REGISTRY, load_platforms

D = TypeVar("D", bound=Driver)
E = TypeVar("E", bound=AnyDevice)


class LabSession:
    """The drivers of one run, created on first use; a transport that failed is quarantined.

    ``quarantine(name, error)`` blocks the error's transport of that device: every later session on
    it raises :class:`LabUnreachable` at once, so a dead transport costs one timeout, not one per
    test, while the device's other transports go on (an Edge whose WAN is down still has its
    console). Once every transport the device declares is blocked, ``driver(name)`` itself raises:
    the device is gone. The transcripts of a blocked transport up to its quarantine stay at hand
    (:meth:`quarantine_evidence`) for the tests that are BROKEN because of it.

    ``driver(name, Switch)`` gives the driver typed as its role class (as labgrid's
    ``target.get_driver(cls)``); ``driver(name)`` gives it as a plain :class:`Driver`, for generic code.
    """

    def __init__(self, loaded: LoadedLab) -> None:
        load_platforms()
        self.loaded = loaded
        self.lab = loaded.lab
        self._drivers: dict[str, Driver] = {}
        self._quarantined: dict[str, dict[str, LabError]] = {}
        self._quarantine_evidence: dict[str, tuple[TranscriptSlice, ...]] = {}
        self._lock = threading.Lock()
        self._cloud: CloudOrg | None = None

    @overload
    def driver(self, name: str) -> Driver: ...

    @overload
    def driver(self, name: str, kind: type[D]) -> D: ...

    def driver(self, name: str, kind: type[Driver] = Driver) -> Driver:
        """The driver of device ``name``, created on first use; with ``kind``, checked to be one.

        Raises:
            KeyError: the inventory has no device ``name``.
            LabUnreachable: every transport the device declares was quarantined in this run.
            TypeError: the device's driver is not a ``kind`` (a phone asked for as a Switch).
        """
        drv = self._driver(name)
        if not isinstance(drv, kind):
            raise TypeError(f"{name} is a {drv.role} ({drv.platform}) driven by {type(drv).__qualname__}, "
                            f"not a {kind.__qualname__}")
        return drv

    def entry(self, name: str, kind: type[E]) -> E:
        """The inventory entry of device ``name``, checked to be a ``kind`` (``SwitchDevice`` …),
        without opening anything (the lab's intent for a device, even a quarantined one).

        Raises:
            KeyError: the inventory has no device ``name``.
            TypeError: the entry is of another role.
        """
        dev = self.lab.devices[name]
        if not isinstance(dev, kind):
            raise TypeError(f"{name} is a {dev.role} in the inventory, not a {kind.__name__}")
        return dev

    def gone(self, name: str) -> LabError | None:
        """The first error that blocked device ``name`` when every transport it declares is blocked
        (the device is gone for the rest of the run); None while one is left, or for a name the
        inventory does not have."""
        blocked = self._quarantined.get(name, {})
        dev = self.lab.devices.get(name)
        if dev is None or not blocked:
            return None
        declared = {t for t in DECLARED_TRANSPORTS if getattr(dev, t) is not None}
        return next(iter(blocked.values())) if declared <= set(blocked) else None

    def _driver(self, name: str) -> Driver:
        dev = self.lab.devices[name]  # KeyError for a name the inventory does not have
        if (e := self.gone(name)) is not None:
            raise quarantined_error(e)
        with self._lock:
            drv = self._drivers.get(name)
            if drv is None:
                cls = REGISTRY[(dev.role, dev.platform)]
                drv = self._drivers[name] = cls(name, dev, self.loaded)
                drv.blocked = self._quarantined.setdefault(name, {})
                drv.cloud = self.cloud
            return drv

    def cloud(self) -> CloudOrg:
        """The lab's Genesys Cloud org (the inventory's ``cloud:``), created on first use; its API
        quarantined by :meth:`quarantine` under the name ``cloud``.

        Raises:
            LookupError: the inventory has no ``cloud:`` section.
        """
        settings = self.lab.cloud
        if settings is None:
            raise LookupError(f"the inventory {self.loaded.path} has no cloud: section")
        with self._lock:
            if self._cloud is None:
                self._cloud = CloudOrg(self.loaded, settings)
                self._cloud.blocked = self._quarantined.setdefault(CLOUD_NAME, {})
            return self._cloud

    def _quarantine_cloud(self, error: LabError) -> None:
        blocked = self._quarantined.setdefault(CLOUD_NAME, {})
        if error.transport in blocked:
            return
        blocked[error.transport] = error
        if self._cloud is not None:
            self._quarantine_evidence[CLOUD_NAME] = self._cloud.transcript_slices({})
            self._cloud.drop_session()

    def quarantine(self, name: str, error: LabError, transport: str | None = None) -> None:
        """Block ``transport`` (default: ``error``'s) of device ``name`` (or the org's API, ``cloud``)
        for the rest of the run."""
        if name == CLOUD_NAME and self.lab.cloud is not None:
            self._quarantine_cloud(error)
            return
        if name not in self.lab.devices:
            return
        transport = transport or transport_of(error.transport)
        blocked = self._quarantined.setdefault(name, {})
        newly = transport not in blocked
        blocked.setdefault(transport, error)
        d = self._drivers.get(name)
        if d:
            if newly:
                self._quarantine_evidence[name] = (self._quarantine_evidence.get(name, ())
                                                   + d.transcript_slices({}, transport))
            for key in list(d._sessions):
                if transport_of(key) == transport:
                    d.drop_session(key)

    def quarantine_evidence(self, name: str) -> tuple[TranscriptSlice, ...]:
        """The transcripts of device ``name``'s quarantined transports, each up to its quarantine
        (empty when none is quarantined): the sessions that failed."""
        return self._quarantine_evidence.get(name, ())

    def quarantined(self) -> dict[str, LabError]:
        """Devices with a blocked transport -> the first error that blocked one."""
        return {n: next(iter(b.values())) for n, b in self._quarantined.items() if b}

    def close(self) -> None:
        for d in self._drivers.values():
            d.close()
        if self._cloud is not None:
            self._cloud.close()
