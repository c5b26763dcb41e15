"""The twin's access switch (``role: switch``); importing the package registers the role (:mod:`.role`)."""

from .role import SWITCH

__all__ = ["SWITCH"]
