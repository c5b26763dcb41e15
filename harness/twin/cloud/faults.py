"""The emulated org's faults (``hil lab fault cloud NAME[=VALUE]``), read by the API server
(:mod:`.server`) on every request:

* ``rate-limit=SECONDS``: each API request is refused ``429`` with ``Retry-After: SECONDS`` unless
  it comes at least SECONDS after the same token's last refusal: every call costs one 429 and one
  wait (the token endpoint is not limited).
* ``token-expired``: every token issued so far has expired: the next call with one is answered
  401 (a token requested afterwards is good).
* ``api-silent``: the API (token endpoint included) accepts connections and requests and never
  answers.
* ``api-down``: the API refuses connections (its listener is closed).
* ``missing-permission=PERM``: the OAuth client lacks permission ``PERM``
  (``telephony:plugin:all``): every endpoint that needs it answers 403 ``missing.permissions``.

The org's configuration, each breaking one duty (read by :mod:`.resources` when they render):

* ``phone-record-mac=PHONE:MAC``: the phone record of inventory phone PHONE holds hardware ID MAC,
  not the MAC of the phone on its port (CFG-STATION, DATA-ACCURACY).
* ``did-not-pooled=E164``: the org has no DID E164 and no DID pool holds it, while the carrier
  delivers it (DATA-ACCURACY).
* ``did-extra=E164``: the org holds DID E164 in a pool, and the carrier does not deliver it (DATA-ACCURACY).
* ``ntp-empty``: the site's NTP server list is empty (NET-NTP).
* ``no-emergency-number``: the site's location has no emergency number (DATA-ACCURACY).
* ``telephony-limit=KEY:N``: the org's telephony limit KEY (``trunks``, ``phone.lines`` …) is N
  (CFG-TELEPHONY: the lab's use near or past it).
* ``site-caller-id=TEXT``: the site's caller ID is TEXT (a number not in E.164: CFG-TELEPHONY).
* ``numberplan-missing=CLASSIFICATION``: the site has no number plan of CLASSIFICATION (``National`` …):
  its dial strings are classified by another plan or none (CFG-DIALPLAN).
* ``outbound-route-drops=CLASSIFICATION``: no outbound route carries CLASSIFICATION (``Emergency`` …)
  to a trunk (CFG-DIALPLAN).
* ``trunk-acl-allow-all``: the external trunks' SIP access list allows all (``0.0.0.0/0``: SEC-EXPOSURE).
* ``edge-record-version=EDGE:VERSION``: the org's record of Edge EDGE gives ``softwareVersion``
  VERSION while the Edge runs, and its SIP ``Server`` header shows, its own version (a record left
  behind by an update the Edge did not take: DATA-ACCURACY).
* ``trunk-server=EDGE:HOST:PORT``: the org's external trunk of Edge EDGE (its trunk base settings'
  ``trunk_transport_serverProxyList``, the trunk's ``optionsStatus`` and ``proxyAddressList``) lists the
  server HOST:PORT instead of the Edge's carrier routes: a trunk still pointed at a production carrier
  (DATA-ACCURACY: the org's trunk servers are not the inventory's routes; every scenario that would
  dial an emergency, international or blocked number holds the call back, harness/checks/trunk.py).
  The twin's Edge keeps its SIP on its routes: the twin has no carrier outside the lab to send to.
* ``prefix-block-missing=PREFIX``: the org's prefix Block List lacks PREFIX (E.164, ``+1900``), which the
  inventory bars for every station (SEC-TOLL-FRAUD).
* ``emergency-blocked``: the org's Block List holds the site's emergency number (911, else 112): the call
  simulation refuses it (CFG-DIALPLAN).

The four that change the org's outbound configuration (``numberplan-missing``, ``outbound-route-drops``,
``prefix-block-missing``, ``emergency-blocked``) also reach the Edges: set or healed, the org pushes its
configuration again (:func:`~harness.twin.cloud.outbound.push`), as Genesys Cloud does to its Edges, and
an Edge routes by it (harness/twin/edge/routing.py) unless ``config-stale`` holds it on its cache.

* ``base-media-dscp=N``: the org's trunk and phone base settings give RTP DSCP N, and every Edge and
  phone applies it (an org's own choice, not Genesys' default 46: QOS-MEDIA reports it and judges
  the devices against N).
"""

from __future__ import annotations

import re
from dataclasses import replace

from ..core.faults import declare, declare_value, set_fields, text, undo_all, whole_number
from ..core.twin import Twin, Undo
from ..edge.state import EdgeState
from ..phone.state import PhoneState
from .outbound import OutboundFaults, push
from .state import CloudState

ROLE = ("cloud",)
MAX_RETRY_AFTER_S = 3600  # project choice: an hour; Genesys' own waits are seconds to a minute
_PERMISSION = re.compile(r"^[a-zA-Z]+:[a-zA-Z*]+:[a-zA-Z*]+$")
_MAC = re.compile(r"^[0-9a-fA-F]{2}([:-]?[0-9a-fA-F]{2}){5}$")
_E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
_LIMIT_KEY = re.compile(r"^[a-z][a-z.]*$")
_E164_PREFIX = re.compile(r"^\+[1-9][0-9]{0,14}$")


def _permission(name: str, value: str) -> str:
    if not _PERMISSION.match(value):
        raise ValueError(f"fault {name} needs a Genesys permission domain:entity:action such as "
                         f"telephony:plugin:all, got {value!r}")
    return value


async def _expire_tokens(twin: Twin, device: str) -> Undo | None:
    st = twin.states[device]
    assert isinstance(st, CloudState)
    for token in st.tokens.values():
        token.expires_at = 0.0
    return None


async def _api_down(twin: Twin, device: str) -> Undo:
    api = [s for s in twin.services.get(device, []) if s.name == "api"]
    for s in api:
        await s.stop()

    async def undo() -> None:
        for s in api:
            await s.start()

    return undo


RATE_LIMIT = declare_value("rate-limit", ROLE, "each API request is answered 429 with Retry-After: SECONDS unless it "
                           "comes SECONDS after the token's last 429 (every call waits once)", "SECONDS",
                           whole_number(1, MAX_RETRY_AFTER_S))
TOKEN_EXPIRED = declare("token-expired", ROLE, "every access token issued so far expires now (401 on its next use; a "
                        "new token is good)", _expire_tokens)
API_SILENT = declare("api-silent", ROLE, "the API (token endpoint included) accepts requests and never answers")
API_DOWN = declare("api-down", ROLE, "the API refuses connections", _api_down)
MISSING_PERMISSION = declare_value("missing-permission", ROLE, "the OAuth client lacks PERM: endpoints that need it "
                                   "answer 403 missing.permissions", "PERM", _permission)


SHORT_WINDOW_H = 1  # the window the short-update-window fault leaves: under Genesys' 2 h minimum


async def _short_window(twin: Twin, device: str) -> Undo:
    st = twin.states[device]
    assert isinstance(st, CloudState) and st.site is not None
    site = st.site
    before = site.end
    if site.start is not None:
        h, m = (int(x) for x in site.start.split(":"))
        site.end = f"{(h + SHORT_WINDOW_H) % 24:02d}:{m:02d}"

    async def undo() -> None:
        site.end = before

    return undo


SHORT_UPDATE_WINDOW = declare("short-update-window", ROLE, f"the site's Edge update window ends {SHORT_WINDOW_H} h "
                              "after it starts (Genesys asks for at least 2 h)", _short_window)


def _hhmm_range(name: str, value: str) -> tuple[str, str]:
    m = re.fullmatch(r"([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)", value)
    if m is None or value[:5] == value[6:]:
        raise ValueError(f"fault {name} needs START-END as HH:MM-HH:MM (UTC, different times), got {value!r}")
    return value[:5], value[6:]


async def _set_window(twin: Twin, device: str, value: tuple[str, str]) -> Undo:
    st = twin.states[device]
    assert isinstance(st, CloudState) and st.site is not None
    site = st.site
    before = (site.rrule, site.start, site.end, site.time_zone)
    site.rrule, site.start, site.end, site.time_zone = site.rrule or "FREQ=DAILY", value[0], value[1], "UTC"

    async def undo() -> None:
        site.rrule, site.start, site.end, site.time_zone = before

    return undo


UPDATE_WINDOW = declare_value("update-window", ROLE, "the site's Edge update window is START-END daily in UTC in the "
                              "org, whatever the inventory says (an org that disagrees with its inventory; tests open "
                              "or close the window with it)", "HH:MM-HH:MM", _hhmm_range, _set_window)


def _phone_mac(name: str, value: str) -> tuple[str, str]:
    phone, _, mac = value.partition(":")
    if not phone or not _MAC.match(mac):
        raise ValueError(f"fault {name} needs PHONE:MAC such as phone2:00:04:f2:99:99:99, got {value!r}")
    return phone, mac


def _edge_version(name: str, value: str) -> tuple[str, str]:
    edge, _, version = value.partition(":")
    if not edge or not version or any(c.isspace() for c in version):
        raise ValueError(f"fault {name} needs EDGE:VERSION such as edge1:2026.12.0, got {value!r}")
    return edge, version
async def _base_media_dscp(twin: Twin, device: str, value: int) -> Undo:
    """The org configures RTP DSCP ``value``: the Edges and phones were provisioned with it."""
    return undo_all([set_fields(st, media_dscp=value) for st in twin.states.values()
                     if isinstance(st, EdgeState | PhoneState)])


def _edge_server(name: str, value: str) -> tuple[str, str]:
    edge, _, server = value.partition(":")
    host, _, port = server.rpartition(":")
    if not edge or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"fault {name} needs EDGE:HOST:PORT such as edge1:sbc.carrier.example:5060, got {value!r}")
    return edge, server


def _e164(name: str, value: str) -> str:
    if not _E164.match(value):
        raise ValueError(f"fault {name} needs an E.164 number such as +13175550101, got {value!r}")
    return value


def _e164_prefix(name: str, value: str) -> str:
    if not _E164_PREFIX.match(value):
        raise ValueError(f"fault {name} needs an E.164 prefix such as +1900, got {value!r}")
    return value


def _limit(name: str, value: str) -> tuple[str, int]:
    key, _, n = value.partition(":")
    if not _LIMIT_KEY.match(key) or not n.isdigit():
        raise ValueError(f"fault {name} needs KEY:N such as trunks:1, got {value!r}")
    return key, int(n)


async def _repush_numberplan(twin: Twin, device: str, value: str) -> Undo:
    return await _repush(twin, device, NUMBERPLAN_MISSING.name, value)


async def _repush_route(twin: Twin, device: str, value: str) -> Undo:
    return await _repush(twin, device, OUTBOUND_ROUTE_DROPS.name, value)


async def _repush_prefix(twin: Twin, device: str, value: str) -> Undo:
    return await _repush(twin, device, PREFIX_BLOCK_MISSING.name, value)


async def _repush_emergency(twin: Twin, device: str) -> Undo:
    return await _repush(twin, device, EMERGENCY_BLOCKED.name, None)


PHONE_RECORD_MAC = declare_value("phone-record-mac", ROLE, "the phone record of inventory phone PHONE holds hardware "
                                 "ID MAC, not the phone on its port", "PHONE:MAC", _phone_mac)
DID_NOT_POOLED = declare_value("did-not-pooled", ROLE, "the org has no DID E164 and no DID pool holds it (the "
                               "carrier still delivers it)", "E164", _e164)
DID_EXTRA = declare_value("did-extra", ROLE, "the org holds DID E164 in a pool (the carrier does not deliver it)",
                          "E164", _e164)
NTP_EMPTY = declare("ntp-empty", ROLE, "the site's NTP server list is empty")
NO_EMERGENCY_NUMBER = declare("no-emergency-number", ROLE, "the site's E911 location has no emergency number")
TELEPHONY_LIMIT = declare_value("telephony-limit", ROLE, "the org's telephony limit KEY is N", "KEY:N", _limit)
SITE_CALLER_ID = declare_value("site-caller-id", ROLE, "the site's caller ID is TEXT", "TEXT", text)
TRUNK_ACL_ALLOW_ALL = declare("trunk-acl-allow-all", ROLE, "the external trunks' SIP access list allows all "
                              "(0.0.0.0/0)")
NUMBERPLAN_MISSING = declare_value("numberplan-missing", ROLE, "the site has no number plan of CLASSIFICATION "
                                   "(the Edges get the change)", "CLASSIFICATION", text, _repush_numberplan)
BASE_MEDIA_DSCP = declare_value("base-media-dscp", ROLE, "the org's trunk and phone base settings give RTP DSCP N "
                                "(not Genesys' default 46) and every Edge and phone applies it", "N",
                                whole_number(0, 63), _base_media_dscp)
TRUNK_MISSING = declare_value("trunk-missing", ROLE, "the org has no external trunk on Edge EDGE (its trunk "
                              "listings lack it) while the Edge's SIP trunk runs on the wire", "EDGE", text)
TRUNK_SERVER = declare_value("trunk-server", ROLE, "the org's external trunk of Edge EDGE lists server HOST:PORT "
                             "(a carrier outside the lab), not the Edge's carrier routes", "EDGE:HOST:PORT",
                             _edge_server)
OUTBOUND_ROUTE_DROPS = declare_value("outbound-route-drops", ROLE, "no outbound route of the site carries "
                                     "CLASSIFICATION (the Edges get the change: they refuse it)", "CLASSIFICATION",
                                     text, _repush_route)
EDGE_RECORD_VERSION = declare_value("edge-record-version", ROLE, "the org's record of Edge EDGE gives "
                                    "softwareVersion VERSION (the Edge runs, and its SIP shows, its own)",
                                    "EDGE:VERSION", _edge_version)
PREFIX_BLOCK_MISSING = declare_value("prefix-block-missing", ROLE, "the org's prefix Block List lacks PREFIX (the "
                                     "inventory bars it for every station; the Edges get the change: they let it "
                                     "through)", "PREFIX", _e164_prefix, _repush_prefix)
EMERGENCY_BLOCKED = declare("emergency-blocked", ROLE, "the org's prefix Block List holds the site's emergency "
                            "number (911, else 112): the call simulation refuses it, and so do the Edges",
                            _repush_emergency)


def outbound_faults(st: CloudState) -> OutboundFaults:
    """The values of the org's faults that change its outbound configuration, on org ``st``."""
    return OutboundFaults(NUMBERPLAN_MISSING.value(st), OUTBOUND_ROUTE_DROPS.value(st),
                          PREFIX_BLOCK_MISSING.value(st), EMERGENCY_BLOCKED.on(st))


async def _repush(twin: Twin, device: str, name: str, value: str | None) -> Undo:
    """Fault ``name`` (``value``) is being set on the org: the org pushes its outbound configuration with
    it to the Edges (the core records the fault after this returns, so it is rendered on a copy of the
    org's faults); the undo pushes the configuration without it (heal runs it before clearing the faults)."""
    st = twin.states[device]
    assert isinstance(st, CloudState)
    push(twin, st, outbound_faults(replace(st, faults={**st.faults, name: value})))

    async def undo() -> None:
        push(twin, st, outbound_faults(replace(st, faults={k: v for k, v in st.faults.items() if k != name})))

    return undo
