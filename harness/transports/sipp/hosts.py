"""Where SIPp runs: :class:`LocalHost` (a subprocess) or :class:`SshHost` (a lab host over SSH/SFTP).

See :mod:`harness.transports.sipp.runner` for the run, deadlines and files. The runs started and
not collected yet are tracked here (:func:`track`, :func:`forget`); :func:`stop_all` aborts them, at
interpreter exit for all of them and in :meth:`SshHost.close` for those on that host, so no SIPp
and no work folder outlives the process (or the SSH session) that started it.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import secrets
import shlex
import shutil
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol, TypeVar

import paramiko

from ...errors import LabError, LabProtocolError, LabTimeout, LabUnreachable
from ..ssh import SSHSession
from .result import FETCH_MAX_BYTES, OUT_FILE, PID_FILE

T = TypeVar("T")

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


class _SshJob:
    def __init__(self, host: SshHost, chan: paramiko.Channel, workdir: str) -> None:
        self.host, self.chan, self.workdir = host, chan, workdir

    def wait(self, timeout_s: float) -> int | None:
        if not self.chan.status_event.wait(max(0.0, timeout_s)):
            return None
        return int(self.chan.recv_exit_status())

    def signal(self, sig: int) -> None:
        if self.chan.exit_status_ready():
            return
        pid = self.host.read(f"{self.workdir}/{PID_FILE}").decode().strip()
        if pid.isdigit():
            self.host.exec(f"kill -{signal.Signals(sig).name.removeprefix('SIG')} {pid}")


class SshHost:
    """SIPp on a lab host over SSH: an :class:`~harness.transports.ssh.SSHSession` (paramiko).

    Files go up and come back by SFTP under ``<remote_dir>/hil-sipp-<random>``; SIPp runs on an
    exec channel of its own (``cd <dir> && exec sipp … > sipp.out``), so the session's other
    commands are not blocked; a stop is ``kill -USR1 <pid>`` on another channel. Every SFTP and
    exec step is bounded by ``ssh.timeout_s`` and recorded in the session's transcript.

    Needs on the host: an SFTP subsystem, a POSIX shell with ``kill``, and ``sipp`` in ``PATH``.
    Errors: :class:`~harness.errors.LabProtocolError` (transport ``ssh``) when the server offers no
    SFTP or an SFTP step fails; :class:`~harness.errors.LabUnreachable` when the connection drops
    or ``sipp`` is not on the host (exit 127); LabTimeout / LabAuthError from the session.
    """

    def __init__(self, session: SSHSession, remote_dir: str = "/tmp", keep: bool = False) -> None:
        self.session = session
        self.remote_dir = remote_dir.rstrip("/") or "/"
        self.keep = keep
        self.where = f"ssh {session.address}"
        self._sftp: paramiko.SFTPClient | None = None

    @property
    def timeout_s(self) -> float:
        return self.session.settings.timeout_s

    def _error(self, cls: type[LabError], detail: str) -> LabError:
        return self.session._error(cls, detail)  # names device, ssh, address; masks; records

    def sftp(self) -> paramiko.SFTPClient:
        """The SFTP client, opened on first use on a channel bounded by ``ssh.timeout_s``.

        Raises:
            LabProtocolError: the server refuses the ``sftp`` subsystem or does not speak SFTP on it.
            LabTimeout: the SFTP handshake did not finish in time.
        """
        if self._sftp is not None and not getattr(self._sftp.sock, "closed", True):
            return self._sftp
        sftp = self.session.open_sftp("the SIPp scenario cannot be uploaded")
        self._sftp = sftp
        return sftp

    def _sftp_step(self, what: str, fn: Callable[..., T], *args: object) -> T:
        self.session.transcript.event(f"sftp {what}")
        try:
            return fn(*args)
        except TimeoutError:
            raise self._error(LabTimeout, f"SFTP {what}: no answer within {self.timeout_s:g} s") from None
        except (OSError, paramiko.SSHException, paramiko.SFTPError, EOFError) as e:
            raise self._error(LabProtocolError, f"SFTP {what} failed: {e}") from None

    def make_dir(self, device: str, address: str, files: Mapping[str, bytes]) -> str:
        sftp = self.sftp()
        d = f"{self.remote_dir}/hil-sipp-{secrets.token_hex(6)}"
        self._sftp_step(f"mkdir {d}", sftp.mkdir, d, 0o700)
        for name, data in files.items():
            self._sftp_step(f"put {d}/{name} ({len(data)} bytes)", sftp.putfo, io.BytesIO(data), f"{d}/{name}")
        return d

    def read(self, path: str) -> bytes:
        buf = io.BytesIO()
        self._sftp_step(f"get {path}", self.sftp().getfo, path, buf)
        return buf.getvalue()

    def exec(self, command: str) -> tuple[int, str]:
        """Run a short command on its own channel within ``ssh.timeout_s``: (exit status, output).

        Raises LabTimeout / LabUnreachable as :meth:`~harness.transports.ssh.SSHSession.run` does.
        """
        out = self.session.run(command, self.timeout_s)
        status = self.session.last_exit_status
        return (status if status is not None else -1), out

    def spawn(self, device: str, address: str, argv: list[str], workdir: str) -> SippJob:
        cmd = (f"cd {shlex.quote(workdir)} && echo $$ > {PID_FILE} && exec {shlex.join(argv)} "
               f"> {OUT_FILE} 2>&1")
        self.session.transcript.sent(cmd)
        chan = self.session.open_channel()
        try:
            chan.settimeout(None)  # SIPp runs longer than one SSH deadline; the run's own deadline applies
            chan.exec_command(cmd)
        except (paramiko.SSHException, EOFError, OSError) as e:
            raise self._error(LabUnreachable, f"could not start SIPp: {e}") from None
        return _SshJob(self, chan, workdir)

    def fetch(self, workdir: str) -> dict[str, bytes]:
        sftp = self.sftp()
        out = {}
        for attr in self._sftp_step(f"list {workdir}", sftp.listdir_attr, workdir):
            if (attr.st_size or 0) <= FETCH_MAX_BYTES:
                out[attr.filename] = self.read(f"{workdir}/{attr.filename}")
        return out

    def close(self) -> None:
        """Abort the SIPp runs on this host not collected yet (:func:`stop_all`), then close the SFTP
        channel (the SSH session stays open)."""
        stop_all(self)
        sftp, self._sftp = self._sftp, None
        if sftp is not None:
            with contextlib.suppress(Exception):  # closing a dead channel must not mask anything
                sftp.close()

    def remove(self, workdir: str) -> None:
        if self.keep:
            return
        with contextlib.suppress(LabError):
            sftp = self.sftp()
            for name in self._sftp_step(f"list {workdir}", sftp.listdir, workdir):
                self._sftp_step(f"remove {workdir}/{name}", sftp.remove, f"{workdir}/{name}")
            self._sftp_step(f"rmdir {workdir}", sftp.rmdir, workdir)


# --- the runner ----------------------------------------------------------------------------------
