"""The twin's PSTN simulator (``role: pstn``); importing the package registers the role (:mod:`.role`)."""

from .role import PSTN

__all__ = ["PSTN"]
