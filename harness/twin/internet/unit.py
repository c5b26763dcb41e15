"""The emulated internet as a twin unit named ``internet`` (faults, heal and ``hil lab status``
address it by that name): the STUN server (:mod:`.stun`) where the inventory has ``network.stun``, the
API host's TLS endpoint (:mod:`.tls`) where ``network.internet`` names ``api_address`` and an API host,
the resolver (:mod:`.dns`) where it names ``dns_server``, and the HTTP proxy of each Edge whose
``facts.proxy`` is an address (:mod:`.proxy`). Heal forgets the NAT's bindings."""

from __future__ import annotations

import asyncio

from ..core.twin import Service, Twin, UnitSpec, register_unit
from .dns import dns_services
from .proxy import HttpProxy
from .state import InternetState, internet_state
from .stun import StunTcp, StunUdp
from .tls import TlsApi


def _services(twin: Twin, unit: str) -> list[Service]:
    st = twin.states[unit]
    assert isinstance(st, InternetState)
    out: list[Service] = []
    if st.stun_primary is not None and st.stun_alternate is not None:
        sockets: dict[tuple[str, int], asyncio.DatagramTransport] = {}
        (ip1, p1), (ip2, p2) = st.stun_primary, st.stun_alternate
        out += [StunUdp(twin, unit, ip, p, sockets) for ip in (ip1, ip2) for p in (p1, p2)]
        out.append(StunTcp(twin, unit, ip1, p1))
    if st.api_host and st.api_address:
        out.append(TlsApi(twin, unit, st.api_address, st.api_host))
    if st.dns_address:
        out += dns_services(twin, unit, st.dns_address)
    out += [HttpProxy(twin, unit, host, port) for host, port in st.proxies]
    return out


async def _heal(twin: Twin, unit: str) -> None:
    st = twin.states[unit]
    assert isinstance(st, InternetState)
    st.nat.bindings.clear()
    st.nat.sent.clear()


INTERNET = register_unit(UnitSpec(role="internet", state=internet_state, services=_services, heal=_heal))
