"""The DHCP probe: options read by code from the raw bytes, OFFERs told apart from everything else,
and a relayed DISCOVER answered by the twin's server (needs root for port 67, as the harness runs)."""

from __future__ import annotations

import pytest
from scapy.layers.dhcp import BOOTP, DHCP

from harness.inventory import LoadedLab
from harness.transports.dhcp import (
    DhcpProbeError,
    build_discover,
    discover_relayed,
    option_name,
    parse_offer,
    parse_options,
)
from harness.twin.manager import TwinControl

MAC = "02:68:69:6c:00:01"


def _offer(xid: int, options: list[object]) -> bytes:
    return bytes(BOOTP(op=2, xid=xid, yiaddr="10.1.2.100", giaddr="10.1.2.250") / DHCP(options=options))


def test_options_are_read_by_code_not_by_scapys_name() -> None:
    raw = _offer(7, [("message-type", "offer"), ("server_id", "10.9.9.9"), (160, b"http://prov/"),
                     ("name_server", "10.0.0.53", "10.0.0.54"), (43, b"\x01\x02ab"), "end"])
    offer = parse_offer(raw, "10.9.9.1", 7, 1.5)
    assert offer is not None
    assert offer.server == "10.9.9.9" and offer.your_address == "10.1.2.100" and offer.relay == "10.1.2.250"
    assert offer.text(160) == "http://prov/"  # scapy would call it v4-captive-portal
    assert offer.addresses(6) == ["10.0.0.53", "10.0.0.54"]
    assert offer.vendor_suboptions() == {1: b"ab"}
    assert offer.codes == [6, 43, 53, 54, 160]
    assert option_name(160) == "160 (boot server (Poly))"


def test_a_boot_option_given_as_an_address_reads_dotted() -> None:
    offer = parse_offer(_offer(1, [("message-type", "offer"), (160, bytes([10, 0, 5, 1])), "end"]), "x", 1, 0)
    assert offer is not None and offer.text(160) == "10.0.5.1"


@pytest.mark.parametrize("xid, kind", [(8, "offer"), (7, "nak"), (7, "ack")])
def test_only_an_offer_of_our_transaction_counts(xid: int, kind: str) -> None:
    assert parse_offer(_offer(xid, [("message-type", kind), "end"]), "x", 7, 0) is None


def test_garbage_and_truncated_options() -> None:
    assert parse_offer(b"\x02junk", "x", 7, 0) is None
    with pytest.raises(ValueError, match="option 6 runs past the end"):
        parse_options(b"\x06\x08\x01\x02")
    assert parse_options(b"\x00\x00\x01\x04\xff\xff\xff\x00\xff\x03") == {1: b"\xff\xff\xff\x00"}


def test_the_discover_is_relayed_and_asks_for_the_phone_options() -> None:
    pkt = BOOTP(bytes(build_discover(client_mac=MAC, xid=9, giaddr="10.1.2.250", vendor_class="Polycom-VVX411")))
    opts = parse_options(bytes(pkt[DHCP]))
    assert pkt.giaddr == "10.1.2.250" and pkt.hops == 1 and pkt.flags == 0
    assert opts[53] == b"\x01" and opts[60] == b"Polycom-VVX411"
    assert set(opts[55]) >= {1, 3, 6, 15, 42, 43, 66, 160}
    assert bytes(pkt.chaddr)[:6].hex(":") == MAC


def test_the_twin_offers_what_the_inventory_says(twin: TwinControl, loaded: LoadedLab) -> None:
    net = loaded.lab.network
    assert net.dhcp is not None and net.vantage.voice_vlan is not None
    offer = discover_relayed(net.dhcp.server, giaddr=net.vantage.voice_vlan, client_mac=MAC,
                             vendor_class=net.dhcp.vendor_class, timeout_s=2)
    assert offer is not None
    prefix = net.vantage.voice_vlan.rsplit(".", 1)[0]
    assert offer.server == net.dhcp.server and offer.your_address.startswith(prefix + ".")
    assert offer.addresses(1) == ["255.255.255.0"] and offer.addresses(3) == [net.dhcp.router]
    assert offer.text(66) == offer.text(160) == net.dhcp.boot_server
    assert net.dns is not None and offer.addresses(6) == net.dns.servers and offer.text(15) == net.dns.domain
    assert offer.elapsed_ms < 1000
    twin.fault("dhcp", "dhcp-no-option", "6")
    offer = discover_relayed(net.dhcp.server, giaddr=net.vantage.voice_vlan, client_mac=MAC, timeout_s=2)
    assert offer is not None and 6 not in offer.options and 1 in offer.options
    twin.fault("dhcp", "dhcp-down")
    assert discover_relayed(net.dhcp.server, giaddr=net.vantage.voice_vlan, client_mac=MAC, timeout_s=0.3) is None


def test_a_relay_address_that_is_not_ours_is_a_probe_error() -> None:
    with pytest.raises(DhcpProbeError, match=r"cannot act as DHCP relay on 192\.0\.2\.1:67"):
        discover_relayed("127.0.0.1", giaddr="192.0.2.1", client_mac=MAC, timeout_s=0.1)
