"""The emulated Genesys Cloud org's state: built from the inventory, so the org agrees with the wire.

The org holds one site (``cloud.site``, else ``lab.site``) with the inventory's update window, caller
ID and NTP servers (``network.ntp.servers``), and the inventory's Edges (``role: edge``, named as in
the org) on it; entity ids are UUIDs derived from the lab's name and the entity's (stable across
restarts). What changes with the devices (an Edge's version, its online status, its calls) is not
copied here: the API renders it from the devices' own twin state on every request
(:mod:`.resources`). The OAuth clients are the inventory's one (``cloud.client_id``/``client_secret``).
``twin.cloud_synthetic_sites`` and ``cloud_synthetic_edges`` add a large org for benchmarks.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ...inventory.models import CLOUD_NAME, EdgeDevice, Lab
from ..core.state import DeviceState
from .telephony import TelephonyConfig, telephony_config

_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "hil lab twin: emulated Genesys Cloud org")
#: the site's NTP servers when the inventory names none (``network.ntp.servers``; project choice: the NTP Pool
#: project's)
DEFAULT_NTP_SERVERS = ("0.pool.ntp.org", "1.pool.ntp.org")
REQUESTS_KEPT = 1000  # project choice: the recent requests the org remembers (for the harness's own tests)


def entity_id(lab: str, kind: str, name: str) -> str:
    """The org's id of entity ``name`` of ``kind`` (``"edge"``, ``"site"`` …): a UUID stable per lab."""
    return str(uuid.uuid5(_NAMESPACE, f"{lab}/{kind}/{name}"))


@dataclass
class Token:
    """An access token the org issued: to which client, and when it expires (epoch seconds)."""

    client_id: str
    expires_at: float


@dataclass
class SiteConfig:
    """The lab's site as the org configures it (Genesys ``Site``): ``window`` is the Edge auto-update
    window (``rrule``, ``start``/``end`` ``HH:MM``, ``time_zone``), ``None`` when the site has none."""

    id: str
    name: str
    location_id: str
    rrule: str | None = None
    start: str | None = None
    end: str | None = None
    time_zone: str | None = None
    ntp_servers: list[str] = field(default_factory=lambda: list(DEFAULT_NTP_SERVERS))
    caller_id: str | None = None


@dataclass
class CloudState(DeviceState):
    """The org: its ``site``, the ids of its Edges (inventory name -> id, in file order), the tokens
    it issued, when each token was last refused 429 (``rate-limit``), synthetic entities, and the
    requests it answered (``(method, path and query, status)``, the last :data:`REQUESTS_KEPT`)."""

    port: int = 80
    org_id: str = ""
    site: SiteConfig | None = None
    edge_ids: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    refused_at: dict[str, float] = field(default_factory=dict)
    synthetic_sites: int = 0
    synthetic_edges: int = 0
    requests: list[tuple[str, str, int]] = field(default_factory=list)
    telephony: TelephonyConfig = field(default_factory=TelephonyConfig)

    def note(self, method: str, path: str, status: int) -> None:
        self.requests.append((method, path, status))
        del self.requests[:-REQUESTS_KEPT]


def org_state(lab: Lab) -> CloudState | None:
    """The org of ``lab`` (``None`` when the inventory has no ``cloud:``, or it names a region: the
    twin emulates an org only at a ``base_url`` of its own)."""
    cloud = lab.cloud
    if cloud is None or cloud.base_url is None:
        return None
    u = urlsplit(cloud.base_url)
    name = lab.lab.name
    window = lab.lab.update_window
    edges = {n: d for n, d in lab.devices.items() if isinstance(d, EdgeDevice)}
    caller_id = next((d.facts.dial_plan.caller_id for d in edges.values()
                      if d.facts.dial_plan and d.facts.dial_plan.caller_id), None)
    site = SiteConfig(id=entity_id(name, "site", lab.cloud_site), name=lab.cloud_site,
                      location_id=entity_id(name, "location", lab.cloud_site), caller_id=caller_id,
                      ntp_servers=list(lab.network.ntp.servers or DEFAULT_NTP_SERVERS))
    if window is not None:
        site.rrule, site.start, site.end, site.time_zone = window.rrule, window.start, window.end, window.time_zone
    return CloudState(name=CLOUD_NAME, role="cloud", platform="genesys_cloud", host=u.hostname or "",
                      port=u.port or (443 if u.scheme == "https" else 80), org_id=entity_id(name, "org", name),
                      site=site, edge_ids={n: entity_id(name, "edge", n) for n in edges},
                      synthetic_sites=lab.twin.cloud_synthetic_sites, synthetic_edges=lab.twin.cloud_synthetic_edges,
                      telephony=telephony_config(lab))
