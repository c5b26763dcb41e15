"""The twin's IP phone (``role: phone``); importing the package registers the role (:mod:`.role`)."""

from .role import PHONE

__all__ = ["PHONE"]
