"""The site's WAN uplink as the other roles meet it: the Edge's media relay hands its carrier leg to
it, the access switch's uplink port counts what it carried. The ``wan`` role
(:mod:`harness.twin.wan.link`) provides the link and attaches it while its service runs; this
module only holds which link is attached, so that no role imports another role's package.

One lab per twin process, so one link at most.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class Uplink(Protocol):
    """What the Edge and the switch use of the running WAN link."""

    def carry(self, direction: str, data: bytes, deliver: Callable[[bytes], object]) -> None:
        """Take one datagram of ``direction`` (``"out"``: toward the carrier, ``"in"``: from it) and
        call ``deliver(data)`` when (and if) the link lets it through."""

    def switch_port_octets(self) -> tuple[int, int]:
        """``(in, out)`` layer-2 octets the switch port toward the WAN router counts of this link."""


_ATTACHED: list[Uplink] = []


def active() -> Uplink | None:
    """The attached link, or ``None`` (no ``wan`` unit in the lab, or its service is stopped)."""
    return _ATTACHED[0] if _ATTACHED else None


def attach(link: Uplink) -> None:
    """Make ``link`` the site's uplink (replacing any other)."""
    _ATTACHED[:] = [link]


def detach(link: Uplink) -> None:
    """Take ``link`` away if it is the attached one."""
    if _ATTACHED and _ATTACHED[0] is link:
        _ATTACHED.clear()
