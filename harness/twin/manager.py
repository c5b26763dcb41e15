"""Start, find, talk to and stop the twin process of an inventory (``hil lab up|down|status``).

Runtime files live in ``<inventory folder>/.hil/``: ``twin-<stem>.json`` (pid and control port),
``twin-<stem>.log``, the twin's host keys and the ``known_hosts`` file it writes for them.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

START_TIMEOUT_S = 60.0  # project choice: 200-phone labs start in a few seconds on 2 cores


class TwinError(Exception):
    """The twin could not be started, reached or stopped."""


def runtime_dir(inventory: Path) -> Path:
    return inventory.resolve().parent / ".hil"


def state_file(inventory: Path) -> Path:
    return runtime_dir(inventory) / f"twin-{inventory.stem}.json"


def log_file(inventory: Path) -> Path:
    return runtime_dir(inventory) / f"twin-{inventory.stem}.log"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child of ours counts as dead
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[-1][:1] != "Z"
    except OSError:
        return True


class TwinControl:
    """Client of a running twin's control channel. Raises :class:`TwinError` when none runs."""

    def __init__(self, inventory: Path, timeout_s: float = 15.0) -> None:
        self.inventory = inventory
        self.timeout_s = timeout_s
        info = read_state(inventory)
        if info is None:
            raise TwinError(f"no lab twin is running for {inventory} (start one with `hil lab up`)")
        self.info = info

    def call(self, op: str, **args: Any) -> Any:
        with socket.create_connection(("127.0.0.1", self.info["control_port"]), timeout=self.timeout_s) as s:
            s.sendall(json.dumps({"op": op, **args}).encode() + b"\n")
            buf = b""
            while not buf.endswith(b"\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
        reply = json.loads(buf or b'{"ok": false, "error": "twin closed the control channel"}')
        if not reply["ok"]:
            raise TwinError(reply["error"])
        return reply["result"]

    def fault(self, device: str, fault: str, value: str | None = None) -> Any:
        return self.call("fault", device=device, fault=fault, value=value)

    def heal(self, device: str) -> Any:
        return self.call("heal", device=device)

    def heal_all(self) -> Any:
        return self.call("heal-all")

    def status(self) -> Any:
        return self.call("status")

    def state(self, device: str) -> Any:
        return self.call("state", device=device)

    def faults(self) -> Any:
        return self.call("faults")


def read_state(inventory: Path) -> dict[str, Any] | None:
    """The running twin's pid and control port, or ``None`` (a stale file is removed)."""
    f = state_file(inventory)
    try:
        info: dict[str, Any] = json.loads(f.read_text())
    except (OSError, ValueError):
        return None
    if not _alive(int(info["pid"])):
        f.unlink(missing_ok=True)
        return None
    return info


def up(inventory: Path, timeout_s: float = START_TIMEOUT_S) -> tuple[dict[str, Any], bool]:
    """Start the twin in the background unless one runs. Returns ``(state, started_by_us)``."""
    inventory = inventory.resolve()
    info = read_state(inventory)
    if info is not None:
        return info, False
    rd = runtime_dir(inventory)
    rd.mkdir(parents=True, exist_ok=True)
    logf = open(log_file(inventory), "ab")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen([sys.executable, "-m", "harness.twin", str(inventory)], stdout=logf,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    logf.close()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log_file(inventory).read_text(errors="replace").splitlines()[-15:]
            raise TwinError("the lab twin exited while starting:\n" + "\n".join(tail))
        info = read_state(inventory)
        if info is not None and info["pid"] == proc.pid:
            return info, True
        time.sleep(0.05)
    proc.kill()
    raise TwinError(f"the lab twin did not become ready within {timeout_s:.0f} s; see {log_file(inventory)}")


def down(inventory: Path, timeout_s: float = 15.0) -> bool:
    """Stop the twin of ``inventory``. Returns False when none was running."""
    inventory = inventory.resolve()
    info = read_state(inventory)
    if info is None:
        return False
    pid = int(info["pid"])
    try:
        TwinControl(inventory).call("stop")
    except (OSError, TwinError, ValueError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
    state_file(inventory).unlink(missing_ok=True)
    return True
