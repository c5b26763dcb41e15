"""The Genesys Edge as a twin role: its state, SIP side, log disk, MIB and updater.

``role: edge``: a B2BUA on the SIP trunk and the phones' registrar (:mod:`.sip`), log bundles on its
disk (:mod:`.logs`, reached through the emulated Genesys Cloud API's log jobs), the software updater
(:mod:`.software`, driven by the API's software update) and its SNMP view (identity and firmware).
A Genesys Edge is cloud-managed: its customer has no SSH command line, SFTP or serial console on it,
so the role offers none (the inventory refuses ``ssh:``/``console:`` on a ``genesys_edge``).
Its faults are declared in :mod:`.faults`.
"""

from __future__ import annotations

from ..core.faces import Mib
from ..core.twin import RoleSpec, Service, Twin, register_role
from ..servers.mib2 import TWIN_PRODUCTS, entity_chassis, system_group
from .sip import edge_sip_services
from .software import heal, machine
from .state import EdgeState, initial_state


def _services(twin: Twin, device: str) -> list[Service]:
    """``sip-trunk`` and ``sip-phones``; the update state machine is made here, so the API finds it."""
    machine(twin, device)
    return edge_sip_services(twin, device)


def edge_mib(st: EdgeState, location: str) -> Mib:
    """The Edge's SNMP view: the system group and the ENTITY-MIB chassis row (model, firmware, serial)."""
    mib = system_group(st, f"Genesys Cloud Edge ({st.model}) software {st.firmware}", (*TWIN_PRODUCTS, 1),
                       st.hostname, location, 72)
    return mib | entity_chassis(f"Genesys Cloud Edge {st.model}", "Edge", st.model, st.firmware, st.serial)


EDGE = register_role(RoleSpec(
    role="edge", state=initial_state, services=_services, heal=heal, mib=[((), edge_mib)]))
