"""The twin process: every emulated device of an inventory, served from one asyncio loop.

Protocol modules register a *service factory* with :func:`service_factory`; for each device the
twin asks every factory for the services it serves (SSH CLI, SNMP agent, console, SIP …) and starts
them on the device's own address. The control channel (JSON lines on 127.0.0.1) applies faults,
heals devices, reports status and stops the process.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

from ..inventory import LoadedLab
from .faults import FAULTS
from .ios import populate_switch
from .state import DeviceState, SwitchState, initial_state

log = logging.getLogger("hil.twin")


class Service(Protocol):
    """One protocol endpoint of one device. ``start``/``stop`` may be called many times (``down``)."""

    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


Factory = Callable[["Twin", str], list[Service]]
_FACTORIES: list[Factory] = []


def service_factory(fn: Factory) -> Factory:
    """Register a function ``(twin, device_name) -> [Service, …]`` (decorator)."""
    _FACTORIES.append(fn)
    return fn


def load_protocol_modules() -> None:
    # Imported for their @service_factory registrations.
    from . import console, sip, snmp_agent, ssh  # noqa: F401


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
        load_protocol_modules()
        self.runtime_dir.mkdir(parents=True, exist_ok=True)
        for name in self.lab.devices:
            self.services[name] = [s for f in _FACTORIES for s in f(self, name)]
        for name in self.lab.devices:
            await self.start_services(name)

    async def start_services(self, device: str) -> None:
        for s in self.services.get(device, []):
            await s.start()
        self._running[device] = True

    async def stop_services(self, device: str) -> None:
        for s in self.services.get(device, []):
            await s.stop()
        self._running[device] = False

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
        if f.value and not value:
            raise ValueError(f"fault {name} needs a value: {name}={f.value}")
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
        for undo in reversed(self._undo.pop(device, [])):
            await undo()
        st.faults.clear()
        return healed

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
        try:
            while line := await reader.readline():
                try:
                    result: dict[str, Any] = {"ok": True, "result": await self.handle_control(json.loads(line))}
                except Exception as e:  # report to the client, keep serving
                    result = {"ok": False, "error": str(e)}
                writer.write(json.dumps(result).encode() + b"\n")
                await writer.drain()
        except (asyncio.CancelledError, ConnectionError):
            pass  # the twin is stopping, or the client went away
        finally:
            writer.close()


async def serve(loaded: LoadedLab, runtime_dir: Path, state_file: Path) -> None:
    """Run the twin until a ``stop`` request or SIGTERM; write ``state_file`` once ready."""
    twin = Twin(loaded, runtime_dir)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, twin.stopping.set)
    await twin.start()
    server = await asyncio.start_server(twin._control_client, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    tmp = state_file.with_suffix(".tmp")
    tmp.write_text(json.dumps({"pid": os.getpid(), "control_port": port, "inventory": str(loaded.path),
                               "started": time.time()}))
    tmp.replace(state_file)
    log.info("twin ready: %d devices, control on 127.0.0.1:%d", len(twin.states), port)
    try:
        await twin.stopping.wait()
    finally:
        server.close()
        await twin.shutdown()
        state_file.unlink(missing_ok=True)
