"""How the Edge software update reaches the Edge: the one seam between the update's steps
(:mod:`.edge_update`) and a way of managing an Edge.

:class:`EdgeUpdateAccess` is what the steps ask of an Edge: its running version, ``show software``,
the trunk calls in progress, stage, drain, cancel, install and the boot that follows. Today's way is
:class:`SshConsoleAccess`: the software commands over SSH (the Edge driver's
:class:`~harness.devices.drivers.edge_software_cli.EdgeSoftware` commands, formats in
``docs/edge-update.md``) and the reboot watched on the serial console, whose TCP connection stays
open through it. An Edge managed through another interface (the Genesys Cloud API) gets a class
of its own with these methods; the update's state machine does not change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from ...errors import LabTimeout
from ...transports.serial import SerialConsole
from ..drivers.edge import Edge
from ..drivers.edge_software_cli import SoftwareStatus

FLUSH_QUIET_S = 0.2  # project choice: the console counts as read empty after this much silence
BANNER = re.compile(r"(?i)bootloader|booting \S+ \(")  # a Genesys Edge's boot banner (console.py's twin banner)
LOGIN = re.compile(r"(?i)login: ?\Z")  # the getty's prompt: the boot is over


@dataclass(frozen=True)
class BootEnd:
    """How a boot ended: ``output`` the Edge printed from the boot banner to the end (``""``: none
    seen), ``problem`` why it did not end in time (``""``: it did)."""

    output: str
    problem: str = ""


class EdgeUpdateAccess(Protocol):
    """What the update's steps ask of an Edge. Every method raises LabError when the Edge cannot
    be reached (or refuses a command); waits return what they saw instead of raising a timeout."""

    @property
    def name(self) -> str:
        """The inventory name of the Edge."""
        ...

    @property
    def platform(self) -> str:
        """Its platform (the firmware targets are per platform)."""
        ...

    @property
    def management(self) -> str:
        """What the version and the software commands travel over, for messages (``"SSH"``)."""
        ...

    def running_version(self) -> str:
        """The software version the Edge runs now."""
        ...

    def reconnect(self) -> None:
        """Forget the management session, so the next call opens a new one (after a reboot)."""
        ...

    def software_status(self) -> SoftwareStatus:
        """Where the Edge's own update stands (``show software``)."""
        ...

    def trunk_calls(self) -> int:
        """Trunk calls in progress now, inbound and outbound."""
        ...

    def stage(self, url: str, sha256: str) -> None:
        """Start downloading and verifying the image (the Edge goes on in the background)."""
        ...

    def drain(self, timeout_s: int) -> None:
        """Refuse new calls; the Edge ends the calls left after ``timeout_s`` seconds."""
        ...

    def cancel(self) -> None:
        """End a drain and drop the staged image."""
        ...

    def install(self, timeout_s: float) -> str:
        """Install the staged image and watch the reboot begin: ``""`` once it began within
        ``timeout_s`` seconds, else why not."""
        ...

    def boot(self, timeout_s: float) -> BootEnd:
        """Watch the boot that :meth:`install` saw begin, for at most ``timeout_s`` seconds."""
        ...


class SshConsoleAccess:
    """:class:`EdgeUpdateAccess` over the Edge driver: the commands over SSH, the reboot on the
    serial console (opened and read empty before the install, so an old banner in the terminal
    server's buffer is not taken for the new boot)."""

    management = "SSH"

    def __init__(self, edge: Edge) -> None:
        self.edge = edge
        self._console: SerialConsole | None = None

    @property
    def name(self) -> str:
        return self.edge.name

    @property
    def platform(self) -> str:
        return self.edge.platform

    def running_version(self) -> str:
        return str(self.edge.version().firmware)

    def reconnect(self) -> None:
        self.edge.drop_session("ssh")

    def software_status(self) -> SoftwareStatus:
        return self.edge.software_status()

    def trunk_calls(self) -> int:
        trunk = self.edge.trunk_status()
        return trunk.inbound_calls + trunk.outbound_calls

    def stage(self, url: str, sha256: str) -> None:
        self.edge.software_stage(url, sha256)

    def drain(self, timeout_s: int) -> None:
        self.edge.software_drain(timeout_s)

    def cancel(self) -> None:
        self.edge.software_cancel()

    def install(self, timeout_s: float) -> str:
        """Open the console and read it empty, ``software install`` over SSH, then the boot banner
        (:data:`BANNER`) on the console. Raises LabError: the console cannot be opened, SSH fails."""
        console = self._console = self.edge.console()
        _read_empty(console)
        self.edge.software_install()
        try:
            console.expect([BANNER], timeout_s=timeout_s, check_baud=False)
        except LabTimeout as e:
            return f"no boot banner on the console within {timeout_s:g} s of 'software install': {e.detail}"
        return ""

    def boot(self, timeout_s: float) -> BootEnd:
        """The console from the banner to the login prompt (:data:`LOGIN`); the reboot ended any
        console session, so the next command logs in again."""
        console = self._console or self.edge.console()
        try:
            _, _, text = console.expect([LOGIN], timeout_s=timeout_s, check_baud=False)
        except LabTimeout as e:
            return BootEnd("", f"no login prompt on the console within {timeout_s:g} s of the boot banner: the "
                               f"Edge did not come back ({e.detail})")
        console.logged_in = False
        return BootEnd(text)


def _read_empty(console: SerialConsole) -> None:
    """Drop what the console line has sent so far (an old boot banner in the terminal server's buffer)."""
    with console.raw() as line:
        for _ in range(100):
            if not line.read(65536, FLUSH_QUIET_S):
                return
