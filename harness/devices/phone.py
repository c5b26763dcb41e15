"""SIP phone driver (platform ``generic_sip_phone``): identity and firmware over SNMP.

Facts come from ENTITY-MIB (model, firmware, serial of the chassis row 1), IF-MIB (the MAC of
ifIndex 1) and the lab twin's phone MIB ``1.3.6.1.4.1.99999.2`` (registration state and extension,
a project choice documented in docs/twin-snmp.md). A real phone without that MIB gives
``registered=None`` and ``extension=None``. :func:`firmware_audit` polls many phones concurrently.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import LabError
from ..transports.snmp import gather_get
from .base import Driver, register
from .sip_facts import SipFacts
from .snmp_facts import ENT_MODEL_1, ENT_SERIAL_1, ENT_SOFTWARE_REV_1, IF_PHYS_ADDRESS_1, SnmpFacts

TWIN_PHONE_REGISTERED = "1.3.6.1.4.1.99999.2.1.0"  # INTEGER registered(1) unregistered(2)
TWIN_PHONE_EXTENSION = "1.3.6.1.4.1.99999.2.2.0"  # OCTET STRING, the station's extension
PHONE_OIDS = (ENT_MODEL_1, ENT_SOFTWARE_REV_1, ENT_SERIAL_1, IF_PHYS_ADDRESS_1, TWIN_PHONE_REGISTERED,
              TWIN_PHONE_EXTENSION)
FIRMWARE_OIDS = (ENT_MODEL_1, ENT_SOFTWARE_REV_1)


@dataclass(frozen=True)
class FirmwareReading:
    """Model and firmware version as the phone reports them (ENTITY-MIB chassis row 1)."""

    model: str
    firmware: str

    @classmethod
    def from_values(cls, values: dict[str, object]) -> FirmwareReading:
        return cls(model=str(values.get(ENT_MODEL_1) or ""), firmware=str(values.get(ENT_SOFTWARE_REV_1) or ""))


@dataclass(frozen=True)
class PhoneInfo:
    """What a phone reports about itself. ``mac`` is ``aa:bb:cc:dd:ee:ff``; ``registered`` and
    ``extension`` are ``None`` when the phone does not serve the twin phone MIB."""

    model: str
    firmware: str
    mac: str | None
    registered: bool | None
    extension: str | None
    serial: str


def phone_info(values: dict[str, object]) -> PhoneInfo:
    """A :class:`PhoneInfo` from the answer to a GET of :data:`PHONE_OIDS`."""
    reg = values.get(TWIN_PHONE_REGISTERED)
    ext = values.get(TWIN_PHONE_EXTENSION)
    mac = values.get(IF_PHYS_ADDRESS_1)
    return PhoneInfo(model=str(values.get(ENT_MODEL_1) or ""),
                     firmware=str(values.get(ENT_SOFTWARE_REV_1) or ""),
                     mac=str(mac) if mac else None, registered=(reg == 1) if isinstance(reg, int) else None,
                     extension=str(ext) if ext is not None else None,
                     serial=str(values.get(ENT_SERIAL_1) or ""))


@register("phone", "generic_sip_phone")
class Phone(SnmpFacts, SipFacts, Driver):
    """A SIP desk phone managed over SNMP (v2c or v3 authPriv, from the inventory)."""

    def info(self) -> PhoneInfo:
        """Model, firmware, MAC, registration, extension and serial in one GET.

        Raises:
            LabError: timeout, auth refused or protocol error (names device and address).
        """
        return phone_info(self.snmp.get_sync(*PHONE_OIDS))

    def firmware(self) -> FirmwareReading:
        """Model and firmware only (one GET of two OIDs). Raises LabError."""
        return FirmwareReading.from_values(self.snmp.get_sync(*FIRMWARE_OIDS))


def firmware_audit(drivers: list[Phone], limit: int = 50) -> dict[str, FirmwareReading | LabError]:
    """Read model and firmware of every phone at once (at most ``limit`` GETs in flight).

    Returns:
        ``{device name: FirmwareReading}``, or the :class:`LabError` of a phone that did not
        answer; one dead phone costs one timeout, in parallel with the others.
    """
    out: dict[str, FirmwareReading | LabError] = {}
    polled: list[Phone] = []
    for d in drivers:
        try:
            d.snmp  # noqa: B018 - opens the session; raises if the inventory has no snmp settings
        except LabError as e:
            out[d.name] = e
        else:
            polled.append(d)
    results = gather_get([(d.snmp, FIRMWARE_OIDS) for d in polled], limit=limit)
    for d, r in zip(polled, results, strict=True):
        out[d.name] = r if isinstance(r, LabError) else FirmwareReading.from_values(r)
    return {d.name: out[d.name] for d in drivers}
