"""The platform registry: one driver class per (role, platform), registered with :func:`register`.

Third-party packages add platforms through the ``hil.drivers`` entry point (a module that calls
``register``). Registering a second class for a (role, platform) already taken raises ``ValueError``.
A platform's class subclasses its role's class (:class:`~.drivers.switch.Switch`,
:class:`~.drivers.edge.Edge`, :class:`~.drivers.phone.Phone`, :class:`~.drivers.pstn.PstnSimulator`,
:class:`~.drivers.provisioning.ProvisioningServer`): the role fixtures and
``LabSession.driver(name, Switch)`` hand drivers out as that class.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from importlib.metadata import entry_points
from typing import TypeVar

from ..inventory import LoadedLab
from .driver import Driver

D = TypeVar("D", bound="Driver")

REGISTRY: dict[tuple[str, str], type[Driver]] = {}


def register(role: str, platform: str) -> Callable[[type[D]], type[D]]:
    """Class decorator: ``@register("switch", "cisco_ios")``.

    Raises:
        ValueError: another class is already registered for ``(role, platform)``.
    """

    def deco(cls: type[D]) -> type[D]:
        taken = REGISTRY.get((role, platform))
        if taken is not None and taken is not cls:
            raise ValueError(f"a {role} driver for platform {platform!r} is already registered: "
                             f"{taken.__module__}.{taken.__qualname__} (refused: {cls.__module__}.{cls.__qualname__})")
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
    import_module(f"{__package__}.drivers")  # the built-in drivers register on import

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


