"""Numbers and places of the Genesys Cloud org as the harness reads them: DID pools
(``GET …/edges/didpools``, ``DIDPool``), DIDs (``GET …/edges/dids``, ``DID``), extensions
(``GET …/edges/extensions``, ``Extension``), locations (``GET /api/v2/locations``,
``LocationDefinition`` with its ``emergencyNumber``) and the org's limits
(``GET /api/v2/organizations/limits/namespaces/{namespaceName}``, ``LimitsEntityListing``)."""

from __future__ import annotations

from ...transports.cloud import CloudModel
from .cloud_sites import EntityRef

EDGES = "/api/v2/telephony/providers/edges"
DID_POOLS = f"{EDGES}/didpools"
DIDS = f"{EDGES}/dids"
EXTENSIONS = f"{EDGES}/extensions"
LOCATIONS = "/api/v2/locations"
LOCATION = "/api/v2/locations/{locationId}"
LIMITS = "/api/v2/organizations/limits/namespaces/{namespaceName}"
TELEPHONY_LIMITS = "telephony.configuration"  # the namespace of the telephony limits (the SDK's Limit enum)


class DidPool(CloudModel):
    """A DID pool: the range ``start_phone_number``..``end_phone_number`` (E.164)."""

    id: str
    start_phone_number: str
    end_phone_number: str

    def holds(self, number: str) -> bool:
        """``number`` (E.164) lies in the pool's range."""
        s, e = self.start_phone_number, self.end_phone_number
        return len(s) == len(number) == len(e) and s <= number <= e


class Did(CloudModel):
    """A DID of the org: ``phone_number`` (E.164), its pool and owner (``owner_type`` USER, PHONE …)."""

    id: str
    phone_number: str
    did_pool: EntityRef | None = None
    owner: EntityRef | None = None
    owner_type: str | None = None


class Extension(CloudModel):
    """An extension of the org: ``number`` and its owner."""

    id: str
    number: str
    owner: EntityRef | None = None


class EmergencyNumber(CloudModel):
    """A location's emergency number (``LocationEmergencyNumber``): ``number``, ``e164``, ``type``
    (``default`` or ``elin``)."""

    number: str | None = None
    e164: str | None = None
    type: str | None = None


class Location(CloudModel):
    """A location of the org (``LocationDefinition``); ``emergency_number`` None when not set."""

    id: str
    name: str
    emergency_number: EmergencyNumber | None = None


class Limit(CloudModel):
    """One limit of a namespace: ``key`` and ``value``."""

    key: str
    value: int


class Limits(CloudModel):
    """``LimitsEntityListing``: the limits of one namespace (not paged)."""

    entities: tuple[Limit, ...] = ()
