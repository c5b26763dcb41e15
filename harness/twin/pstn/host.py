"""The PSTN simulator's Linux host as the harness reaches it over SSH: SFTP, its call log as a file,
and SIPp run for real.

A real carrier host (``hil carrier serve`` on a lab's Linux machine, docs/carrier.md) has an SSH
server with SFTP and a shell; the harness puts SIPp's scenario there by SFTP, starts SIPp on an exec
channel and stops it with ``kill`` (:class:`harness.transports.sipp.ssh_host.SshHost`). The twin's PSTN
host does the same, so that path runs in the tests:

* **SFTP** (asyncssh's SFTP server, read-write) chrooted to :func:`host_root`,
  ``<data_dir>/pstn-host/<device>/`` (``Twin.data_dir``), which holds ``tmp/`` (SIPp's work folders) and the call
  log at its ``facts.call_log`` path (``var/log/hil-pstn/calls.csv``), rewritten while it changes
  (:class:`CallLogFileService`, :func:`~harness.twin.pstn.call_log.keep_written`).
* **Exec** of exactly the two commands :class:`~harness.transports.sipp.ssh_host.SshHost` sends
  (:func:`ssh_exec`): ``cd DIR && echo $$ > PIDFILE && exec sipp ARGS > OUT 2>&1`` runs this machine's
  ``sipp`` (Debian ``sip-tester``) without a shell, in DIR inside the chroot, its output in OUT and
  its pid in PIDFILE, and answers with SIPp's exit status when it ends; ``kill -SIG PID`` signals a
  SIPp this host started (any other pid: ``No such process``). A program other than ``sipp`` is
  ``command not found`` (exit 127), as a host without SIPp answers. Every other command goes to the
  host's shell (:mod:`.role`). A SIPp whose SSH channel closes is killed, and so is every one still
  running when the device's services stop (``down``, the twin's end): :class:`CallLogFileService`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import shlex
import shutil
import signal
from collections.abc import Awaitable
from pathlib import Path

from ...inventory.models import PstnDevice
from ..core.twin import Twin
from .call_log import call_log_for, keep_written

log = logging.getLogger("hil.twin.pstn")

_SIPP = re.compile(r"^cd (\S+) && echo \$\$ > (\S+) && exec (.+) > (\S+) 2>&1$")
_KILL = re.compile(r"^kill -([A-Z0-9]+) (\d+)$")
SIPP_KILL_WAIT_S = 5.0  # project choice: a killed SIPp is waited for this long


def host_root(twin: Twin, device: str) -> Path:
    """The chroot of ``device``'s SFTP (made with ``tmp/`` and the call log's folder)."""
    root = twin.data_dir / "pstn-host" / device
    (root / "tmp").mkdir(parents=True, exist_ok=True)
    call_log_path(twin, device).parent.mkdir(parents=True, exist_ok=True)
    return root


def call_log_path(twin: Twin, device: str) -> Path:
    """Where the call log file is on this machine (``facts.call_log`` inside :func:`host_root`)."""
    dev = twin.lab.devices[device]
    assert isinstance(dev, PstnDevice)
    return twin.data_dir / "pstn-host" / device / dev.facts.call_log.lstrip("/")


def _running(twin: Twin, device: str) -> dict[int, asyncio.subprocess.Process]:
    procs: dict[str, dict[int, asyncio.subprocess.Process]] = twin.shared.setdefault("pstn_sipp", {})
    return procs.setdefault(device, {})


def _inside(root: Path, remote: str) -> Path | None:
    """``remote`` (an absolute path as the client sees it) on this machine, None outside the chroot."""
    p = (root / remote.lstrip("/")).resolve()
    return p if p.is_relative_to(root.resolve()) else None


def ssh_exec(twin: Twin, device: str, command: str) -> Awaitable[tuple[str, int]] | None:
    """The SIPp start and ``kill`` of :class:`~harness.transports.sipp.ssh_host.SshHost`, else None."""
    cmd = command.strip()
    if m := _SIPP.match(cmd):
        return _sipp(twin, device, *m.groups())
    if m := _KILL.match(cmd):
        return _kill(twin, device, m.group(1), int(m.group(2)))
    return None


async def _kill(twin: Twin, device: str, name: str, pid: int) -> tuple[str, int]:
    sig = getattr(signal, f"SIG{name}", None) if not name.isdigit() else int(name)
    proc = _running(twin, device).get(pid)
    if sig is None:
        return f"-bash: kill: {name}: invalid signal specification\n", 1
    if proc is None or proc.returncode is not None:
        return f"-bash: kill: ({pid}) - No such process\n", 1
    proc.send_signal(sig)
    return "", 0


async def _sipp(twin: Twin, device: str, cd: str, pid_file: str, argv_text: str, out_file: str) -> tuple[str, int]:
    root = host_root(twin, device)
    try:
        where, argv = shlex.split(cd)[0], shlex.split(argv_text)
    except ValueError as e:
        return f"-bash: {e}\n", 2
    workdir = _inside(root, where)
    if workdir is None or not workdir.is_dir():
        return f"-bash: cd: {where}: No such file or directory\n", 1
    out_path, pid_path = _inside(workdir, out_file), _inside(workdir, pid_file)
    if out_path is None or pid_path is None:
        return "-bash: permission denied\n", 1
    exe = shutil.which(argv[0]) if argv and argv[0] == "sipp" else None
    if exe is None:
        out_path.write_text(f"-bash: {argv[0] if argv else ''}: command not found\n")
        return "", 127
    with out_path.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(exe, *argv[1:], cwd=workdir, stdin=asyncio.subprocess.DEVNULL,
                                                    stdout=out, stderr=asyncio.subprocess.STDOUT)
    running = _running(twin, device)
    running[proc.pid] = proc
    pid_path.write_text(f"{proc.pid}\n")
    try:
        status = await proc.wait()
    finally:
        running.pop(proc.pid, None)
        await _stop(proc)
    return "", status if status >= 0 else 128 - status  # killed by a signal: 128 + its number, as a shell says


async def _stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(proc.wait(), SIPP_KILL_WAIT_S)


class CallLogFileService:
    """``host`` of a PSTN simulator with ``ssh``: its call log kept written into the SFTP chroot,
    and, when it stops, every SIPp this host started killed."""

    name = "host"

    def __init__(self, twin: Twin, device: str) -> None:
        self.twin, self.device = twin, device
        self.host = twin.lab.devices[device].host
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._task is not None:
            return
        host_root(self.twin, self.device)
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(keep_written(call_log_for(self.twin, self.device),
                                                      call_log_path(self.twin, self.device), self._stop),
                                         name=f"{self.device} call log file")

    async def stop(self) -> None:
        for proc in list(_running(self.twin, self.device).values()):
            await _stop(proc)
        task, self._task = self._task, None
        if task is not None:
            self._stop.set()
            try:
                await task
            except OSError as e:
                log.warning("%s: call log file: %s", self.device, e)
