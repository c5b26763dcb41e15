"""The emulated internet's faults (``hil lab fault internet NAME[=VALUE]``):

* ``nat-symmetric``: the NAT maps address-and-port-dependently and filters the same way (RFC 4787
  "symmetric NAT"): NET-NAT fails.
* ``nat-address-dependent``: address-dependent mapping and filtering: NET-NAT fails.
* ``nat-port-restricted``: endpoint-independent mapping, address-and-port-dependent filtering
  ("port-restricted cone"): NET-NAT passes and reports the filtering.
* ``udp-blocked``: the site's firewall drops outbound UDP (STUN and DNS over UDP get no answer; TCP
  still passes).
* ``tls-intercept``: an inspection proxy answers for the Genesys API host with a leaf from the
  "corporate inspection" CA, which the harness host trusts as a managed PC would (INET-QUALITY).
* ``port-drop=PORT``: the firewall drops traffic to PORT (UDP datagrams get no answer; a TCP
  connection is held open and never answered).
* ``port-refuse=PORT``: the firewall refuses PORT (TCP resets, ICMP port unreachable for UDP).
* ``udp-src-drop=LOW-HIGH``: the firewall drops outbound UDP whose source port is LOW..HIGH (a
  media port range closed: STUN from those ports gets no answer, from others it does).
* ``internet-down``: every internet-side server is gone (the reference the checks rely on is dead:
  the scenarios are BROKEN, not FAIL).

Healthy, the NAT is endpoint-independent in mapping and filtering ("full cone").
"""

from __future__ import annotations

from ..core.faults import declare, declare_value, whole_number
from ..core.state import DeviceState
from ..core.twin import Twin, Undo
from .nat import Filtering, Mapping

ROLE = ("internet",)


def _services_on(twin: Twin, device: str, port: int | None = None) -> list:
    return [s for s in twin.services.get(device, []) if port is None or getattr(s, "port", None) == port]


async def _refuse(twin: Twin, device: str, port: int) -> Undo:
    gone = _services_on(twin, device, port)
    if not gone:
        served = sorted({p for s in _services_on(twin, device) if (p := getattr(s, "port", None))})
        raise ValueError(f"fault port-refuse: the internet unit serves ports {', '.join(map(str, served))}, "
                         f"not {port}")
    for s in gone:
        await s.stop()

    async def undo() -> None:
        for s in gone:
            await s.start()

    return undo


async def _down(twin: Twin, device: str) -> Undo:
    await twin.stop_services(device)

    async def undo() -> None:
        await twin.start_services(device)

    return undo


NAT_SYMMETRIC = declare("nat-symmetric", ROLE, "the NAT maps and filters address-and-port-dependently (symmetric "
                        "NAT, RFC 4787)")
NAT_ADDRESS_DEPENDENT = declare("nat-address-dependent", ROLE, "the NAT maps and filters address-dependently")
NAT_PORT_RESTRICTED = declare("nat-port-restricted", ROLE, "the NAT maps endpoint-independently and filters "
                              "address-and-port-dependently (port-restricted cone)")
UDP_BLOCKED = declare("udp-blocked", ROLE, "the site's firewall drops outbound UDP (STUN and DNS over UDP)")
TLS_INTERCEPT = declare("tls-intercept", ROLE, "an inspection proxy answers for the Genesys API host with a leaf "
                        "from the corporate inspection CA (trusted by the harness host)")
PORT_DROP = declare_value("port-drop", ROLE, "the firewall drops traffic to PORT (no answer; TCP held open)", "PORT",
                          whole_number(1, 65535))
PORT_REFUSE = declare_value("port-refuse", ROLE, "the firewall refuses PORT (TCP reset, ICMP port unreachable)",
                            "PORT", whole_number(1, 65535), _refuse)


def _port_range(name: str, value: str) -> tuple[int, int]:
    low, sep, high = value.partition("-")
    if not (sep and low.isdigit() and high.isdigit() and 1 <= int(low) <= int(high) <= 65535):
        raise ValueError(f"fault {name} needs a port range LOW-HIGH within 1-65535, got {value!r}")
    return int(low), int(high)


UDP_SRC_DROP = declare_value("udp-src-drop", ROLE, "the firewall drops outbound UDP from source ports LOW..HIGH",
                             "LOW-HIGH", _port_range)
INTERNET_DOWN = declare("internet-down", ROLE, "every internet-side server (STUN, TLS, DNS) is gone", _down)


def nat_policy(st: DeviceState) -> tuple[Mapping, Filtering]:
    """The NAT's mapping and filtering under the faults on the unit (the first of symmetric,
    address-dependent, port-restricted that is on; none: endpoint-independent both)."""
    if NAT_SYMMETRIC.on(st):
        return "APDM", "APDF"
    if NAT_ADDRESS_DEPENDENT.on(st):
        return "ADM", "ADF"
    if NAT_PORT_RESTRICTED.on(st):
        return "EIM", "APDF"
    return "EIM", "EIF"


def dropped(st: DeviceState, port: int, udp: bool, source_port: int | None = None) -> bool:
    """Traffic to ``port`` (UDP when ``udp``, from ``source_port`` when given) is dropped by the
    emulated firewall."""
    if PORT_DROP.value(st) == port or (udp and UDP_BLOCKED.on(st)):
        return True
    closed = UDP_SRC_DROP.value(st)
    return udp and closed is not None and source_port is not None and closed[0] <= source_port <= closed[1]
