"""An Edge's logical interfaces as the Platform API lists them
(``GET /api/v2/telephony/providers/edges/{edgeId}/logicalinterfaces``; the SDK's
``DomainLogicalInterface``, ``DomainCapabilities``, ``DomainNetworkAddress``): the fields NET-DHCP-DNS
(b) reads to judge the Edge's WAN port, and the endpoint template.

``DomainNetworkAddress.type`` is one of ``ip``, ``dns``, ``gateway``, ``tdm``; an ``ip`` address is in
CIDR form (``192.0.2.10/24``); ``persistent`` is false for an address DHCP assigned; ``family`` 2 is
IPv4, 23 IPv6 (the SDK's enum). ``interfaceType`` is ``SYSTEM`` or ``DIAGNOSTIC``.
"""

from __future__ import annotations

import ipaddress

from ...transports.cloud import CloudModel

LOGICAL_INTERFACES = "/api/v2/telephony/providers/edges/{edgeId}/logicalinterfaces"


class Capabilities(CloudModel):
    """``DomainCapabilities`` of one address family: ``enabled``, and ``dhcp`` (the port takes its
    address by DHCP; false: static)."""

    enabled: bool | None = None
    dhcp: bool | None = None


class NetworkAddress(CloudModel):
    """``DomainNetworkAddress``."""

    type: str | None = None
    address: str | None = None
    persistent: bool | None = None
    family: int | None = None

    @property
    def ipv4(self) -> str | None:
        """The IPv4 address without its prefix length, when this is an IPv4 ``ip`` address."""
        if (self.type or "ip").lower() != "ip" or not self.address:
            return None
        try:
            found = ipaddress.ip_interface(self.address).ip
        except ValueError:
            return None
        return str(found) if found.version == 4 else None


class LogicalInterface(CloudModel):
    """``DomainLogicalInterface``: ``use_for_wan_interface`` marks the Edge's WAN port ("used for all
    communication with the internet")."""

    id: str | None = None
    name: str | None = None
    friendly_name: str | None = None
    interface_type: str | None = None
    physical_adapter_id: str | None = None
    addresses: tuple[NetworkAddress, ...] = ()
    ipv4_capabilities: Capabilities | None = None
    current_state: str | None = None
    use_for_wan_interface: bool | None = None

    @property
    def label(self) -> str:
        return self.friendly_name or self.name or self.physical_adapter_id or self.id or "?"

    @property
    def ipv4_addresses(self) -> list[str]:
        """Its IPv4 addresses (prefix length dropped)."""
        return [a for a in (x.ipv4 for x in self.addresses) if a]

    @property
    def ipv4_addressing(self) -> str | None:
        """``dhcp`` or ``static`` (``ipv4Capabilities.dhcp``), None when the API does not say."""
        dhcp = self.ipv4_capabilities.dhcp if self.ipv4_capabilities is not None else None
        return None if dhcp is None else "dhcp" if dhcp else "static"


def wan_port(found: list[LogicalInterface]) -> LogicalInterface | None:
    """The Edge's WAN port among its logical interfaces (``useForWanInterface``), or None."""
    return next((i for i in found if i.use_for_wan_interface), None)
