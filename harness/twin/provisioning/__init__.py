"""The twin's provisioning server (``role: provisioning``); importing the package registers the role
(:mod:`.role`)."""

from .role import PROVISIONING

__all__ = ["PROVISIONING"]
