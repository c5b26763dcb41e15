"""The twin's Genesys Edge (``role: edge``); importing the package registers the role (:mod:`.role`)."""

from .role import EDGE

__all__ = ["EDGE"]
