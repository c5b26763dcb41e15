"""What switch-port scenarios share (NET-VOIP-HW, CFG-STATION): :class:`PhonePort` (one phone's
port as both views of its switch see it), :class:`PhoneRecord` and :data:`SwitchAudits`, which the
plugin's ``phone_port``, ``phone_record`` and ``switch_audits`` fixtures hand out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from ..devices.drivers.switch import SwitchAudit
from ..devices.facts.switch_ports import PortView
from ..inventory.models import PhoneDevice

#: ``audit(switch name)``: the run's audit of that switch (see :func:`switch_audits`)
SwitchAudits = Callable[[str], SwitchAudit]


class PhoneRecord(NamedTuple):
    """``name`` and inventory ``device`` entry of a phone (``device.facts`` holds MAC, port …)."""

    name: str
    device: PhoneDevice


@dataclass(frozen=True)
class PhonePort:
    """A phone's port: ``phone``, ``switch``, ``interface``, the ``audit`` of its switch and the
    port in each view (``None`` where the view does not list the port or was not read)."""

    phone: str
    switch: str
    interface: str
    audit: SwitchAudit
    cli: PortView | None
    snmp: PortView | None

    @property
    def where(self) -> str:
        """``"sw1 GigabitEthernet1/0/1 (phone1)"``: the device named in check messages."""
        return f"{self.switch} {self.interface} ({self.phone})"

    def views(self, *facts: str) -> list[PortView]:
        """The views that list the port, CLI first.

        ``facts`` (:class:`PortView` field names) are the ones the caller checks: when the CLI output
        one of them comes from did not parse, its :class:`~harness.transports.cli.CliParseError` (a
        LabProtocolError naming switch and command, so BROKEN) is raised; the other facts stand.
        """
        error = self.audit.cli_error(*facts) if facts else None
        if error is not None:
            raise error
        return [v for v in (self.cli, self.snmp) if v is not None]
