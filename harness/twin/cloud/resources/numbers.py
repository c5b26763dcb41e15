"""Numbers: DID pools (``GET …/edges/didpools[/{didPoolId}]``, ``DIDPool``), DIDs (``GET …/edges/dids``,
filters ``phoneNumber``, ``didPool.id``, ``owner.id``; ``DID``), extensions (``GET …/edges/extensions``,
filter ``number``; ``Extension``), the site's E911 location (``GET /api/v2/locations[/{locationId}]``,
``LocationDefinition``) and the org's limits (``GET /api/v2/organizations/limits/namespaces/{namespaceName}``,
``LimitsEntityListing``).

From the org's :class:`~harness.twin.cloud.telephony.TelephonyConfig`: the DIDs of the Edges' dial plans
(``did-not-pooled`` takes one away, ``did-extra`` adds one), each pool a run of consecutive DIDs, each DID
owned by the phone whose extension it rings (``ownerType: PHONE``); one extension per phone record; the
location's ``emergencyNumber`` (``no-emergency-number`` removes it); the published limits
(``telephony-limit`` changes one). A pool has no ``provider``: a BYOC Premises number is the customer's
carrier's, not Genesys Cloud Voice's.
"""

from __future__ import annotations

from ..faults import DID_EXTRA, DID_NOT_POOLED, NO_EMERGENCY_NUMBER, TELEPHONY_LIMIT
from ..router import ApiError, ApiRequest, Json, listing, ref, route
from ..state import entity_id
from ..telephony import LIMITS_NAMESPACE, PhoneRecord, did_runs
from .edges import EDGES
from .phones import PHONES, phone_id, records
from .sites import LOCATIONS

DID_POOLS = f"{EDGES}/didpools"
DIDS = f"{EDGES}/dids"
EXTENSIONS = f"{EDGES}/extensions"
LIMITS = "/api/v2/organizations/limits/namespaces/{namespaceName}"
ADDRESS = {"street1": "1 Lab Way", "city": "Indianapolis", "state": "IN", "zipcode": "46204",
           "country": "US", "countryName": "United States"}  # project choice: the emulated site's address


def org_dids(req: ApiRequest) -> dict[str, str | None]:
    """The org's DIDs (E.164 -> owning phone's inventory name, or None), faults applied."""
    dids = dict(req.state.telephony.dids)
    if (gone := DID_NOT_POOLED.value(req.state)) is not None:
        dids.pop(gone, None)
    if (extra := DID_EXTRA.value(req.state)) is not None:
        dids.setdefault(extra, None)
    return dids


def _lab(req: ApiRequest) -> str:
    return req.twin.lab.lab.name


def _pool_json(req: ApiRequest, run: tuple[str, str]) -> Json:
    pid = entity_id(_lab(req), "didpool", run[0])
    return {"id": pid, "name": f"{run[0]}-{run[1]}", "state": "active", "version": 1,
            "startPhoneNumber": run[0], "endPhoneNumber": run[1], "selfUri": f"{DID_POOLS}/{pid}"}


def _runs(req: ApiRequest) -> list[tuple[str, str]]:
    return did_runs(list(org_dids(req)))


@route("GET", DID_POOLS)
async def did_pools(req: ApiRequest) -> Json:
    return listing(req, _runs(req), lambda r: _pool_json(req, r))


@route("GET", f"{DID_POOLS}/{{didPoolId}}")
async def did_pool(req: ApiRequest) -> Json:
    for r in _runs(req):
        if entity_id(_lab(req), "didpool", r[0]) == req.match["didPoolId"]:
            return _pool_json(req, r)
    raise ApiError.not_found("did pool", req.match["didPoolId"])


def _pool_of(runs: list[tuple[str, str]], number: str) -> tuple[str, str] | None:
    return next((r for r in runs if len(r[0]) == len(number) and r[0] <= number <= r[1]), None)


@route("GET", DIDS)
async def dids(req: ApiRequest) -> Json:
    runs = _runs(req)
    found = sorted(org_dids(req).items())
    if (number := req.query.get("phoneNumber")) is not None:
        found = [d for d in found if d[0] == number]
    if (pool := req.query.get("didPool.id")) is not None:
        found = [d for d in found if (r := _pool_of(runs, d[0])) and entity_id(_lab(req), "didpool", r[0]) == pool]
    if (owner := req.query.get("owner.id")) is not None:
        found = [d for d in found if d[1] is not None and phone_id(req, d[1]) == owner]

    def render(d: tuple[str, str | None]) -> Json:
        did_id = entity_id(_lab(req), "did", d[0])
        out: Json = {"id": did_id, "name": d[0], "state": "active", "version": 1, "phoneNumber": d[0],
                     "selfUri": f"{DIDS}/{did_id}"}
        if (r := _pool_of(runs, d[0])) is not None:
            out["didPool"] = ref(DID_POOLS, entity_id(_lab(req), "didpool", r[0]), f"{r[0]}-{r[1]}")
        if d[1] is not None:
            out["owner"], out["ownerType"] = ref(PHONES, phone_id(req, d[1]), d[1]), "PHONE"
        return out

    return listing(req, found, render)


@route("GET", EXTENSIONS, permission="telephony:extensionPool:view")  # Genesys publishes this one for it
async def extensions(req: ApiRequest) -> Json:
    found = [rec for rec, synthetic in records(req) if not synthetic]
    if (number := req.query.get("number")) is not None:
        found = [r for r in found if r.extension == number]

    def render(rec: PhoneRecord) -> Json:
        eid = entity_id(_lab(req), "extension", rec.extension)
        return {"id": eid, "name": rec.extension, "state": "active", "version": 1, "number": rec.extension,
                "owner": ref(PHONES, phone_id(req, rec.name), rec.name), "ownerType": "PHONE",
                "selfUri": f"{EXTENSIONS}/{eid}"}

    return listing(req, found, render)


def _location_json(req: ApiRequest) -> Json:
    site = req.state.site
    assert site is not None
    out: Json = {"id": site.location_id, "name": site.name, "state": "active", "version": 1,
                 "address": dict(ADDRESS), "addressVerified": True, "addressStored": True,
                 "selfUri": f"{LOCATIONS}/{site.location_id}"}
    if not NO_EMERGENCY_NUMBER.on(req.state):
        number = req.state.telephony.emergency_number
        out["emergencyNumber"] = {"number": number, "type": "default"}
    return out


@route("GET", LOCATIONS, permission=None)
async def locations(req: ApiRequest) -> Json:
    return listing(req, [0], lambda _: _location_json(req))


@route("GET", f"{LOCATIONS}/{{locationId}}", permission=None)
async def location(req: ApiRequest) -> Json:
    site = req.state.site
    assert site is not None
    if req.match["locationId"] != site.location_id:
        raise ApiError.not_found("location", req.match["locationId"])
    return _location_json(req)


@route("GET", LIMITS, permission=None)
async def limits(req: ApiRequest) -> Json:
    ns = req.match["namespaceName"]
    if ns != LIMITS_NAMESPACE:
        return {"entities": []}
    values = dict(req.state.telephony.limits)
    if (bent := TELEPHONY_LIMIT.value(req.state)) is not None:
        values[bent[0]] = bent[1]
    return {"entities": [{"key": k, "namespace": ns, "value": v} for k, v in sorted(values.items())]}
