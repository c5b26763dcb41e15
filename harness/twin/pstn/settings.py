"""What one PSTN simulator is, as its SIP side needs it: :class:`CarrierSettings`.

The twin builds them from the inventory (:func:`settings_from_lab`); ``hil carrier serve`` builds
them from its own YAML file (:mod:`harness.carrier.config`). Both then run the same code:
:class:`~harness.twin.pstn.sip.PstnService` with a :class:`~harness.twin.pstn.call_log.CallLog`.
Nothing here depends on the twin.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ...inventory.models import EdgeDevice, Lab, PstnDevice


@dataclass(frozen=True)
class TrunkPeer:
    """An Edge whose trunk routes to this carrier: it gets OPTIONS pings on ``host:port``."""

    name: str
    host: str
    port: int


@dataclass(frozen=True)
class CarrierSettings:
    """One carrier's SIP side.

    Attributes:
        name: the simulator's name (inventory device name; in logs and the ``Warning`` of a refusal).
        host / port: bound for SIP over UDP and TCP. transport: what its OPTIONS pings use.
        carrier: the carrier's name, in the ``Server`` header.
        echo_numbers: E.164 numbers that answer as echo lines; empty: every number not refused does.
            Others are refused 404 Not Found (RFC 3261 21.4.5) when the set is not empty.
        unavailable_numbers: E.164 numbers refused 503 Service Unavailable.
        max_calls: channels (calls ringing or answered) beyond which an INVITE gets 503; ``None``/0: no limit.
        country: ISO 3166 region national numbers are read in (``3175551234`` → ``+13175551234``).
        peers: Edges pinged with OPTIONS every :data:`~harness.twin.pstn.sip.PING_INTERVAL_S`.
        timeout_s: one OPTIONS ping's wait for an answer.
        product: what runs it, in the ``Server`` header (``hil twin``, ``hil carrier``).
    """

    name: str
    host: str
    port: int = 5060
    transport: Literal["udp", "tcp"] = "udp"
    carrier: str = "hil"
    echo_numbers: frozenset[str] = frozenset()
    unavailable_numbers: frozenset[str] = frozenset()
    max_calls: int | None = None
    country: str = "US"
    peers: tuple[TrunkPeer, ...] = ()
    timeout_s: float = 2.0
    product: str = "hil twin"

    @property
    def server(self) -> str:
        """The ``Server``/``User-Agent`` header: ``Twin Carrier PSTN simulator (hil twin)``."""
        return f"{self.carrier} PSTN simulator ({self.product})"


def settings_from_lab(lab: Lab, device: str) -> CarrierSettings:
    """The settings of PSTN ``device`` of ``lab`` (which has ``sip``): its facts, the Edges whose
    ``trunk.routes`` name it, and the dial plans' country when they all agree (else ``US``)."""
    dev = lab.devices[device]
    assert isinstance(dev, PstnDevice) and dev.sip is not None
    countries = {e.facts.dial_plan.country for e in lab.devices.values()
                 if isinstance(e, EdgeDevice) and e.facts.dial_plan is not None}
    peers = tuple(TrunkPeer(n, e.host, e.sip.port) for n, e in lab.devices.items()
                  if isinstance(e, EdgeDevice) and e.sip is not None and e.facts.trunk is not None
                  and device in e.facts.trunk.routes)
    return CarrierSettings(
        name=device, host=dev.host, port=dev.sip.port, transport="tcp" if dev.sip.transport == "tcp" else "udp",
        carrier=dev.facts.carrier or "hil", unavailable_numbers=frozenset(dev.facts.unavailable_numbers),
        max_calls=dev.facts.max_calls, country=countries.pop() if len(countries) == 1 else "US", peers=peers,
        timeout_s=dev.sip.timeout_s)
