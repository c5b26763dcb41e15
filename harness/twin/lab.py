"""The whole lab twin: every protocol server and every device role, registered at import.

Importing this module fills the core's registries (:mod:`harness.twin.core.twin`): the faults every
role shares, the role-agnostic servers (SSH, console, SNMP), then the roles (Edge, switch, phone,
PSTN simulator, provisioning server), in that order, then the Genesys Cloud org (the unit
``cloud``, served when the inventory has ``cloud:``), the site's network services (units ``dhcp``
and ``dns``, when it has ``network.dhcp`` and ``network.dns``; the unit ``ntp``, when
``network.ntp.servers`` names addresses), the internet (the unit ``internet``, served when it has
``network.stun`` or ``network.internet``) and the WAN's voice path (the unit ``wan``, with
``network.media``), which is also the order of
``hil lab fault --list``. ``python -m harness.twin INVENTORY`` (:mod:`harness.twin.__main__`) runs
:func:`serve` from here; the harness's own tests build a :class:`Twin` from here.
"""

from __future__ import annotations

from .core import shared_faults
from .core.control import serve
from .core.twin import FAULTS, ROLES, FaultSpec, ServiceStartError, Twin
from .edge import EDGE
from .phone import PHONE
from .provisioning import PROVISIONING
from .pstn import PSTN
from .servers import console, snmp, ssh
from .switch import SWITCH

# isort: split
from .cloud import CLOUD  # after the roles, so its faults list after theirs
from .internet import INTERNET
from .netsvc import DHCP, DNS
from .ntp import NTP
from .wan import WAN

SERVERS = (ssh, console, snmp)
ROLE_SPECS = (EDGE, SWITCH, PHONE, PSTN, PROVISIONING)
UNIT_SPECS = (CLOUD, DHCP, DNS, NTP, INTERNET, WAN)


def faults() -> list[FaultSpec]:
    """Every fault the twin knows, in declaration order (what ``hil lab fault --list`` prints)."""
    return list(FAULTS.values())


__all__ = ["FAULTS", "ROLES", "ROLE_SPECS", "SERVERS", "UNIT_SPECS", "ServiceStartError", "Twin", "faults", "serve",
           "shared_faults"]
