"""What the twin's DHCP and DNS servers serve, from the inventory's ``network.dhcp`` and ``network.dns``.

The inventory says what the site's servers should hand out (router, boot server, NTP servers,
resolvers, domain, the Genesys names); the twin serves exactly that, so a healthy twin passes
NET-DHCP-DNS and each fault (:mod:`.faults`) breaks one part of it. Two choices are the twin's own
(project choice): the voice VLAN is the /24 around ``vantage.voice_vlan`` (offers come from its
.100–.199), and a DNS view is the /24 around a vantage address.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ...checks.net_services import site_names
from ...inventory.models import Lab
from ..core.state import DeviceState

DHCP_NAME = "dhcp"  # the units' names in faults, heal and status
DNS_NAME = "dns"
VLAN_PREFIX = 24  # project choice: the emulated voice VLAN and WAN segment are /24s
POOL = range(100, 200)  # project choice: host numbers the emulated DHCP server offers
LEASE_S = 3600  # project choice: the lease time the OFFER names (option 51)


@dataclass
class DhcpServerState(DeviceState):
    """The emulated DHCP server: what it offers (options by code, as values the packet builder
    takes: addresses as lists, text as str), on ``port``; ``offers`` counts the OFFERs it sent."""

    port: int = 67
    options: dict[int, list[str] | str] = field(default_factory=dict)
    offers: int = 0


@dataclass
class DnsServerState(DeviceState):
    """The emulated resolver: ``views`` maps a source network (CIDR) to its records (name -> IPv4,
    names lower case without the final dot); ``queries`` counts what it answered."""

    port: int = 53
    views: dict[str, dict[str, str]] = field(default_factory=dict)
    queries: int = 0


def _net(host: str | None) -> str | None:
    if host is None:
        return None
    try:
        return str(ipaddress.ip_interface(f"{host}/{VLAN_PREFIX}").network)
    except ValueError:
        return None


def genesys_address(lab: Lab) -> str | None:
    """Where the twin's resolver sends the Genesys names: the emulated org's API address (the
    ``cloud.base_url`` host when it is an address), else ``None`` (then the resolver's own)."""
    if lab.cloud is None or lab.cloud.base_url is None:
        return None
    host = urlsplit(lab.cloud.base_url).hostname or ""
    try:
        return str(ipaddress.IPv4Address(host))
    except ValueError:
        return None


def dhcp_state(lab: Lab) -> DhcpServerState | None:
    """The emulated DHCP server of ``lab`` (``None`` without ``network.dhcp``)."""
    dhcp, dns = lab.network.dhcp, lab.network.dns
    if dhcp is None:
        return None
    options: dict[int, list[str] | str] = {1: [str(ipaddress.IPv4Network(f"0.0.0.0/{VLAN_PREFIX}").netmask)]}
    if dhcp.router:
        options[3] = [dhcp.router]
    if dns is not None:
        options[6] = list(dns.servers)
        if dns.domain:
            options[15] = dns.domain.rstrip(".")
    if dhcp.ntp_servers:
        options[42] = list(dhcp.ntp_servers)
    if dhcp.boot_server:
        for code in dhcp.boot_options:
            options[code] = dhcp.boot_server
    return DhcpServerState(name=DHCP_NAME, role="dhcp", platform="twin_dhcp", host=dhcp.server, port=dhcp.port,
                           options=options)


def dns_state(lab: Lab) -> DnsServerState | None:
    """The emulated resolver of ``lab`` (``None`` without ``network.dns``): on the first of
    ``dns.servers``. The voice VLAN's view holds the Genesys names and the lab's devices as
    ``<device>.<domain>``; the Edge WAN's view (the segments of ``vantage.edge_wan`` and of every
    Edge) holds the Genesys names only (what the internet has)."""
    dns = lab.network.dns
    if dns is None:
        return None
    server = dns.servers[0]
    cloud = genesys_address(lab) or server
    public = {n.lower(): cloud for n in site_names(lab)}
    views: dict[str, dict[str, str]] = {}
    # the Edge WAN segment: the /24 of the harness's vantage there, and of every Edge (an Edge's own
    # nslookup comes from its address, whether or not the inventory names a vantage on its segment)
    wans = [lab.network.vantage.edge_wan, *(d.host for d in lab.by_role("edge").values())]
    for wan in filter(None, map(_net, wans)):
        views[wan] = dict(public)
    voice = _net(lab.network.vantage.voice_vlan)
    if voice:
        inside = dict(public)
        if dns.domain:
            for name, d in lab.devices.items():
                try:
                    inside[f"{name}.{dns.domain.rstrip('.')}".lower()] = str(ipaddress.IPv4Address(d.host))
                except ValueError:
                    continue
        views[voice] = {**views.get(voice, {}), **inside}
    return DnsServerState(name=DNS_NAME, role="dns", platform="twin_dns", host=server, port=dns.port, views=views)
