"""What the Platform API tells about one Edge beyond its record (the SDK's models of the same name,
GENESYS-API.md): its software update and the versions offered to it, its metrics, log jobs and the
download of their files, its own network diagnostics, its trunks and their metrics. Typed models of
the fields the duties read, and the endpoint templates that serve them.

Enums are Genesys': ``DomainEdgeSoftwareUpdateDto.status`` NONE, INIT, IN_PROGRESS, EXPIRED,
EXCEPTION, ABORTED, FAILED, SUCCEEDED, DELETE; ``EdgeLogsJobFile.upload_status`` UPLOADING,
NOT_UPLOADED, UPLOADED, ERROR_ON_UPLOAD; ``Trunk.trunk_type`` EXTERNAL, PHONE, EDGE.
"""

from __future__ import annotations

from pydantic import Field

from ...transports.cloud import CloudModel
from .cloud_sites import EntityRef

_EDGE = "/api/v2/telephony/providers/edges/{edgeId}"
SOFTWARE_UPDATE = f"{_EDGE}/softwareupdate"
SOFTWARE_VERSIONS = f"{_EDGE}/softwareversions"
EDGE_METRICS = f"{_EDGE}/metrics"
LOG_JOBS = f"{_EDGE}/logs/jobs"
LOG_JOB = f"{_EDGE}/logs/jobs/{{jobId}}"
LOG_JOB_UPLOAD = f"{_EDGE}/logs/jobs/{{jobId}}/upload"
DOWNLOAD = "/api/v2/downloads/{downloadId}"
DIAGNOSTIC = f"{_EDGE}/diagnostic/{{kind}}"
DIAGNOSTIC_KINDS = ("nslookup", "ping", "route", "tracepath")
EDGE_TRUNKS = f"{_EDGE}/trunks"
TRUNK_METRICS = "/api/v2/telephony/providers/edges/trunks/{trunkId}/metrics"
TRUNKS = "/api/v2/telephony/providers/edges/trunks"  # the org's trunks (filters edge.id, trunkType)

#: update statuses after which nothing more happens (GENESYS-API.md's DomainEdgeSoftwareUpdateDto.status)
UPDATE_ENDED = ("SUCCEEDED", "FAILED", "ABORTED", "EXPIRED", "EXCEPTION", "DELETE")


class SoftwareVersion(CloudModel):
    """A version offered to the Edge (``DomainEdgeSoftwareVersionDto``): ``edge_version`` is the
    version string an Edge reports as ``softwareVersion``."""

    id: str | None = None
    name: str | None = None
    edge_version: str | None = None
    current: bool | None = None
    latest_release: bool | None = None

    @property
    def version(self) -> str:
        return self.edge_version or self.name or ""


class SoftwareUpdate(CloudModel):
    """The Edge's software update (``DomainEdgeSoftwareUpdateDto``). ``status`` ``NONE``: none ordered."""

    status: str | None = None
    version: SoftwareVersion | None = None
    download_start_time: str | None = None
    execute_start_time: str | None = None
    execute_stop_time: str | None = None
    call_draining_wait_time_seconds: int | None = None

    @property
    def ended(self) -> bool:
        return (self.status or "NONE") in UPDATE_ENDED


class Processor(CloudModel):
    cpu_id: str | None = None
    active_time_pct: float | None = None


class Memory(CloudModel):
    type: str | None = None
    available_bytes: float | None = None
    total_bytes: float | None = None


class Disk(CloudModel):
    partition_name: str | None = None
    available_bytes: float | None = None
    total_bytes: float | None = None


class EdgeMetrics(CloudModel):
    """``EdgeMetrics``: up time (ms), processors (% active), memory and disks (bytes)."""

    up_time_msec: int | None = None
    processors: list[Processor] = Field(default_factory=list)
    memory: list[Memory] = Field(default_factory=list)
    disks: list[Disk] = Field(default_factory=list)

    @property
    def cpu_pct(self) -> float | None:
        """The busiest processor's active time, %."""
        found = [p.active_time_pct for p in self.processors if p.active_time_pct is not None]
        return max(found) if found else None

    @property
    def memory_used_pct(self) -> float | None:
        """The first memory's used share, %."""
        m = next((m for m in self.memory if m.total_bytes and m.available_bytes is not None), None)
        if m is None or not m.total_bytes:
            return None
        return round(100 * (1 - (m.available_bytes or 0) / m.total_bytes), 1)

    @property
    def disk_used_pct(self) -> float | None:
        """The fullest partition's used share, %."""
        used = [100 * (1 - (d.available_bytes or 0) / d.total_bytes) for d in self.disks
                if d.total_bytes and d.available_bytes is not None]
        return round(max(used), 1) if used else None


class LogJobCreated(CloudModel):
    """``EdgeLogsJobResponse``: the job's ``id``."""

    id: str


class LogJobFile(CloudModel):
    """``EdgeLogsJobFile``: a file the job found on the Edge (``edge_path``, ``size_bytes``), its
    ``upload_status`` and, once uploaded, the ``download_id`` it is fetched by."""

    id: str
    name: str | None = None
    edge_path: str | None = None
    size_bytes: float | None = None
    upload_status: str | None = None
    download_id: str | None = None


class LogJob(CloudModel):
    """``EdgeLogsJob``: the job and its files."""

    id: str
    files: list[LogJobFile] = Field(default_factory=list)


class UrlAnswer(CloudModel):
    """``UrlResponse`` of ``GET /api/v2/downloads/{downloadId}?issueRedirect=false``: where the file is."""

    url: str


class DiagnosticStarted(CloudModel):
    """``EdgeNetworkDiagnostic``: the command's ``id``."""

    id: str | None = None


class DiagnosticResult(CloudModel):
    """``EdgeNetworkDiagnosticResponse``: ``diagnostics``, the command's text output on the Edge."""

    command_correlation_id: str | None = None
    diagnostics: str | None = None


class TrunkOptions(CloudModel):
    proxy_address: str | None = None
    option_state: bool | None = None


class Trunk(CloudModel):
    """``Trunk``: ``trunk_type`` EXTERNAL/PHONE/EDGE, ``in_service``, OPTIONS state per proxy."""

    id: str
    name: str | None = None
    trunk_type: str | None = None
    in_service: bool | None = None
    enabled: bool | None = None
    edge: EntityRef | None = None
    trunk_base: EntityRef | None = None  # its trunk base settings (``trunkBase``)
    options_status: list[TrunkOptions] = Field(default_factory=list)


class TrunkCalls(CloudModel):
    inbound_call_count: int = 0
    outbound_call_count: int = 0


class TrunkMetrics(CloudModel):
    """``TrunkMetrics``: calls in progress on the trunk, inbound and outbound."""

    calls: TrunkCalls = TrunkCalls()
