"""Start, find, talk to and stop the twin process of an inventory (``hil lab up|down|status``).

Runtime files live in ``<inventory folder>/.hil/``: ``twin-<stem>.json`` (pid and the path of the
control socket, ``twin-<stem>.sock``, mode 0600: see :mod:`harness.twin.core.control`),
``twin-<stem>.log``, ``twin-<stem>.lock`` (held while :func:`up` starts the twin, so two
``hil lab up`` or ``hil run`` at once start one twin), the twin's host keys and the ``known_hosts``
file it writes for them, and ``twin-<stem>.users/`` (the lease, below).

Lease: a process using a twin it may not have started (``hil run`` B while run A runs) registers
itself with :func:`up` or :func:`use` (one file per pid in ``twin-<stem>.users/``; files of dead
processes are ignored) and leaves with :func:`stop_if_unused`. A twin stops when its last user is
gone, unless it *stays*: a twin that ``hil lab up`` started or was called on (``up(stay=True)``, a
``stay`` mark in the users folder) runs until :func:`down`. The twin watches this itself
(:func:`stop_when_unused`, every :data:`USERS_POLL_S`), so a user that died without leaving (a
SIGKILLed ``hil run``) does not keep it alive. :func:`down` (``hil lab down``) is a forced stop and
ends every lease. All lease changes are made under ``twin-<stem>.lock``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import filelock

from ..errors import InventoryError
from ..inventory import LoadedLab, load
from ..lifecycle import pid_alive

START_TIMEOUT_S = 60.0  # project choice: 200-phone labs start in a few seconds on 2 cores
#: how often a twin that stops when unused looks for live users (project choice: a second after the
#: last run died, the twin's addresses are free again)
USERS_POLL_S = 1.0
#: the twin's command-line flag that makes it watch its users (:func:`stop_when_unused`)
WATCH_USERS_FLAG = "--stop-when-unused"


class TwinError(Exception):
    """The twin could not be started, reached or stopped."""


class NotEmulated(TwinError):
    """The inventory describes a real lab (``lab.emulated: false``): the twin must not impersonate it."""


def check_emulated(loaded: LoadedLab) -> None:
    """Raise :class:`NotEmulated` unless ``loaded`` is an emulated lab."""
    if not loaded.lab.lab.emulated:
        raise NotEmulated(f"lab {loaded.lab.lab.name} is not emulated: the twin serves only emulated labs "
                          f"(lab.emulated is false in {loaded.path})")


def runtime_dir(inventory: Path) -> Path:
    return inventory.resolve().parent / ".hil"


def state_file(inventory: Path) -> Path:
    return runtime_dir(inventory) / f"twin-{inventory.stem}.json"


def log_file(inventory: Path) -> Path:
    return runtime_dir(inventory) / f"twin-{inventory.stem}.log"


def lock_file(inventory: Path) -> Path:
    return runtime_dir(inventory) / f"twin-{inventory.stem}.lock"


def users_dir(inventory: Path) -> Path:
    return runtime_dir(inventory) / f"twin-{inventory.stem}.users"


STAY_MARK = "stay"  # in users_dir: the twin stays when unused (started, or adopted, by `hil lab up`)


def _start_time(pid: int) -> str:
    """The kernel's start time of ``pid`` (``/proc/<pid>/stat`` field 22), "" when unknown; tells a
    reused pid from the process that registered."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(") ", 1)[-1].split()[19]
    except (OSError, IndexError):
        return ""


def _register(inventory: Path) -> None:
    d = users_dir(inventory)
    d.mkdir(parents=True, exist_ok=True)
    (d / str(os.getpid())).write_text(_start_time(os.getpid()))


def _other_users(inventory: Path) -> list[int]:
    """Live pids other than ours registered as users (files of dead or reused pids are removed)."""
    live = []
    for f in users_dir(inventory).glob("[0-9]*"):
        pid = int(f.name) if f.name.isdigit() else -1
        if pid == os.getpid():
            continue
        try:
            same = pid_alive(pid) and f.read_text() == _start_time(pid)
        except OSError:
            same = False
        if same:
            live.append(pid)
        else:
            f.unlink(missing_ok=True)
    return live


@contextmanager
def _locked(inventory: Path, timeout_s: float) -> Iterator[None]:
    """Hold ``twin-<stem>.lock``; :class:`TwinError` when it stays taken for ``timeout_s`` s."""
    runtime_dir(inventory).mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(lock_file(inventory), timeout=timeout_s)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise TwinError(f"the twin lock {lock_file(inventory)} stayed taken for {timeout_s:.0f} s "
                        "(another process is starting or stopping the twin)") from None
    try:
        yield
    finally:
        lock.release()


def use(inventory: Path, timeout_s: float = START_TIMEOUT_S) -> bool:
    """Register this process as a user of the running twin of ``inventory``.

    Returns False (and registers nothing) when no twin runs. :func:`up` does this itself.

    Raises:
        TwinError: the start lock stayed taken for ``timeout_s`` s (a twin is being started).
    """
    inventory = inventory.resolve()
    with _locked(inventory, timeout_s):
        if read_state(inventory) is None:
            return False
        _register(inventory)
        return True


def release(inventory: Path) -> None:
    """Unregister this process as a user of the twin of ``inventory`` (no-op when not registered).
    Never stops the twin; see :func:`stop_if_unused`."""
    (users_dir(inventory.resolve()) / str(os.getpid())).unlink(missing_ok=True)


def stays(inventory: Path) -> bool:
    """Whether the twin of ``inventory`` stays when unused (``hil lab up`` started or adopted it)."""
    return (users_dir(inventory.resolve()) / STAY_MARK).exists()


def stop_if_unused(inventory: Path, timeout_s: float = START_TIMEOUT_S) -> bool:
    """Release this process's lease and stop the twin when no other live user is registered and it
    does not :func:`stay <stays>`. Returns True when it stopped the twin.

    Raises:
        TwinError: the start lock stayed taken for ``timeout_s`` s.
    """
    inventory = inventory.resolve()
    with _locked(inventory, timeout_s):
        release(inventory)
        if read_state(inventory) is None or stays(inventory) or _other_users(inventory):
            return False
        return down(inventory)


def stop_when_unused(inventory: Path, stop: Callable[[], None], period_s: float = USERS_POLL_S) -> None:
    """Run in the twin process (a daemon thread; ``python -m harness.twin INVENTORY
    --stop-when-unused``, as :func:`up` starts it): every ``period_s`` s, under ``twin-<stem>.lock``
    (a look is skipped while another process holds it), call ``stop()`` and return once the twin
    does not :func:`stay <stays>` and no registered user is alive. The lock is then kept until the
    process exits, so nobody registers with a twin that is stopping and a new one starts only once
    its addresses are free."""
    inventory = inventory.resolve()
    lock = filelock.FileLock(lock_file(inventory), thread_local=False)
    while True:
        time.sleep(period_s)
        try:
            lock.acquire(timeout=0)
        except filelock.Timeout:
            continue
        if not stays(inventory) and not _other_users(inventory):
            stop()
            return
        lock.release()


class TwinControl:
    """Client of a running twin's control channel (its Unix socket, which only the twin's owner
    may use). Raises :class:`TwinError` when none runs."""

    def __init__(self, inventory: Path, timeout_s: float = 15.0) -> None:
        self.inventory = inventory
        self.timeout_s = timeout_s
        info = read_state(inventory)
        if info is None:
            raise TwinError(f"no lab twin is running for {inventory} (start one with `hil lab up`)")
        self.info = info

    def call(self, op: str, **args: Any) -> Any:
        """Send one request and return its ``result`` within ``timeout_s``.

        Raises:
            TwinError: the twin refused the request (its message) or this user, did not answer in
                time, closed the channel without a reply, or replied with something that is not a
                JSON reply.
        """
        path = self.info.get("control_socket")
        where = f"twin control channel {path}"
        if not isinstance(path, str):
            raise TwinError(f"the state file of the twin of {self.inventory} names no control socket "
                            "(a twin of an older hil? stop it with `hil lab down`)")
        deadline = time.monotonic() + self.timeout_s
        buf = b""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(self.timeout_s)
                s.connect(path)
                s.sendall(json.dumps({"op": op, **args}).encode() + b"\n")
                while not buf.endswith(b"\n"):
                    s.settimeout(max(0.001, deadline - time.monotonic()))
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    buf += chunk
        except OSError as e:  # refused, reset, timed out
            raise TwinError(f"{where}: {op}: {e.strerror or e}") from None
        if not buf.endswith(b"\n"):
            raise TwinError(f"{where}: {op}: the twin closed the channel without a reply")
        try:
            reply = json.loads(buf)
        except ValueError:
            raise TwinError(f"{where}: {op}: the reply is not JSON") from None
        if not isinstance(reply, dict) or reply.get("ok") not in (True, False):
            raise TwinError(f"{where}: {op}: the reply is not a control reply")
        if not reply["ok"]:
            raise TwinError(str(reply.get("error") or "the twin refused the request"))
        return reply.get("result")

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
    """The running twin's state (pid, control socket …), or ``None`` (a stale file is removed)."""
    f = state_file(inventory)
    try:
        info: dict[str, Any] = json.loads(f.read_text())
        pid = int(info["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not pid_alive(pid):
        f.unlink(missing_ok=True)
        return None
    return info


def up(inventory: Path, timeout_s: float = START_TIMEOUT_S, stay: bool = False) -> tuple[dict[str, Any], bool]:
    """Start the twin in the background unless one runs; register this process as a user (see
    :func:`use`; leave with :func:`stop_if_unused`). Returns ``(state, started_by_us)``. The twin
    stops once its last user is gone, unless ``stay`` (``hil lab up``: it runs until :func:`down`,
    also when it was already running).

    Callers for the same inventory are serialized by ``twin-<stem>.lock``: the second waits for
    the first and then finds its twin (``started_by_us`` False). ``state`` is ``{"pid",
    "control_socket", "inventory", "started"}``.

    Raises:
        InventoryError: the inventory, or a secret the twin must serve, has problems.
        NotEmulated: the lab is real (``lab.emulated: false``).
        TwinError: the twin did not start within ``timeout_s``; its message is the twin's own
            ``twin: …`` line(s) when it gave one (``twin: sw1 ssh 127.0.2.1:2222: address already
            in use (errno 98)``). No twin process and no state file are left behind.
    """
    inventory = inventory.resolve()
    try:
        loaded = load(inventory)
    except InventoryError:
        check_emulated(load(inventory, check_secrets=False))  # a real lab's unset secrets are not ours
        raise
    check_emulated(loaded)
    with _locked(inventory, timeout_s):
        info, started = _up_locked(inventory, timeout_s)
        _register(inventory)
        if stay:
            (users_dir(inventory) / STAY_MARK).touch()
        return info, started


def _up_locked(inventory: Path, timeout_s: float) -> tuple[dict[str, Any], bool]:
    info = read_state(inventory)
    if info is not None:
        return info, False
    shutil.rmtree(users_dir(inventory), ignore_errors=True)  # leases of a twin that is gone
    log = log_file(inventory)
    offset = log.stat().st_size if log.exists() else 0
    logf = open(log, "ab")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen([sys.executable, "-m", "harness.twin", str(inventory), WATCH_USERS_FLAG], stdout=logf,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    logf.close()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise TwinError(_start_failure(log, offset, proc.returncode))
        info = read_state(inventory)
        if info is not None and info["pid"] == proc.pid:
            return info, True
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    state_file(inventory).unlink(missing_ok=True)
    raise TwinError(f"the lab twin did not become ready within {timeout_s:.0f} s; see {log}")


def _start_failure(log: Path, offset: int, code: int) -> str:
    """Why the twin exited while starting: its ``twin: …`` lines, else the tail of what it logged."""
    with open(log, "rb") as f:
        f.seek(offset)
        lines = f.read().decode(errors="replace").splitlines()
    own = [line for line in lines if line.startswith("twin: ")]
    if own:
        return "\n".join(own)
    return f"the lab twin exited with code {code} while starting (see {log}):\n" + "\n".join(lines[-15:])


def down(inventory: Path, timeout_s: float = 15.0) -> bool:
    """Stop the twin of ``inventory`` whoever uses it, ending every lease. Returns False when none
    was running."""
    inventory = inventory.resolve()
    info = read_state(inventory)
    shutil.rmtree(users_dir(inventory), ignore_errors=True)
    if info is None:
        return False
    pid = int(info["pid"])
    try:
        TwinControl(inventory).call("stop")
    except (OSError, TwinError, ValueError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if pid_alive(pid):
        os.kill(pid, signal.SIGKILL)
    state_file(inventory).unlink(missing_ok=True)
    return True
