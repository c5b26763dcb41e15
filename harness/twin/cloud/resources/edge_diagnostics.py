"""The Edge's own network diagnostics, run on the Edge: ``POST …/edges/{edgeId}/diagnostic/{kind}``
(``EdgeNetworkDiagnosticRequest``: ``host``) → ``EdgeNetworkDiagnostic`` (an ``id``), then ``GET
…/diagnostic/{kind}`` → ``EdgeNetworkDiagnosticResponse`` (``commandCorrelationId``, ``diagnostics``:
the command's text output) for ``kind`` ``nslookup``, ``ping``, ``route`` or ``tracepath``.

The twin Edge resolves as a real one does, asking the site's resolver (the first of the inventory's
``network.dns.servers``, the twin's unit ``dns``) from its own address over UDP; without
``network.dns`` it uses the host's resolver. It reaches what the twin
serves on loopback and nothing else (a lab twin has no internet): ``ping`` and ``tracepath`` to a
name that resolves to loopback answer, anything else is unreachable. With ``wan-down`` every
destination off its LAN is unreachable; an Edge that does not reach the cloud takes no command (400
``edge.offline``). A GET before any POST answers 404.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket

import dns.asyncquery
import dns.exception
import dns.message
import dns.rcode
import dns.rdatatype

from ...core.twin import Twin
from ...edge.faults import WAN_DOWN
from ...edge.state import EdgeState
from ..router import ApiError, ApiRequest, Json, route
from ..state import entity_id
from .edges import EDGES, find_edge, require_online

KINDS = ("nslookup", "ping", "route", "tracepath")
RESOLVE_TIMEOUT_S = 2.0  # project choice: the twin Edge's resolver gives up after this


async def _ask_site_resolver(host: str, st: EdgeState, resolver: tuple[str, int]) -> list[str] | None:
    """The A records of ``host`` from the site's resolver, asked from the Edge's address; ``None``
    when it does not answer."""
    try:
        q = dns.message.make_query(host, dns.rdatatype.A)
        reply = await dns.asyncquery.udp(q, resolver[0], timeout=RESOLVE_TIMEOUT_S, port=resolver[1], source=st.host)
    except (dns.exception.DNSException, OSError, ValueError):
        return None
    if reply.rcode() != dns.rcode.NOERROR:
        return []
    return sorted({str(r.address) for rrset in reply.answer if rrset.rdtype == dns.rdatatype.A for r in rrset})


async def _resolve(host: str, st: EdgeState | None = None, resolver: tuple[str, int] | None = None) -> list[str] | None:
    """The addresses of ``host`` as the Edge resolves it: through ``resolver`` (the site's) when
    given, else the host's; ``None`` when the resolver does not answer. An address literal is
    itself (no resolver is asked, as getaddrinfo does not ask one)."""
    try:
        return [str(ipaddress.IPv4Address(host))]
    except ValueError:
        pass
    if resolver is not None and st is not None:
        return await _ask_site_resolver(host, st, resolver)
    try:
        infos = await asyncio.wait_for(asyncio.get_running_loop().getaddrinfo(host, None, family=socket.AF_INET),
                                       RESOLVE_TIMEOUT_S)
    except (OSError, TimeoutError):
        return []
    return sorted({str(i[4][0]) for i in infos})


async def run_diagnostic(kind: str, st: EdgeState, host: str, resolver: tuple[str, int] | None = None) -> str:
    """The text ``kind`` prints on the Edge for ``host``; names resolved through ``resolver``
    (``(address, port)`` of the site's resolver) when given, else the host's."""
    found = await _resolve(host, st, resolver)
    server = resolver[0] if resolver is not None else "127.0.0.53"
    if kind == "nslookup" and found is None:
        return ";; connection timed out; no servers could be reached\n"
    addrs = found or []
    local = [a for a in addrs if ipaddress.ip_address(a).is_loopback]
    reach = bool(local) and not WAN_DOWN.on(st)
    if kind == "nslookup":
        if not addrs:
            return f"Server:\t\t{server}\n\n** server can't find {host}: NXDOMAIN\n"
        return f"Server:\t\t{server}\n\nNon-authoritative answer:\n" + "".join(
            f"Name:\t{host}\nAddress: {a}\n" for a in addrs)
    if kind == "route":
        via = "dev lo" if reach else "unreachable"
        return f"{addrs[0] if addrs else host} {via} src {st.host}\n"
    if not addrs:
        return f"{kind}: {host}: Name or service not known\n"
    if kind == "ping":
        if not reach:
            return (f"PING {host} ({addrs[0]}) 56(84) bytes of data.\nFrom {st.host} icmp_seq=1 Destination Net "
                    f"Unreachable\n\n--- {host} ping statistics ---\n4 packets transmitted, 0 received, 100% packet "
                    "loss\n")
        return (f"PING {host} ({local[0]}) 56(84) bytes of data.\n" + "".join(
            f"64 bytes from {local[0]}: icmp_seq={i} ttl=64 time=0.05 ms\n" for i in range(1, 5)) +
            f"\n--- {host} ping statistics ---\n4 packets transmitted, 4 received, 0% packet loss\n")
    if not reach:
        return " 1?: [LOCALHOST]   pmtu 1500\n 1:  no reply\n     Too many hops: pmtu 1500\n"
    return f" 1?: [LOCALHOST]   pmtu 65536\n 1:  {local[0]}   0.050ms reached\n     Resume: pmtu 65536 hops 1 back 1\n"


def _results(twin: Twin) -> dict[tuple[str, str], tuple[str, str]]:
    found: dict[tuple[str, str], tuple[str, str]] = twin.shared.setdefault("cloud-edge-diagnostics", {})
    return found


def _register(kind: str) -> None:
    @route("POST", f"{EDGES}/{{edgeId}}/diagnostic/{kind}")
    async def post(req: ApiRequest) -> Json:
        name, edge_id, st = find_edge(req)
        try:
            body = json.loads(req.body or b"{}")
        except ValueError:
            raise ApiError(400, "bad.request", "the body is not JSON") from None
        host = body.get("host") if isinstance(body, dict) else None
        if not isinstance(host, str) or not host.strip() or len(host) > 253:
            raise ApiError(400, "bad.request", "EdgeNetworkDiagnosticRequest: host must be a host name or address")
        require_online(req, name, st, f"run {kind}")
        site_dns = req.twin.lab.network.dns
        resolver = (site_dns.servers[0], site_dns.port) if site_dns is not None else None
        text = await run_diagnostic(kind, st, host.strip(), resolver)
        cid = entity_id(req.twin.lab.lab.name, "edge-diagnostic", f"{edge_id}/{kind}/{len(_results(req.twin))}")
        _results(req.twin)[(edge_id, kind)] = (cid, text)
        return {"id": cid, "selfUri": f"{EDGES}/{edge_id}/diagnostic/{kind}"}

    @route("GET", f"{EDGES}/{{edgeId}}/diagnostic/{kind}")
    async def get(req: ApiRequest) -> Json:
        _, edge_id, _ = find_edge(req)
        found = _results(req.twin).get((edge_id, kind))
        if found is None:
            raise ApiError.not_found(f"{kind} diagnostic of edge", edge_id)
        return {"commandCorrelationId": found[0], "diagnostics": found[1]}


for _kind in KINDS:
    _register(_kind)
