"""NET-DHCP-DNS: the voice VLAN's DHCP hands a phone what it needs, and the site's resolvers answer
the Genesys names from the voice VLAN and from the Edge's WAN segment, over UDP and over TCP.

DHCP: one DISCOVER as a phone sends it (relayed from ``vantage.voice_vlan`` to ``network.dhcp.server``,
RFC 2131 §4.1, or broadcast on ``vantage.interface``); the OFFER is judged and no lease is taken
(no REQUEST). It must offer an address on the relay's subnet and options 1, 6 and 15 (IND-ACBOOT:
mask and a DNS entry, which the AudioCodes page calls 15 while RFC 2132 has 6 for the servers and 15
for the domain, so both); option 3, 42 and the boot server (66, or Poly's 160) are judged against
what the inventory says the site hands out, and reported where it says nothing. No OFFER at all is
BROKEN: the server the check relies on does not answer.

DNS: every Genesys name of the site (``network.dns.names``, else api. and login. of the org's
region) resolves at each resolver of ``network.dns.servers``, asked from both vantage addresses, over
UDP and over TCP 53 (G-PORTS-OLD; the TCP answers are only reported when ``network.dns.internal``).
A resolver that answers nothing over UDP is BROKEN; one that refuses TCP while it answers UDP FAILs.
With ``cloud:``, each Edge's own view too: its ``nslookup`` network diagnostic through the Platform
API (``POST …/edges/{edgeId}/diagnostic/nslookup``) resolves every name. An Edge the org sees
OFFLINE runs no diagnostic, and an Edge whose resolver answers nothing proves nothing: BROKEN.

A name the resolver answers as not resolving (NXDOMAIN, no address) is one root cause however many
checks see it: the lookup from the voice VLAN over UDP (what a phone asks) judges the resolver's
record of each name (``inputs_checked``); the other vantage point, TCP and the Edge's own nslookup
through the same resolver rely on it (``inputs_used``), so when only such names fail them they are
listed as consequences of that one finding (:mod:`harness.evidence.findings`; each still FAILs). A
failure that also has a name nothing came back for (a refused TCP port, a timeout) is a finding of
its own. Without ``vantage.voice_vlan`` nothing is grouped.

Edge WAN port (b): each Edge's logical interfaces through the Platform API
(``GET …/edges/{edgeId}/logicalinterfaces``): its WAN port (``useForWanInterface``) has IPv4 enabled
and an IPv4 address, takes it by DHCP or holds a static one as the inventory says
(``facts.wan_addressing``, set on the Edge's LCD, G-LCD), and holds ``facts.wan_address`` when static.
An Edge the org sees OFFLINE reports a stale view: BROKEN.
"""

from __future__ import annotations

import pytest

from harness.checks.net_services import address_problem, dns_name_input, expected_options, site_names
from harness.devices.drivers.edge import Edge
from harness.devices.facts.cloud_edge_interfaces import wan_port
from harness.devices.facts.nslookup import parse_nslookup
from harness.devices.session import LabSession
from harness.duties.profile import Profile
from harness.errors import LabTimeout
from harness.evidence.check import check, intent, observe
from harness.inventory.models import DhcpSettings, DnsSettings
from harness.transports.dhcp import DhcpOffer, discover_broadcast, discover_relayed, option_name
from harness.transports.dns import TRANSPORTS, DnsAnswer, Transport, lookup

DUTY = "NET-DHCP-DNS"
VANTAGES = ("voice_vlan", "edge_wan")
_VANTAGE_NAME = {"voice_vlan": "the voice VLAN", "edge_wan": "the Edge WAN segment"}


def _dhcp(lab: LabSession) -> DhcpSettings:
    if lab.lab.network.dhcp is None:
        pytest.skip("the inventory has no network.dhcp: the voice VLAN's DHCP server is not named")
    return lab.lab.network.dhcp


def _dns(lab: LabSession) -> DnsSettings:
    if lab.lab.network.dns is None:
        pytest.skip("the inventory has no network.dns: the site's resolvers are not named")
    return lab.lab.network.dns


@pytest.fixture(scope="module")
def offer(lab: LabSession) -> tuple[str, DhcpOffer]:
    """``(device label, OFFER)`` of one DISCOVER, shared by the module's DHCP tests."""
    dhcp = _dhcp(lab)
    v = lab.lab.network.vantage
    label = f"dhcp {dhcp.server}"
    if v.interface:
        got = discover_broadcast(v.interface, client_mac=dhcp.client_mac, vendor_class=dhcp.vendor_class,
                                 timeout_s=dhcp.timeout_s)
        how = f"a DISCOVER broadcast on {v.interface}"
    elif v.voice_vlan:
        got = discover_relayed(dhcp.server, giaddr=v.voice_vlan, port=dhcp.port, client_mac=dhcp.client_mac,
                               vendor_class=dhcp.vendor_class, timeout_s=dhcp.timeout_s)
        how = f"a DISCOVER relayed from {v.voice_vlan}"
    else:
        pytest.skip("the inventory sets neither network.vantage.voice_vlan nor .interface: nowhere to ask DHCP from")
    if got is None:
        raise LabTimeout(label, "dhcp", f"{dhcp.server}:{dhcp.port}", f"no OFFER within {dhcp.timeout_s:g} s to {how}")
    return label, got


@pytest.mark.duty(DUTY)
@pytest.mark.core("the DHCP OFFER's address and required options")
def test_dhcp_offers_an_address_and_the_required_options(offer: tuple[str, DhcpOffer], lab: LabSession,
                                                         profile: Profile) -> None:
    label, got = offer
    observe(f"{got.your_address} from {got.server} in {got.elapsed_ms:.1f} ms; options "
            f"{', '.join(str(c) for c in got.codes)}", duty=DUTY, device=label, what="DHCP OFFER")
    problem = address_problem(got, lab.lab.network.vantage.voice_vlan)
    check("usable" if problem is None else problem, intent("offered address", "usable",
                                                           source="STD-RFC2131"),
          duty=DUTY, device=label, what="address offered (yiaddr)")
    required = profile.threshold(DUTY, "dhcp_required_options")
    for code in (int(c) for c in required.choices):
        check("present" if code in got.options else "absent", intent(f"option {code}", "present",
                                                                     source=required.source),
              duty=DUTY, device=label, what=f"DHCP option {option_name(code)} in the OFFER",
              detail=f"options offered: {', '.join(str(c) for c in got.codes)}")


@pytest.mark.duty(DUTY)
def test_dhcp_offer_holds_what_the_site_hands_out(offer: tuple[str, DhcpOffer], lab: LabSession,
                                                  profile: Profile) -> None:
    label, got = offer
    judged = {e.code: e for e in expected_options(lab.lab)}
    for e in judged.values():
        check(got.value(e.code), intent(f"option {e.code} ({e.key})", e.value), duty=DUTY, device=label,
              what=f"DHCP option {option_name(e.code)} in the OFFER")
    recommended = profile.threshold(DUTY, "dhcp_recommended_options")
    boot = profile.threshold(DUTY, "dhcp_boot_options")
    for code in sorted({int(c) for c in (*recommended.choices, *boot.choices)} - set(judged)):
        why = boot.source if str(code) in boot.choices else recommended.source
        observe(got.value(code) or "absent", duty=DUTY, device=label,
                what=f"DHCP option {option_name(code)} (recommended by {why}; the inventory names no value)")
    if 43 in got.options:
        try:
            subs = ", ".join(f"{c}: {v.hex()}" for c, v in got.vendor_suboptions().items())
        except ValueError:
            subs = got.options[43].hex()
        observe(subs, duty=DUTY, device=label, what="DHCP option 43 (vendor-specific) sub-options")


def _ask(dns: DnsSettings, server: str, name: str, transport: Transport, source: str) -> DnsAnswer:
    try:
        return lookup(name, server, transport=transport, source=source, port=dns.port, timeout_s=dns.timeout_s)
    except OSError as e:  # the vantage address is not this host's: the harness cannot stand there
        raise LabTimeout(f"dns {server}", transport, f"{server}:{dns.port}",
                         f"cannot ask from {source}: {e.strerror or e}") from e


@pytest.mark.duty(DUTY)
@pytest.mark.core("Genesys names resolved over UDP and TCP from both vantage points")
@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("vantage", VANTAGES)
def test_genesys_names_resolve(vantage: str, transport: Transport, lab: LabSession, profile: Profile) -> None:
    dns = _dns(lab)
    source = getattr(lab.lab.network.vantage, vantage)
    if source is None:
        pytest.skip(f"the inventory sets no network.vantage.{vantage}: the harness has no address on "
                    f"{_VANTAGE_NAME[vantage]}")
    names = site_names(lab.lab)
    if not names:
        pytest.skip("no Genesys names to resolve: set network.dns.names, or cloud.region for its defaults")
    limit = profile.threshold(DUTY, "unresolved_names")
    for server in dns.servers:
        label = f"dns {server}"
        answers = [_ask(dns, server, n, transport, source) for n in names]
        if transport == "udp" and not any(a.answered for a in answers):
            raise LabTimeout(label, "dns", f"{server}:{dns.port}", f"no answer over UDP from {source}: "
                             f"{answers[0].outcome()}")
        if transport == "tcp" and not any(a.answered for a in answers):
            alive = _ask(dns, server, names[0], "udp", source)
            if not alive.answered:  # dead altogether: the TCP verdict would say nothing
                raise LabTimeout(label, "dns", f"{server}:{dns.port}", f"no answer over UDP or TCP from {source}: "
                                 f"{alive.outcome()}")
        bad = [a for a in answers if not a.resolved]
        what = f"Genesys names that do not resolve from {_VANTAGE_NAME[vantage]} ({source}) over {transport.upper()}"
        detail = "; ".join(f"{a.name}: {a.outcome()}" for a in (bad or answers))
        if transport == "tcp" and dns.internal:
            observe(f"{len(bad)} of {len(answers)}", duty=DUTY, device=label,
                    what=f"{what} (internal DNS: TCP not required)", detail=detail)
            continue
        # the resolver's record of each name: judged from where a phone asks, relied on everywhere else
        records = [dns_name_input(a.name, server) for a in bad] if all(a.answered for a in bad) else []
        root = vantage == "voice_vlan" and transport == "udp"
        check(len(bad), limit, duty=DUTY, device=label, what=what, detail=detail,
              inputs_checked=records if root else (), inputs_used=() if root else records)


@pytest.mark.duty(DUTY)
def test_edge_resolves_genesys_names(edge: Edge, lab: LabSession, profile: Profile) -> None:
    if lab.lab.cloud is None:
        pytest.skip("the inventory has no cloud: section: the Edge's own nslookup runs through Genesys Cloud")
    names = site_names(lab.lab)
    if not names:
        pytest.skip("no Genesys names to resolve: set network.dns.names, or cloud.region for its defaults")
    edge.online_record("it runs no network diagnostic")
    seen = {n: parse_nslookup(edge.diagnostic("nslookup", n)) for n in names}
    if all(r.failure == "timed out" for r in seen.values()):
        raise LabTimeout(edge.name, "dns", next(iter(seen.values())).server or "its resolver",
                         "the Edge's resolver answered none of its nslookups (timed out)")
    bad = {n: r for n, r in seen.items() if r.failure is not None}
    servers = {s.lower() for s in lab.lab.network.dns.servers} if lab.lab.network.dns is not None else set()
    # a name the site's resolver answered as not resolving: the resolver's record of it is what failed
    by_site = all(r.failure != "timed out" and (r.server or "").split("#")[0].lower() in servers for r in bad.values())
    records = [dns_name_input(n, (r.server or "").split("#")[0]) for n, r in bad.items()] if by_site else []
    check(len(bad), profile.threshold(DUTY, "unresolved_names"), duty=DUTY, device=edge.name,
          what="Genesys names the Edge's own nslookup does not resolve (Genesys Cloud network diagnostic)",
          detail="; ".join(f"{n}: {r.outcome()}" + (f" (server {r.server})" if r.server else "")
                           for n, r in (bad or seen).items()), inputs_used=records)


def _named(label: str) -> str:
    """The Edge's WAN port as a message names it: with its interface's name unless that is WAN too."""
    return "the WAN port" if label.casefold() == "wan" else f"the WAN port {label}"


@pytest.mark.duty(DUTY)
@pytest.mark.core("the Edge WAN port's IPv4 address and how it gets it")
def test_edge_wan_port_has_its_address(edge: Edge, lab: LabSession) -> None:
    if lab.lab.cloud is None:
        pytest.skip("the inventory has no cloud: section: the Edge's interfaces are read through Genesys Cloud")
    edge.online_record("its interfaces as the org lists them are not the Edge's now")
    found = edge.logical_interfaces()
    listed = "; ".join(f"{i.label}: {', '.join(a.address or '?' for a in i.addresses) or 'no address'}"
                       for i in found) or "none"
    wan = wan_port(found)
    check("present" if wan is not None else "absent", intent("WAN port (useForWanInterface)", "present",
                                                             source="G-LCD"),
          duty=DUTY, device=edge.name, what="the Edge's WAN port among its logical interfaces",
          detail=f"logical interfaces: {listed}")
    assert wan is not None
    caps = wan.ipv4_capabilities
    check("enabled" if caps is not None and caps.enabled else "disabled", intent("IPv4", "enabled", source="G-LCD"),
          duty=DUTY, device=edge.name, what=f"IPv4 on {_named(wan.label)}")
    addresses = wan.ipv4_addresses
    mode = wan.ipv4_addressing
    check(len(addresses), intent("IPv4 addresses", 1, "addresses", ">=", source="G-LCD"), duty=DUTY,
          device=edge.name, what=f"IPv4 addresses on {_named(wan.label)} ({mode or 'addressing not reported'})",
          detail=", ".join(addresses) or "none listed" + (" (its DHCP got no lease)" if mode == "dhcp" else ""))
    facts = edge.device.facts
    wanted = facts.wan_addressing
    what = f"how {_named(wan.label)} gets its IPv4 address (ipv4Capabilities.dhcp)"
    if wanted is None:
        observe(mode or "not reported", duty=DUTY, device=edge.name, what=f"{what}; the inventory sets no "
                "facts.wan_addressing", detail=", ".join(addresses))
        return
    check(mode or "not reported", intent("facts.wan_addressing", wanted), duty=DUTY, device=edge.name, what=what,
          detail=", ".join(addresses))
    static = facts.wan_address
    if static is not None:
        check(static if static in addresses else ", ".join(addresses), intent("facts.wan_address", static),
              duty=DUTY, device=edge.name, what=f"the static IPv4 address of {_named(wan.label)}")
