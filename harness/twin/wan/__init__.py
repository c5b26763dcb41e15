"""The site's WAN link as a twin unit named ``wan`` (faults, heal and ``hil lab status`` address it by
that name): a user-space impairment stage on the Edge's carrier media, since this kernel has no
netem (NETWORK-NOTES). :mod:`.state`, :mod:`.faults`, :mod:`.link` (loss, delay, jitter and a
token-bucket shaper), :mod:`.unit` (registration)."""

from .unit import WAN

__all__ = ["WAN"]
