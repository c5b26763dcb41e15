"""SSH servers of the twin (asyncssh): one per device that has ``ssh`` in the inventory.

Each server listens on the device's ``host:ssh.port`` and accepts only ``ssh.username`` with the
password behind ``ssh.password`` (resolved with ``twin.secret``). What runs behind it is the role's
(:class:`~harness.twin.core.twin.RoleSpec`): its CLI (:func:`.shell.shell_for`; a Linux host's when
the role gives none) for SSH exec requests and interactive shells, which use asyncssh's line editor
(it echoes typed characters as netmiko expects); a role that drives its interactive sessions itself
(a switch's IOS terminal) gives a ``terminal``, and one that runs some exec requests itself (the PSTN
host's SIPp) an ``ssh_exec``. A role with an ``sftp_root`` serves that folder over SFTP, read only
(an Edge's log bundles) unless it is ``sftp_writable`` (the PSTN host's SIPp work folders).

Host keys are generated once per device under ``<runtime_dir>/host_keys/<device>`` and kept.
At start the twin merges its keys into every known_hosts file the inventory names
(``ssh.known_hosts``, relative to the inventory folder): the lines of its own ``[host]:port``
entries are replaced and every other line is kept, so two labs sharing one file (two inventories
in one folder, both naming ``.hil/known_hosts``) and a person's ``~/.ssh/known_hosts`` keep their
entries. Each merge is a read-modify-write under ``.<file>.lock`` (filelock, waited for at most
``KNOWN_HOSTS_LOCK_TIMEOUT_S``) finished by an atomic replace, so twins starting at once cannot
lose each other's lines.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncssh
import filelock

from ..core.faces import Shell, Terminal
from ..core.twin import Service, Twin, server_factory
from .shell import shell_for

log = logging.getLogger("hil.twin.ssh")
LOGIN_TIMEOUT_S = 10.0  # project choice: a stuck client cannot hold a twin connection for long
KNOWN_HOSTS_LOCK_TIMEOUT_S = 10.0  # project choice: a merge takes milliseconds; longer means a hung writer


# --- host keys and known_hosts ----------------------------------------------------------------


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _host_key(twin: Twin, device: str) -> asyncssh.SSHKey:
    path = twin.runtime_dir / "host_keys" / device
    if path.is_file():
        return asyncssh.read_private_key(str(path))
    key = asyncssh.generate_private_key("ssh-ed25519")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # twins sharing a folder may race here
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key.export_private_key())
    os.replace(tmp, path)
    return key


def known_hosts_entry(host: str, port: int, key: asyncssh.SSHKey) -> str:
    """One OpenSSH known_hosts line: ``[host]:port ssh-ed25519 AAAA…`` (plain ``host`` on port 22)."""
    name = host if port == 22 else f"[{host}]:{port}"
    alg, blob = key.export_public_key("openssh").decode().split()[:2]
    return f"{name} {alg} {blob}"


def merge_known_hosts(path: Path, lines: list[str]) -> None:
    """Put ``lines`` (``known_hosts_entry`` lines) into the known_hosts file ``path``.

    Lines whose host field equals the host field of one of ``lines`` are dropped; every other line
    (other labs' hosts, a person's entries, comments) is kept in order, and ``lines`` are appended.
    Runs under the lock file ``.<name>.lock`` next to ``path`` and ends with an atomic replace.

    Raises:
        filelock.Timeout: another writer held the lock for ``KNOWN_HOSTS_LOCK_TIMEOUT_S``.
        OSError: the file or its folder cannot be read or written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    ours = {line.split()[0] for line in lines}
    with filelock.FileLock(path.with_name(f".{path.name}.lock"), timeout=KNOWN_HOSTS_LOCK_TIMEOUT_S):
        old = path.read_text().splitlines() if path.is_file() else []
        kept = [ln for ln in old if not ln.split()[:1] or ln.split()[0] not in ours]
        _atomic_write(path, "".join(ln + "\n" for ln in kept + lines))


def _host_keys(twin: Twin) -> dict[str, asyncssh.SSHKey]:
    """Keys of every SSH device, loaded or generated once; known_hosts files written on first use."""
    keys: dict[str, asyncssh.SSHKey] | None = twin.shared.get("ssh.host_keys")
    if keys is not None:
        return keys
    keys = {}
    files: dict[Path, list[str]] = {}
    for name, dev in twin.lab.devices.items():
        if dev.ssh is None:
            continue
        keys[name] = _host_key(twin, name)
        kh = twin.loaded.relative(dev.ssh.known_hosts).resolve()
        files.setdefault(kh, []).append(known_hosts_entry(dev.host, dev.ssh.port, keys[name]))
    for path, lines in files.items():
        merge_known_hosts(path, lines)
        log.info("merged %d host keys into %s", len(lines), path)
    twin.shared["ssh.host_keys"] = keys
    return keys


# --- the server ----------------------------------------------------------------------------------


class _Server(asyncssh.SSHServer):
    def __init__(self, svc: SshService) -> None:
        self.svc = svc
        self.conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        self.svc.connections.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.conn is not None:
            self.svc.connections.discard(self.conn)

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        want = self.svc.password
        return (username == self.svc.username and want is not None
                and hmac.compare_digest(password.encode(), want.encode()))


class SshService:
    """The SSH endpoint of one device. ``stop`` also drops open sessions (``down`` = power off)."""

    name = "ssh"

    def __init__(self, twin: Twin, device: str, key: asyncssh.SSHKey) -> None:
        self.twin = twin
        self.device = device
        self.key = key
        dev = twin.lab.devices[device]
        assert dev.ssh is not None
        self.host, self.port, self.username = dev.host, dev.ssh.port, dev.ssh.username
        self.password: str | None = None
        self.connections: set[asyncssh.SSHServerConnection] = set()
        self._acceptor: asyncssh.SSHAcceptor | None = None

    async def start(self) -> None:
        if self._acceptor is not None:
            return
        ssh = self.twin.lab.devices[self.device].ssh
        assert ssh is not None
        self.password = self.twin.secret(ssh.password)
        started = self.twin.roles[self.device].ssh_started
        if started is not None:
            started(self.twin, self.device)
        self._acceptor = await asyncssh.create_server(
            lambda: _Server(self), self.host, self.port, server_host_keys=[self.key],
            process_factory=self._process, encoding="utf-8", line_editor=True,
            sftp_factory=_sftp_factory(self.twin, self.device),
            login_timeout=LOGIN_TIMEOUT_S, reuse_address=True)

    async def stop(self) -> None:
        acc, self._acceptor = self._acceptor, None
        if acc is not None:
            acc.close()
            await acc.wait_closed()
        for conn in list(self.connections):
            conn.abort()
        self.connections.clear()

    async def _process(self, proc: asyncssh.SSHServerProcess[Any]) -> None:
        terminal = self.twin.roles[self.device].terminal
        try:
            if proc.command is not None:
                run = self.twin.roles[self.device].ssh_exec
                job = run(self.twin, self.device, proc.command) if run is not None else None
                if job is not None:
                    out, status = await _until_closed(proc, job)
                else:
                    out, status = shell_for(self.twin, self.device).exec(proc.command)
                proc.stdout.write(out)
                proc.exit(status)
                return
            if terminal is not None:
                await self._terminal(proc, terminal(self.twin, self.device))
            else:
                await self._interactive(proc, shell_for(self.twin, self.device))
        except (asyncssh.Error, BrokenPipeError, ConnectionError):
            pass  # the client went away
        proc.exit(0)

    async def _terminal(self, proc: asyncssh.SSHServerProcess[Any], terminal: Terminal) -> None:
        """A session the role drives character by character: the line editor is switched off."""
        pty = proc.get_terminal_type() is not None  # asyncssh has a line editor only with a PTY
        if pty:
            getattr(proc.channel, "set_line_mode")(False)  # noqa: B009 - SSHLineEditorChannel only

        async def read() -> str:
            while True:
                try:
                    return await proc.stdin.read(4096)
                except (asyncssh.TerminalSizeChanged, asyncssh.BreakReceived, asyncssh.SignalReceived):
                    continue  # netmiko sends a window-change after the PTY request

        await terminal.run(read, proc.stdout.write, pty)

    async def _interactive(self, proc: asyncssh.SSHServerProcess[Any], shell: Shell) -> None:
        # The line editor turns "\n" into "\r\n" itself, so plain "\n" is written here.
        set_echo = getattr(proc.channel, "set_echo", None)
        proc.stdout.write(shell.banner() + shell.prompt())
        while True:
            if set_echo is not None:
                set_echo(not shell.hide_input)
            try:
                line = await proc.stdin.readline()
            except (asyncssh.TerminalSizeChanged, asyncssh.BreakReceived, asyncssh.SignalReceived):
                continue  # netmiko sends a window-change after the PTY request
            if not line:
                return
            out, close = shell.handle(line.rstrip("\r\n"))
            if out:
                proc.stdout.write(out)
            if close:
                return
            proc.stdout.write(shell.prompt())


async def _until_closed(proc: asyncssh.SSHServerProcess[Any], job: Awaitable[tuple[str, int]]) -> tuple[str, int]:
    """``job``'s result, or, when the client closes the channel first, ``job`` cancelled (the role
    stops what it started) and ``("", 255)``."""
    task = asyncio.ensure_future(job)
    closed = asyncio.ensure_future(proc.channel.wait_closed())
    try:
        await asyncio.wait({task, closed}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        closed.cancel()
        if not task.done():
            task.cancel()
    try:
        return await task
    except asyncio.CancelledError:
        if not task.cancelled():
            raise
        return "", 255


# --- SFTP (chrooted to the role's folder; read only unless the role says otherwise) ----------------


class ReadOnlySftp(asyncssh.SFTPServer):
    """asyncssh's SFTP server chrooted to a folder; anything that would write is refused."""

    def open(self, path: bytes, pflags: int, attrs: asyncssh.SFTPAttrs) -> Any:
        if pflags & (asyncssh.FXF_WRITE | asyncssh.FXF_APPEND | asyncssh.FXF_CREAT | asyncssh.FXF_TRUNC):
            raise asyncssh.SFTPPermissionDenied("read-only file system")
        return super().open(path, pflags, attrs)

    def open56(self, path: bytes, desired_access: int, flags: int, attrs: asyncssh.SFTPAttrs) -> Any:
        if desired_access & (asyncssh.ACE4_WRITE_DATA | asyncssh.ACE4_APPEND_DATA):
            raise asyncssh.SFTPPermissionDenied("read-only file system")
        return super().open56(path, desired_access, flags, attrs)

    def remove(self, path: bytes) -> None:
        raise asyncssh.SFTPPermissionDenied("read-only file system")

    def mkdir(self, path: bytes, attrs: asyncssh.SFTPAttrs) -> None:
        raise asyncssh.SFTPPermissionDenied("read-only file system")

    def rmdir(self, path: bytes) -> None:
        raise asyncssh.SFTPPermissionDenied("read-only file system")

    def rename(self, oldpath: bytes, newpath: bytes) -> None:
        raise asyncssh.SFTPPermissionDenied("read-only file system")

    def posix_rename(self, oldpath: bytes, newpath: bytes) -> None:
        raise asyncssh.SFTPPermissionDenied("read-only file system")

    def symlink(self, oldpath: bytes, newpath: bytes) -> None:
        raise asyncssh.SFTPPermissionDenied("read-only file system")

    def link(self, oldpath: bytes, newpath: bytes) -> None:
        raise asyncssh.SFTPPermissionDenied("read-only file system")

    def setstat(self, path: bytes, attrs: asyncssh.SFTPAttrs) -> None:
        raise asyncssh.SFTPPermissionDenied("read-only file system")

    def lsetstat(self, path: bytes, attrs: asyncssh.SFTPAttrs) -> None:
        raise asyncssh.SFTPPermissionDenied("read-only file system")

    def fsetstat(self, file_obj: object, attrs: asyncssh.SFTPAttrs) -> None:
        raise asyncssh.SFTPPermissionDenied("read-only file system")


def _sftp_factory(twin: Twin, device: str) -> Callable[[asyncssh.SSHServerChannel[bytes]],
                                                       asyncssh.SFTPServer] | None:
    """The ``sftp_factory`` for ``device``'s SSH server: its role's ``sftp_root``, read only unless
    the role is ``sftp_writable`` (None: no SFTP)."""
    spec = twin.roles[device]
    if spec.sftp_root is None:
        return None
    root = os.fsencode(spec.sftp_root(twin, device))
    cls = asyncssh.SFTPServer if spec.sftp_writable else ReadOnlySftp
    return lambda chan: cls(chan, chroot=root)


@server_factory(rank=10)
def ssh_services(twin: Twin, device: str) -> list[Service]:
    """The SSH service of ``device`` (none without ``ssh`` in the inventory)."""
    if twin.lab.devices[device].ssh is None:
        return []
    return [SshService(twin, device, _host_keys(twin)[device])]


__all__ = ["ReadOnlySftp", "SshService", "known_hosts_entry", "merge_known_hosts"]
