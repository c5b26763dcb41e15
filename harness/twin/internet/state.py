"""The emulated internet's state, from the inventory's ``network.stun`` and ``network.internet``.

The STUN server's alternate address is the primary's next IPv4 address and its alternate port the
primary port + 1 (project choice: RFC 5780 leaves them to the operator; 3478/3479 as in most
deployments). Each inventory Edge's ``facts.proxy`` that is an address gets an HTTP proxy there
(:mod:`.proxy`). The NAT's public address is ``network.internet.public_address``, else the primary's
/16 with ``.200.1`` (project choice, a loopback address no device uses).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from ...inventory.models import INTERNET_NAME, EdgeDevice, Lab, proxy_endpoint
from ..core.state import DeviceState
from .nat import Nat


@dataclass
class InternetState(DeviceState):
    """``stun_primary``/``stun_alternate`` (address, port) of the STUN server, or ``None`` when the
    inventory has no ``network.stun``; ``api_host`` and ``api_address`` of the TLS endpoint (``None``:
    none); ``dns_address`` of the resolver (``None``: none); ``ca_file`` the CA bundle the twin writes;
    ``nat`` the NAT model."""

    stun_primary: tuple[str, int] | None = None
    stun_alternate: tuple[str, int] | None = None
    api_host: str | None = None
    api_address: str | None = None
    dns_address: str | None = None
    ca_file: str | None = None
    nat: Nat = field(default_factory=lambda: Nat("127.0.200.1"))
    proxies: tuple[tuple[str, int], ...] = ()  # (address, port) of each Edge's WAN proxy (facts.proxy)


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def internet_state(lab: Lab) -> InternetState | None:
    """The internet of ``lab``, or ``None`` when the inventory has neither ``network.stun`` nor
    ``network.internet`` (or the lab is not emulated)."""
    stun, net = lab.network.stun, lab.network.internet
    if (stun is None and net is None) or not lab.lab.emulated:
        return None
    primary = alternate = None
    host = "127.0.0.1"
    if stun is not None:
        ip = ipaddress.IPv4Address(stun.server)
        primary, alternate = (str(ip), stun.port), (str(ip + 1), stun.port + 1)
        host = str(ip)
    elif net is not None and net.api_address:
        host = net.api_address
    public = ".".join([*host.split(".")[:2], "200", "1"])
    if net is not None and net.public_address:
        public = net.public_address
    proxies: set[tuple[str, int]] = set()
    for dev in lab.devices.values():
        if isinstance(dev, EdgeDevice) and dev.facts.proxy:
            host, port = proxy_endpoint(dev.facts.proxy)
            if _is_address(host):  # the twin serves addresses only (a name would need the site's DNS)
                proxies.add((host, port))
    return InternetState(
        proxies=tuple(sorted(proxies)),
        name=INTERNET_NAME, role="internet", platform="internet", host=host, stun_primary=primary,
        stun_alternate=alternate, api_host=lab.genesys_api_host, api_address=net.api_address if net else None,
        dns_address=net.dns_server if net else None, ca_file=net.ca_file if net else None, nat=Nat(public))
