"""SSH servers of the twin (asyncssh): one per device that has ``ssh`` in the inventory.

Each server listens on the device's ``host:ssh.port`` and accepts only ``ssh.username`` with the
password behind ``ssh.password`` (resolved with ``twin.secret``). What runs behind it depends on the
role: a switch gets the IOS CLI (:mod:`.ios`), an Edge the Edge CLI (:mod:`.edge_cli`), anything
else (the PSTN simulator's Linux host) a tiny Linux shell. Both SSH exec requests and interactive
shells work; shells use asyncssh's line editor, which echoes typed characters as netmiko expects.

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
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import asyncssh
import filelock

from .edge_cli import EdgeCli
from .edge_logs import edge_disk, edge_sftp_factory
from .ios import IosSession, populate_switch
from .server import Service, service_factory
from .state import EdgeState, PstnState, SwitchState

if TYPE_CHECKING:
    from .server import Twin

log = logging.getLogger("hil.twin.ssh")
LOGIN_TIMEOUT_S = 10.0  # project choice: a stuck client cannot hold a twin connection for long
KNOWN_HOSTS_LOCK_TIMEOUT_S = 10.0  # project choice: a merge takes milliseconds; longer means a hung writer


class Shell(Protocol):
    """A device CLI behind SSH or the console: line in, text out (``\\n`` line ends)."""

    @property
    def hide_input(self) -> bool: ...

    def banner(self) -> str: ...

    def prompt(self) -> str: ...

    def handle(self, line: str) -> tuple[str, bool]: ...

    def exec(self, command: str) -> tuple[str, int]: ...


class LinuxShell:
    """The management plane of a Linux host running a SIP simulator (``uname -a``, ``sipp -v``,
    ``cat <file>`` for the files in ``files``: path -> a callable giving the text, read when asked)."""

    hide_input = False

    def __init__(self, hostname: str, username: str, files: dict[str, Callable[[], str]] | None = None) -> None:
        self.hostname = hostname
        self.username = username
        self.files = files or {}

    def banner(self) -> str:
        return "Linux twin host. Commands: uname -a, sipp -v, show version, hostname, uptime, cat FILE, exit\n"

    def prompt(self) -> str:
        return f"{self.username}@{self.hostname}:~$ "

    def exec(self, command: str) -> tuple[str, int]:
        cmd = " ".join(command.split())
        if cmd == "uname -a":
            return (f"Linux {self.hostname} 6.1.0-28-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1 "
                    "(2024-11-22) x86_64 GNU/Linux\n"), 0
        if cmd in ("sipp -v", "show version"):
            return ("\n SIPp v3.6.1-SCTP-PCAP-RTPSTREAM.\n\n"
                    " This program is free software; you can redistribute it and/or\n"
                    " modify it under the terms of the GNU General Public License as\n"
                    " published by the Free Software Foundation; either version 2 of\n"
                    " the License, or (at your option) any later version.\n"), 0
        if cmd == "hostname":
            return self.hostname + "\n", 0
        if cmd == "uptime":
            return " 12:00:00 up 1 day,  2:03,  1 user,  load average: 0.00, 0.00, 0.00\n", 0
        if cmd.split()[0] == "cat":
            return self._cat(cmd.split()[1:])
        if not cmd:
            return "", 0
        return f"-bash: {cmd.split()[0]}: command not found\n", 127

    def _cat(self, paths: list[str]) -> tuple[str, int]:
        """``cat`` of the files this host has (GNU coreutils' messages and exit status 1 otherwise)."""
        if not paths:
            return "cat: reading standard input is not supported here\n", 1
        out, status = [], 0
        for p in paths:
            f = self.files.get(p)
            if f is None:
                out.append(f"cat: {p}: No such file or directory\n")
                status = 1
            else:
                out.append(f())
        return "".join(out), status

    def handle(self, line: str) -> tuple[str, bool]:
        if line.strip() in ("exit", "logout"):
            return "", True
        return self.exec(line)[0], False


def shell_for(twin: Twin, device: str, console: bool = False) -> Shell:
    """A new CLI session for ``device`` by role: IOS for switches, the Edge CLI for Edges, else Linux.
    ``console``: the session is on the serial console (an Edge's ``logs send`` works only there)."""
    st = twin.states[device]
    ssh = twin.lab.devices[device].ssh
    if isinstance(st, SwitchState):
        return IosSession(st, user=ssh.username if ssh else "console")
    if isinstance(st, EdgeState):
        return EdgeCli(st, edge_disk(twin, device), console)
    files: dict[str, Callable[[], str]] = {}
    if isinstance(st, PstnState):
        from .pstn_sip import call_log_for

        facts = twin.lab.devices[device].facts
        files[getattr(facts, "call_log", "/var/log/hil-pstn/calls.csv")] = call_log_for(twin, device).render
    return LinuxShell(device, ssh.username if ssh else "root", files)


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
        st = self.twin.states[self.device]
        if isinstance(st, SwitchState):
            st.enable_secret = self.twin.secret(ssh.enable_secret) or ""
        self._acceptor = await asyncssh.create_server(
            lambda: _Server(self), self.host, self.port, server_host_keys=[self.key],
            process_factory=self._process, encoding="utf-8", line_editor=True,
            sftp_factory=edge_sftp_factory(self.twin, self.device),  # Edges: log bundles (edge_logs.py)
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
        shell = shell_for(self.twin, self.device)
        try:
            if proc.command is not None:
                out, status = shell.exec(proc.command)
                proc.stdout.write(out)
                proc.exit(status)
                return
            await self._interactive(proc, shell)
        except (asyncssh.Error, BrokenPipeError, ConnectionError):
            pass  # the client went away
        proc.exit(0)

    async def _interactive(self, proc: asyncssh.SSHServerProcess[Any], shell: Shell) -> None:
        # The line editor turns "\n" into "\r\n" itself, so plain "\n" is written here.
        if isinstance(shell, IosSession):
            await _ios_interactive(proc, shell, self.twin.lab.twin.cli_show_ms / 1000.0)
            return
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


# --- IOS shells: raw keyboard input, IOS-style typeahead echo, --More-- paging --------------------

MORE = " --More-- "
ERASE_MORE = "\b" * len(MORE) + " " * len(MORE) + "\b" * len(MORE)  # what IOS sends to wipe the prompt
_EOL = re.compile(r"\r\n?|\n")
_ERASE_CHARS = "\x7f\b"


class _Keys:
    """Raw input of one IOS shell (asyncssh's line editor switched to character mode).

    Characters typed while the shell waits at its prompt are echoed at once; lines that arrive
    together (a burst of config lines sent without waiting) stay buffered and are echoed one at a
    time when the shell reads each, so every echoed line is followed by its output and the next
    prompt, as on IOS. ``\r``, ``\n`` and ``\r\n`` end a line; DEL/BS erase a character.
    """

    def __init__(self, proc: asyncssh.SSHServerProcess[Any], echo: bool) -> None:
        self.proc, self.echo = proc, echo
        self.buf = ""
        self.echoed = 0  # characters of the pending line already echoed
        self.after_cr = False
        self.eof = False

    async def _more(self) -> None:
        while True:
            try:
                data = await self.proc.stdin.read(4096)
            except (asyncssh.TerminalSizeChanged, asyncssh.BreakReceived, asyncssh.SignalReceived):
                continue  # netmiko sends a window-change after the PTY request
            break
        self.eof = not data
        self.buf += data

    def _skip_lf(self) -> None:
        if self.after_cr and self.buf:
            self.buf = self.buf[1:] if self.buf[0] == "\n" else self.buf
            self.after_cr = False

    async def line(self, echo: bool = True) -> str | None:
        """The next line (edited), echoing it when ``echo``; None at end of input."""
        echo = echo and self.echo
        while True:
            self._skip_lf()
            m = _EOL.search(self.buf)
            end = m.start() if m else len(self.buf)
            if echo and end > self.echoed:
                seen = self.buf[self.echoed:end]
                self.proc.stdout.write("".join("\b \b" if c in _ERASE_CHARS else c for c in seen
                                               if c.isprintable() or c in _ERASE_CHARS))
                self.echoed = end
            if m:
                raw, self.buf, self.echoed = self.buf[:end], self.buf[m.end():], 0
                self.after_cr = m.group() == "\r"
                if echo:
                    self.proc.stdout.write("\n")
                out: list[str] = []
                for c in raw:
                    if c in _ERASE_CHARS:
                        out = out[:-1]
                    elif c.isprintable():
                        out.append(c)
                return "".join(out)
            if self.eof:
                return None
            await self._more()

    async def key(self) -> str | None:
        """The next character, not echoed; None at end of input."""
        while True:
            self._skip_lf()
            if self.buf:
                ch, self.buf = self.buf[0], self.buf[1:]
                self.after_cr = ch == "\r"
                return ch
            if self.eof:
                return None
            await self._more()


async def _paged(proc: asyncssh.SSHServerProcess[Any], keys: _Keys, text: str, length: int) -> None:
    """Write ``text`` ``length`` lines at a time with `` --More-- `` between pages (0: no paging).

    At the prompt: space = next page, Enter = one more line, anything else (``q``) = stop.
    """
    lines = text.splitlines(keepends=True)
    if length <= 0 or len(lines) <= length:
        proc.stdout.write(text)
        return
    i, n = 0, length
    while True:
        proc.stdout.write("".join(lines[i:i + n]))
        i += n
        if i >= len(lines):
            return
        proc.stdout.write(MORE)
        k = await keys.key()
        proc.stdout.write(ERASE_MORE)
        if k == " ":
            n = length
        elif k in ("\r", "\n"):
            n = 1
        else:
            return


async def _ios_interactive(proc: asyncssh.SSHServerProcess[Any], shell: IosSession, show_delay_s: float) -> None:
    """The IOS shell loop: raw input, typeahead echo, paging, and the ``cli-hang`` fault's silence.

    A ``show`` command's output comes ``show_delay_s`` late (the inventory's ``twin.cli_show_ms``):
    the time a switch CPU takes to build a 48-port table.
    """
    pty = proc.get_terminal_type() is not None  # asyncssh has a line editor only with a PTY
    if pty:
        getattr(proc.channel, "set_line_mode")(False)  # noqa: B009 - SSHLineEditorChannel only
    keys = _Keys(proc, echo=pty)
    proc.stdout.write(shell.banner() + shell.prompt())
    while True:
        line = await keys.line(echo=not shell.hide_input)
        if line is None:
            return
        out, close = shell.handle(line)
        if shell.hung:  # the cli-hang fault: swallow everything until the client goes away
            while await keys.line(echo=False) is not None:
                pass
            return
        if out:
            if show_delay_s and line.split()[:1] and "show".startswith(line.split()[0].lower()):
                await asyncio.sleep(show_delay_s)
            await _paged(proc, keys, out, shell.screen_length)
        if close:
            return
        proc.stdout.write(shell.prompt())


@service_factory
def ssh_services(twin: Twin, device: str) -> list[Service]:
    """The SSH service of ``device`` (none without ``ssh`` in the inventory)."""
    st = twin.states[device]
    if isinstance(st, SwitchState):
        populate_switch(st, device, twin.lab)
    if twin.lab.devices[device].ssh is None:
        return []
    return [SshService(twin, device, _host_keys(twin)[device])]


__all__ = ["LinuxShell", "Shell", "SshService", "known_hosts_entry", "merge_known_hosts", "shell_for"]
