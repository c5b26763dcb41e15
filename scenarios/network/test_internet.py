"""The site's internet path as the Edge's WAN segment sees it: NET-NAT, INET-ACCESS, INET-QUALITY.

Every probe leaves from the harness's own address on the Edge's WAN segment (``network.vantage.edge_wan``)
toward the inventory's STUN server (``network.stun``) and Genesys API host (``network.internet``):

* **NET-NAT**: RFC 5780 mapping tests I–III must find endpoint-independent mapping (RFC 4787 REQ-1;
  Genesys requires it for WebRTC media, G-NAT); the filtering is reported (tests II–III).
* **INET-ACCESS**: TCP 443 with a TLS handshake to the API host, STUN on UDP and TCP 3478 (a UDP
  port counts as open only when STUN answers on it), DNS on 53 over UDP and TCP (one finding when both
  are closed the same way); and per Edge, its
  own view through Genesys Cloud (``online_status``, the Edge's ``tracepath`` toward the API host);
  WebRTC media: STUN over UDP from source ports sampled in 16384-65535 (G-CLIENTPORTS); and the
  Edge's HTTP proxy (``Edge.proxy`` in Genesys Cloud, port 80 when it names none): when set, it
  accepts TCP from the Edge WAN (refused or silent FAILs; BROKEN when STUN over TCP is dead too).
* **INET-QUALITY**: the API host's certificate is issued by a pinned CA (chain validation alone
  passes an inspection proxy a managed PC trusts), and STUN returns a server-reflexive address (the
  site's public address, when the inventory names it). Media bypassing cloud security proxies is
  attested (the duty is hybrid).

The STUN server and the API host are the reference the checks rely on: when STUN answers on neither
UDP nor TCP, or no port on the internet side is open at all, the test is BROKEN (the reference or the
harness's uplink is dead), not FAIL.
"""

from __future__ import annotations

import errno
import socket
import ssl
import time
from dataclasses import replace
from pathlib import Path

import pytest

from harness.checks.org_records import edge_record_input
from harness.checks.ports import port_range, sample_ports
from harness.checks.tls_pin import leaf_issuer, pinned, pinned_roots
from harness.devices.drivers.edge import Edge
from harness.devices.session import LabSession
from harness.duties.catalogue import Threshold
from harness.duties.profile import Profile
from harness.errors import LabProtocolError, LabUnreachable
from harness.evidence.check import DutyNotMet, check, intent, observe
from harness.inventory.models import InternetSettings, StunSettings, proxy_endpoint
from harness.transports.dns import lookup
from harness.transports.stun import Binding, binding, binding_tcp, discover
from harness.transports.tls_probe import handshake, trusted_pem

NAT = "NET-NAT"
ACCESS = "INET-ACCESS"
QUALITY = "INET-QUALITY"
OPEN = "open"


def _wan(lab: LabSession) -> str:
    wan = lab.lab.network.vantage.edge_wan
    if wan is None:
        pytest.skip("the inventory names no network.vantage.edge_wan: the harness has no address on the Edge's WAN")
    return wan


def _stun(lab: LabSession) -> StunSettings:
    stun = lab.lab.network.stun
    if stun is None:
        pytest.skip("the inventory names no network.stun server")
    return stun


def _internet(lab: LabSession) -> tuple[InternetSettings, str]:
    net, host = lab.lab.network.internet, lab.lab.genesys_api_host
    if net is None or host is None:
        pytest.skip("the inventory has no network.internet with an API host (api_host, or cloud.region)")
    return net, host


def _ca_file(lab: LabSession, net: InternetSettings) -> Path | None:
    """``network.internet.ca_file`` as a path; a file that is not there is a broken lab (BROKEN naming
    it), not an unreachable API host."""
    if not net.ca_file:
        return None
    path = lab.loaded.relative(net.ca_file)
    if not path.is_file():
        raise LabUnreachable("harness", "tls", str(path),
                             f"network.internet.ca_file {net.ca_file} does not exist (a PEM file of the CAs the "
                             "harness host trusts besides the system's store; the twin writes it when it starts)")
    return path


def _where(wan: str) -> str:
    return f"Edge WAN {wan}"


def _tcp_reference(stun: StunSettings, wan: str, why: str) -> Binding:
    """STUN over TCP from ``wan``: the server is alive although UDP got no answer. Raises
    LabUnreachable when it does not answer over TCP either (the reference is dead: BROKEN)."""
    try:
        return binding_tcp(wan, (stun.server, stun.port), timeout_s=max(stun.timeout_s, 1.0))
    except (OSError, ValueError) as e:
        raise LabUnreachable("stun", "stun", f"{stun.server}:{stun.port}",
                             f"{why}, and STUN over TCP failed too ({type(e).__name__}: {e or 'no answer'}): the "
                             "STUN server or the harness's uplink is down, so the path cannot be judged") from None


# --- NET-NAT ---------------------------------------------------------------------------------------

@pytest.mark.duty(NAT)
@pytest.mark.core("RFC 5780 mapping discovery")
def test_nat_mapping_is_endpoint_independent(lab: LabSession, profile: Profile) -> None:
    stun, wan = _stun(lab), _wan(lab)
    found = discover(wan, (stun.server, stun.port), timeout_s=stun.timeout_s)
    steps = "; ".join(found.steps)
    limit = profile.threshold(NAT, "nat_mapping")
    what = f"NAT mapping toward {stun.server}:{stun.port} (RFC 5780)"
    if found.mapped is None:
        tcp = _tcp_reference(stun, wan, "STUN over UDP got no answer")
        check("no answer over UDP", limit, duty=NAT, device=_where(wan), what=what,
              detail=f"STUN over TCP answered (mapped {tcp.mapped[0]}:{tcp.mapped[1]}): UDP to the STUN server is "
                     f"blocked; {steps}")
    if found.mapping is None:  # the primary answered, the server's alternate address did not (or it names none)
        raise LabProtocolError("stun", "stun", f"{stun.server}:{stun.port}",
                               f"the mapping cannot be discovered: {steps} (network.stun must name an RFC 5780 server "
                               "whose OTHER-ADDRESS answers)")
    observe(found.filtering or "undetermined", duty=NAT, device=_where(wan),
            what="NAT filtering (RFC 4787 section 5, reported)", detail=steps)
    check(found.mapping, limit, duty=NAT, device=_where(wan), what=what,
          detail=f"local {found.local[0]}:{found.local[1]}; {steps}")


# --- INET-ACCESS -----------------------------------------------------------------------------------

def _tls_state(host: str, net: InternetSettings, wan: str, ca: Path | None) -> tuple[str, str]:
    try:
        h = handshake(host, net.api_address, 443, source=wan, ca_file=ca, timeout_s=net.timeout_s)
    except ssl.SSLCertVerificationError as e:  # the port is open; whose certificate it is, INET-QUALITY judges
        return OPEN, f"TLS handshake reached a certificate the harness does not trust ({e.verify_message})"
    except ConnectionRefusedError:
        return "refused", "TCP reset"
    except TimeoutError:
        return f"no answer within {net.timeout_s * 1000:.0f} ms", "no TCP connection or no TLS handshake"
    except (OSError, ssl.SSLError) as e:
        return f"failed: {e}", "TCP or TLS failed"
    return OPEN, f"{h.version} {h.cipher}: TCP {h.connect_ms:.1f} ms, TLS {h.handshake_ms:.1f} ms"


def _stun_udp_state(stun: StunSettings, wan: str) -> tuple[str, str]:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((wan, 0))
        s.connect((stun.server, stun.port))  # a connected socket hears the ICMP port unreachable of a refusal
        try:
            b = binding(s, (stun.server, stun.port), timeout_s=stun.timeout_s)
        except ConnectionRefusedError:
            return "refused", "ICMP port unreachable"
    if b is None:
        return f"no answer within 2 x {stun.timeout_s * 1000:.0f} ms", "no STUN answer over UDP"
    return OPEN, f"STUN answered in {b.rtt_ms:.1f} ms, mapped {b.mapped[0]}:{b.mapped[1]}"


def _stun_tcp_state(stun: StunSettings, wan: str) -> tuple[str, str]:
    try:
        b = binding_tcp(wan, (stun.server, stun.port), timeout_s=max(stun.timeout_s, 1.0))
    except ConnectionRefusedError:
        return "refused", "TCP reset"
    except TimeoutError:
        return f"no answer within {max(stun.timeout_s, 1.0) * 1000:.0f} ms", "no STUN answer over TCP"
    except (OSError, ValueError) as e:
        return f"failed: {e}", "STUN over TCP failed"
    return OPEN, f"STUN answered in {b.rtt_ms:.1f} ms"


def _dns_state(host: str, server: str, wan: str, tcp: bool, timeout_s: float) -> tuple[str, str]:
    a = lookup(host, server, transport="tcp" if tcp else "udp", source=wan, timeout_s=timeout_s)
    if a.error == "connection refused":
        return "refused", "TCP reset" if tcp else "ICMP port unreachable"
    if a.rcode is None and a.error and a.error.startswith("no answer"):
        return f"no answer within {timeout_s * 1000:.0f} ms", "no DNS answer"
    if a.rcode is None:
        return f"failed: {a.error}", "DNS failed"
    return OPEN, f"{a.rcode}: {host} -> {', '.join(a.addresses) or 'no address'}"


@pytest.mark.duty(ACCESS)
@pytest.mark.core("TCP 443 with TLS to the Genesys API host and STUN on 3478 from the Edge WAN")
def test_edge_wan_reaches_genesys_cloud(lab: LabSession, profile: Profile) -> None:
    wan, stun = _wan(lab), _stun(lab)
    net, host = _internet(lab)
    probes: list[tuple[str, Threshold, tuple[str, str]]] = [
        (f"TCP 443 + TLS to {host}" + (f" ({net.api_address})" if net.api_address else ""),
         profile.threshold(ACCESS, "https_port"), _tls_state(host, net, wan, _ca_file(lab, net))),
        (f"STUN UDP {stun.port} to {stun.server}", profile.threshold(ACCESS, "stun_port"), _stun_udp_state(stun, wan)),
        (f"STUN TCP {stun.port} to {stun.server}", profile.threshold(ACCESS, "stun_port"), _stun_tcp_state(stun, wan)),
    ]
    if net.dns_server:
        dns_port = profile.threshold(ACCESS, "dns_port")
        udp, tcp = (_dns_state(host, net.dns_server, wan, over_tcp, net.timeout_s) for over_tcp in (False, True))
        if udp[0] == tcp[0] != OPEN:  # closed the same way over both: one finding that names both
            probes.append((f"DNS 53 over UDP and TCP to {net.dns_server}", dns_port,
                           (udp[0], ", ".join(dict.fromkeys((udp[1], tcp[1]))))))
        else:
            probes += [(f"DNS UDP 53 to {net.dns_server}", dns_port, udp),
                       (f"DNS TCP 53 to {net.dns_server}", dns_port, tcp)]
    if not any(state == OPEN for _, _, (state, _) in probes):  # a refusal may come from the dead server's host
        raise LabUnreachable("internet", "tcp/udp", wan, "no port on the internet side was open: " + "; ".join(
            f"{what}: {state}" for what, _, (state, _) in probes) + " (the reference servers or the harness's uplink "
            "are down, or every port is blocked: the path cannot be judged)")
    failed: list[DutyNotMet] = []
    for what, limit, (state, detail) in probes:
        try:
            check(state, replace(limit, value=OPEN, unit=""), duty=ACCESS, device=_where(wan), what=what,
                  detail=detail)  # the port is in ``what``
        except DutyNotMet as e:
            failed.append(e)
    if failed:
        raise failed[0]


def _stun_from_port(stun: StunSettings, wan: str, port: int, low: int, high: int) -> tuple[int, str, str]:
    """STUN over UDP from source port ``port`` of ``wan`` (the next free port toward the range's
    middle when this host already uses it): ``(port used, state, detail)``."""
    step = 1 if port < (low + high) // 2 else -1
    for tried in range(port, port + 16 * step, step):
        if not low <= tried <= high:
            break
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.bind((wan, tried))
            except OSError as e:
                if e.errno == errno.EADDRINUSE:
                    continue
                raise
            s.connect((stun.server, stun.port))
            try:
                b = binding(s, (stun.server, stun.port), timeout_s=stun.timeout_s)
            except ConnectionRefusedError:
                return tried, "refused", "ICMP port unreachable"
            if b is None:
                return tried, f"no answer within 2 x {stun.timeout_s * 1000:.0f} ms", "no STUN answer"
            return tried, OPEN, f"STUN answered in {b.rtt_ms:.1f} ms, mapped {b.mapped[0]}:{b.mapped[1]}"
    raise LabUnreachable("harness", "udp", f"{wan}:{port}", "this host uses every source port near it: the media "
                         "port cannot be probed")


@pytest.mark.duty(ACCESS)
def test_media_udp_source_ports_pass(lab: LabSession, profile: Profile) -> None:
    wan, stun = _wan(lab), _stun(lab)
    limit = profile.threshold(ACCESS, "media_udp_source_ports")
    low, high = port_range(str(limit.value))
    seen = [_stun_from_port(stun, wan, p, low, high) for p in sample_ports(low, high)]
    summary = "; ".join(f"{p}: {state}" for p, state, _ in seen)
    if not any(state == OPEN for _, state, _ in seen):  # UDP dead altogether: is the STUN server alive?
        _tcp_reference(stun, wan, f"STUN over UDP answered no media source port ({summary})")
    failed: list[DutyNotMet] = []
    for port, state, detail in seen:
        try:
            check(state, replace(limit, value=OPEN, unit=""), duty=ACCESS, device=_where(wan),
                  what=f"UDP from source port {port} to STUN {stun.server}:{stun.port} (WebRTC media)",
                  detail=f"{limit.name} {limit.value}; {detail}")
        except DutyNotMet as e:
            failed.append(e)
    if failed:
        raise failed[0]


def _tcp_state(host: str, port: int, wan: str, timeout_s: float) -> tuple[str, str]:
    t0 = time.monotonic()
    try:
        with socket.create_connection((host, port), timeout=timeout_s, source_address=(wan, 0)):
            pass
    except ConnectionRefusedError:
        return "refused", "TCP reset"
    except TimeoutError:
        return f"no answer within {timeout_s * 1000:.0f} ms", "no TCP connection"
    except OSError as e:
        return f"failed: {e.strerror or e}", "TCP failed"
    return OPEN, f"TCP connected in {(time.monotonic() - t0) * 1000:.1f} ms"


@pytest.mark.duty(ACCESS)
def test_edge_proxy_accepts_tcp(edge: Edge, lab: LabSession) -> None:
    if lab.lab.cloud is None:
        pytest.skip("the inventory has no cloud: section: the Edge's proxy setting is read through Genesys Cloud")
    wan = _wan(lab)
    rec = edge.record()
    wanted = edge.device.facts.proxy
    if not rec.proxy:
        observe("none", duty=ACCESS, device=edge.name, what="the Edge's WAN proxy (Edge.proxy in Genesys Cloud): "
                "nothing to reach", detail=f"the inventory's facts.proxy: {wanted or 'none'}")
        if wanted:
            check("none", intent("facts.proxy", wanted), duty=ACCESS, device=edge.name,
                  what="the Edge's WAN proxy (Edge.proxy in Genesys Cloud)")
        return
    try:
        host, port = proxy_endpoint(rec.proxy)
    except ValueError as e:
        raise LabProtocolError(edge.name, "api", edge.org().api().address,
                               f"Edge.proxy {rec.proxy!r} is no host[:port]: {e}") from None
    timeout_s = lab.lab.network.internet.timeout_s if lab.lab.network.internet else 2.0
    state, detail = _tcp_state(host, port, wan, timeout_s)
    stun = lab.lab.network.stun
    if state != OPEN and stun is not None:  # is the harness's own uplink alive? (BROKEN when not)
        _tcp_reference(stun, wan, f"the proxy {host}:{port} is {state}")
    # the setting's text only when it says more than host:port (no port: 80 assumed)
    setting = "Edge.proxy" if rec.proxy in (f"{host}:{port}", f"[{host}]:{port}") else f"Edge.proxy {rec.proxy}"
    check(state, intent("TCP connection", OPEN, source="G-LCD"), duty=ACCESS, device=edge.name,
          what=f"TCP from the Edge WAN ({wan}) to its proxy {host}:{port} ({setting})", detail=detail)
    if wanted:
        check(rec.proxy, intent("facts.proxy", wanted), duty=ACCESS, device=edge.name,
              what="the Edge's WAN proxy (Edge.proxy in Genesys Cloud)")


@pytest.mark.duty(ACCESS)
def test_edge_is_online_and_traces_to_genesys(edge: Edge, lab: LabSession, profile: Profile) -> None:
    if lab.lab.cloud is None:
        pytest.skip("the inventory has no cloud: section: the Edge's own view comes from Genesys Cloud")
    rec = edge.record()
    host = lab.lab.genesys_api_host
    net = lab.lab.network.internet
    target = (net.api_address if net is not None and net.api_address else None) or host
    if target and rec.online:
        observe(edge.diagnostic("tracepath", target).strip().splitlines()[-1], duty=ACCESS, device=edge.name,
                what=f"the Edge's tracepath to {target} (Genesys Cloud diagnostics)")
    # the root of an OFFLINE Edge's findings: DATA-ACCURACY's Edge comparison relies on this status
    check(rec.online_status, profile.threshold(ACCESS, "online_status"), duty=ACCESS, device=edge.name,
          what="online_status in Genesys Cloud (the Edge reaches the cloud)",
          inputs_checked=[edge_record_input(edge.name, "onlineStatus")])


# --- INET-QUALITY ----------------------------------------------------------------------------------

@pytest.mark.duty(QUALITY)
@pytest.mark.core("the Genesys API host's certificate issuer against the pinned CAs")
def test_tls_to_genesys_is_not_intercepted(lab: LabSession, profile: Profile) -> None:
    wan = _wan(lab)
    net, host = _internet(lab)
    if not net.pinned_issuers:
        pytest.skip("network.internet.pinned_issuers is empty: list the CAs that issue the API host's certificate "
                    "(docs/inventory.md) so an interception can be told from the real chain")
    address = net.api_address or host
    limit = profile.threshold(QUALITY, "tls_leaf_issuer")
    names = tuple(p.name for p in net.pinned_issuers)
    what = f"issuer of {host}'s certificate"
    try:
        h = handshake(host, net.api_address, 443, source=wan, ca_file=_ca_file(lab, net), timeout_s=net.timeout_s)
    except ssl.SSLCertVerificationError as e:
        check(f"untrusted ({e.verify_message})", limit, expected=names, duty=QUALITY, device=_where(wan), what=what,
              detail="the chain does not validate against the harness's trust store: something else answers for "
                     "the host")
        return
    except (OSError, ssl.SSLError) as e:
        raise LabUnreachable(host, "tls", f"{address}:443", f"no TLS handshake ({type(e).__name__}: {e}): "
                             "reaching the host is INET-ACCESS's finding; the issuer cannot be judged") from None
    leaf = leaf_issuer(h.leaf)
    pin = pinned(leaf, net.pinned_issuers)
    how = "its authorityKeyIdentifier"
    if pin is None:  # a root pinned by its key: does the chain validate to that root alone?
        for root, pem in pinned_roots(net.pinned_issuers, trusted_pem(_ca_file(lab, net))):
            try:
                handshake(host, net.api_address, 443, source=wan, timeout_s=net.timeout_s, only_roots=pem)
            except ssl.SSLCertVerificationError:
                continue
            except (OSError, ssl.SSLError) as e:
                raise LabUnreachable(host, "tls", f"{address}:443", f"the handshake went once, not twice "
                                     f"({type(e).__name__}: {e})") from None
            pin, how = root, "its chain validating to that root alone"
            break
    measured = pin.name if pin is not None else f"{leaf.issuer} (key {leaf.aki or 'not named'})"
    check(measured, limit, expected=names, duty=QUALITY, device=_where(wan), what=what,
          detail=f"leaf {leaf.subject} SHA-256 {leaf.sha256}; validated by the trust store, pinned by {how} "
                 f"(pins: {', '.join(f'{p.name} {p.ski or p.spki_sha256}' for p in net.pinned_issuers)})")


@pytest.mark.duty(QUALITY)
def test_stun_returns_a_server_reflexive_address(lab: LabSession, profile: Profile) -> None:
    stun, wan = _stun(lab), _wan(lab)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((wan, 0))
        b = binding(s, (stun.server, stun.port), timeout_s=stun.timeout_s)
    limit = profile.threshold(QUALITY, "stun_srflx")
    what = f"server-reflexive address from {stun.server}:{stun.port}"
    if b is None:
        tcp = _tcp_reference(stun, wan, "STUN over UDP got no answer")
        check("no answer over UDP", limit, duty=QUALITY, device=_where(wan), what=what,
              detail=f"STUN over TCP answered (mapped {tcp.mapped[0]}:{tcp.mapped[1]}): media's UDP is blocked")
        return
    check("returned", limit, duty=QUALITY, device=_where(wan), what=what,
          detail=f"{b.mapped[0]}:{b.mapped[1]} in {b.rtt_ms:.1f} ms")
    public = lab.lab.network.internet.public_address if lab.lab.network.internet else None
    if public:
        check(b.mapped[0], intent("the site's public address", public), duty=QUALITY, device=_where(wan),
              what="server-reflexive address (the NAT's public side)")
