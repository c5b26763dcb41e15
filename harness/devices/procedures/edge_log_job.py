"""An Edge log job through the Genesys Cloud API (MAINT-EDGE-LOGS): create, wait for its files,
upload them, wait for the uploads, fetch each file from its download link, checksum it and check
that the archive is whole.

Steps: ``POST …/edges/{edgeId}/logs/jobs`` (``path``, ``query``) → ``GET …/logs/jobs/{jobId}`` until
it lists files (within :data:`LIST_TIMEOUT_S`) → ``POST …/upload`` (every file) → ``GET …/logs/jobs/{jobId}``
until each file is ``UPLOADED`` or ``ERROR_ON_UPLOAD`` (within ``upload_timeout_s``) → ``GET
/api/v2/downloads/{downloadId}?issueRedirect=false`` → the link's bytes (SHA-256 while they are
written). A ``.gz``/``.tar.gz`` file is read through once (:mod:`tarfile`/:mod:`gzip`): gzip's
CRC-32 and length trailer (RFC 1952 §2.3.1) tell a damaged file; the API itself announces only
the size (``sizeBytes``), no checksum. Nothing here raises for a job that fails: the result says
what happened.
"""

from __future__ import annotations

import gzip
import tarfile
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..drivers.edge import Edge
from ..facts.cloud_edge_ops import LogJob

LIST_TIMEOUT_S = 60.0  # project choice: an Edge lists its log files within a minute
UPLOAD_TIMEOUT_S = 600.0  # project choice: an Edge uploads a few hundred MB of logs within 10 min on a site link
POLL_S = 0.2  # project choice


@dataclass
class LogFile:
    """One file of the job: ``edge_path`` on the Edge, ``announced_bytes`` (the API's ``sizeBytes``),
    ``upload_status``, and once fetched: ``local`` path, ``size_bytes``, ``sha256``, ``members`` (the
    archive's files; ``()`` for a file that is no archive), ``damage`` (why the archive does not
    read whole; ``""``: it does), ``seconds`` the download took."""

    edge_path: str
    announced_bytes: int
    upload_status: str
    local: Path | None = None
    size_bytes: int = 0
    sha256: str = ""
    members: tuple[str, ...] = ()
    damage: str = ""
    seconds: float = 0.0


@dataclass
class LogJobReport:
    """The job: its ``job_id``, ``files``, ``problem`` (why it did not deliver; ``""``: it did),
    ``seconds`` from creation to the last file fetched."""

    edge: str
    job_id: str = ""
    files: list[LogFile] = field(default_factory=list)
    problem: str = ""
    seconds: float = 0.0


def archive_damage(path: Path) -> tuple[tuple[str, ...], str]:
    """The members of the (gzip'd) tar or gzip file at ``path`` and why it does not read whole (``""``)."""
    try:
        if path.name.endswith(".gz"):  # the whole stream, trailer included: tarfile stops at its end marker
            with gzip.open(path, "rb") as g:
                while g.read(1 << 20):
                    pass
        if tarfile.is_tarfile(path):
            with tarfile.open(path, "r:*") as tar:
                names = tuple(m.name for m in tar.getmembers())
                for m in tar.getmembers():
                    f = tar.extractfile(m)
                    while f is not None and f.read(1 << 20):
                        pass
            return names, ""
        return ((path.name.removesuffix(".gz"),) if path.name.endswith(".gz") else ()), ""
    except (OSError, EOFError, tarfile.TarError, zlib.error) as e:
        return (), f"{type(e).__name__}: {e}"


def run_log_job(edge: Edge, dest: Path, *, path: str = "/logs", query: str = "*.tar.gz|*.gz|*.log",
                upload_timeout_s: float = UPLOAD_TIMEOUT_S) -> LogJobReport:
    """Run one log job on ``edge`` and fetch its files into ``dest``.

    Raises:
        LabError: the API or a download link failed (not an Edge that failed the job: see the report).
    """
    report, start = LogJobReport(edge.name), time.monotonic()
    report.job_id = edge.start_log_job(path, query)
    job = _poll(edge, report.job_id, lambda j: bool(j.files), LIST_TIMEOUT_S)
    if not job.files:
        report.problem = f"log job {report.job_id} listed no file under {path} matching {query!r} within " \
                         f"{LIST_TIMEOUT_S:g} s"
        return report
    edge.upload_logs(report.job_id, [f.id for f in job.files])
    job = _poll(edge, report.job_id, lambda j: all(f.upload_status in ("UPLOADED", "ERROR_ON_UPLOAD")
                                                   for f in j.files), upload_timeout_s)
    for f in job.files:
        lf = LogFile(f.edge_path or f.name or f.id, int(f.size_bytes or 0), f.upload_status or "?")
        report.files.append(lf)
        if f.upload_status != "UPLOADED" or not f.download_id:
            continue
        got = edge.fetch(edge.download_url(f.download_id), dest / Path(lf.edge_path).name)
        lf.local, lf.size_bytes, lf.sha256, lf.seconds = got.path, got.size_bytes, got.sha256, got.seconds
        lf.members, lf.damage = archive_damage(got.path)
    bad = [f for f in report.files if f.upload_status != "UPLOADED"]
    if bad:
        report.problem = "; ".join(f"{f.edge_path}: upload {f.upload_status}" for f in bad) + \
            f" (after {upload_timeout_s:g} s at most)"
    report.seconds = time.monotonic() - start
    return report


def _poll(edge: Edge, job_id: str, done: Callable[[LogJob], bool], timeout_s: float) -> LogJob:
    deadline = time.monotonic() + timeout_s
    while True:
        job = edge.log_job(job_id)
        if done(job) or time.monotonic() > deadline:
            return job
        time.sleep(POLL_S)
