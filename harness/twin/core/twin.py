"""The twin: every emulated device of an inventory, its services and faults, in one asyncio loop.

Four registries, filled when the modules that declare their entries are imported
(:mod:`harness.twin.lab` imports every one of them):

* **roles** (:func:`register_role`): one :class:`RoleSpec` per device role (``edge``, ``switch``,
  ``phone``, ``pstn``, ``provisioning``): how its devices boot, the services of its own, what it
  shows the protocol servers (CLI, MIB, banner …) and its heal hook. Each role package under
  ``harness/twin/`` registers itself.
* **servers** (:func:`server_factory`): role-agnostic protocol servers (SSH, console, SNMP) that
  serve any device whose inventory entry asks for them, each with a rank that orders a device's
  services (a role's own services sit at :data:`ROLE_SERVICES_RANK`).
* **units** (:func:`register_unit`): parts of the lab the inventory describes outside ``devices``
  that the twin serves like a device, under a name of their own (the Genesys Cloud org of
  ``cloud:``, :mod:`harness.twin.cloud`): faults, heal and status address them by that name.
* **faults** (:data:`FAULTS`): every fault the twin can inject, declared once next to the code that
  reads it (:func:`harness.twin.core.faults.declare`).

A service that cannot start (its port is taken, a secret file vanished) raises
:class:`ServiceStartError` naming device, service, address and the OS reason; :meth:`Twin.start`
then stops every service it had started, so a failed start leaves nothing bound.
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import os
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from ...inventory import LoadedLab
from ...inventory.models import AnyDevice, Lab
from .faces import OID, Mib, Shell, Terminal
from .port_holder import holder_of
from .state import DeviceState, plain

log = logging.getLogger("hil.twin")

MAX_VALUE_CHARS = 128  # project choice: a fault's value is a version string or a name, never a payload
ROLE_SERVICES_RANK = 50  # where a role's own services sit among the servers' (SSH 10, console 20, SNMP 90)

Undo = Callable[[], Awaitable[None]]
S = TypeVar("S", bound=DeviceState)


class Service(Protocol):
    """One protocol endpoint of one device. ``start``/``stop`` may be called many times (``down``)."""

    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


Factory = Callable[["Twin", str], list[Service]]


def _no_services(twin: Twin, device: str) -> list[Service]:
    return []


@dataclass(frozen=True)
class RoleSpec(Generic[S]):
    """What the core and the protocol servers know of one device role. Only ``role`` and ``state``
    are required; the servers fall back to a role-agnostic default for every entry left ``None``.

    Attributes:
        role: the inventory's ``role`` value (``"switch"``).
        state: ``(name, device, lab) -> state`` the device boots with (a switch: ports and VLANs
            with the phones cabled to them).
        services: ``(twin, name) -> [Service, …]``, the role's own services (SIP, HTTP …).
        heal: ``async (twin, name)``, run by :meth:`Twin.heal` after the fault undos: puts back
            state no fault owns (a phone's flashed firmware goes back to the inventory's).
        shell: ``(twin, name, on_console) -> Shell``, the CLI behind SSH and the console; ``None``:
            a Linux host's shell.
        terminal: ``(twin, name) -> Terminal`` for interactive SSH sessions the role drives itself
            (a switch's IOS terminal); ``None``: the SSH server's line editor around ``shell``.
        ssh_started: ``(twin, name)`` when the device's SSH server starts (a switch resolves its
            enable secret then).
        sftp_root: ``(twin, name) -> folder`` served read only over SFTP; ``None``: no SFTP.
        sftp_writable: the ``sftp_root`` folder is served read-write (a Linux host a client puts
            files on: the PSTN simulator's host, for SIPp's scenarios).
        ssh_exec: ``(twin, name, command) -> awaitable (output, exit status)`` for the SSH exec
            requests the role runs itself (long ones: SIPp), ``None`` for the others (then
            ``shell``). The SSH server cancels the awaitable when the client closes the channel.
        boot_banner: ``(twin, name) -> text`` the console prints while the device boots.
        mib: the device's MIB as ``(subtree prefix, builder)`` sections in OID order, disjoint;
            empty: the SNMP server's system group alone.
        mib_key: ``state -> key``; while the key stays equal the SNMP server reuses the MIB it
            built across request messages (``None``: one build per message).
        unplugged: ``(twin, other device) -> undo``, when another device loses power (``down``): what
            this role's devices see of it goes (a switch: the port cabled to it goes dark).
        mac_swapped: ``(twin, other device, mac) -> undo``, when another unit with ``mac`` takes a
            device's place (a switch: its port's neighbour shows that MAC).
    """

    role: str
    state: Callable[[str, AnyDevice, Lab], S]
    services: Factory = _no_services
    heal: Callable[[Twin, str], Awaitable[None]] | None = None
    shell: Callable[[Twin, str, bool], Shell] | None = None
    terminal: Callable[[Twin, str], Terminal] | None = None
    ssh_started: Callable[[Twin, str], None] | None = None
    sftp_root: Callable[[Twin, str], Path] | None = None
    sftp_writable: bool = False
    ssh_exec: Callable[[Twin, str, str], Awaitable[tuple[str, int]] | None] | None = None
    boot_banner: Callable[[Twin, str], str] | None = None
    mib: Sequence[tuple[OID, Callable[[S, str], Mib]]] = ()
    mib_key: Callable[[S], Hashable] | None = None
    unplugged: Callable[[Twin, str], Undo | None] | None = None
    mac_swapped: Callable[[Twin, str, str], Undo | None] | None = None


ROLES: dict[str, RoleSpec[Any]] = {}
_SERVERS: list[tuple[int, Factory]] = []


@dataclass(frozen=True)
class UnitSpec(Generic[S]):
    """A part of the lab outside ``devices`` that the twin serves like a device (the Genesys Cloud
    org behind the inventory's ``cloud:``). The protocol servers of devices (SSH, console, SNMP)
    never serve it; only its own ``services`` do.

    Attributes:
        role: what its faults name as their role (``"cloud"``).
        state: ``lab -> state``, or ``None`` when the lab has none of it; the state's ``name`` is the
            unit's name in faults, heal and status (it must differ from every device's).
        services: ``(twin, name) -> [Service, …]``.
        heal: ``async (twin, name)``, run by :meth:`Twin.heal` after the fault undos.
    """

    role: str
    state: Callable[[Lab], S | None]
    services: Factory = _no_services
    heal: Callable[[Twin, str], Awaitable[None]] | None = None


UNITS: list[UnitSpec[Any]] = []


def register_unit(spec: UnitSpec[S]) -> UnitSpec[S]:
    """Register a unit (once per role; a second registration is a ValueError)."""
    if any(u.role == spec.role for u in UNITS) or spec.role in ROLES:
        raise ValueError(f"twin unit {spec.role!r} is registered twice")
    UNITS.append(spec)
    return spec


def register_role(spec: RoleSpec[S]) -> RoleSpec[S]:
    """Register a role (once per role name; a second registration is a ValueError)."""
    if spec.role in ROLES:
        raise ValueError(f"twin role {spec.role!r} is registered twice")
    ROLES[spec.role] = spec
    return spec


def server_factory(rank: int) -> Callable[[Factory], Factory]:
    """Register ``(twin, device) -> [Service, …]`` of a role-agnostic server (decorator). A device's
    services start in rank order; the role's own services have :data:`ROLE_SERVICES_RANK`."""

    def deco(fn: Factory) -> Factory:
        _SERVERS.append((rank, fn))
        return fn

    return deco


class FaultSpec(Protocol):
    """A fault as the twin applies it (made by :func:`harness.twin.core.faults.declare`)."""

    @property
    def name(self) -> str: ...

    @property
    def help(self) -> str: ...

    @property
    def value_name(self) -> str | None:
        """Name of the value the fault needs (``"VERSION"``); ``None``: it takes none."""
        ...

    def role_names(self) -> tuple[str, ...]: ...

    async def inject(self, twin: Twin, device: str, value: str | None) -> Undo | None:
        """Check ``value`` and change the device; an async undo, or ``None`` when nothing is to undo.
        Raises ValueError (the user's message) for a value the fault refuses."""
        ...


FAULTS: dict[str, FaultSpec] = {}


def register_fault(fault: FaultSpec) -> None:
    """Add ``fault`` to :data:`FAULTS` (a name declared twice is a ValueError)."""
    if fault.name in FAULTS:
        raise ValueError(f"twin fault {fault.name!r} is declared twice")
    FAULTS[fault.name] = fault


def role_spec(role: str) -> RoleSpec[Any]:
    """The registered spec of ``role``; ValueError when no package registered it."""
    spec = ROLES.get(role)
    if spec is None:
        raise ValueError(f"no twin role {role!r} is registered (harness.twin.lab imports every role)")
    return spec


class ServiceStartError(Exception):
    """A service of a device could not start: ``"sw1 ssh 127.0.2.1:2222: address already in use (errno 98)"``.

    Attributes: ``device``, ``service`` (its ``name``), ``address`` (``host:port``), ``reason``.
    """

    def __init__(self, device: str, service: str, address: str, reason: str) -> None:
        self.device, self.service, self.address, self.reason = device, service, address, reason
        super().__init__(f"{device} {service} {address}: {reason}")


def _reason(e: BaseException) -> str:
    """The OS reason behind ``e`` (``"address already in use (errno 98)"``), else its message.

    Follows ``__cause__``/``__context__``: a service may wrap the ``OSError`` of ``bind``.
    """
    seen: set[int] = set()
    x: BaseException | None = e
    while x is not None and id(x) not in seen:
        seen.add(id(x))
        if isinstance(x, OSError) and x.errno:  # a gaierror's errno is negative: use its own text
            why = os.strerror(x.errno) if x.errno > 0 else str(x.strerror or x)
            return f"{why.lower()} (errno {x.errno})"
        x = x.__cause__ or x.__context__
    return str(e) or type(e).__name__


class Twin:
    """All devices of one inventory. ``runtime_dir`` holds host keys, known_hosts and state;
    :attr:`data_dir` what the devices of this inventory keep on disk.

    Raises ValueError at construction for a device whose role no package registered.
    """

    def __init__(self, loaded: LoadedLab, runtime_dir: Path) -> None:
        self.loaded = loaded
        self.lab = loaded.lab
        self.runtime_dir = runtime_dir
        self.roles: dict[str, RoleSpec[Any]] = {n: role_spec(d.role) for n, d in self.lab.devices.items()}
        self.states: dict[str, DeviceState] = {n: self.roles[n].state(n, d, self.lab)
                                               for n, d in self.lab.devices.items()}
        self.units: dict[str, UnitSpec[Any]] = {}  # unit name -> its spec (see register_unit)
        for unit in UNITS:
            st = unit.state(self.lab)
            if st is None:
                continue
            if st.name in self.states:
                raise ValueError(f"twin unit {unit.role} is named {st.name!r}, like a device of the inventory")
            self.states[st.name], self.units[st.name] = st, unit
        self.services: dict[str, list[Service]] = {}
        self.shared: dict[str, Any] = {}  # per-protocol shared objects (one SNMP engine for all devices)
        self._undo: dict[str, list[Undo]] = {}
        self._running: dict[str, bool] = {}
        self.stopping = asyncio.Event()

    @property
    def data_dir(self) -> Path:
        """``<runtime_dir>/twin-<inventory stem>/``: the devices' own files (an Edge's disk, the carrier
        host's call log, the emulated internet's certificates). Per inventory, since two labs kept in
        one folder share ``runtime_dir`` and may name their devices alike."""
        return self.runtime_dir / f"twin-{self.loaded.path.stem}"

    def secret(self, ref: str | None) -> str | None:
        return self.loaded.resolve(ref) if ref else None

    def _factories(self, device: str) -> list[Factory]:
        if device in self.units:
            return [self.units[device].services]
        ranked = [*_SERVERS, (ROLE_SERVICES_RANK, self.roles[device].services)]
        return [f for _, f in sorted(ranked, key=lambda r: r[0])]

    async def start(self) -> None:
        """Start every service of every device; on any failure stop what started, then re-raise.

        Raises:
            ServiceStartError: a service could not start (port taken, …).
        """
        self.runtime_dir.mkdir(parents=True, exist_ok=True)
        try:
            for name in self.states:
                self.services[name] = [s for f in self._factories(name) for s in f(self, name)]
            for name in self.states:
                await self.start_services(name)
        except BaseException:
            await self.shutdown()
            raise

    async def start_services(self, device: str) -> None:
        """Start the services of ``device``; all or none (those started are stopped on failure).

        Raises:
            ServiceStartError: naming device, service, ``host:port`` and the OS reason.
        """
        started: list[Service] = []
        for s in self.services.get(device, []):
            try:
                await s.start()
            except Exception as e:
                for done in reversed(started):
                    try:
                        await done.stop()
                    except Exception:  # keep the first error; this one only goes to the log
                        log.exception("%s %s: stop after a failed start", device, done.name)
                host = getattr(s, "host", self.states[device].host)
                port = getattr(s, "port", None)
                address = f"{host}:{port}" if port is not None else str(host)
                reason = _reason(e)
                if f"(errno {errno.EADDRINUSE})" in reason and port is not None and (who := holder_of(host, port)):
                    reason = f"{reason}, {who}"
                raise ServiceStartError(device, s.name, address, reason) from e
            started.append(s)
        self._running[device] = True

    async def stop_services(self, device: str, keep: tuple[str, ...] = ()) -> None:
        """Stop every service of ``device`` but those named in ``keep`` (an Edge's ``console`` line
        stays up through a software reboot, harness/twin/edge/software.py); when this returns their
        ports are free (a closed UDP transport lets go of its socket one loop turn after ``close``)."""
        for s in self.services.get(device, []):
            if s.name not in keep:
                await s.stop()
        self._running[device] = False
        for _ in range(2):
            await asyncio.sleep(0)

    async def shutdown(self) -> None:
        for name in self.states:
            if self._running.get(name):
                await self.stop_services(name)

    async def apply_fault(self, device: str, name: str, value: str | None) -> None:
        """Apply fault ``name`` (with ``value``) to ``device``. Raises ValueError with the user's
        message: unknown device or fault, a role the fault does not apply to, a value missing,
        refused or not wanted, the fault already on."""
        if device not in self.states:
            raise ValueError(f"no device {device!r} in the inventory")
        f = FAULTS.get(name)
        if f is None:
            raise ValueError(f"unknown fault {name!r}; see `hil lab fault --list`")
        st = self.states[device]
        roles = f.role_names()
        if st.role not in roles:
            raise ValueError(f"fault {name} applies to {', '.join(roles)}, not to {st.role} {device}")
        if not f.value_name and value is not None:
            raise ValueError(f"fault {name} takes no value")
        if f.value_name and not (isinstance(value, str) and value.strip()):
            raise ValueError(f"fault {name} needs a value: {name}={f.value_name}")
        if value is not None and not (len(value) <= MAX_VALUE_CHARS and value.isprintable()
                                      and value == value.strip()):
            raise ValueError(f"fault {name}: {f.value_name} must be 1..{MAX_VALUE_CHARS} printable characters "
                             "with no whitespace at either end")
        if name in st.faults:
            raise ValueError(f"{device} already has fault {name}; heal it first")
        undo = await f.inject(self, device, value)
        st.faults[name] = value
        if undo:
            self._undo.setdefault(device, []).append(undo)

    async def heal(self, device: str) -> list[str]:
        """Undo every fault of ``device`` (last applied first), then run its role's heal hook;
        returns the names of the faults healed. Raises ValueError for an unknown device."""
        if device not in self.states:
            raise ValueError(f"no device {device!r} in the inventory")
        st = self.states[device]
        healed = list(st.faults)
        undos = self._undo.get(device, [])
        while undos:  # an undo that raises (a port taken meanwhile) stays, with the faults, for the next heal
            await undos[-1]()
            undos.pop()
        self._undo.pop(device, None)
        st.faults.clear()
        hook = self.units[device].heal if device in self.units else self.roles[device].heal
        if hook is not None:
            await hook(self, device)
        return healed

    def unplugged(self, device: str) -> list[Undo]:
        """``device`` lost power: every role's ``unplugged`` hook runs (a switch takes the port cabled
        to it dark); returns their undos, to be run in reverse order."""
        return [u for spec in ROLES.values() if spec.unplugged is not None
                if (u := spec.unplugged(self, device)) is not None]

    def mac_swapped(self, device: str, mac: str) -> list[Undo]:
        """Another unit with ``mac`` took ``device``'s place: every role's ``mac_swapped`` hook runs;
        returns their undos, to be run in reverse order."""
        return [u for spec in ROLES.values() if spec.mac_swapped is not None
                if (u := spec.mac_swapped(self, device, mac)) is not None]

    def running(self, device: str) -> bool:
        """The device's services are started (not ``down``, not rebooting)."""
        return self._running.get(device, False)

    def status(self) -> dict[str, Any]:
        return {
            "lab": self.lab.lab.name,
            "inventory": str(self.loaded.path),
            "pid": os.getpid(),
            "devices": {
                n: {"role": s.role, "host": s.host, "faults": dict(s.faults),
                    "services": [x.name for x in self.services.get(n, [])], "up": self._running.get(n, False)}
                for n, s in self.states.items()
            },
        }

    def state_json(self, device: str) -> Any:
        """``device``'s state as plain JSON values (for the harness's own tests), every secret field
        as ``*****`` (:func:`~harness.twin.core.state.secret_field`). KeyError: no such device."""
        return json.loads(json.dumps(plain(self.states[device]), default=str))
