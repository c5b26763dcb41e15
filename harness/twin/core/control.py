"""The twin's control channel, and :func:`serve`, which runs a twin with it.

A Unix domain socket only the twin's owner can use: created with mode 0600 as
``<runtime dir>/twin-<inventory stem>.sock`` (in a private 0700 folder of its own under the
system's temporary folder when that path is longer than an ``AF_UNIX`` address allows), its path in
the state file the manager reads; a client whose peer credentials (``SO_PEERCRED``) name another
user is answered with a refusal and cut off, whatever the file's mode. There is no TCP port.

JSON lines: one request object per line, one reply per line, ``{"ok": true, "result": …}`` or
``{"ok": false, "error": "…"}``. Ops: ``status``; ``fault`` (``device``, ``fault``, ``value``);
``heal`` (``device``); ``heal-all``; ``faults`` (every fault: name, roles, value name, help);
``state`` (``device``: its state as JSON, for the harness's own tests); ``stop``. No reply carries a
secret: a state field declared secret (:func:`harness.twin.core.state.secret_field`) reads
``*****``, and every string of every reply goes through the inventory's secret mask. The client
side is :class:`harness.twin.manager.TwinControl`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import signal
import socket
import struct
import tempfile
import time
from pathlib import Path
from typing import Any

from ...inventory import LoadedLab
from ...inventory.secrets import MASK
from .twin import FAULTS, Twin

log = logging.getLogger("hil.twin")

CONTROL_LINE_LIMIT = 1 << 20  # bytes per control request; project choice, real requests are < 1 KiB
SUN_PATH_MAX = 107  # bytes of an AF_UNIX socket path on Linux (sockaddr_un.sun_path is 108, NUL included)
SOCKET_MODE = 0o600  # the owner only


def masked(value: Any) -> Any:
    """``value`` (JSON values) with every string, keys included, through the secret mask."""
    if isinstance(value, str):
        return MASK(value)
    if isinstance(value, dict):
        return {masked(k): masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v) for v in value]
    return value


async def handle_control(twin: Twin, req: dict[str, Any]) -> Any:
    """The result of one control request, masked (:func:`masked`). Raises ValueError (bad request) or
    KeyError (a field missing)."""
    return masked(await _handle(twin, req))


async def _handle(twin: Twin, req: dict[str, Any]) -> Any:
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


def peer_uid(sock: Any) -> int | None:
    """The user id of the process at the other end of a Unix socket (``SO_PEERCRED``), or None when
    the kernel does not say."""
    try:
        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    except (OSError, AttributeError):
        return None
    _pid, uid, _gid = struct.unpack("3i", creds)
    return int(uid)


async def _control_client(twin: Twin, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Serve one control connection: one JSON request per line, one JSON reply per line.

    A client of another user (peer credentials) gets one refusal and is cut off. A line over
    :data:`CONTROL_LINE_LIMIT` bytes is skipped and answered with an error.
    """
    uid = peer_uid(writer.get_extra_info("socket"))
    if uid != os.geteuid():
        log.warning("control channel: refused a client of user %s (the twin runs as user %d)", uid, os.geteuid())
        with contextlib.suppress(ConnectionError):
            writer.write(json.dumps({"ok": False, "error": "refused: the twin's control channel is its owner's "
                                                           "only"}).encode() + b"\n")
            await writer.drain()
        writer.close()
        return
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


def socket_path(state_file: Path) -> tuple[Path, Path | None]:
    """Where the control socket of the twin whose state file is ``state_file`` goes: beside it
    (``twin-<stem>.sock``), or, when that path is too long for ``AF_UNIX``, in a new private folder
    (mode 0700) under the system's temporary folder. Returns ``(path, that folder or None)``."""
    beside = state_file.with_suffix(".sock")
    if len(os.fsencode(beside)) <= SUN_PATH_MAX:
        return beside, None
    private = Path(tempfile.mkdtemp(prefix="hil-twin-"))
    return private / "control.sock", private


class ControlSocketError(Exception):
    """The control socket could not be made: ``control socket PATH: why``."""


async def _listen(twin: Twin, path: Path) -> asyncio.Server:
    """Listen on ``path`` with mode 0600 from the start (the umask is narrowed while binding).

    Raises:
        ControlSocketError: the path is taken by a socket that answers (another twin), or cannot be bound.
    """
    if path.exists() or path.is_symlink():
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(str(path))
        except OSError:
            path.unlink(missing_ok=True)  # a socket left by a twin that was killed
        else:
            raise ControlSocketError(f"control socket {path}: in use by another process")
        finally:
            probe.close()
    old = os.umask(0o177)
    try:
        server = await asyncio.start_unix_server(lambda r, w: _control_client(twin, r, w), str(path),
                                                 limit=CONTROL_LINE_LIMIT)
    except OSError as e:
        raise ControlSocketError(f"control socket {path}: {e.strerror or e}") from None
    finally:
        os.umask(old)
    os.chmod(path, SOCKET_MODE)
    return server


async def serve(loaded: LoadedLab, runtime_dir: Path, state_file: Path) -> None:
    """Run the twin until a ``stop`` request or SIGTERM; write ``state_file`` once ready.

    Serves the roles and servers registered so far (:mod:`harness.twin.lab` registers all). The
    state file holds ``pid``, ``control_socket`` (see :func:`socket_path`), ``inventory`` and
    ``started``; the socket goes when the twin stops.

    Raises:
        ServiceStartError: a service could not start; nothing stays bound and no state file is written.
        ControlSocketError: the control socket could not be made (the services are stopped again).
    """
    twin = Twin(loaded, runtime_dir)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, twin.stopping.set)
    await twin.start()  # stops what it started when it fails
    try:
        path, private = socket_path(state_file)
        try:
            server = await _listen(twin, path)
        except BaseException:
            if private is not None:
                shutil.rmtree(private, ignore_errors=True)
            raise
        try:
            tmp = state_file.with_suffix(".tmp")
            tmp.write_text(json.dumps({"pid": os.getpid(), "control_socket": str(path), "inventory": str(loaded.path),
                                       "started": time.time()}))
            tmp.replace(state_file)
            log.info("twin ready: %d devices, control on %s", len(twin.states), path)
            await twin.stopping.wait()
        finally:
            server.close()
            path.unlink(missing_ok=True)
            if private is not None:
                shutil.rmtree(private, ignore_errors=True)
    finally:
        await twin.shutdown()
        state_file.unlink(missing_ok=True)
