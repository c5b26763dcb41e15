"""The ``ntp`` unit's state: the addresses it serves, the port, and what its answers carry."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from ...inventory.models import Lab
from ..core.state import DeviceState

NTP_UNIT = "ntp"  # the unit's name in faults, heal and status (``hil lab fault ntp ntp-offset=2.5``)
STRATUM = 2  # a site server synchronized to an upstream stratum-1 server (RFC 5905 §7.3); project choice
UPSTREAM_REF_ID = "192.0.2.1"  # its upstream's address in the reference ID field (RFC 5737 documentation range)


@dataclass
class NtpState(DeviceState):
    """``servers``: the addresses served (the inventory's servers that are IP addresses: a name is the
    real site's server, which the twin cannot be), each on UDP ``port``; answers carry ``stratum``.
    ``answered`` counts the requests answered (for the harness's own tests)."""

    servers: list[str] = field(default_factory=list)
    port: int = 123
    stratum: int = STRATUM
    answered: int = 0


def ntp_state(lab: Lab) -> NtpState | None:
    """The unit of ``lab``: ``None`` when ``network.ntp.servers`` names no address."""
    ntp = lab.network.ntp
    served = []
    for s in ntp.servers:
        try:
            served.append(str(ipaddress.ip_address(s)))
        except ValueError:
            continue
    if not served:
        return None
    return NtpState(name=NTP_UNIT, role="ntp", platform="sntp", host=served[0], servers=served, port=ntp.port)
