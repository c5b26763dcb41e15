"""The phone's faults: another unit in its place, a flash that does not take, and calls taken from its
registrar only (``registrar-only``: an INVITE from any other address gets 403, as phones set to
accept calls from their proxy alone answer; read by :mod:`.sip`). (``firmware``,
``never-returns`` and ``slow-boot`` are shared with the Edge: :mod:`harness.twin.core.shared_faults`.)"""

from __future__ import annotations

from ...devices.facts.switch_ports import normal_mac
from ..core.faults import declare, declare_value, set_fields, undo_all
from ..core.twin import Twin, Undo
from .state import PhoneState


def _mac(name: str, value: str) -> str:
    mac = normal_mac(value)
    if mac is None:
        raise ValueError(f"fault {name} needs a MAC address such as 00:04:f2:aa:bb:cc, got {value!r}")
    return mac


async def _swapped_phone(twin: Twin, device: str, mac: str) -> Undo:
    st = twin.states[device]
    assert isinstance(st, PhoneState)
    return undo_all([set_fields(st, mac=mac), *twin.mac_swapped(device, mac)])


SWAPPED_PHONE = declare_value("swapped-phone", ("phone",), "another unit with this MAC sits in the phone's place (the "
                              "phone and its switch port show MAC)", "MAC", _mac, _swapped_phone)
NO_APPLY = declare("no-apply", ("phone",), "a flash reboots the phone but it comes back on its old firmware")
REGISTRAR_ONLY = declare("registrar-only", ("phone",), "the phone takes calls from its registrar Edge only: an "
                         "INVITE from any other address is answered 403 Forbidden")
