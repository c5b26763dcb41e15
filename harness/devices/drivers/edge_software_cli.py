"""Edge software update commands over SSH (MAINT-EDGE-UPDATE): a mixin for the Edge driver.

``show software`` (format in ``docs/edge-update.md``) is parsed with
``templates/genesys_edge_show_software.textfsm`` into :class:`SoftwareStatus`; ``software stage``,
``software drain``, ``software install`` and ``software cancel`` are sent as they are and their
answer returned. The Edge refusing one (its answer starts with ``%``: busy, nothing staged, bad
arguments) raises LabProtocolError with that answer. Staging and draining go on in the background
on the Edge: poll :meth:`EdgeSoftware.software_status` (the update flow is
:mod:`harness.devices.procedures.edge_update`).
"""

from __future__ import annotations

from dataclasses import dataclass

import textfsm

from ...errors import LabProtocolError
from ..facts.templates import parse_template
from .ssh_access import SshFacts


@dataclass(frozen=True)
class SoftwareStatus:
    """What ``show software`` reports.

    Attributes:
        status: ``idle``, ``staging``, ``staged``, ``failed`` (staging failed), ``draining``,
            ``drained``, ``installing``, ``rebooting``, ``installed`` or ``rolled-back``.
        current_version: the version running. staged_version: the image staged (``None``: none).
        draining: new calls are refused. calls_in_progress: calls through the Edge now.
        last_error: why the last stage or install failed (``None``: it did not).
    """

    status: str
    current_version: str
    staged_version: str | None
    draining: bool
    calls_in_progress: int
    last_error: str | None




class EdgeSoftware(SshFacts):
    """``show software`` and the ``software …`` commands, over SSH."""

    def software_status(self, timeout_s: float | None = None) -> SoftwareStatus:
        """``show software``. Raises LabProtocolError when it does not parse, LabError (``ssh``)."""
        s = self.ssh_session()
        text = s.run("show software", timeout_s)
        try:
            rows = parse_template("genesys_edge_show_software", text)
        except textfsm.TextFSMError as e:
            raise LabProtocolError(self.name, "ssh", s.address, f"'show software' does not parse: {e}") from None
        if len(rows) != 1:
            raise LabProtocolError(self.name, "ssh", s.address, f"'show software' gave {len(rows)} records, expected 1")
        r = rows[0]
        return SoftwareStatus(r["status"], r["current"], None if r["staged"] in ("", "-") else r["staged"],
                              r["draining"] == "yes", int(r["calls"] or 0),
                              None if r["error"] in ("", "-") else r["error"])

    def _software(self, command: str) -> str:
        s = self.ssh_session()
        out = s.run(command)
        if out.lstrip().startswith("%"):
            raise LabProtocolError(self.name, "ssh", s.address, f"{command!r} refused: {out.strip()}")
        return out

    def software_stage(self, url: str, sha256: str) -> str:
        """Ask the Edge to download and verify the image at ``url`` (SHA-256 ``sha256``); returns at
        once with its answer (``Staging <url>``). Raises LabProtocolError when refused, LabError."""
        return self._software(f"software stage {url} {sha256}")

    def software_drain(self, timeout_s: int) -> str:
        """Refuse new calls; calls in progress are ended by the Edge after ``timeout_s`` seconds.
        Raises LabProtocolError when refused, LabError."""
        return self._software(f"software drain {int(timeout_s)}")

    def software_install(self) -> str:
        """Install the staged software; the Edge reboots right after answering. Raises
        LabProtocolError when refused (nothing staged, busy), LabError."""
        return self._software("software install")

    def software_cancel(self) -> str:
        """End a drain and drop the staged software. Raises LabProtocolError when refused, LabError."""
        return self._software("software cancel")
