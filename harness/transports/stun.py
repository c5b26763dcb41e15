"""A STUN client (RFC 5389 Binding) with RFC 5780 NAT behaviour discovery, on ``aioice.stun``'s codec.

:func:`binding` sends one Binding request over UDP (optionally with CHANGE-REQUEST) and returns what
the answer says, or ``None`` when none came; :func:`binding_tcp` does the same over TCP.
:func:`discover` runs RFC 5780 4.3 mapping tests I–III and 4.4 filtering tests II–III from a chosen
source address. ``Endpoint`` is ``(address, port)``. Only RFC 5780 servers (which name their
OTHER-ADDRESS) let the mapping and filtering be told; the PyPI ``stun``/``pystun3`` packages know RFC
3489's cone names only.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field

from aioice import stun

Endpoint = tuple[str, int]
CHANGE_IP, CHANGE_PORT = 0x04, 0x02  # RFC 5780 7.2
EIM, ADM, APDM = "endpoint-independent", "address-dependent", "address-and-port-dependent"  # RFC 4787 names
HEADER_BYTES = 20


@dataclass(frozen=True)
class Binding:
    """One Binding answer: the ``mapped`` endpoint (XOR-MAPPED-ADDRESS, else MAPPED-ADDRESS), the
    server's ``other`` (OTHER-ADDRESS) and ``origin`` (RESPONSE-ORIGIN) when given, ``rtt_ms``."""

    mapped: Endpoint
    other: Endpoint | None
    origin: Endpoint | None
    rtt_ms: float


def _request(change: int) -> stun.Message:
    msg = stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST)
    if change:
        msg.attributes["CHANGE-REQUEST"] = change
    return msg


def _binding(resp: stun.Message, t0: float) -> Binding:
    a = resp.attributes
    mapped = a.get("XOR-MAPPED-ADDRESS") or a.get("MAPPED-ADDRESS")
    if mapped is None:
        raise ValueError("a Binding response without a mapped address")
    return Binding(tuple(mapped), a.get("OTHER-ADDRESS"), a.get("RESPONSE-ORIGIN"),
                   (time.monotonic() - t0) * 1000)


def binding(sock: socket.socket, server: Endpoint, change: int = 0, timeout_s: float = 0.5,
            tries: int = 2) -> Binding | None:
    """Send a Binding request from the bound UDP ``sock`` to ``server`` (``tries`` times, ``timeout_s``
    each); the first matching success response, or ``None``. Raises OSError (an ICMP port
    unreachable: ConnectionRefusedError) and ValueError (a response without a mapped address)."""
    req = _request(change)
    for _ in range(tries):
        t0 = time.monotonic()
        sock.sendto(bytes(req), server)
        deadline = t0 + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                data, _ = sock.recvfrom(2048)
            except TimeoutError:
                break
            try:
                resp = stun.parse_message(data)
            except ValueError:
                continue
            if resp.transaction_id == req.transaction_id and resp.message_class == stun.Class.RESPONSE:
                return _binding(resp, t0)
    return None


def binding_tcp(source: str | None, server: Endpoint, timeout_s: float = 2.0) -> Binding:
    """One Binding request over TCP from ``source`` (``None``: any address) to ``server``. Raises
    OSError (refused, unreachable), TimeoutError (no connection or answer in ``timeout_s``) and
    ValueError (not a Binding success response)."""
    req = _request(0)
    t0 = time.monotonic()
    with socket.create_connection(server, timeout=timeout_s, source_address=(source, 0) if source else None) as s:
        s.sendall(bytes(req))
        data = b""
        while len(data) < HEADER_BYTES or len(data) < HEADER_BYTES + int.from_bytes(data[2:4], "big"):
            chunk = s.recv(2048)
            if not chunk:
                raise ValueError("the server closed the connection without an answer")
            data += chunk
    resp = stun.parse_message(data)
    if resp.transaction_id != req.transaction_id or resp.message_class != stun.Class.RESPONSE:
        raise ValueError(f"not the answer to the request: {resp.message_class.name}")
    return _binding(resp, t0)


@dataclass
class NatBehaviour:
    """What RFC 5780 discovery found: ``mapped`` (test I's answer; ``None``: the server never
    answered over UDP), ``mapping`` and ``filtering`` (RFC 4787 names, or ``None`` when not
    determinable, e.g. a server without OTHER-ADDRESS), ``nat`` (the mapped endpoint differs from the
    local one), ``steps`` (one line per test, for the report)."""

    local: Endpoint
    mapped: Endpoint | None = None
    mapping: str | None = None
    filtering: str | None = None
    nat: bool = True
    steps: list[str] = field(default_factory=list)


def _udp(source: str) -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((source, 0))
    return s


def discover(source: str, server: Endpoint, timeout_s: float = 0.5) -> NatBehaviour:
    """RFC 5780 mapping tests I–III, then filtering tests II–III from a fresh socket, from ``source``
    to ``server``. Raises OSError (the server's port refused)."""
    with _udp(source) as s:
        out = NatBehaviour(local=s.getsockname())
        one = binding(s, server, timeout_s=timeout_s)
        out.steps.append(f"mapping test I to {server[0]}:{server[1]}: " + (f"{one.mapped[0]}:{one.mapped[1]}"
                                                                             if one else "no answer"))
        if one is None:
            return out
        out.mapped, out.nat = one.mapped, one.mapped != out.local
        if not out.nat:
            out.mapping = out.filtering = EIM
            return out
        if one.other is None:
            out.steps.append("the server names no OTHER-ADDRESS (not RFC 5780): mapping and filtering unknown")
            return out
        two = binding(s, (one.other[0], server[1]), timeout_s=timeout_s)
        out.steps.append(f"mapping test II to {one.other[0]}:{server[1]}: "
                         + (f"{two.mapped[0]}:{two.mapped[1]}" if two else "no answer"))
        if two is not None and two.mapped == one.mapped:
            out.mapping = EIM
        elif two is not None:
            three = binding(s, one.other, timeout_s=timeout_s)
            out.steps.append(f"mapping test III to {one.other[0]}:{one.other[1]}: "
                             + (f"{three.mapped[0]}:{three.mapped[1]}" if three else "no answer"))
            if three is not None:
                out.mapping = ADM if three.mapped == two.mapped else APDM
    with _udp(source) as s:  # filtering on a mapping that has only ever sent to the primary endpoint
        if binding(s, server, timeout_s=timeout_s) is None:
            out.steps.append("filtering test I: no answer")
            return out
        if binding(s, server, CHANGE_IP | CHANGE_PORT, timeout_s) is not None:
            out.filtering = EIM
            out.steps.append("filtering test II (change address and port): answered")
        else:
            three_f = binding(s, server, CHANGE_PORT, timeout_s)
            out.filtering = ADM if three_f is not None else APDM
            out.steps.append("filtering test II: no answer; test III (change port): "
                             + ("answered" if three_f else "no answer"))
    return out
