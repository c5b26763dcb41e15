"""The org's prefix blocking (Genesys Cloud's Prefix Blocking feature, G-PREFIX):
``GET /api/v2/telephony/prefixes?type=Allow|Block`` (the SDK's ``PrefixListing`` of
``PrefixListingItem``: ``countryCode``, ``number``, ``type``; cursor paging with ``after`` and
``pageSize`` up to 200, as the SDK documents) and ``GET /api/v2/telephony/prefixes/simulate/call?number=``
(the SDK's ``CallSimulationResult``: ``allowed``, ``level``, ``matchedPrefix``).

The Block List is the org's, the one it pushes to its Edges too (:mod:`harness.twin.cloud.outbound`):
:class:`~harness.twin.cloud.telephony.TelephonyConfig`'s ``blocked_prefixes``, built from the prefix
classes the inventory bars for every station; each E.164 prefix is written as its country code
(``1``) and the digits after it (``900``); a prefix shorter than any country code (``+2``: all of
world zone 2) is written whole as ``countryCode`` with an empty ``number`` (project choice: no public
source shows how the API writes one). The Allow List is empty.

The simulation reads ``number`` as a station of the site's country dials it (phonenumbers), then looks
for the longest Block prefix it starts with: ``allowed: false``, ``level: BlockPrefix`` and
``matchedPrefix`` the prefix in E.164 (``+1900``); a number no prefix matches is ``allowed: true`` with
neither ``level`` nor ``matchedPrefix`` (no public source says which level such a call is given).
``prefix-block-missing=PREFIX`` takes PREFIX off the Block List; ``emergency-blocked`` puts the site's
emergency number on it (``+1`` ``911``). The permission these endpoints need is not published where
the project looked (``harness/transports/cloud/permissions.py``): the twin asks for none, so the
``missing-permission`` fault does not refuse them.
"""

from __future__ import annotations

import phonenumbers

from ....devices.facts.dialplan import normalize
from ..faults import outbound_faults
from ..outbound import block_list as org_block_list
from ..router import ApiError, ApiRequest, Json, route

PREFIXES = "/api/v2/telephony/prefixes"
MAX_PAGE_SIZE = 200  # the SDK's get_telephony_prefixes: "Number of entities to return. Maximum of 200."
DEFAULT_PAGE_SIZE = 25  # project choice (the SDK documents no default)
TYPES = ("Allow", "Block")  # PrefixListingItem.type's allowed values


def split(prefix: str) -> tuple[str, str]:
    """An E.164 prefix as ``(countryCode, number)``: ``+1900`` gives ``("1", "900")``, ``+44`` gives
    ``("44", "")``; a prefix that starts with no country code is ``(digits, "")``."""
    digits = prefix.lstrip("+")
    for n in (1, 2, 3):
        if len(digits) >= n and int(digits[:n]) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return digits[:n], digits[n:]
    return digits, ""


def block_list(req: ApiRequest) -> list[str]:
    """The org's Block List as E.164 prefixes (faults applied; :func:`harness.twin.cloud.outbound.block_list`,
    what the org pushes to its Edges too)."""
    return org_block_list(req.state.telephony, outbound_faults(req.state))


@route("GET", PREFIXES, permission=None)
async def prefixes(req: ApiRequest) -> Json:
    kind = req.query.get("type")
    if kind is None or kind.lower() not in (t.lower() for t in TYPES):
        raise ApiError(400, "bad.request", f"type must be one of {', '.join(TYPES)}, got {kind!r}")
    kind = next(t for t in TYPES if t.lower() == kind.lower())
    size = req.int_param("pageSize", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    start = req.int_param("after", 0, 0, 10**9)  # the cursor: the index of the next item (opaque to clients)
    wanted = (req.query.get("prefix") or "").lstrip("+")
    items = [split(p) for p in (block_list(req) if kind == "Block" else [])]
    items = [i for i in items if (i[0] + i[1]).startswith(wanted)]
    page = items[start:start + size]
    body: Json = {"entities": [{"countryCode": cc, "number": number, "type": kind} for cc, number in page],
                  "selfUri": f"{PREFIXES}?type={kind}&pageSize={size}&after={start}"}
    if start + size < len(items):
        body["nextUri"] = f"{PREFIXES}?type={kind}&pageSize={size}&after={start + size}"
    if start > 0:
        body["previousUri"] = f"{PREFIXES}?type={kind}&pageSize={size}&before={start}"
    return body


@route("GET", f"{PREFIXES}/simulate/call", permission=None)
async def simulate_call(req: ApiRequest) -> Json:
    number = req.query.get("number") or ""
    e164 = normalize(number, req.state.telephony.country)
    if e164 is None:
        raise ApiError(400, "bad.request", f"number {number!r} is not a phone number")
    hits = [p for p in block_list(req) if e164.startswith(p)]
    if not hits:
        return {"allowed": True}
    return {"allowed": False, "level": "BlockPrefix", "matchedPrefix": max(hits, key=len)}
