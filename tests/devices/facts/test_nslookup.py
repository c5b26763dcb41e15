"""nslookup output as BIND 9 prints it (and the twin Edge's diagnostic does)."""

from harness.devices.facts.nslookup import parse_nslookup

BIND = """Server:\t\t10.0.0.53
Address:\t10.0.0.53#53

Non-authoritative answer:
Name:\tapi.mypurecloud.com
Address: 52.1.2.3
Name:\tapi.mypurecloud.com
Address: 2600:1f18::1
"""


def test_answers_not_the_servers_own_address() -> None:
    r = parse_nslookup(BIND)
    assert r.server == "10.0.0.53" and r.addresses == ("52.1.2.3", "2600:1f18::1") and r.failure is None
    assert r.outcome() == "52.1.2.3, 2600:1f18::1"


def test_failures() -> None:
    nx = parse_nslookup("Server:\t\t10.0.0.53\nAddress:\t10.0.0.53#53\n\n** server can't find x.invalid: NXDOMAIN\n")
    assert (nx.addresses, nx.failure, nx.outcome()) == ((), "NXDOMAIN", "NXDOMAIN")
    assert parse_nslookup(";; connection timed out; no servers could be reached\n").failure == "timed out"
    assert parse_nslookup("").outcome() == "no address"
