"""The site's NTP servers as a twin unit named ``ntp`` (:mod:`.unit`): an SNTP server (RFC 4330/5905
server mode 4) on each address of the inventory's ``network.ntp.servers``, with the faults of
:mod:`.faults` (``ntp-offset=SECONDS``, ``ntp-silent``)."""

from .unit import NTP

__all__ = ["NTP"]
