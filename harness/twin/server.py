"""The twin process: every emulated device of an inventory, served from one asyncio loop.

Protocol modules register a *service factory* with :func:`service_factory`; for each device the
twin asks every factory for the services it serves (SSH CLI, SNMP agent, console, SIP …) and starts
them on the device's own address. The control channel (JSON lines on 127.0.0.1) applies faults,
heals devices, reports status and stops the process.

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
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

from ..inventory import LoadedLab
from .faults import FAULTS, MAX_VALUE_CHARS
from .ios import populate_switch
from .port_holder import holder_of
from .state import DeviceState, SwitchState, initial_state

log = logging.getLogger("hil.twin")

CONTROL_LINE_LIMIT = 1 << 20  # bytes per control request; project choice, real requests are < 1 KiB


class Service(Protocol):
    """One protocol endpoint of one device. ``start``/``stop`` may be called many times (``down``)."""

    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


Factory = Callable[["Twin", str], list[Service]]
_FACTORIES: list[Factory] = []
HealHook = Callable[["Twin", str], Awaitable[None]]
_HEAL_HOOKS: list[HealHook] = []


def heal_hook(fn: HealHook) -> HealHook:
    """Register ``async fn(twin, device)``, run by :meth:`Twin.heal` after the fault undos: puts back
    state no fault owns (a phone's flashed firmware goes back to the inventory's, docs/firmware.md)."""
    _HEAL_HOOKS.append(fn)
    return fn


def service_factory(fn: Factory) -> Factory:
    """Register a function ``(twin, device_name) -> [Service, …]`` (decorator)."""
    _FACTORIES.append(fn)
    return fn


def load_protocol_modules() -> None:
    # Imported for their @service_factory registrations.
    from . import console, edge_sip, edge_software, phone_sip, provisioning, pstn_sip, snmp_agent, ssh  # noqa: F401


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
    """All devices of one inventory. ``runtime_dir`` holds host keys, known_hosts and state."""

    def __init__(self, loaded: LoadedLab, runtime_dir: Path) -> None:
        self.loaded = loaded
        self.lab = loaded.lab
        self.runtime_dir = runtime_dir
        self.states: dict[str, DeviceState] = {n: initial_state(n, d) for n, d in self.lab.devices.items()}
        for n, st in self.states.items():
            if isinstance(st, SwitchState):
                populate_switch(st, n, self.lab)  # ports and VLANs, with the phones cabled to them
        self.services: dict[str, list[Service]] = {}
        self.shared: dict[str, Any] = {}  # per-protocol shared objects (one SNMP engine for all devices)
        self._undo: dict[str, list[Callable[[], Awaitable[None]]]] = {}
        self._running: dict[str, bool] = {}
        self.stopping = asyncio.Event()

    def secret(self, ref: str | None) -> str | None:
        return self.loaded.resolve(ref) if ref else None

    async def start(self) -> None:
        """Start every service of every device; on any failure stop what started, then re-raise.

        Raises:
            ServiceStartError: a service could not start (port taken, …).
        """
        load_protocol_modules()
        self.runtime_dir.mkdir(parents=True, exist_ok=True)
        try:
            for name in self.lab.devices:
                self.services[name] = [s for f in _FACTORIES for s in f(self, name)]
            for name in self.lab.devices:
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
                host = getattr(s, "host", self.lab.devices[device].host)
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
        stays up through a software reboot, harness/twin/edge_software.py); when this returns their
        ports are free (a closed UDP transport lets go of its socket one loop turn after ``close``)."""
        for s in self.services.get(device, []):
            if s.name not in keep:
                await s.stop()
        self._running[device] = False
        for _ in range(2):
            await asyncio.sleep(0)

    async def shutdown(self) -> None:
        for name in self.lab.devices:
            if self._running.get(name):
                await self.stop_services(name)

    async def apply_fault(self, device: str, name: str, value: str | None) -> None:
        if device not in self.states:
            raise ValueError(f"no device {device!r} in the inventory")
        f = FAULTS.get(name)
        if f is None:
            raise ValueError(f"unknown fault {name!r}; see `hil lab fault --list`")
        st = self.states[device]
        if st.role not in f.roles:
            raise ValueError(f"fault {name} applies to {', '.join(f.roles)}, not to {st.role} {device}")
        if not f.value and value is not None:
            raise ValueError(f"fault {name} takes no value")
        if f.value and not (isinstance(value, str) and value.strip()):
            raise ValueError(f"fault {name} needs a value: {name}={f.value}")
        if value is not None and not (len(value) <= MAX_VALUE_CHARS and value.isprintable()
                                      and value == value.strip()):
            raise ValueError(f"fault {name}: {f.value} must be 1..{MAX_VALUE_CHARS} printable characters "
                             "with no whitespace at either end")
        if name in st.faults:
            raise ValueError(f"{device} already has fault {name}; heal it first")
        undo = await f.apply(self, device, value)
        st.faults[name] = value
        if undo:
            self._undo.setdefault(device, []).append(undo)

    async def heal(self, device: str) -> list[str]:
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
        for hook in _HEAL_HOOKS:
            await hook(self, device)
        return healed

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

    # --- control channel ---------------------------------------------------------------

    async def handle_control(self, req: dict[str, Any]) -> Any:
        if not isinstance(req, dict):
            raise ValueError("a control request is a JSON object")
        op = req.get("op")
        if op == "status":
            return self.status()
        if op == "fault":
            await self.apply_fault(req["device"], req["fault"], req.get("value"))
            return self.status()["devices"][req["device"]]
        if op == "heal":
            return {"healed": await self.heal(req["device"])}
        if op == "heal-all":
            return {n: await self.heal(n) for n in self.states}
        if op == "faults":
            return [{"name": f.name, "roles": list(f.roles), "value": f.value, "help": f.help}
                    for f in FAULTS.values()]
        if op == "state":  # for the harness's own tests: a device's state as JSON
            from dataclasses import asdict

            return json.loads(json.dumps(asdict(self.states[req["device"]]), default=str))
        if op == "stop":
            self.stopping.set()
            return "stopping"
        raise ValueError(f"unknown control op {op!r}")

    async def _control_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one control connection: one JSON request per line, one JSON reply per line.

        A line over :data:`CONTROL_LINE_LIMIT` bytes is skipped and answered with an error.
        """
        try:
            while (line := await _read_line(reader)) != b"":
                try:
                    if line is None:
                        raise ValueError(f"control request longer than {CONTROL_LINE_LIMIT} bytes refused")
                    result: dict[str, Any] = {"ok": True, "result": await self.handle_control(json.loads(line))}
                except KeyError as e:
                    result = {"ok": False, "error": f"control request lacks {e}"}
                except Exception as e:  # report to the client, keep serving
                    result = {"ok": False, "error": str(e) or type(e).__name__}
                writer.write(json.dumps(result).encode() + b"\n")
                await writer.drain()
        except (asyncio.CancelledError, ConnectionError):
            pass  # the twin is stopping, or the client went away
        finally:
            writer.close()


async def _read_line(reader: asyncio.StreamReader) -> bytes | None:
    """The next line, ``b""`` at EOF, or ``None`` once an over-long line has been skipped."""
    too_long = False
    while True:
        try:
            line = await reader.readuntil(b"\n")
        except asyncio.IncompleteReadError as e:  # EOF: a last line without newline, or nothing
            return None if too_long else e.partial
        except asyncio.LimitOverrunError as e:  # drop what is buffered, keep reading to the newline
            too_long = True
            await reader.readexactly(e.consumed)
            continue
        return None if too_long else line


async def serve(loaded: LoadedLab, runtime_dir: Path, state_file: Path) -> None:
    """Run the twin until a ``stop`` request or SIGTERM; write ``state_file`` once ready.

    Raises:
        ServiceStartError: a service could not start; nothing stays bound and no state file is written.
    """
    twin = Twin(loaded, runtime_dir)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, twin.stopping.set)
    await twin.start()  # stops what it started when it fails
    try:
        server = await asyncio.start_server(twin._control_client, "127.0.0.1", 0, limit=CONTROL_LINE_LIMIT)
        try:
            port = server.sockets[0].getsockname()[1]
            tmp = state_file.with_suffix(".tmp")
            tmp.write_text(json.dumps({"pid": os.getpid(), "control_port": port, "inventory": str(loaded.path),
                                       "started": time.time()}))
            tmp.replace(state_file)
            log.info("twin ready: %d devices, control on 127.0.0.1:%d", len(twin.states), port)
            await twin.stopping.wait()
        finally:
            server.close()
    finally:
        await twin.shutdown()
        state_file.unlink(missing_ok=True)
