"""What the twin's DHCP server and resolver serve, from the inventory (no sockets)."""

from __future__ import annotations

from dnslib import RCODE, DNSRecord

from harness.inventory import LoadedLab
from harness.transports.dhcp import build_discover, parse_offer
from harness.twin.netsvc.dhcp import offer_for
from harness.twin.netsvc.dns import answer
from harness.twin.netsvc.state import dhcp_state, dns_state
from tests.conftest import TEST_NET


def test_the_dhcp_server_offers_the_inventorys_options(loaded: LoadedLab) -> None:
    st = dhcp_state(loaded.lab)
    assert st is not None and st.host == f"{TEST_NET}.7.67"
    assert st.options == {1: ["255.255.255.0"], 3: [f"{TEST_NET}.3.254"], 6: [f"{TEST_NET}.7.53"], 15: "lab-a.example",
                          42: [f"{TEST_NET}.8.123"], 66: f"http://{TEST_NET}.5.1:8080/",
                          160: f"http://{TEST_NET}.5.1:8080/"}
    relayed = bytes(build_discover(client_mac="02:00:00:00:00:01", xid=5, giaddr=f"{TEST_NET}.3.250"))
    got = offer_for(st, relayed)
    assert got is not None and got[1] == f"{TEST_NET}.3.250"
    offer = parse_offer(got[0], st.host, 5, 0)
    assert offer is not None and offer.your_address.startswith(f"{TEST_NET}.3.1")  # the pool is .100-.199
    st.faults["dhcp-no-option"] = "42"
    offer = parse_offer(offer_for(st, relayed)[0], st.host, 5, 0)  # type: ignore[index]
    assert offer is not None and 42 not in offer.options and 66 in offer.options
    assert offer_for(st, bytes(build_discover(client_mac="02:00:00:00:00:01", xid=5))) is None  # not relayed


def test_the_resolver_splits_views_and_answers_localhost(loaded: LoadedLab) -> None:
    st = dns_state(loaded.lab)
    assert st is not None and set(st.views) == {f"{TEST_NET}.1.0/24", f"{TEST_NET}.3.0/24"}
    assert st.views[f"{TEST_NET}.1.0/24"] == {"api.mypurecloud.com": f"{TEST_NET}.6.1",
                                              "login.mypurecloud.com": f"{TEST_NET}.6.1"}
    assert st.views[f"{TEST_NET}.3.0/24"]["phone1.lab-a.example"] == f"{TEST_NET}.3.1"

    def ask(name: str, client: str) -> DNSRecord:
        return DNSRecord.parse(answer(st, bytes(DNSRecord.question(name).pack()), client))  # type: ignore[arg-type]

    assert str(ask("localhost", f"{TEST_NET}.1.1").a.rdata) == "127.0.0.1"
    assert ask("phone1.lab-a.example", f"{TEST_NET}.1.1").header.rcode == RCODE.NXDOMAIN
    assert ask("api.mypurecloud.com", "10.9.9.9").header.rcode == RCODE.REFUSED
    assert answer(st, b"garbage", f"{TEST_NET}.1.1") is None
