"""An Edge as its customer reaches it: through the org's Platform API (``LabSession.cloud()``), a
mixin for the Edge driver (GENESYS-API.md: a customer has no command line on a Genesys Edge).

Its record (version, staged version, online and draining state, conversations), its software
update (the versions offered, start, abort, status), metrics, log jobs (create, poll, upload, the
download of the uploaded file), its own network diagnostics (``nslookup``, ``ping``, ``route``,
``tracepath`` run on the Edge) and its trunks with their metrics. The Edge is found in the org by
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

from ...errors import LabError, LabProtocolError, LabTimeout, LabUnreachable
from ...transports.cloud import CloudModel
from ..capabilities import GenesysCloudOrg
from ..driver import Driver
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

    def probe_api(self) -> str:
        """The Edge's identity as Genesys Cloud knows it, one line
        (``edge1 Genesys Edge (virtual) serial VE-000001 software 2026.11.1: ONLINE, ACTIVE, 0 conversations``).

        Raises:
            LabUnreachable (transport ``api``): the org sees the Edge OFFLINE (it cannot be managed).
            LabError: the API failed; NotInOrg: the site has no Edge of this name.
        """
        rec = self.record()
        line = (f"{rec.name} {rec.model or 'Genesys Edge'} serial {rec.serial_number or '?'} software "
                f"{rec.software_version}: {rec.online_status}, {rec.status_code}, {rec.conversation_count or 0} "
                "conversations")
        if not rec.online:
            raise LabUnreachable(self.name, "api", self.org().api().address,
                                 f"{rec.name} is {rec.online_status} in Genesys Cloud ({line})")
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

    # -- metrics, trunks --------------------------------------------------------------------------

    def metrics(self) -> EdgeMetrics:
        """``GET …/metrics``: CPU, memory and disks now."""
        return self._get(EDGE_METRICS, EdgeMetrics)

    def trunks(self) -> list[Trunk]:
        """``GET …/edges/{edgeId}/trunks``: the Edge's trunks (external and phone)."""
        return self.org().api().list(EDGE_TRUNKS, Trunk, edgeId=self.edge_id())

    def trunk_metrics(self, trunk_id: str) -> TrunkMetrics:
        """``GET …/edges/trunks/{trunkId}/metrics``: calls in progress on one trunk."""
        return self.org().api().get(TRUNK_METRICS, TrunkMetrics, trunkId=trunk_id)

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


__all__ = ["EdgeCloud", "FetchedFile", "LabError"]
