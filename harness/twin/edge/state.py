"""The Edge's live state: identity and firmware, registrations, the SIP trunk and its counters, media
relays and the software update. Its SIP side, log bundles and updater read and write it; the
emulated Genesys Cloud API renders it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...inventory.models import AnyDevice, EdgeDevice, Lab
from ..core.shared_faults import FIRMWARE
from ..core.state import DeviceState
from .faults import CONFIG_STALE, MAX_CALLS


@dataclass
class TrunkRouteConfig:
    """One outbound route of an Edge's trunk (the API's ``optionsStatus`` server): the PSTN device's name,
    ``host:port`` and the transport the Edge uses toward it (``udp``/``tcp``)."""

    name: str
    address: str
    transport: str


@dataclass(frozen=True)
class OrgOutbound:
    """The org's outbound configuration as Genesys Cloud pushes it to an Edge (the Edge is configured from
    the cloud; written by the emulated org, :mod:`harness.twin.cloud.outbound`, from the same functions
    its API renders): ``number_plans``, the site's plans as ``GET …/sites/{siteId}/numberplans`` gives them
    (``NumberPlan`` JSON); ``outbound_routes``, the site's outbound routes that carry calls to this Edge's
    external trunk (``OutboundRouteBase`` JSON); ``blocked_prefixes``, the org's prefix Block List (E.164
    prefixes, org-wide); ``country``, the site's dial plan country (ISO 3166 alpha-2)."""

    number_plans: tuple[dict[str, Any], ...] = ()
    outbound_routes: tuple[dict[str, Any], ...] = ()
    blocked_prefixes: tuple[str, ...] = ()
    country: str = "US"


@dataclass
class EdgeState(DeviceState):
    hostname: str = "edge"
    model: str = "Genesys Edge (virtual)"
    serial: str = "VE-000000"
    installed_firmware: str = "0.0.0"
    registrations: dict[str, tuple[str, int, float]] = field(default_factory=dict)  # ext -> (ip, port, until)
    # SIP trunk (harness/twin/edge/sip.py, docs/twin-edge-sip.md); config copied from the inventory at start
    trunk_max_calls: int = 0  # inventory trunk.max_calls (0: unlimited); see effective_max_calls
    trunk_max_calls_code: int = 503
    trunk_routes: list[TrunkRouteConfig] = field(default_factory=list)
    trunk_options: dict[str, int | None] = field(default_factory=dict)  # route -> last OPTIONS code, None: silent
    trunk_inbound_calls: int = 0  # active carrier -> Edge calls (INVITE accepted .. call ended)
    trunk_outbound_calls: int = 0  # active Edge -> carrier calls
    trunk_calls_total: int = 0  # trunk call attempts (INVITEs on the trunk port + outbound to numbers)
    trunk_calls_answered: int = 0
    trunk_calls_refused: dict[int, int] = field(default_factory=dict)  # code -> trunk calls the Edge refused
    station_calls: int = 0  # active station-to-station calls (not trunk calls)
    media_relays: int = 0  # relays open (two UDP sockets each)
    media_packets_relayed: int = 0
    media_packets_dropped: int = 0
    media_dscp: int = 46  # DSCP of RTP the Edge sends (trunk/phone base settings default EF, G-DSCP)
    sip_dscp: int = 24  # DSCP of SIP the Edge sends (base settings default CS3, G-DSCP)
    # software update (harness/twin/edge/software.py, docs/edge-update.md)
    software_status: str = "idle"  # see show software in docs/edge-update.md (idle, staged, draining …)
    staged_version: str | None = None  # the version of the image staged (downloaded and verified)
    software_error: str | None = None  # why the last stage or install failed (None: it did not)
    draining: bool = False  # new calls are refused 503 (`software drain`) until the reboot or `software cancel`
    # the last update ordered through the Genesys Cloud API (software.py's api_update; epoch seconds)
    update_version: str | None = None
    update_started_at: float | None = None  # the order came (the download began)
    update_executed_at: float | None = None  # the drain began
    update_ended_at: float | None = None  # installed, rolled back, failed or aborted
    update_drain_s: int = 0  # callDrainingWaitTimeSeconds of the order
    # the WAN port as set on the Edge's LCD (inventory facts wan_addressing, wan_address; else DHCP, on host)
    wan_address: str = ""
    wan_dhcp: bool = True
    proxy: str | None = None  # the HTTP proxy set for the WAN port (inventory facts.proxy; Edge.proxy in the API)
    # the org's outbound configuration the Edge routes by (None: no emulated org, the inventory's dial plan
    # alone) and the one the org last pushed (they differ while config-stale holds the Edge on its cache)
    org_outbound: OrgOutbound | None = None
    org_outbound_pushed: OrgOutbound | None = None

    @property
    def firmware(self) -> str:
        """The version the Edge reports (the ``firmware=`` fault overrides the installed one)."""
        return FIRMWARE.value(self) or self.installed_firmware

    @property
    def effective_max_calls(self) -> int:
        """Max Calls enforced: the ``max-calls=N`` fault's N, else the inventory's (0: unlimited)."""
        v = MAX_CALLS.value(self)
        return v if v is not None else self.trunk_max_calls

    def receive_org_outbound(self, config: OrgOutbound) -> None:
        """The org pushes its outbound configuration: the Edge routes by it from now on, unless
        ``config-stale`` holds it on the configuration it had (it keeps the push for its heal)."""
        self.org_outbound_pushed = config
        if not CONFIG_STALE.on(self):
            self.org_outbound = config

    @property
    def calls_refused(self) -> int:
        return sum(self.trunk_calls_refused.values())


def initial_state(name: str, dev: AnyDevice, lab: Lab | None = None) -> EdgeState:
    """The state an Edge boots with, from the facts the inventory expects it to have."""
    assert isinstance(dev, EdgeDevice)
    f = dev.facts
    return EdgeState(name=name, role=dev.role, platform=dev.platform, host=dev.host, hostname=name,
                     installed_firmware=f.firmware or "2026.11.1",
                     model=f.model or "Genesys Edge (virtual)", serial=f.serial or "VE-000000",
                     trunk_max_calls=f.trunk.max_calls if f.trunk else 0,
                     trunk_max_calls_code=f.trunk.max_calls_code if f.trunk else 503,
                     wan_address=f.wan_address or dev.host, wan_dhcp=f.wan_addressing != "static",
                     proxy=f.proxy)
