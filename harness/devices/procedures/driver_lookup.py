"""A device's driver as the class a procedure needs, so the procedures' driver parameters are typed
(``Phone``, ``Edge``, ``ProvisioningServer``) and an editor goes from a step to the driver it uses."""

from __future__ import annotations

from typing import TypeVar

from ..driver import Driver
from ..session import LabSession

DriverT = TypeVar("DriverT", bound=Driver)


def driver_of(lab: LabSession, name: str, cls: type[DriverT]) -> DriverT:
    """The driver of device ``name`` as a ``cls``.

    Raises:
        ValueError: the inventory's device ``name`` is driven by another class (another role).
        LabError: every transport of the device is quarantined.
    """
    drv = lab.driver(name)
    if not isinstance(drv, cls):
        dev = lab.lab.devices[name]
        raise ValueError(f"{name} is a {dev.role} ({dev.platform}), not a {cls.__name__}")
    return drv
