"""Port ranges a duty names (``16384-65535``) and the ports a probe samples from one.

A probe cannot try every source port of a 49,152-port media range; it samples the range's ends and
evenly spaced ports between them (project choice: a firewall rule that cuts a range open at either
end, or closes a band inside it, is found by its ends or by a port in the band).
"""

from __future__ import annotations


def port_range(text: str) -> tuple[int, int]:
    """``"LOW-HIGH"`` as ``(LOW, HIGH)``. Raises ValueError unless 1 <= LOW <= HIGH <= 65535."""
    low, sep, high = str(text).partition("-")
    if not (sep and low.strip().isdigit() and high.strip().isdigit()
            and 1 <= int(low) <= int(high) <= 65535):
        raise ValueError(f"{text!r} is not a port range LOW-HIGH within 1-65535")
    return int(low), int(high)


def sample_ports(low: int, high: int, count: int = 5) -> list[int]:
    """``count`` ports of ``low``..``high``, ascending and distinct: both ends and evenly spaced ones
    between (fewer when the range is smaller)."""
    if high - low + 1 <= count:
        return list(range(low, high + 1))
    if count < 2:
        return [low]
    step = (high - low) / (count - 1)
    return sorted({low + round(i * step) for i in range(count)})
