"""The emulated Genesys Cloud org: the Platform API (OAuth token endpoint and resources) on the
inventory's ``cloud.base_url``, rendered from the same twin state as the wire (docs/cloud-api.md).

:mod:`.state` (the org built from the inventory), :mod:`.router` (how endpoints are declared),
:mod:`.server` (aiohttp), :mod:`.oauth`, :mod:`.resources` (one module per resource group),
:mod:`.faults`, :mod:`.unit` (registration as the twin unit ``cloud``).
"""

from .unit import CLOUD

__all__ = ["CLOUD"]
