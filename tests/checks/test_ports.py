"""Port ranges and the ports sampled from them."""

from __future__ import annotations

import pytest

from harness.checks.ports import port_range, sample_ports


def test_a_range_and_its_samples():
    assert port_range("16384-65535") == (16384, 65535)
    assert sample_ports(16384, 65535) == [16384, 28672, 40960, 53247, 65535]
    assert sample_ports(5000, 5002) == [5000, 5001, 5002]
    assert sample_ports(5000, 6000, 1) == [5000]


@pytest.mark.parametrize("text", ["16384", "0-10", "20-10", "1-65536", "a-b", "-5"])
def test_not_a_range(text):
    with pytest.raises(ValueError, match="is not a port range LOW-HIGH"):
        port_range(text)
