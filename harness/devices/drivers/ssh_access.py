"""SSH management access of a device (paramiko, host keys checked): a mixin for drivers.

``class Edge(SshFacts, Driver)`` gets :meth:`SshFacts.run` (one command over an SSH exec
channel, session opened on first use and reused) and a default :meth:`SshFacts.probe_ssh`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...errors import LabUnreachable
from ..capabilities import SshHost
from ..driver import Driver

if TYPE_CHECKING:
    from ...transports.ssh import SSHSession


class SshFacts(Driver, SshHost):
    """An :class:`~harness.devices.capabilities.SshHost`. ``probe_command`` is what :meth:`probe_ssh`
    runs (a Linux host answers ``uname -a``)."""

    probe_command = "uname -a"

    def ssh_session(self) -> SSHSession:
        """The device's SSH session, opened on first use. Raises LabError."""
        ssh = self.device.ssh
        if ssh is None:
            raise LabUnreachable(self.name, "ssh", self.device.host, "the inventory declares no ssh access")
        address = f"{self.device.host}:{ssh.port}"
        # The session module is imported here, where a session is opened, not with the driver: paramiko
        # costs about 0.2 s of CPU to import, and every `pytest scenarios` and `hil` process imports
        # this mixin (the registry loads all drivers) while most runs open no SSH session.
        from ...transports.ssh import SSHSession

        return self.session("ssh", lambda: SSHSession(self.name, self.device.host, ssh, self.loaded.resolve,
                                                      self.known_hosts, self.transcript("ssh", address)))

    def run(self, command: str, timeout_s: float | None = None) -> str:
        """One command over SSH exec; its output text. Raises LabError."""
        return self.ssh_session().run(command, timeout_s)

    def probe_ssh(self) -> str:
        """Log in with the inventory's credentials and run :attr:`probe_command`; its first line."""
        out = self.run(self.probe_command).strip().splitlines()
        return f"{self.name}: {out[0] if out else '(no output)'}"
