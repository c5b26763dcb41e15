"""The Edge's logical interfaces as the harness reads them (``DomainLogicalInterface``)."""

from __future__ import annotations

from harness.devices.facts.cloud_edge_interfaces import LogicalInterface, wan_port


def iface(**fields: object) -> LogicalInterface:
    return LogicalInterface.model_validate(fields)


def test_the_wan_port_its_ipv4_addresses_and_addressing():
    lan = iface(name="LAN", addresses=[{"type": "ip", "address": "10.0.0.2/24", "family": 2}])
    wan = iface(name="WAN", useForWanInterface=True, ipv4Capabilities={"enabled": True, "dhcp": False},
                addresses=[{"type": "ip", "address": "192.0.2.10/24", "persistent": True, "family": 2},
                           {"type": "ip", "address": "2001:db8::10/64", "family": 23},
                           {"type": "gateway", "address": "192.0.2.1"}, {"type": "ip", "address": "junk"}])
    found = wan_port([lan, wan])
    assert found is wan
    assert wan.ipv4_addresses == ["192.0.2.10"] and wan.ipv4_addressing == "static" and wan.label == "WAN"
    assert lan.ipv4_addressing is None and wan_port([lan]) is None
