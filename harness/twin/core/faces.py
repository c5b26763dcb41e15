"""What a device role shows the twin's protocol servers: its CLI, an interactive terminal, its MIB.

A role package gives these in its :class:`~harness.twin.core.twin.RoleSpec`; the servers in
``harness/twin/servers/`` call them and never look at a device's type.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

OID = tuple[int, ...]
Mib = dict[OID, Any]  # OID -> pysnmp value (rfc1902 types)
MibBuilder = Callable[[Any, str], Mib]  # (the device's state, sysLocation) -> its OIDs
Section = tuple[OID, MibBuilder]  # (subtree prefix, builder of that subtree)


class Shell(Protocol):
    """A device CLI behind SSH (exec and line-editor shells) and the serial console: line in,
    text out (``\\n`` line ends). ``hide_input``: the shell waits for a secret (echo off)."""

    @property
    def hide_input(self) -> bool: ...

    def banner(self) -> str: ...

    def prompt(self) -> str: ...

    def handle(self, line: str) -> tuple[str, bool]:
        """``(output, close)`` for one typed line."""
        ...

    def exec(self, command: str) -> tuple[str, int]:
        """``(output, exit status)`` of one SSH exec command."""
        ...


Read = Callable[[], Awaitable[str]]  # the next characters typed (``""`` at end of input)
Write = Callable[[str], None]


class Terminal(Protocol):
    """An interactive SSH session the role drives itself, character by character (a switch: IOS's
    type-ahead echo and ``--More--`` paging). ``pty``: the client asked for a terminal (echo then)."""

    async def run(self, read: Read, write: Write, pty: bool) -> None: ...
