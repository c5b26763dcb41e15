"""The IP phone as a twin role: its state, SIP user agent, firmware state machine and MIB.

``role: phone``: a SIP phone that registers with its Edge and answers calls with echo media
(:mod:`.sip`), takes firmware by check-sync (:mod:`.firmware`) and serves its identity, registration
and firmware progress over SNMP (:func:`phone_mib`). Its faults are declared in :mod:`.faults`.
"""

from __future__ import annotations

import time

from pysnmp.proto import rfc1902

from ...devices.facts.clocks import date_and_time
from ..core.faces import Mib
from ..core.twin import RoleSpec, Twin, register_role
from ..servers.console import booting
from ..servers.mib2 import IF_NUMBER, TWIN_ENTERPRISE, TWIN_PRODUCTS, entity_chassis, if_row, system_group
from .firmware import heal
from .sip import phone_sip_services
from .state import PhoneState, initial_state

HR_SYSTEM_DATE = (1, 3, 6, 1, 2, 1, 25, 1, 2, 0)  # HOST-RESOURCES-MIB hrSystemDate: the phone's clock (UTC)
TWIN_PHONE_MIB = (*TWIN_ENTERPRISE, 2)  # twin-private phone objects, project choice (docs/twin-snmp.md)


def phone_mib(st: PhoneState, location: str) -> Mib:
    """The phone's SNMP view: system group, ENTITY-MIB chassis row, its one interface, and the twin's
    phone objects (registered, extension, registrar, last REGISTER code, firmware state, last
    upgrade error, boots)."""
    mib = system_group(st, f"{st.model} SIP phone, firmware {st.firmware}", (*TWIN_PRODUCTS, 3), st.name,
                       location, 72)
    mib |= entity_chassis(f"{st.model} IP phone", "Phone", st.model, st.firmware, st.serial)
    mib[IF_NUMBER] = rfc1902.Integer32(1)
    mib |= if_row(1, "eth0", "eth0", "LAN", st.mac, 1000, True, True, 0)
    mib[HR_SYSTEM_DATE] = rfc1902.OctetString(date_and_time(time.time()))  # HOST-RESOURCES-MIB (RFC 2790)
    p = TWIN_PHONE_MIB
    mib[(*p, 1, 0)] = rfc1902.Integer32(1 if st.registered else 2)
    mib[(*p, 2, 0)] = rfc1902.OctetString(st.extension)
    mib[(*p, 3, 0)] = rfc1902.OctetString(st.registrar or "")
    mib[(*p, 4, 0)] = rfc1902.Integer32(st.last_register_code or 0)
    mib[(*p, 5, 0)] = rfc1902.OctetString(st.firmware_state)  # firmware state machine (firmware.py)
    mib[(*p, 6, 0)] = rfc1902.OctetString(st.last_upgrade_error or "")
    mib[(*p, 7, 0)] = rfc1902.Counter32(st.boots)
    return mib


def _banner(twin: Twin, device: str) -> str:
    st = twin.states[device]
    assert isinstance(st, PhoneState)
    return booting(device, st.model, st.firmware)


PHONE = register_role(RoleSpec(role="phone", state=initial_state, services=phone_sip_services, heal=heal,
                               boot_banner=_banner, mib=[((), phone_mib)]))
