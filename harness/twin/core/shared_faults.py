"""Faults more than one role reads: power, reported firmware, silent OPTIONS, reboots that go wrong.

* ``down`` (every role, :data:`EVERY_ROLE`): every service stops, as if powered off; what other devices see of it goes
  too (:meth:`~harness.twin.core.twin.Twin.unplugged`: a phone's switch port loses link, PoE load
  and LLDP neighbour). Heal powers it back on.
* ``firmware=VERSION`` (Edge, phone): the version the device reports (its state's ``firmware``).
* ``options-silent`` (PSTN simulator, Edge): SIP OPTIONS are dropped; other requests are answered.
* ``never-returns`` and ``slow-boot=SECONDS`` (phone, Edge): a reboot (firmware flash, software
  install) takes the device away until healed, or takes that long (``harness/twin/phone/firmware.py``,
  ``harness/twin/edge/software.py``; docs/firmware.md, docs/edge-update.md).
* ``no-dscp`` and ``wrong-dscp=N`` (phone, Edge): the device sends its RTP and SIP unmarked (DSCP 0,
  best effort) or marked DSCP N instead of the values its base settings give (RTP EF 46, SIP CS3
  24, G-DSCP); read per datagram through :func:`marked_tos` (``harness/twin/phone/sip.py``,
  ``harness/twin/edge/sip.py``, ``harness/twin/edge/media_relay.py``).
"""

from __future__ import annotations

from .faults import declare, declare_value, text, undo_all, whole_number
from .state import DeviceState
from .twin import Twin, Undo

EVERY_ROLE = ("edge", "switch", "phone", "pstn", "provisioning")  # the roles of a twin lab (inventory `role`)
MAX_BOOT_S = 600.0  # project choice: a boot longer than 10 min is a device that never returns


async def _down(twin: Twin, device: str) -> Undo:
    await twin.stop_services(device)
    unplugged = undo_all(twin.unplugged(device))

    async def undo() -> None:
        await unplugged()
        await twin.start_services(device)

    return undo


def boot_seconds(name: str, value: str) -> float:
    """The ``slow-boot=SECONDS`` value as seconds (0 < s <= :data:`MAX_BOOT_S`); ValueError otherwise."""
    try:
        s = float(value or "")
    except ValueError:
        s = -1.0
    if not 0 < s <= MAX_BOOT_S:
        raise ValueError(f"fault {name} needs SECONDS, a number > 0 and <= {MAX_BOOT_S:g}, got {value!r}")
    return s


DOWN = declare("down", EVERY_ROLE, "the device stops answering on every transport (as if powered off; a phone's switch "
               "port loses link, PoE load and LLDP neighbour)", _down)
FIRMWARE = declare_value("firmware", ("edge", "phone"), "the device reports this firmware version", "VERSION", text)
OPTIONS_SILENT = declare("options-silent", ("pstn", "edge"),
                         "SIP OPTIONS are dropped; other SIP requests are answered")
NEVER_RETURNS = declare("never-returns", ("phone", "edge"), "a reboot (firmware flash) takes the device away until "
                        "healed")
SLOW_BOOT = declare_value("slow-boot", ("phone", "edge"), "a reboot (firmware flash) takes SECONDS before the "
                          "services come back", "SECONDS", boot_seconds)
NO_DSCP = declare("no-dscp", ("phone", "edge"), "RTP and SIP leave the device unmarked (DSCP 0, best effort) "
                  "instead of EF 46 / CS3 24")
WRONG_DSCP = declare_value("wrong-dscp", ("phone", "edge"), "RTP and SIP leave the device marked DSCP N instead of "
                           "EF 46 / CS3 24", "N", whole_number(0, 63))


def marked_tos(st: DeviceState, dscp: int) -> int:
    """The ToS byte a device whose state is ``st`` sends with, when its settings say ``dscp``
    (0-63): ``dscp`` shifted into the DSCP bits (RFC 2474 §3), unless ``no-dscp`` (0) or
    ``wrong-dscp=N`` (N) is set."""
    if NO_DSCP.on(st):
        return 0
    wrong = WRONG_DSCP.value(st)
    return (dscp if wrong is None else wrong) << 2
