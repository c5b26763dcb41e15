"""The Genesys Cloud permissions each API call of the harness needs: one entry per endpoint the
harness calls (method and path template), as Genesys publishes them.

Source: the Platform API reference of the Genesys Cloud Developer Center, which gives each endpoint's
permissions as "Requires ANY permissions" or "Requires ALL permissions" (the API Explorer, and the SDK
reference generated from the same API definition: ``https://developer.genesys.cloud/devapps/sdk/docexplorer/
purecloudpython/<Api>``, e.g. ``TelephonyProvidersEdgeApi``, ``LocationsApi``, ``OrganizationApi``,
``DownloadsApi``, ``TelephonyApi``; read for this table in the Python SDK's reference,
``build/docs/<Api>.md`` of the SDK's repository at release 257.1.0). :attr:`Endpoint.api` names the
reference page of each entry. Where the reference names no permission for an endpoint, the entry has none
and says "not published": the project never guesses one (the token endpoint, ``POST /oauth/token``, needs
none: it is the client credentials grant itself).

The table serves three uses: a 403 whose body names no permission is explained with the entry's
(:func:`permissions_for`, :class:`~.client.CloudApi`); ``hil cloud permissions`` lists what the
selected duties need (which duty makes which call is read from the code: ``harness/duties/map.py``);
docs/cloud-api.md shows it (:func:`table_markdown`, kept current by a test).
"""

from __future__ import annotations

from dataclasses import dataclass

_EDGES = "/api/v2/telephony/providers/edges"
_EDGE = f"{_EDGES}/{{edgeId}}"
PLUGIN = "telephony:plugin:all"
DOCS = "https://developer.genesys.cloud/devapps/sdk/docexplorer/purecloudpython/"


@dataclass(frozen=True)
class Endpoint:
    """One API call: ``method`` and path ``template`` (the harness's, ``{edgeId}`` …), the
    ``permissions`` Genesys publishes for it (empty: not published), whether ``any_of`` them is enough
    (Genesys' "Requires ANY permissions") or all are needed, and ``api``, the reference page
    (``TelephonyProvidersEdgeApi``) whose operation ``operation`` documents it."""

    method: str
    template: str
    permissions: tuple[str, ...]
    api: str
    operation: str
    any_of: bool = True

    @property
    def call(self) -> str:
        """``GET /api/v2/telephony/providers/edges/{edgeId}``."""
        return f"{self.method} {self.template}"

    @property
    def published(self) -> bool:
        return bool(self.permissions)

    def needs(self) -> str:
        """``telephony:plugin:all``, ``telephony:plugin:all or telephony:sites:view``, or ``not published``."""
        if not self.permissions:
            return "not published"
        return (" or " if self.any_of else " and ").join(self.permissions)

    @property
    def source(self) -> str:
        """The reference page that documents the endpoint (on a Genesys host)."""
        return f"{DOCS}{self.api}"


def _e(method: str, template: str, permissions: tuple[str, ...], api: str, operation: str) -> Endpoint:
    return Endpoint(method, template, permissions, api, operation)


_TPE = "TelephonyProvidersEdgeApi"
#: every call the harness makes, by ``"METHOD template"``; the diagnostics template stands for the
#: four kinds the harness runs (nslookup, ping, route, tracepath), each published with telephony:plugin:all
ENDPOINTS: dict[str, Endpoint] = {e.call: e for e in (
    _e("GET", f"{_EDGES}/sites", (), _TPE, "get_telephony_providers_edges_sites"),
    _e("GET", f"{_EDGES}/sites/{{siteId}}/numberplans", (PLUGIN,), _TPE,
       "get_telephony_providers_edges_site_numberplans"),
    _e("GET", f"{_EDGES}/sites/{{siteId}}/outboundroutes", (PLUGIN,), _TPE,
       "get_telephony_providers_edges_site_outboundroutes"),
    _e("GET", _EDGES, (PLUGIN,), _TPE, "get_telephony_providers_edges"),
    _e("GET", _EDGE, (PLUGIN,), _TPE, "get_telephony_providers_edge"),
    _e("GET", f"{_EDGE}/softwareversions", (), _TPE, "get_telephony_providers_edge_softwareversions"),
    _e("GET", f"{_EDGE}/softwareupdate", (), _TPE, "get_telephony_providers_edge_softwareupdate"),
    _e("POST", f"{_EDGE}/softwareupdate", (), _TPE, "post_telephony_providers_edge_softwareupdate"),
    _e("DELETE", f"{_EDGE}/softwareupdate", (), _TPE, "delete_telephony_providers_edge_softwareupdate"),
    _e("GET", f"{_EDGE}/metrics", (PLUGIN,), _TPE, "get_telephony_providers_edge_metrics"),
    _e("GET", f"{_EDGE}/logicalinterfaces", (PLUGIN,), _TPE, "get_telephony_providers_edge_logicalinterfaces"),
    _e("POST", f"{_EDGE}/logs/jobs", (PLUGIN,), _TPE, "post_telephony_providers_edge_logs_jobs"),
    _e("GET", f"{_EDGE}/logs/jobs/{{jobId}}", (PLUGIN,), _TPE, "get_telephony_providers_edge_logs_job"),
    _e("POST", f"{_EDGE}/logs/jobs/{{jobId}}/upload", (PLUGIN,), _TPE, "post_telephony_providers_edge_logs_job_upload"),
    _e("GET", "/api/v2/downloads/{downloadId}", (), "DownloadsApi", "get_download"),
    _e("POST", f"{_EDGE}/diagnostic/{{kind}}", (PLUGIN,), _TPE, "post_telephony_providers_edge_diagnostic_nslookup"),
    _e("GET", f"{_EDGE}/diagnostic/{{kind}}", (PLUGIN,), _TPE, "get_telephony_providers_edge_diagnostic_nslookup"),
    _e("GET", f"{_EDGE}/trunks", (PLUGIN,), _TPE, "get_telephony_providers_edge_trunks"),
    _e("GET", f"{_EDGES}/trunks", (PLUGIN,), _TPE, "get_telephony_providers_edges_trunks"),
    _e("GET", f"{_EDGES}/trunks/{{trunkId}}/metrics", (PLUGIN,), _TPE, "get_telephony_providers_edges_trunk_metrics"),
    _e("GET", f"{_EDGES}/phones", (PLUGIN,), _TPE, "get_telephony_providers_edges_phones"),
    _e("GET", f"{_EDGES}/phonebasesettings", (PLUGIN,), _TPE, "get_telephony_providers_edges_phonebasesettings"),
    _e("GET", f"{_EDGES}/lines", (PLUGIN,), _TPE, "get_telephony_providers_edges_lines"),
    _e("GET", f"{_EDGES}/trunkbasesettings", (PLUGIN,), _TPE, "get_telephony_providers_edges_trunkbasesettings"),
    _e("GET", f"{_EDGES}/didpools", (PLUGIN,), _TPE, "get_telephony_providers_edges_didpools"),
    _e("GET", f"{_EDGES}/dids", (PLUGIN,), _TPE, "get_telephony_providers_edges_dids"),
    _e("GET", f"{_EDGES}/extensions", ("telephony:extensionPool:view",), _TPE,
       "get_telephony_providers_edges_extensions"),
    _e("GET", "/api/v2/locations", (), "LocationsApi", "get_locations"),
    _e("GET", "/api/v2/locations/{locationId}", (), "LocationsApi", "get_location"),
    _e("GET", "/api/v2/organizations/limits/namespaces/{namespaceName}", (), "OrganizationApi",
       "get_organizations_limits_namespace"),
    _e("GET", "/api/v2/telephony/prefixes", (), "TelephonyApi", "get_telephony_prefixes"),
    _e("GET", "/api/v2/telephony/prefixes/simulate/call", (), "TelephonyApi", "get_telephony_prefixes_simulate_call"),
)}


def permissions_for(method: str, template: str) -> Endpoint | None:
    """The table's entry of ``method template`` (``GET``, ``/api/v2/…/{edgeId}``), or None when the
    harness's table has none (a call the table lacks: its test keeps the two in step)."""
    return ENDPOINTS.get(f"{method.upper()} {template}")


def needed(calls: list[str] | tuple[str, ...] | set[str]) -> tuple[list[str], list[Endpoint], list[Endpoint]]:
    """What an OAuth client needs to make ``calls`` (``"GET /api/v2/…"``, each in :data:`ENDPOINTS`):
    ``(permissions, either, unpublished)``: the permissions some call needs with no alternative, sorted;
    the calls that accept one of several permissions none of which is already in that list; the calls
    whose permissions Genesys does not publish.

    Raises:
        KeyError: a call the table lacks.
    """
    entries = [ENDPOINTS[c] for c in calls]
    required = sorted({p for e in entries if e.published and (len(e.permissions) == 1 or not e.any_of)
                       for p in e.permissions})
    either = [e for e in entries if e.published and e.any_of and len(e.permissions) > 1
              and not set(e.permissions) & set(required)]
    unpublished = [e for e in entries if not e.published]
    return required, either, unpublished


def table_markdown(entries: list[Endpoint] | None = None) -> str:
    """The table (or ``entries`` of it) as Markdown, as docs/cloud-api.md shows it: call, permissions,
    reference page."""
    rows = ["| call | permissions Genesys publishes | reference |", "|---|---|---|"]
    for e in sorted(ENDPOINTS.values() if entries is None else entries, key=lambda e: (e.template, e.method)):
        rows.append(f"| `{e.call}` | {e.needs()} | `{e.operation}` in [{e.api}]({e.source}) |")
    return "\n".join(rows)
