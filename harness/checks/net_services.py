"""Pure judgement of NET-DHCP-DNS: what a DHCP OFFER should hold for a site, and which Genesys
names the site needs resolved. No I/O: the probes are :mod:`harness.transports.dhcp` and
:mod:`harness.transports.dns`, the scenario is ``scenarios/network/test_dhcp_dns.py``.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from ..inventory.models import Lab
from ..inventory.regions import genesys_names
from ..transports.dhcp import DhcpOffer


def site_names(lab: Lab) -> list[str]:
    """The Genesys names the site needs resolved, without the final dot: ``network.dns.names``,
    else ``api.`` and ``login.`` of the org's region (``cloud.region``), else ``[]`` (an emulated
    org at a ``base_url`` has no region)."""
    dns = lab.network.dns
    if dns is not None and dns.names:
        return [n.rstrip(".") for n in dns.names]
    if lab.cloud is not None and lab.cloud.region is not None:
        return genesys_names(lab.cloud.region)
    return []


def dns_name_input(name: str, server: str) -> str:
    """The shared input a lookup of ``name`` at the resolver ``server`` relies on, as NET-DHCP-DNS's
    checks name it (:mod:`harness.evidence.findings`): the resolver's record of the name, the same
    whichever vantage point or transport asks (``"dns name login.mypurecloud.com at 10.0.0.53"``)."""
    return f"dns name {name.rstrip('.').lower()} at {server}"


@dataclass(frozen=True)
class Expected:
    """One option the site's intent names: its ``code``, the value as :meth:`DhcpOffer.value`
    shows it, and the inventory key that says so."""

    code: int
    value: str
    key: str


def expected_options(lab: Lab) -> list[Expected]:
    """What the OFFER should hold by the inventory (router, DNS servers, domain, NTP servers, boot
    server in every boot option), in code order; options the inventory leaves unset are not listed."""
    dhcp, dns = lab.network.dhcp, lab.network.dns
    out: list[Expected] = []
    if dhcp is not None and dhcp.router:
        out.append(Expected(3, dhcp.router, "network.dhcp.router"))
    if dns is not None:
        out.append(Expected(6, ", ".join(dns.servers), "network.dns.servers"))
        if dns.domain:
            out.append(Expected(15, dns.domain.rstrip("."), "network.dns.domain"))
    if dhcp is not None and dhcp.ntp_servers:
        out.append(Expected(42, ", ".join(dhcp.ntp_servers), "network.dhcp.ntp_servers"))
    if dhcp is not None and dhcp.boot_server:
        out += [Expected(c, dhcp.boot_server, "network.dhcp.boot_server") for c in dhcp.boot_options]
    return sorted(out, key=lambda e: e.code)


def offered_subnet(offer: DhcpOffer) -> ipaddress.IPv4Network | None:
    """The subnet of the offered address by its option 1, ``None`` without a usable mask."""
    try:
        mask = offer.addresses(1)
        return ipaddress.IPv4Interface(f"{offer.your_address}/{mask[0]}").network if mask else None
    except ValueError:
        return None


def address_problem(offer: DhcpOffer, giaddr: str | None) -> str | None:
    """Why the offered address is not one a phone on the relay's segment can use, or ``None``:
    0.0.0.0, or outside the subnet of ``giaddr`` (RFC 2131 §4.3.1: the server picks it from the
    relay's network)."""
    if offer.your_address == "0.0.0.0":
        return "no address offered (yiaddr 0.0.0.0)"
    net = offered_subnet(offer)
    if giaddr and net is not None and ipaddress.IPv4Address(giaddr) not in net:
        return f"{offer.your_address} is outside the relay's subnet ({giaddr} is not in {net})"
    return None
