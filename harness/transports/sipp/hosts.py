"""Where SIPp runs: :class:`LocalHost` (a subprocess) or :class:`~.ssh_host.SshHost` (a lab host over
SSH/SFTP, in :mod:`.ssh_host`: paramiko is imported where an SSH session is opened, not by every
process that imports this module).

See :mod:`harness.transports.sipp.runner` for the run, deadlines and files. The runs started and
not collected yet are tracked here (:func:`track`, :func:`forget`); :func:`stop_all` aborts them, at
interpreter exit for all of them and in :meth:`~.ssh_host.SshHost.close` for those on that host, so
no SIPp and no work folder outlives the process (or the SSH session) that started it.
"""

from __future__ import annotations

import atexit
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol

from ...errors import LabUnreachable
from .result import FETCH_MAX_BYTES, OUT_FILE

#: runs started in this process and not collected yet: key -> (host, abort)
_LIVE: dict[object, tuple[object, Callable[[], None]]] = {}
_LIVE_LOCK = threading.Lock()


def track(key: object, host: object, abort: Callable[[], None]) -> None:
    """Note a run started on ``host``; ``abort()`` kills it and removes its work folder."""
    with _LIVE_LOCK:
        _LIVE[key] = (host, abort)


def forget(key: object) -> None:
    """The run ``key`` was collected or aborted."""
    with _LIVE_LOCK:
        _LIVE.pop(key, None)


def stop_all(host: object | None = None) -> int:
    """Abort every run not collected yet (only those on ``host`` when given); returns how many.
    Registered with :mod:`atexit`: a pytest interrupted by Ctrl-C or SIGTERM leaves no SIPp behind."""
    with _LIVE_LOCK:
        aborts = [abort for h, abort in _LIVE.values() if host is None or h is host]
    for abort in aborts:
        abort()
    return len(aborts)


atexit.register(stop_all)


class SippJob(Protocol):
    """A running SIPp process."""

    def wait(self, timeout_s: float) -> int | None:
        """Its exit status once it ends within ``timeout_s``, else ``None``."""

    def signal(self, sig: int) -> None:
        """Send ``sig`` to it (by its pid)."""


class SippHost(Protocol):
    """Where SIPp runs: make a work folder with files, start SIPp there, fetch what it wrote."""

    where: str

    def make_dir(self, device: str, address: str, files: Mapping[str, bytes]) -> str: ...

    def spawn(self, device: str, address: str, argv: list[str], workdir: str) -> SippJob: ...

    def fetch(self, workdir: str) -> dict[str, bytes]: ...

    def remove(self, workdir: str) -> None: ...


class _LocalJob:
    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc

    def wait(self, timeout_s: float) -> int | None:
        try:
            return self.proc.wait(max(0.0, timeout_s))
        except subprocess.TimeoutExpired:
            return None

    def signal(self, sig: int) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)


class LocalHost:
    """SIPp on this machine (``subprocess``), each run in its own temporary folder.

    Args:
        keep: leave the work folders in place (for a person to read the traces).
    """

    where = "local"

    def __init__(self, keep: bool = False) -> None:
        self.keep = keep

    def make_dir(self, device: str, address: str, files: Mapping[str, bytes]) -> str:
        d = Path(tempfile.mkdtemp(prefix="hil-sipp-"))
        for name, data in files.items():
            (d / name).write_bytes(data)
        return str(d)

    def spawn(self, device: str, address: str, argv: list[str], workdir: str) -> SippJob:
        exe = shutil.which(argv[0])
        if exe is None:
            raise LabUnreachable(device, "sipp", address, f"SIPp ({argv[0]!r}) is not installed on this machine "
                                 "(Debian: apt-get install sip-tester)")
        with open(Path(workdir) / OUT_FILE, "wb") as out:
            # in the caller's process group: `hil run` kills pytest's group, SIPp included, at its end
            proc = subprocess.Popen([exe, *argv[1:]], cwd=workdir, stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT)
        return _LocalJob(proc)

    def fetch(self, workdir: str) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in Path(workdir).iterdir()
                if p.is_file() and p.stat().st_size <= FETCH_MAX_BYTES}

    def remove(self, workdir: str) -> None:
        if not self.keep:
            shutil.rmtree(workdir, ignore_errors=True)


# --- the runner ----------------------------------------------------------------------------------
