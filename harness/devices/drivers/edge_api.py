"""An Edge as its customer reaches it: through the org's Platform API (``LabSession.cloud()``), a
mixin for the Edge driver (GENESYS-API.md: a customer has no command line on a Genesys Edge).

Its record (version, staged version, online and draining state, conversations), its software
update (the versions offered, start, abort, status), metrics, log jobs (create, poll, upload, the
download of the uploaded file), its own network diagnostics (``nslookup``, ``ping``, ``route``,
``tracepath`` run on the Edge) and its trunks with their metrics (:meth:`EdgeCloud.trunk_status`: the
external trunk's service and OPTIONS state and its calls in progress). The Edge is found in the org by
its inventory name. Every method raises LabError naming the API call (device ``cloud``, transport
``api``: :mod:`harness.transports.cloud`), and LabUnreachable (device: the Edge, transport ``api``)
when the inventory has no ``cloud:``: then nothing about the Edge can be read.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx

from ...errors import DeviceOffline, LabError, LabProtocolError, LabTimeout, LabUnreachable
from ...transports.cloud import CloudModel
from ..capabilities import GenesysCloudOrg
from ..driver import Driver
from ..facts.cloud_edge_interfaces import LOGICAL_INTERFACES, LogicalInterface
from ..facts.cloud_edge_ops import (
    DIAGNOSTIC,
    DIAGNOSTIC_KINDS,
    DOWNLOAD,
    EDGE_METRICS,
    EDGE_TRUNKS,
    LOG_JOB,
    LOG_JOB_UPLOAD,
    LOG_JOBS,
    SOFTWARE_UPDATE,
    SOFTWARE_VERSIONS,
    TRUNK_METRICS,
    DiagnosticResult,
    DiagnosticStarted,
    EdgeMetrics,
    LogJob,
    LogJobCreated,
    SoftwareUpdate,
    SoftwareVersion,
    Trunk,
    TrunkMetrics,
    UrlAnswer,
)
from ..facts.cloud_edges import Edge as CloudEdge
from ..facts.cloud_phones import PHONES, PhoneRecord

M = TypeVar("M", bound=CloudModel)
CHUNK_BYTES = 1 << 16
POLL_S = 0.2  # project choice: pause between two reads of a log job or a diagnostic


@dataclass(frozen=True)
class FetchedFile:
    """A file fetched from its download URL: where it was written, its size and SHA-256 (hex), and
    the seconds the download took."""

    path: Path
    size_bytes: int
    sha256: str
    seconds: float


@dataclass(frozen=True)
class RouteStatus:
    """One server of an external trunk as Genesys Cloud reports it (``Trunk.optionsStatus``): its
    ``address`` (``proxyAddress``, ``host:port``) and whether its last OPTIONS ping was answered
    (``optionState``; None: not reported)."""

    address: str
    answered: bool | None


@dataclass(frozen=True)
class TrunkStatus:
    """The Edge's external trunks now, read through the API (:meth:`EdgeCloud.trunk_status`).

    Attributes:
        trunks: the trunks' names. in_service: one of them is in service (``inService``).
        inbound_calls / outbound_calls: calls in progress (``TrunkMetricsCalls``: carrier → Edge /
            Edge → carrier). routes: each server's OPTIONS state.
    """

    trunks: tuple[str, ...]
    in_service: bool
    inbound_calls: int
    outbound_calls: int
    routes: tuple[RouteStatus, ...]

    @property
    def calls(self) -> int:
        """Calls in progress, both directions."""
        return self.inbound_calls + self.outbound_calls

    def route(self, address: str) -> RouteStatus | None:
        """The server at ``address`` (``host:port``), or None when the org does not list it."""
        return next((r for r in self.routes if r.address == address), None)


class EdgeCloud(Driver):
    """The Edge through the Platform API (see the module docstring)."""

    def org(self) -> GenesysCloudOrg:
        """The run's org. Raises LabUnreachable (transport ``api``) without ``cloud:`` in the inventory."""
        try:
            if self.cloud is None:
                raise LookupError("no LabSession gave this driver the run's org")
            return self.cloud()
        except LookupError as e:
            raise LabUnreachable(self.name, "api", self.device.host,
                                 f"a Genesys Edge is managed through Genesys Cloud and {e}") from None

    def record(self) -> CloudEdge:
        """The Edge's record, read fresh (``GET …/edges/{edgeId}``): ``software_version``,
        ``staged_version``, ``online_status``, ``call_draining_state``, ``conversation_count`` …"""
        return self.org().edge(self.name)

    def online_record(self, consequence: str) -> CloudEdge:
        """The Edge's record (:meth:`record`) while Genesys Cloud sees it ONLINE.

        Raises:
            DeviceOffline (a LabUnreachable, transport ``api``): the org sees it OFFLINE; the message ends with
                ``consequence``, what that keeps the caller from reading (``"it reports no metrics"``).
        """
        rec = self.record()
        if not rec.online:
            raise DeviceOffline(self.name, "api", self.org().api().address,
                                f"{rec.name} is {rec.online_status} in Genesys Cloud (the Platform API answered; the "
                                f"Edge is out of contact with the cloud): {consequence}")
        return rec

    def probe_api(self) -> str:
        """The Edge's identity as Genesys Cloud knows it, one line
        (``edge1 Genesys Edge (virtual) serial VE-000001 software 2026.11.1: ONLINE, ACTIVE, 0 conversations``).

        Raises:
            DeviceOffline (a LabUnreachable, transport ``api``): the org sees the Edge OFFLINE (it cannot be
                managed).
            LabError: the API failed; NotInOrg: the site has no Edge of this name.
        """
        rec = self.record()
        line = (f"{rec.name} {rec.model or 'Genesys Edge'} serial {rec.serial_number or '?'} software "
                f"{rec.software_version}: {rec.online_status}, {rec.status_code}, {rec.conversation_count or 0} "
                "conversations")
        if not rec.online:  # as online_record, with the Edge's identity as the evidence
            raise DeviceOffline(self.name, "api", self.org().api().address,
                                f"{rec.name} is {rec.online_status} in Genesys Cloud (the Platform API answered; the "
                                f"Edge is out of contact with the cloud): {line}")
        return line

    def edge_id(self) -> str:
        """The Edge's id in the org (found once per driver)."""
        found = self._sessions.get("api edge id")
        if found is None:
            found = self._sessions["api edge id"] = self.record().id
        return str(found)

    def _get(self, template: str, model: type[M], **values: str) -> M:
        api = self.org().api()
        return api.get(template, model, params=None, edgeId=self.edge_id(), **values)

    # -- software -------------------------------------------------------------------------------

    def software_update(self) -> SoftwareUpdate:
        """``GET …/softwareupdate``: the update ordered last and where it stands."""
        return self._get(SOFTWARE_UPDATE, SoftwareUpdate)

    def software_versions(self) -> list[SoftwareVersion]:
        """``GET …/softwareversions``: the versions Genesys Cloud offers this Edge."""
        return self.org().api().list(SOFTWARE_VERSIONS, SoftwareVersion, edgeId=self.edge_id())

    def start_update(self, version: str, drain_timeout_s: int) -> SoftwareUpdate:
        """``POST …/softwareupdate``: order the update to ``version`` now, the Edge's calls given
        ``drain_timeout_s`` (``callDrainingWaitTimeSeconds``) to end. Destructive: the Edge drains,
        installs and reboots.

        Raises:
            LabProtocolError: the org offers the Edge no such version. LabError: the API refused.
        """
        offered = self.software_versions()
        found = next((v for v in offered if v.version == version), None)
        if found is None or found.id is None:
            raise LabProtocolError(self.name, "api", self.org().api().address,
                                   f"GET {SOFTWARE_VERSIONS}: version {version} is not offered to {self.name} "
                                   f"(offered: {', '.join(v.version for v in offered) or 'none'})")
        data = self.org().api().send("POST", SOFTWARE_UPDATE, edgeId=self.edge_id(), body={
            "version": {"id": found.id}, "callDrainingWaitTimeSeconds": int(drain_timeout_s)})
        return SoftwareUpdate.model_validate(data or {})

    def abort_update(self) -> None:
        """``DELETE …/softwareupdate``: abort the update in progress (not once it installs)."""
        self.org().api().send("DELETE", SOFTWARE_UPDATE, edgeId=self.edge_id())

    # -- network --------------------------------------------------------------------------------

    def logical_interfaces(self) -> list[LogicalInterface]:
        """``GET …/edges/{edgeId}/logicalinterfaces``: the Edge's network interfaces as Genesys Cloud
        knows them (addresses, DHCP or static, which one is the WAN port)."""
        return self.org().api().list(LOGICAL_INTERFACES, LogicalInterface, edgeId=self.edge_id())

    # -- metrics, trunks --------------------------------------------------------------------------

    def metrics(self) -> EdgeMetrics:
        """``GET …/metrics``: CPU, memory and disks now."""
        return self._get(EDGE_METRICS, EdgeMetrics)

    def trunks(self, trunk_type: str | None = None) -> list[Trunk]:
        """``GET …/edges/{edgeId}/trunks``: the Edge's trunks (external and phone), or those of
        ``trunk_type`` (``EXTERNAL``, ``PHONE``, ``EDGE``; the ``trunkType`` filter)."""
        params = {"trunkType": trunk_type} if trunk_type else None
        found = self.org().api().list(EDGE_TRUNKS, Trunk, params=params, edgeId=self.edge_id())
        return [t for t in found if trunk_type is None or (t.trunk_type or trunk_type) == trunk_type]

    def trunk_metrics(self, trunk_id: str) -> TrunkMetrics:
        """``GET …/edges/trunks/{trunkId}/metrics``: calls in progress on one trunk."""
        return self.org().api().get(TRUNK_METRICS, TrunkMetrics, trunkId=trunk_id)

    def registered_phones(self) -> dict[str, PhoneRecord]:
        """The site's phones registered with this Edge now, by MAC (``00:04:f2:00:00:01``, the phone
        record's hardware ID): ``GET …/edges/phones?site.id=…&expand=properties,status`` (every page),
        those whose ``status.edge`` is this Edge and whose status says OPERATIONAL and IN_SERVICE
        (:attr:`~harness.devices.facts.cloud_phones.PhoneStatus.registered`). Phones are matched to
        inventory phones by hardware ID, as the org knows them.

        Raises:
            LabError: the API failed (LabUnreachable without ``cloud:``); NotInOrg: no such site.
        """
        org = self.org()
        edge_id = self.edge_id()
        phones = org.api().list(PHONES, PhoneRecord, params={"site.id": org.site().id, "expand": "properties,status"})
        return {p.mac: p for p in phones if p.mac and p.status is not None and p.status.registered
                and p.status.edge is not None and p.status.edge.id == edge_id}

    def trunk_status(self) -> TrunkStatus:
        """The Edge's external (carrier) trunks as Genesys Cloud sees them now: ``GET
        …/edges/{edgeId}/trunks?trunkType=EXTERNAL`` for their service and OPTIONS state, then ``GET
        …/edges/trunks/{trunkId}/metrics`` of each for the calls in progress (summed over the Edge's
        external trunks, routes listed in the trunks' order).

        Raises:
            LabProtocolError (device ``cloud``, transport ``api``): the org lists no external trunk on the Edge.
            LabError: the API failed (LabUnreachable without ``cloud:`` in the inventory).
        """
        api = self.org().api()
        trunks = self.trunks("EXTERNAL")
        if not trunks:
            raise LabProtocolError(api.device, "api", api.address,
                                   f"GET {EDGE_TRUNKS}?trunkType=EXTERNAL: the org lists no external trunk "
                                   f"on {self.name}")
        inbound = outbound = 0
        for t in trunks:
            calls = self.trunk_metrics(t.id).calls
            inbound, outbound = inbound + calls.inbound_call_count, outbound + calls.outbound_call_count
        routes = tuple(RouteStatus(o.proxy_address or "?", o.option_state) for t in trunks for o in t.options_status)
        return TrunkStatus(tuple(t.name or t.id for t in trunks), any(bool(t.in_service) for t in trunks),
                           inbound, outbound, routes)

    # -- diagnostics --------------------------------------------------------------------------

    def diagnostic(self, kind: str, host: str, timeout_s: float = 30.0) -> str:
        """Run ``kind`` (``nslookup``, ``ping``, ``route``, ``tracepath``) on the Edge toward ``host``
        (POST) and read its output (GET, until it names the command's id, within ``timeout_s``).

        Raises:
            ValueError: an unknown ``kind``. LabTimeout: no output in time. LabError: the API failed.
        """
        if kind not in DIAGNOSTIC_KINDS:
            raise ValueError(f"diagnostic {kind!r}: one of {', '.join(DIAGNOSTIC_KINDS)}")
        api = self.org().api()
        started = DiagnosticStarted.model_validate(
            api.send("POST", DIAGNOSTIC, edgeId=self.edge_id(), kind=kind, body={"host": host}) or {})
        deadline = time.monotonic() + timeout_s
        while True:
            got = api.get(DIAGNOSTIC, DiagnosticResult, edgeId=self.edge_id(), kind=kind)
            if got.diagnostics is not None and started.id in (None, got.command_correlation_id):
                return got.diagnostics
            if time.monotonic() > deadline:
                raise LabTimeout(self.name, "api", api.address, f"{kind} {host}: no output within {timeout_s:g} s")
            time.sleep(POLL_S)

    # -- log jobs -------------------------------------------------------------------------------

    def start_log_job(self, path: str = "/logs", query: str = "*", recurse: bool = False) -> str:
        """``POST …/logs/jobs``: the job's id (the Edge lists the files under ``path`` matching
        ``query``: ``*``/``?`` wildcards, ``|`` between patterns)."""
        data = self.org().api().send("POST", LOG_JOBS, edgeId=self.edge_id(),
                                     body={"path": path, "query": query, "recurse": recurse})
        return LogJobCreated.model_validate(data or {}).id

    def log_job(self, job_id: str) -> LogJob:
        """``GET …/logs/jobs/{jobId}``: the job's files and their upload state."""
        return self._get(LOG_JOB, LogJob, jobId=job_id)

    def upload_logs(self, job_id: str, file_ids: list[str]) -> None:
        """``POST …/logs/jobs/{jobId}/upload``: the Edge uploads those files to Genesys Cloud."""
        self.org().api().send("POST", LOG_JOB_UPLOAD, edgeId=self.edge_id(), jobId=job_id, body={"fileIds": file_ids})

    def download_url(self, download_id: str) -> str:
        """``GET /api/v2/downloads/{downloadId}?issueRedirect=false``: where an uploaded file is fetched."""
        return self.org().api().get(DOWNLOAD, UrlAnswer, params={"issueRedirect": "false"},
                                    downloadId=download_id).url

    def fetch(self, url: str, dest: Path) -> FetchedFile:
        """Stream ``url`` (a download link: no token) into ``dest``, hashing it (SHA-256).

        Raises:
            LabTimeout / LabUnreachable / LabProtocolError (device ``cloud``, transport ``api``): the
            link did not answer in the API's deadline, refused, or answered an error status.
        """
        api = self.org().api()
        settings = api.settings
        digest, size, start = hashlib.sha256(), 0, time.monotonic()
        dest.parent.mkdir(parents=True, exist_ok=True)
        shown = url.split("?", 1)[0]  # a signed link's query is a credential: never shown
        try:
            with httpx.stream("GET", url, timeout=settings.timeout_s, proxy=settings.proxy,
                              follow_redirects=True) as r, dest.open("wb") as out:
                if r.status_code != 200:
                    raise LabProtocolError(api.device, "api", api.address, f"GET {shown}: HTTP {r.status_code}")
                for chunk in r.iter_bytes(CHUNK_BYTES):
                    out.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
        except httpx.TimeoutException as e:
            raise LabTimeout(api.device, "api", api.address, f"GET {shown}: {type(e).__name__}") from None
        except httpx.HTTPError as e:
            raise LabUnreachable(api.device, "api", api.address, f"GET {shown}: {type(e).__name__}: {e}") from None
        return FetchedFile(dest, size, digest.hexdigest(), time.monotonic() - start)


__all__ = ["EdgeCloud", "FetchedFile", "LabError", "RouteStatus", "TrunkStatus"]
