"""The Genesys Edge as a twin role: its state, SIP side, management CLI, log disk, MIB and updater.

``role: edge``: a B2BUA on the SIP trunk and the phones' registrar (:mod:`.sip`), the management CLI
over SSH and the console (:mod:`.cli`), log bundles on its disk served by SFTP and XMODEM
(:mod:`.logs`), the software updater (:mod:`.software`) and its SNMP view (identity and firmware).
Its faults are declared in :mod:`.faults`.
"""

from __future__ import annotations

from ..core.faces import Mib
from ..core.twin import RoleSpec, Service, Twin, register_role
from ..servers.mib2 import TWIN_PRODUCTS, entity_chassis, system_group
from .cli import EdgeCli
from .logs import edge_disk
from .sip import edge_sip_services
from .software import boot_banner, heal, machine
from .state import EdgeState, initial_state


def _services(twin: Twin, device: str) -> list[Service]:
    """``sip-trunk`` and ``sip-phones``; the update state machine is made here, so the CLI finds it."""
    machine(twin, device)
    return edge_sip_services(twin, device)


def _shell(twin: Twin, device: str, console: bool) -> EdgeCli:
    st = twin.states[device]
    assert isinstance(st, EdgeState)
    return EdgeCli(st, edge_disk(twin, device), console, machine(twin, device))


def edge_mib(st: EdgeState, location: str) -> Mib:
    """The Edge's SNMP view: the system group and the ENTITY-MIB chassis row (model, firmware, serial)."""
    mib = system_group(st, f"Genesys Cloud Edge ({st.model}) software {st.firmware}", (*TWIN_PRODUCTS, 1),
                       st.hostname, location, 72)
    return mib | entity_chassis(f"Genesys Cloud Edge {st.model}", "Edge", st.model, st.firmware, st.serial)


EDGE = register_role(RoleSpec(
    role="edge", state=initial_state, services=_services, heal=heal, shell=_shell, sftp_root=edge_disk,
    boot_banner=boot_banner, mib=[((), edge_mib)]))
