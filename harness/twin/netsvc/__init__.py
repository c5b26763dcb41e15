"""The site's network services as the twin emulates them: the voice VLAN's DHCP server (unit
``dhcp``, :mod:`.dhcp`) and the site resolver with split views (unit ``dns``, :mod:`.dns`), both
from the inventory's ``network.dhcp`` and ``network.dns`` (:mod:`.state`), with the faults of
:mod:`.faults`. Real sites run the same faces (a DHCP server behind a relay, a resolver on 53)."""

from __future__ import annotations

from ..core.twin import UnitSpec, register_unit
from .dhcp import dhcp_services
from .dns import dns_services
from .state import dhcp_state, dns_state

DHCP = register_unit(UnitSpec(role="dhcp", state=dhcp_state, services=dhcp_services))
DNS = register_unit(UnitSpec(role="dns", state=dns_state, services=dns_services))

__all__ = ["DHCP", "DNS"]
