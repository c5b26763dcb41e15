"""The IP phone's live state: identity, registration and the firmware state machine's progress."""

from __future__ import annotations

from dataclasses import dataclass

from ...inventory.models import AnyDevice, Lab, PhoneDevice
from ..core.shared_faults import FIRMWARE
from ..core.state import DeviceState

DEFAULT_FIRMWARE = "6.4.3"  # what a phone without facts.firmware runs
DEFAULT_MODEL = "VVX 450"


@dataclass
class PhoneState(DeviceState):
    model: str = DEFAULT_MODEL
    installed_firmware: str = "0.0.0"
    mac: str = "00:00:00:00:00:00"
    extension: str = ""
    registered: bool = False
    registrar: str | None = None  # "ip:port" of the Edge's phone trunk
    last_register_code: int | None = None  # final SIP code of the last REGISTER; None: unanswered
    serial: str = ""  # empty: the MAC without colons, upper case (what Poly and Yealink phones report)
    # firmware state machine (harness/twin/phone/firmware.py, docs/firmware.md)
    firmware_state: str = "idle"  # idle | downloading | verifying | flashing | rebooting | up
    last_upgrade_error: str | None = None  # why the last check-sync did not flash (download, checksum …)
    media_dscp: int = 46  # DSCP of the phone's RTP (phone base settings phone_media_dscp default EF, G-DSCP)
    sip_dscp: int = 24  # DSCP of the phone's SIP (phone base settings phone_sip_dscp default CS3, G-DSCP)
    boots: int = 0  # reboots since the twin started (a flash reboots the phone)

    def __post_init__(self) -> None:
        if not self.serial:
            self.serial = self.mac.replace(":", "").upper()

    @property
    def firmware(self) -> str:
        return FIRMWARE.value(self) or self.installed_firmware


def initial_state(name: str, dev: AnyDevice, lab: Lab | None = None) -> PhoneState:
    """The state a phone boots with, from the facts the inventory expects it to have."""
    assert isinstance(dev, PhoneDevice)
    pf = dev.facts
    return PhoneState(name=name, role=dev.role, platform=dev.platform, host=dev.host,
                      model=pf.model or DEFAULT_MODEL, installed_firmware=pf.firmware or DEFAULT_FIRMWARE,
                      mac=pf.mac, extension=pf.extension)
