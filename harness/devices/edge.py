"""Genesys Cloud Edge driver: identity and firmware over SSH and over the serial console.

The Edge CLI's ``show version`` (format in ``docs/twin-cli.md``) is parsed with the TextFSM
template ``templates/genesys_edge_show_version.textfsm``. Sessions are opened on first use and
reused; transports reconnect by themselves after the device came back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import textfsm

from ..errors import LabProtocolError, LabUnreachable
from ..transports.serial import SerialConsole
from .base import Driver, register
from .sip_facts import SipFacts
from .snmp_facts import SnmpFacts
from .ssh_facts import SshFacts

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class EdgeVersion:
    """What ``show version`` reports. ``firmware`` is the running Edge software version."""

    hostname: str
    model: str
    serial: str
    firmware: str
    uptime_s: int


def parse_template(template: str, text: str) -> list[dict[str, Any]]:
    """Parse ``text`` with ``templates/<template>.textfsm``; rows keyed by lower-case value names.

    Raises ``textfsm.TextFSMError`` when a line does not fit the template.
    """
    with open(TEMPLATES / f"{template}.textfsm") as f:
        fsm = textfsm.TextFSM(f)
    rows = fsm.ParseText(text)
    names = [h.lower() for h in fsm.header]
    return [dict(zip(names, row, strict=True)) for row in rows]


@register("edge", "genesys_edge")
class Edge(SnmpFacts, SipFacts, SshFacts, Driver):
    """A Genesys Cloud Edge (``role: edge``, ``platform: genesys_edge``)."""

    def _console(self) -> SerialConsole:
        con = self.device.console
        if con is None:
            raise LabUnreachable(self.name, "serial", self.device.host, "the inventory declares no console")
        return self.session("console", lambda: SerialConsole(self.name, con, self.loaded.resolve,
                                                             self.transcript("serial", con.url)))

    def _version(self, text: str, transport: str, address: str) -> EdgeVersion:
        try:
            rows = parse_template("genesys_edge_show_version", text)
        except textfsm.TextFSMError as e:
            raise LabProtocolError(self.name, transport, address,
                                   f"'show version' does not parse: {e}") from None
        if len(rows) != 1:
            raise LabProtocolError(self.name, transport, address,
                                   f"'show version' gave {len(rows)} records, expected 1")
        r = rows[0]
        return EdgeVersion(hostname=r["hostname"], model=r["model"], serial=r["serial"],
                           firmware=r["firmware"], uptime_s=int(r["uptime_s"] or 0))

    def version(self) -> EdgeVersion:
        """``show version`` over SSH. Raises LabError (transport ``ssh``)."""
        s = self.ssh_session()
        return self._version(s.run("show version"), "ssh", s.address)

    def console_version(self) -> EdgeVersion:
        """``show version`` on the serial console (logs in as needed). Raises LabError (``serial``)."""
        c = self._console()
        return self._version(c.command("show version"), "serial", c.address)

    def probe_ssh(self) -> str:
        """``"edge1 Genesys Edge (virtual) serial VE-000001 firmware 2026.11.1"`` over SSH."""
        return self._identity(self.version())

    def probe_console(self) -> str:
        """The same identity line, read on the serial console."""
        return self._identity(self.console_version())

    @staticmethod
    def _identity(v: EdgeVersion) -> str:
        return f"{v.hostname} {v.model} serial {v.serial} firmware {v.firmware}"
