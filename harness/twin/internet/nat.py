"""The site's NAT as RFC 4787 describes its behaviour: a mapping policy (how a public port is chosen
for an internal endpoint) and a filtering policy (which outside endpoints may send back through it).

The twin cannot rewrite the harness's packets on loopback: the STUN server asks this model which
public address and port the NAT would have given (it reports that as XOR-MAPPED-ADDRESS) and
whether the NAT would let its answer in (a refused answer is not sent), which is all a STUN client
can see of a NAT.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Endpoint = tuple[str, int]
#: RFC 4787 4.1: endpoint-independent, address-dependent, address-and-port-dependent mapping
Mapping = Literal["EIM", "ADM", "APDM"]
#: RFC 4787 5: endpoint-independent, address-dependent, address-and-port-dependent filtering
Filtering = Literal["EIF", "ADF", "APDF"]
FIRST_PORT = 40000  # project choice: where the emulated NAT starts allocating public ports
MAX_BINDINGS = 10000  # project choice: the table is forgotten past this many bindings (a NAT's timeout)


@dataclass
class Nat:
    """One NAT with public address ``public``. ``bindings``: ``"POLICY internal[ remote]"`` -> public
    port; ``sent``: ``"address:port"`` of an internal endpoint -> the remote endpoints it has sent to
    (text keys, so the twin's state stays plain JSON)."""

    public: str
    next_port: int = FIRST_PORT
    bindings: dict[str, int] = field(default_factory=dict)
    sent: dict[str, list[Endpoint]] = field(default_factory=dict)

    def outbound(self, mapping: Mapping, src: Endpoint, dst: Endpoint) -> Endpoint:
        """A packet from internal ``src`` to remote ``dst`` leaves the NAT: its public address and port."""
        if len(self.bindings) > MAX_BINDINGS:
            self.bindings.clear()
            self.sent.clear()
        remote = "" if mapping == "EIM" else f" {dst[0]}" if mapping == "ADM" else f" {dst[0]}:{dst[1]}"
        key = f"{mapping} {src[0]}:{src[1]}{remote}"
        port = self.bindings.get(key)
        if port is None:
            port = self.bindings[key] = self.next_port
            self.next_port = FIRST_PORT if self.next_port >= 65535 else self.next_port + 1
        sent = self.sent.setdefault(f"{src[0]}:{src[1]}", [])
        if dst not in sent:
            sent.append(dst)
        return self.public, port

    def admits(self, filtering: Filtering, src: Endpoint, origin: Endpoint) -> bool:
        """The NAT lets a packet from remote ``origin`` in to internal ``src``."""
        if filtering == "EIF":
            return True
        sent = self.sent.get(f"{src[0]}:{src[1]}", [])
        if filtering == "ADF":
            return any(d[0] == origin[0] for d in sent)
        return origin in sent
