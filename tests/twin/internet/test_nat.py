"""The NAT model alone (RFC 4787 mapping and filtering), without sockets."""

from __future__ import annotations

from harness.twin.internet.nat import FIRST_PORT, Nat

IN = ("10.0.0.5", 5000)
S1, S1B, S2 = ("192.0.2.1", 3478), ("192.0.2.1", 3479), ("192.0.2.2", 3478)


def test_mapping_policies():
    nat = Nat("203.0.113.1")
    assert nat.outbound("EIM", IN, S1) == nat.outbound("EIM", IN, S2) == ("203.0.113.1", FIRST_PORT)
    adm = nat.outbound("ADM", IN, S1)
    assert nat.outbound("ADM", IN, S1B) == adm != nat.outbound("ADM", IN, S2)
    apdm = nat.outbound("APDM", IN, S1)
    assert apdm != nat.outbound("APDM", IN, S1B)


def test_filtering_policies():
    nat = Nat("203.0.113.1")
    nat.outbound("EIM", IN, S1)
    assert nat.admits("EIF", IN, S2)
    assert nat.admits("ADF", IN, S1B) and not nat.admits("ADF", IN, S2)
    assert nat.admits("APDF", IN, S1) and not nat.admits("APDF", IN, S1B)
