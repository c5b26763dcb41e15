"""The org's telephony configuration around the lab's site, read through the Platform API
(:class:`OrgTelephony`): phone records, phone base settings, trunks, trunk base settings, DID pools, DIDs,
extensions, the site's E911 location, the org's telephony limits and its prefix blocking (the Block List
and the API's call simulation).

A sibling of :class:`~harness.devices.drivers.cloud.CloudOrg` (which it reads through): each accessor
is one listing, every page, typed by ``harness/devices/facts/cloud_phones.py`` and
``cloud_numbers.py``. Reads are cached for the object's life (one read per run when the run shares
one object, ``fixtures/cloud_org.py``). Every accessor raises what ``CloudApi`` raises (LabError
subclasses: LabTimeout, LabUnreachable, ApiAuthError …) and NotInOrg when the site is not in the org.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from pydantic import ValidationError

from ...errors import LabProtocolError
from ...transports.cloud import CloudModel, Page
from ..facts.cloud_dialplan import NUMBER_PLANS, OUTBOUND_ROUTES, NumberPlan, OutboundRoute
from ..facts.cloud_edge_ops import TRUNKS, Trunk
from ..facts.cloud_numbers import (
    DID_POOLS,
    DIDS,
    EXTENSIONS,
    LIMITS,
    LOCATION,
    LOCATIONS,
    TELEPHONY_LIMITS,
    Did,
    DidPool,
    Extension,
    Limits,
    Location,
)
from ..facts.cloud_phones import PHONE_BASES, PHONES, PhoneBaseSettings, PhoneRecord
from ..facts.cloud_prefixes import PREFIXES, SIMULATE_CALL, CallSimulation, Prefix
from ..facts.cloud_sites import EntityRef, Site
from ..facts.cloud_trunk_bases import TRUNK_BASES, TrunkBaseSettings
from .cloud import CloudOrg

T = TypeVar("T")
H = TypeVar("H", Trunk, PhoneRecord)
B = TypeVar("B", TrunkBaseSettings, PhoneBaseSettings)


class _Entity(CloudModel):
    """Any entity of a listing (counted, not read)."""


class OrgTelephony:
    """What the org configures for the lab's site, read once each (thread-safe)."""

    def __init__(self, org: CloudOrg) -> None:
        self.org = org
        self._cache: dict[str, object] = {}
        self._lock = threading.RLock()

    def _once(self, key: str, read: Callable[[], T]) -> T:
        with self._lock:
            if key not in self._cache:
                self._cache[key] = read()
            return self._cache[key]  # type: ignore[return-value]

    def total(self, template: str) -> int:
        """How many entities the org's listing ``template`` holds (``LINES``, ``SITES`` …): its ``total``,
        read from a page of one; every page counted when the answer gives no ``total``."""
        def count() -> int:
            page = self.org.api().get(template, Page, params={"pageSize": 1, "pageNumber": 1})
            if page.total is not None:
                return page.total
            return sum(1 for _ in self.org.api().pages(template, _Entity))
        return self._once(f"total {template}", count)

    def site(self) -> Site:
        """The lab's site (``CloudOrg.site``)."""
        return self._once("site", self.org.site)

    def phones(self) -> list[PhoneRecord]:
        """The phone records of the lab's site (``GET …/phones?site.id=…&expand=properties,status``)."""
        return self._once("phones", lambda: self.org.api().list(
            PHONES, PhoneRecord, params={"site.id": self.site().id, "expand": "properties,status"}))

    def phone_base_settings(self) -> list[PhoneBaseSettings]:
        """Every phone base settings of the org (``GET …/phonebasesettings``)."""
        return self._once("phonebases", lambda: self.org.api().list(PHONE_BASES, PhoneBaseSettings))

    def trunk_base_settings(self) -> list[TrunkBaseSettings]:
        """Every trunk base settings of the org (``GET …/trunkbasesettings``)."""
        return self._once("trunkbases", lambda: self.org.api().list(TRUNK_BASES, TrunkBaseSettings))

    def trunks(self) -> list[Trunk]:
        """The org's external (carrier) trunks, every Edge's (``GET …/edges/trunks?trunkType=EXTERNAL``):
        each with its Edge (``edge``), service and servers (``optionsStatus[].proxyAddress``)."""
        return self._once("trunks", lambda: [t for t in self.org.api().list(TRUNKS, Trunk, params={
            "trunkType": "EXTERNAL"}) if (t.trunk_type or "EXTERNAL") == "EXTERNAL"])

    def number_plans(self) -> list[NumberPlan]:
        """The site's number plans (``GET …/sites/{siteId}/numberplans``, a plain list)."""
        def read() -> list[NumberPlan]:
            api = self.org.api()
            data = api.get_json(NUMBER_PLANS, siteId=self.site().id)
            try:
                return [NumberPlan.model_validate(p) for p in data]
            except (TypeError, ValidationError) as e:
                raise LabProtocolError(self.org.name, "api", api.address,
                                       f"GET {NUMBER_PLANS}: not a list of number plans: {e}") from None
        return self._once("numberplans", read)

    def outbound_routes(self) -> list[OutboundRoute]:
        """The site's outbound routes (``GET …/sites/{siteId}/outboundroutes``)."""
        return self._once("outboundroutes", lambda: self.org.api().list(
            OUTBOUND_ROUTES, OutboundRoute, siteId=self.site().id))

    def did_pools(self) -> list[DidPool]:
        """Every DID pool of the org (``GET …/didpools``)."""
        return self._once("didpools", lambda: self.org.api().list(DID_POOLS, DidPool))

    def dids(self) -> list[Did]:
        """Every DID of the org (``GET …/dids``)."""
        return self._once("dids", lambda: self.org.api().list(DIDS, Did))

    def extensions(self) -> list[Extension]:
        """Every extension of the org (``GET …/extensions``)."""
        return self._once("extensions", lambda: self.org.api().list(EXTENSIONS, Extension))

    def locations(self) -> list[Location]:
        """Every location of the org (``GET /api/v2/locations``)."""
        return self._once("locations", lambda: self.org.api().list(LOCATIONS, Location))

    def location(self) -> Location | None:
        """The site's location (``GET /api/v2/locations/{locationId}``); None when the site names none."""
        ref = self.site().location
        if ref is None:
            return None
        return self._once("location", lambda: self.org.api().get(LOCATION, Location, locationId=ref.id))

    def limits(self) -> dict[str, int]:
        """The org's telephony limits (``GET /api/v2/organizations/limits/namespaces/telephony.configuration``),
        key -> value."""
        got = self._once("limits", lambda: self.org.api().get(LIMITS, Limits, namespaceName=TELEPHONY_LIMITS))
        return {lim.key: lim.value for lim in got.entities}

    def blocked_prefixes(self) -> list[Prefix]:
        """The org's prefix Block List (``GET /api/v2/telephony/prefixes?type=Block``, every page)."""
        return self._once("prefixes Block", lambda: self.org.api().list(
            PREFIXES, Prefix, params={"type": "Block"}, page_size=200))

    def simulate_call(self, number: str) -> CallSimulation:
        """The org's own verdict on an outbound call to ``number``
        (``GET /api/v2/telephony/prefixes/simulate/call?number=…``), read once per number."""
        return self._once(f"simulate {number}", lambda: self.org.api().get(
            SIMULATE_CALL, CallSimulation, params={"number": number}))
    def phone_trunks(self) -> list[Trunk]:
        """The org's phone trunks, every Edge's (``GET …/edges/trunks?trunkType=PHONE``)."""
        return self._once("phonetrunks", lambda: [t for t in self.org.api().list(TRUNKS, Trunk, params={
            "trunkType": "PHONE"}) if (t.trunk_type or "PHONE") == "PHONE"])

    def edge_trunk_base(self, edge: str, kind: str = "EXTERNAL") -> tuple[TrunkBaseSettings | None, str]:
        """The trunk base settings of Edge ``edge``'s ``kind`` trunk (``EXTERNAL``: toward the carrier,
        ``PHONE``: toward the stations; its ``trunkBase``), with a note saying which base it is or why
        there is none (no such trunk of that Edge in the org, a trunk that names no base, a base not in
        the listing)."""
        what = "external" if kind == "EXTERNAL" else "phone"
        listed = self.trunks() if kind == "EXTERNAL" else self.phone_trunks()
        return _base_of([t for t in listed if t.edge is not None and t.edge.name == edge],
                        missing=f"the org has no {what} trunk on Edge {edge}",
                        ref=lambda t: t.trunk_base, label=lambda t: f"trunk {t.name or t.id}", whose="the org's",
                        kind="trunk base settings", bases=self.trunk_base_settings,
                        owner=f"Edge {edge}'s {what} trunk")

    def phone_base(self, mac: str) -> tuple[PhoneBaseSettings | None, str]:
        """The phone base settings of the site's phone record whose hardware ID is ``mac``
        (``00:04:f2:…``), with a note saying which base it is or why there is none."""
        return _base_of([r for r in self.phones() if r.mac == mac],
                        missing=f"the site has no phone record of hardware ID {mac}",
                        ref=lambda r: r.phone_base_settings, label=lambda r: f"phone record {r.name}", whose="the",
                        kind="phone base settings", bases=self.phone_base_settings)


def _base_of(holders: list[H], *, missing: str, ref: Callable[[H], EntityRef | None], label: Callable[[H], str],
             whose: str, kind: str, bases: Callable[[], list[B]], owner: str | None = None) -> tuple[B | None, str]:
    """The base settings the first of ``holders`` (a trunk or a phone record) refers to through ``ref``,
    looked up by id in ``bases()`` (read only when there is a reference), with a note: which ``kind``
    of base it is and whose (``owner``, else the holder's ``label``), or why there is none (``missing``
    when there is no holder; the holder names no base; the base it names is not in the listing)."""
    if not holders:
        return None, missing
    holder = holders[0]
    target = ref(holder)
    if target is None:
        return None, f"{whose} {label(holder)} names no {kind}"
    found = [b for b in bases() if b.id == target.id]
    if not found:
        return None, f"{kind} {target.id} of the {label(holder)} is not in the org"
    return found[0], f"{kind} {found[0].name!r} of {owner or f'the {label(holder)}'}"
