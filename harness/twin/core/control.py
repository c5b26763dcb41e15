"""The twin's control channel, and :func:`serve`, which runs a twin with it.

JSON lines on ``127.0.0.1`` (port in the state file the manager reads): one request object per
line, one reply per line, ``{"ok": true, "result": …}`` or ``{"ok": false, "error": "…"}``. Ops:
``status``; ``fault`` (``device``, ``fault``, ``value``); ``heal`` (``device``); ``heal-all``;
``faults`` (every fault: name, roles, value name, help); ``state`` (``device``: its state as JSON,
for the harness's own tests); ``stop``. The client side is :class:`harness.twin.manager.TwinControl`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import time
from pathlib import Path
from typing import Any

from ...inventory import LoadedLab
from .twin import FAULTS, Twin

log = logging.getLogger("hil.twin")

CONTROL_LINE_LIMIT = 1 << 20  # bytes per control request; project choice, real requests are < 1 KiB


async def handle_control(twin: Twin, req: dict[str, Any]) -> Any:
    """The result of one control request. Raises ValueError (bad request) or KeyError (a field missing)."""
    if not isinstance(req, dict):
        raise ValueError("a control request is a JSON object")
    op = req.get("op")
    if op == "status":
        return twin.status()
    if op == "fault":
        await twin.apply_fault(req["device"], req["fault"], req.get("value"))
        return twin.status()["devices"][req["device"]]
    if op == "heal":
        return {"healed": await twin.heal(req["device"])}
    if op == "heal-all":
        return {n: await twin.heal(n) for n in twin.states}
    if op == "faults":
        return [{"name": f.name, "roles": list(f.role_names()), "value": f.value_name, "help": f.help}
                for f in FAULTS.values()]
    if op == "state":  # for the harness's own tests: a device's state as JSON
        return twin.state_json(req["device"])
    if op == "stop":
        twin.stopping.set()
        return "stopping"
    raise ValueError(f"unknown control op {op!r}")


async def _control_client(twin: Twin, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Serve one control connection: one JSON request per line, one JSON reply per line.

    A line over :data:`CONTROL_LINE_LIMIT` bytes is skipped and answered with an error.
    """
    try:
        while (line := await _read_line(reader)) != b"":
            try:
                if line is None:
                    raise ValueError(f"control request longer than {CONTROL_LINE_LIMIT} bytes refused")
                result: dict[str, Any] = {"ok": True, "result": await handle_control(twin, json.loads(line))}
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

    Serves the roles and servers registered so far (:mod:`harness.twin.lab` registers all).

    Raises:
        ServiceStartError: a service could not start; nothing stays bound and no state file is written.
    """
    twin = Twin(loaded, runtime_dir)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, twin.stopping.set)
    await twin.start()  # stops what it started when it fails
    try:
        server = await asyncio.start_server(lambda r, w: _control_client(twin, r, w), "127.0.0.1", 0,
                                            limit=CONTROL_LINE_LIMIT)
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
