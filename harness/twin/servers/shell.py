"""The CLI a device serves over SSH and its console: its role's shell, else a Linux host's.

A role gives its CLI as :attr:`~harness.twin.core.twin.RoleSpec.shell` (a switch the IOS CLI, an
Edge its management CLI, the PSTN simulator a Linux shell with its call log); a device whose role
gives none gets :class:`LinuxShell`.
"""

from __future__ import annotations

from collections.abc import Callable

from ..core.faces import Shell
from ..core.twin import Twin


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


def ssh_username(twin: Twin, device: str, default: str) -> str:
    """The inventory's ``ssh.username`` of ``device``, ``default`` when it has no ``ssh``."""
    ssh = twin.lab.devices[device].ssh
    return ssh.username if ssh else default


def shell_for(twin: Twin, device: str, console: bool = False) -> Shell:
    """A new CLI session for ``device``: its role's shell, else a Linux host's.
    ``console``: the session is on the serial console (an Edge's ``logs send`` works only there)."""
    make = twin.roles[device].shell
    if make is not None:
        return make(twin, device, console)
    return LinuxShell(device, ssh_username(twin, device, "root"))
