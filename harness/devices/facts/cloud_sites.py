"""Genesys Cloud sites as the harness reads them (``GET /api/v2/telephony/providers/edges/sites``,
``…/sites/{siteId}``; the SDK's ``Site``): typed models of the fields the duties use, and the
endpoints that serve them. Pure models: :class:`~harness.devices.drivers.cloud.CloudOrg` reads them."""

from __future__ import annotations

import datetime as dt

from ...transports.cloud import CloudModel

SITES = "/api/v2/telephony/providers/edges/sites"
SITE = "/api/v2/telephony/providers/edges/sites/{siteId}"


class EntityRef(CloudModel):
    """A reference to another entity of the org (``DomainEntityRef``): ``id`` and, usually, ``name``."""

    id: str
    name: str = ""


class EdgeAutoUpdateConfig(CloudModel):
    """The site's Edge software update window (``EdgeAutoUpdateConfig``): an RFC 5545 ``rrule``,
    ``start`` and ``end`` as local date-times (their times of day bound the window; an end on the
    next day runs past midnight) in the IANA ``time_zone``."""

    time_zone: str
    rrule: str
    start: dt.datetime
    end: dt.datetime


class NtpSettings(CloudModel):
    """The site's NTP servers (``NTPSettings.servers``), names or addresses."""

    servers: tuple[str, ...] = ()


class Site(CloudModel):
    """A site of the org (``Site``): ``media_model`` ``Premises`` (Edges on site) or ``Cloud``;
    ``edge_auto_update_config`` ``None`` when the site has no update window."""

    id: str
    name: str
    media_model: str | None = None
    edge_auto_update_config: EdgeAutoUpdateConfig | None = None
    ntp_settings: NtpSettings | None = None
    primary_edges: tuple[EntityRef, ...] = ()
    secondary_edges: tuple[EntityRef, ...] = ()
    caller_id: str | None = None
    location: EntityRef | None = None
