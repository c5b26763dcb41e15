"""Phones: ``GET /api/v2/telephony/providers/edges/phones`` (filters ``site.id``, ``phone_hardwareId``,
``name``, ``status.operationalStatus``) and ``GET …/phones/{phoneId}``, as the SDK's ``Phone`` and
``PhoneEntityListing``; lines: ``GET …/lines`` (``LineEntityListing``, one per phone record); phone base
settings: ``GET …/phonebasesettings[/{phoneBaseSettingsId}]`` (``PhoneBase``, one per phone model; its
``phone_media_dscp`` / ``phone_sip_dscp`` are the DSCP the twin phones of that model were provisioned
with, ``PhoneState.media_dscp`` / ``sip_dscp``: Genesys' defaults 46 and 24, G-DSCP, unless the org's
``base-media-dscp`` fault configured another media value, which the phones apply).

A phone record is the org's configuration (:class:`~harness.twin.cloud.telephony.PhoneRecord`, its
hardware ID in ``properties.phone_hardwareId.value.instance``, bent by ``phone-record-mac``); its
``status`` is rendered from the twin's live state on every request: ``operationalStatus``
``OPERATIONAL`` while the phone's primary Edge runs and holds an unexpired registration of the
phone's SIP user (the binding its ``REGISTER`` made on the wire), else ``OFFLINE``;
``edgesStatus`` ``IN_SERVICE`` while registered to its primary Edge and that Edge reaches the cloud,
``OUT_OF_SERVICE`` otherwise, ``NO_EDGES`` without an Edge. Synthetic phone records
(``twin.cloud_synthetic_phones``) have no device behind them: ``OFFLINE``, ``NO_EDGES``.
"""

from __future__ import annotations

import time

from ....inventory.models import PhoneDevice
from ...edge.state import EdgeState
from ...phone.state import PhoneState
from ..faults import PHONE_RECORD_MAC
from ..router import ApiError, ApiRequest, Json, listing, ref, route
from ..state import entity_id
from ..telephony import PhoneRecord, hardware_id
from .edges import EDGES, online
from .sites import SITES

PHONES = f"{EDGES}/phones"
PHONE_BASES = f"{EDGES}/phonebasesettings"
LINES = f"{EDGES}/lines"
DSCP_MEDIA, DSCP_SIP = 46, 24  # Genesys' phone base settings defaults (G-DSCP)


def _synthetic(i: int) -> PhoneRecord:
    mac = f"02:00:{(i >> 24) & 255:02x}:{(i >> 16) & 255:02x}:{(i >> 8) & 255:02x}:{i & 255:02x}"
    return PhoneRecord(f"synthetic-phone-{i:06d}", hardware_id(mac), f"9{i:05d}", "Generic SIP phone", None)


def records(req: ApiRequest) -> list[tuple[PhoneRecord, bool]]:
    """The org's phone records in name order, as ``(record, synthetic)``; ``phone-record-mac`` applied."""
    tel = req.state.telephony
    bent = PHONE_RECORD_MAC.value(req.state)
    out: list[tuple[PhoneRecord, bool]] = []
    for rec in tel.phones.values():
        if bent is not None and bent[0] == rec.name:
            rec = PhoneRecord(rec.name, hardware_id(bent[1]), rec.extension, rec.model, rec.edge)
        out.append((rec, False))
    out += [(_synthetic(i), True) for i in range(tel.synthetic_phones)]
    return sorted(out, key=lambda e: e[0].name)


def phone_id(req: ApiRequest, name: str) -> str:
    return entity_id(req.twin.lab.lab.name, "phone", name)


def base_id(req: ApiRequest, model: str) -> str:
    return entity_id(req.twin.lab.lab.name, "phonebasesettings", model)


def _sip_user(req: ApiRequest, name: str) -> str | None:
    """The SIP user inventory phone ``name`` registers as (``sip.username``, else its extension)."""
    dev = req.twin.lab.devices.get(name)
    if not isinstance(dev, PhoneDevice):
        return None
    return dev.sip.username if dev.sip and dev.sip.username else dev.facts.extension


def bound(req: ApiRequest, rec: PhoneRecord, synthetic: bool) -> bool:
    """The phone of ``rec`` is registered as its primary Edge's registrar sees it now: that Edge runs
    and holds a binding of the phone's SIP user that has not expired (what ``REGISTER`` wrote on
    the wire, :mod:`harness.twin.edge.registrar`)."""
    if synthetic or rec.edge is None or not req.twin.running(rec.edge):
        return False
    edge_st, user = req.twin.states.get(rec.edge), _sip_user(req, rec.name)
    if not isinstance(edge_st, EdgeState) or user is None or user not in edge_st.registrations:
        return False
    return edge_st.registrations[user][2] > time.time()


def _status(req: ApiRequest, rec: PhoneRecord, synthetic: bool, pid: str) -> Json:
    edge_st = req.twin.states.get(rec.edge) if rec.edge else None
    registered = bound(req, rec, synthetic)
    edge_up = isinstance(edge_st, EdgeState) and rec.edge is not None and online(req, rec.edge, edge_st)
    if rec.edge is None:
        edges = "NO_EDGES"
    else:
        edges = "IN_SERVICE" if registered and edge_up else "OUT_OF_SERVICE"
    edge_dev = req.twin.lab.devices.get(rec.edge) if rec.edge else None
    line: Json = {"id": entity_id(req.twin.lab.lab.name, "line", rec.name), "reachable": registered}
    if edge_dev is not None:
        line["addressOfRecord"] = f"sip:{rec.extension}@{edge_dev.host}"
    out: Json = {"id": pid, "operationalStatus": "OPERATIONAL" if registered else "OFFLINE", "edgesStatus": edges,
                 "lineStatuses": [line], "selfUri": f"{PHONES}/{pid}/status"}
    if rec.edge is not None:
        out["phoneAssignmentToEdgeType"] = "PRIMARY"
        out["edge"] = ref(EDGES, req.state.edge_ids.get(rec.edge, ""), rec.edge)
    return out


def phone_json(req: ApiRequest, rec: PhoneRecord, synthetic: bool) -> Json:
    """A phone record as ``Phone``."""
    site = req.state.site
    assert site is not None
    pid = phone_id(req, rec.name)
    line_id = entity_id(req.twin.lab.lab.name, "line", rec.name)
    out: Json = {"id": pid, "name": rec.name, "state": "active", "version": 1,
                 "site": ref(SITES, site.id, site.name),
                 "phoneBaseSettings": ref(PHONE_BASES, base_id(req, rec.model), rec.model),
                 "lines": [{"id": line_id, "name": f"{rec.name}_1", "state": "active",
                            "properties": {"station_lineLabel": {"value": {"instance": rec.extension}},
                                           "station_lineKeyPosition": {"value": {"instance": 1}}},
                            "selfUri": f"{EDGES}/lines/{line_id}"}],
                 "status": _status(req, rec, synthetic, pid),
                 "properties": {"phone_hardwareId": {"value": {"instance": rec.hardware_id}}},
                 "capabilities": {"provisions": False, "registers": True, "dualRegisters": False,
                                  "hardwareIdType": "mac", "allowReboot": True},
                 "selfUri": f"{PHONES}/{pid}"}
    if rec.edge is not None and rec.edge in req.state.edge_ids:
        out["primaryEdge"] = ref(EDGES, req.state.edge_ids[rec.edge], rec.edge)
    return out


@route("GET", PHONES)
async def phones(req: ApiRequest) -> Json:
    found = records(req)
    site = req.state.site
    assert site is not None
    if (site_id := req.query.get("site.id")) is not None and site_id != site.id:
        found = []
    if (hw := req.query.get("phone_hardwareId")) is not None:
        found = [e for e in found if e[0].hardware_id == hardware_id(hw)]
    if (name := req.query.get("name")) is not None:
        names = {n.strip().lower() for n in name.split(",")}
        found = [e for e in found if e[0].name.lower() in names]
    if (status := req.query.get("status.operationalStatus")) is not None:
        found = [e for e in found if _status(req, e[0], e[1], "")["operationalStatus"] == status.upper()]
    return listing(req, found, lambda e: phone_json(req, *e))


@route("GET", f"{PHONES}/{{phoneId}}")
async def phone(req: ApiRequest) -> Json:
    pid = req.match["phoneId"]
    for rec, synthetic in records(req):
        if phone_id(req, rec.name) == pid:
            return phone_json(req, rec, synthetic)
    raise ApiError.not_found("phone", pid)


def _line_json(req: ApiRequest, rec: PhoneRecord) -> Json:
    site = req.state.site
    assert site is not None
    line_id = entity_id(req.twin.lab.lab.name, "line", rec.name)
    out: Json = {"id": line_id, "name": f"{rec.name}_1", "state": "active", "version": 1,
                 "site": ref(SITES, site.id, site.name), "selfUri": f"{LINES}/{line_id}"}
    if rec.edge is not None and rec.edge in req.state.edge_ids:
        out["primaryEdge"] = ref(EDGES, req.state.edge_ids[rec.edge], rec.edge)
    return out


@route("GET", LINES)
async def lines(req: ApiRequest) -> Json:
    """Every phone record's line (one each), as ``LineEntityListing``."""
    return listing(req, [rec for rec, _ in records(req)], lambda rec: _line_json(req, rec))


def _models(req: ApiRequest) -> list[str]:
    return sorted({r.model for r in req.state.telephony.phones.values()})


def _dscp(req: ApiRequest, model: str) -> tuple[int, int]:
    """(media, SIP) DSCP of the model's base settings: what its first twin phone was provisioned with,
    Genesys' defaults for a model without one."""
    for rec in req.state.telephony.phones.values():
        if rec.model == model and isinstance(st := req.twin.states.get(rec.name), PhoneState):
            return st.media_dscp, st.sip_dscp
    return DSCP_MEDIA, DSCP_SIP


def _base_json(req: ApiRequest, model: str) -> Json:
    bid = base_id(req, model)
    media, sip = _dscp(req, model)
    return {"id": bid, "name": model, "state": "active", "version": 1,
            "phoneMetaBase": {"id": model.lower().replace(" ", "_"), "name": model},
            "properties": {"phone_media_dscp": {"value": {"instance": media}},
                           "phone_sip_dscp": {"value": {"instance": sip}}},
            "selfUri": f"{PHONE_BASES}/{bid}"}


@route("GET", PHONE_BASES)
async def phone_bases(req: ApiRequest) -> Json:
    found = _models(req)
    if (name := req.query.get("name")) is not None:
        found = [m for m in found if m.lower() == name.lower()]
    return listing(req, found, lambda m: _base_json(req, m))


@route("GET", f"{PHONE_BASES}/{{phoneBaseSettingsId}}")
async def phone_base(req: ApiRequest) -> Json:
    bid = req.match["phoneBaseSettingsId"]
    for m in _models(req):
        if base_id(req, m) == bid:
            return _base_json(req, m)
    raise ApiError.not_found("phone base settings", bid)
