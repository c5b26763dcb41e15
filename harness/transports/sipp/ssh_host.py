"""SIPp on a lab host over SSH and SFTP (paramiko): :class:`SshHost`, one of the
:class:`~.hosts.SippHost` kinds (:class:`~.hosts.LocalHost` is the other).

A module of its own so that paramiko (about 0.2 s of CPU to import) is imported by the processes that
open an SSH session, not by every process that imports :mod:`.hosts` (the plugin does, for
:func:`~.hosts.stop_all`). The runs it starts are tracked in :mod:`.hosts` like the local ones.
"""

from __future__ import annotations

import contextlib
import io
import secrets
import shlex
import signal
from collections.abc import Callable, Mapping
from typing import TypeVar

import paramiko

from ...errors import LabError, LabProtocolError, LabTimeout, LabUnreachable
from ..ssh import SSHSession
from .hosts import SippJob, stop_all
from .result import FETCH_MAX_BYTES, OUT_FILE, PID_FILE

T = TypeVar("T")


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
