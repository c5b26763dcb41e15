"""LabError's message names each of device, transport and address once."""

from __future__ import annotations

import pytest

from harness.errors import LabTimeout, LabUnreachable, who


@pytest.mark.parametrize(("device", "transport", "address", "said"), [
    ("dhcp 192.0.2.67", "dhcp", "192.0.2.67:67", "dhcp 192.0.2.67:67"),
    ("dns 192.0.2.53", "udp", "192.0.2.53:53", "dns udp 192.0.2.53:53"),
    ("dns 192.0.2.53", "dns", "192.0.2.53:53", "dns 192.0.2.53:53"),
    ("stun", "stun", "192.0.2.70:3478", "stun 192.0.2.70:3478"),
    ("sw1", "ssh", "192.0.2.1:22", "sw1 ssh 192.0.2.1:22"),
    ("site NTP servers", "ntp", "192.0.2.123", "site NTP servers 192.0.2.123"),
    ("edge1", "api", "https://api.mypurecloud.com", "edge1 api https://api.mypurecloud.com"),
    ("192.0.2.9", "tls", "192.0.2.9", "tls 192.0.2.9"),
    ("dns 192.0.2.53", "dns", "192.0.2.5:53", "dns 192.0.2.53 192.0.2.5:53"),  # another host: both named
])
def test_each_name_once(device, transport, address, said):
    assert who(device, transport, address) == said


def test_the_message_and_the_attributes():
    e = LabTimeout("dhcp 192.0.2.67", "dhcp", "192.0.2.67:67", "no OFFER within 5 s")
    assert str(e) == "timeout: dhcp 192.0.2.67:67: no OFFER within 5 s"
    assert (e.device, e.transport, e.address) == ("dhcp 192.0.2.67", "dhcp", "192.0.2.67:67")
    assert str(LabUnreachable("sw1", "ssh", "192.0.2.1:22", "refused")) == "unreachable: sw1 ssh 192.0.2.1:22: refused"
