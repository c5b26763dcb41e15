"""The faults of the emulated DHCP server (unit ``dhcp``) and resolver (unit ``dns``), each breaking
one part of NET-DHCP-DNS (``hil lab fault dhcp dhcp-no-option=6``):

* ``dhcp-no-option=CODE`` (dhcp): the OFFER leaves option CODE out (1–254: 6 takes the DNS servers
  away, 160 Poly's boot server …).
* ``dhcp-down`` (dhcp): the server's socket is closed; a DISCOVER gets no answer.
* ``dns-tcp-off`` (dns): the resolver answers over UDP only; TCP 53 is refused.
* ``dns-nxdomain=NAME`` (dns): NAME does not resolve (NXDOMAIN) in any view.
* ``dns-down`` (dns): the resolver answers nothing, over UDP or TCP (its sockets are closed: its host
  refuses, ICMP port unreachable for UDP).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from ..core.faults import declare, declare_value, whole_number
from ..core.twin import Twin, Undo

DHCP_ROLE = ("dhcp",)
DNS_ROLE = ("dns",)
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,253}$")


def _name(fault: str, value: str) -> str:
    if not _NAME.match(value) or ".." in value:
        raise ValueError(f"fault {fault} needs a DNS name such as api.mypurecloud.com, got {value!r}")
    return value.rstrip(".").lower()


def _stopper(service: str) -> Callable[[Twin, str], Awaitable[Undo]]:
    async def apply(twin: Twin, unit: str) -> Undo:
        stopped = [s for s in twin.services.get(unit, []) if s.name == service]
        for s in stopped:
            await s.stop()

        async def undo() -> None:
            for s in stopped:
                await s.start()

        return undo

    return apply


async def _all_down(twin: Twin, unit: str) -> Undo:
    await twin.stop_services(unit)

    async def undo() -> None:
        await twin.start_services(unit)

    return undo


DHCP_NO_OPTION = declare_value("dhcp-no-option", DHCP_ROLE, "the DHCP OFFER leaves option CODE out (6: DNS servers, "
                               "160: Poly's boot server …)", "CODE", whole_number(1, 254))
DHCP_DOWN = declare("dhcp-down", DHCP_ROLE, "the DHCP server answers nothing (its socket is closed)", _all_down)
DNS_TCP_OFF = declare("dns-tcp-off", DNS_ROLE, "the resolver answers over UDP only: TCP 53 is refused",
                      _stopper("dns-tcp"))
DNS_NXDOMAIN = declare_value("dns-nxdomain", DNS_ROLE, "NAME does not resolve (NXDOMAIN) in any view", "NAME", _name)
DNS_DOWN = declare("dns-down", DNS_ROLE, "the resolver answers nothing, over UDP or TCP", _all_down)
