"""Error types shared by every layer.

Two families never mix:

* :class:`LabError` — the lab is unreachable or misbehaving (timeout, refused connection, auth
  refused, garbage on the wire). Tests that raise it are reported BROKEN, never FAIL.
* :class:`InventoryError` — the lab description is wrong; the CLI prints one line per problem and
  exits 2.

Duty failures are not errors here: they are ``AssertionError`` subclasses raised by
:mod:`harness.evidence.check`.
"""

from __future__ import annotations

from dataclasses import dataclass


def who(device: str, transport: str, address: str) -> str:
    """``device transport address`` for a message, each name once: a device label that ends with the
    address's host (``dhcp 192.0.2.67`` at ``192.0.2.67:67``) drops it, and a transport the label
    already names (``dhcp``, ``NTP``; any case) is not repeated: ``dhcp 192.0.2.67:67``,
    ``dns udp 192.0.2.53:53``, ``site NTP servers 192.0.2.123``, ``sw1 ssh 192.0.2.1:22``."""
    words = device.split()
    if words and address and (address == words[-1] or address.startswith(words[-1] + ":")):
        words.pop()
    if transport.lower() in (w.lower() for w in words):
        transport = ""
    return " ".join(w for w in (*words, transport, address) if w)


class LabError(Exception):
    """The lab infrastructure failed: names device, transport and address.

    Attributes:
        device: inventory name of the device (``"sw1"``).
        transport: ``"ssh"``, ``"cli"``, ``"snmp"``, ``"serial"``, ``"sip"``, ``"http"``.
        address: ``"host:port"`` or console URL.
        detail: what went wrong, already free of secrets.
    """

    kind = "lab error"

    def __init__(self, device: str, transport: str, address: str, detail: str) -> None:
        self.device = device
        self.transport = transport
        self.address = address
        self.detail = detail
        super().__init__(f"{self.kind}: {who(device, transport, address)}: {detail}")


class LabTimeout(LabError):
    """A deadline passed before the device answered."""

    kind = "timeout"


class LabUnreachable(LabError):
    """The device refused or dropped the connection, or is quarantined after an earlier failure."""

    kind = "unreachable"


class DeviceOffline(LabUnreachable):
    """The device's management plane answered and says the device is out of its contact: a Genesys
    Edge OFFLINE in Genesys Cloud (the Platform API answered; the Edge has lost its link to the
    cloud). Still the lab, not the duty (BROKEN), and still a device that cannot be reached for what
    the check needed (a :class:`LabUnreachable`); its message says which."""

    kind = "offline"


class LabAuthError(LabError):
    """The device refused the credentials from the inventory."""

    kind = "auth refused"


class LabProtocolError(LabError):
    """The device answered with something the protocol does not allow."""

    kind = "protocol error"


class DeviceFoundDead(LabUnreachable):
    """A device a check relied on is dead, so the check's failure says nothing about the duty.

    ``detail`` says how it was found dead (quarantined earlier in the run, or the liveness probe made
    after the failure); ``finding`` keeps the FAIL it would explain. The message reads
    ``unreachable: phone2 was found dead (…); the FAIL it would explain: [PSTN-CAPACITY] …``.
    """

    def __init__(self, device: str, transport: str, address: str, detail: str, finding: str = "") -> None:
        super().__init__(device, transport, address, detail)
        self.finding = finding
        self.args = (f"{self.kind}: {device} was found dead ({detail})"
                     + (f"; the FAIL it would explain: {finding}" if finding else ""),)


class LabBusy(LabError):
    """The lab was not in the state a check needs because another actor used it (a second run, a
    person): calls already up on a trunk, a switch being provisioned. ``detail`` says what was seen;
    ``finding`` (when the check had failed) keeps the FAIL it would explain."""

    kind = "lab busy"

    def __init__(self, device: str, transport: str, address: str, detail: str, finding: str = "") -> None:
        super().__init__(device, transport, address, detail)
        self.finding = finding
        self.args = (f"{self.kind}: {detail}" + (f"; the FAIL it would explain: {finding}" if finding else ""),)


@dataclass(frozen=True)
class InventoryProblem:
    """One problem in an inventory file: ``file:line: path: message``."""

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class InventoryError(Exception):
    """The inventory is invalid. ``problems`` holds one entry per problem, in file order."""

    def __init__(self, problems: list[InventoryProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
