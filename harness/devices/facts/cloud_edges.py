"""Genesys Cloud Edges as the harness reads them (``GET /api/v2/telephony/providers/edges``,
``…/edges/{edgeId}``; the SDK's ``Edge``): typed models of the fields the duties use, and the
endpoints that serve them. Enum values are Genesys' (GENESYS-API.md): ``online_status`` ONLINE or
OFFLINE; ``status_code`` NEW … ACTIVE, INACTIVE, RMA …; ``call_draining_state`` NONE, WAIT,
WAIT_TIMEOUT, TERMINATE, COMPLETE; ``edge_deployment_type`` HARDWARE, LDM, CDM, CHS, INVALID."""

from __future__ import annotations

from ...transports.cloud import CloudModel
from .cloud_sites import EntityRef

EDGES = "/api/v2/telephony/providers/edges"
EDGE = "/api/v2/telephony/providers/edges/{edgeId}"


class Edge(CloudModel):
    """An Edge of the org. ``software_version``: the version it runs; ``staged_version``: an update
    downloaded and not yet installed (``None``: none); ``conversation_count``: calls in progress."""

    id: str
    name: str
    software_version: str | None = None
    full_software_version: str | None = None
    staged_version: str | None = None
    status_code: str | None = None
    online_status: str | None = None
    call_draining_state: str | None = None
    conversation_count: int | None = None
    edge_deployment_type: str | None = None
    site: EntityRef | None = None
    model: str | None = None
    serial_number: str | None = None
    proxy: str | None = None  # the WAN port's HTTP proxy, host or host:port (port 80 when none); None: none

    @property
    def online(self) -> bool:
        """The org sees the Edge connected (``onlineStatus`` ONLINE)."""
        return (self.online_status or "").upper() == "ONLINE"
