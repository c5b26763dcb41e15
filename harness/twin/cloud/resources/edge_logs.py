"""Edge log jobs, and the download of what they upload:

* ``POST …/edges/{edgeId}/logs/jobs`` (``EdgeLogsJobRequest``: ``path``, ``query`` with ``*``/``?``
  wildcards and ``|`` between patterns, ``recurse``) → ``EdgeLogsJobResponse``: the Edge writes a
  log bundle (:func:`harness.twin.edge.logs.make_bundle`, with the ``log-volume`` and ``log-corrupt``
  faults) and the job lists the files under ``path`` whose names match ``query``;
* ``GET …/edges/{edgeId}/logs/jobs/{jobId}`` → ``EdgeLogsJob`` with its ``files``
  (``EdgeLogsJobFile``: ``edgePath``, ``sizeBytes``, ``uploadStatus`` NOT_UPLOADED, UPLOADING,
  UPLOADED or ERROR_ON_UPLOAD, ``downloadId`` once uploaded);
* ``POST …/logs/jobs/{jobId}/upload`` (``EdgeLogsJobUploadRequest``: ``fileIds``) starts the upload
  of those files to Genesys Cloud (:data:`UPLOAD_S`);
* ``GET /api/v2/downloads/{downloadId}`` (``UrlResponse``, the SDK's ``DownloadsApi.get_download``):
  where the uploaded file is fetched; ``issueRedirect=false`` answers ``{"url": …}``, otherwise a
  303 to it. The URL is a link of its own that needs no token, as the API's signed download links
  are (the twin serves it at ``/twin-downloads/{downloadId}/{name}``).

An Edge that does not reach the cloud (``edge-offline``, ``wan-down``, ``down``) can neither start a
job nor upload: 400 ``edge.offline``; an upload it had begun ends ``ERROR_ON_UPLOAD``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import fnmatch
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from ...core.twin import Twin
from ...edge.logs import edge_disk, make_bundle
from ...edge.state import EdgeState
from ..router import ApiError, ApiRequest, Json, route
from ..state import entity_id
from .edges import EDGES, find_edge, online, require_online

DOWNLOADS = "/api/v2/downloads"
FILE_PATH = "/twin-downloads"
UPLOAD_S = 0.2  # project choice: the twin Edge uploads a file to Genesys Cloud this fast
JOBS_KEPT = 50  # project choice: log jobs the twin remembers per org


@dataclass
class JobFile:
    id: str
    name: str
    edge_path: str
    local: Path
    size_bytes: int
    created: float
    upload_status: str = "NOT_UPLOADED"
    download_id: str | None = None


@dataclass
class LogJob:
    id: str
    edge: str
    edge_id: str
    created: float
    files: list[JobFile] = field(default_factory=list)


def _jobs(twin: Twin) -> dict[str, LogJob]:
    jobs: dict[str, LogJob] = twin.shared.setdefault("cloud-edge-log-jobs", {})
    return jobs


def _iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def _matches(name: str, query: str) -> bool:
    return any(fnmatch.fnmatchcase(name, q.strip()) for q in (query or "*").split("|") if q.strip())


def _job_json(job: LogJob) -> Json:
    files = []
    for f in job.files:
        fj: Json = {"id": f.id, "name": f.name, "state": "active", "edgePath": f.edge_path,
                    "sizeBytes": float(f.size_bytes), "uploadStatus": f.upload_status,
                    "timeCreated": _iso(f.created), "timeModified": _iso(f.created), "dateCreated": _iso(f.created)}
        if f.download_id:
            fj["downloadId"] = f.download_id
        files.append(fj)
    return {"id": job.id, "name": f"{job.edge} logs", "state": "active", "dateCreated": _iso(job.created),
            "files": files, "selfUri": f"{EDGES}/{job.edge_id}/logs/jobs/{job.id}"}


@route("POST", f"{EDGES}/{{edgeId}}/logs/jobs")
async def create_job(req: ApiRequest) -> Json:
    name, edge_id, st = find_edge(req)
    try:
        body = json.loads(req.body or b"{}")
    except ValueError:
        raise ApiError(400, "bad.request", "the body is not JSON") from None
    if not isinstance(body, dict) or not isinstance(body.get("path", ""), str):
        raise ApiError(400, "bad.request", "EdgeLogsJobRequest: path must be a string")
    require_online(req, name, st, "run a log job")
    path = "/" + str(body.get("path") or "/logs").strip("/")
    query = str(body.get("query") or "*")
    disk = edge_disk(req.twin, name)
    bundle = await asyncio.to_thread(make_bundle, st, disk)
    jobs = _jobs(req.twin)
    now = time.time()
    job = LogJob(entity_id(req.twin.lab.lab.name, "edge-log-job", f"{name}/{now}/{len(jobs)}"), name, edge_id, now)
    folder = disk / path.strip("/")
    if path.rstrip("/") == "/logs" or (body.get("recurse") and path == "/"):
        for p in sorted(folder.glob("*.tar.gz")) if folder.is_dir() else []:
            if _matches(p.name, query) and p.name == bundle.name:
                job.files.append(JobFile(entity_id(req.twin.lab.lab.name, "edge-log-file", f"{job.id}/{p.name}"),
                                         p.name, f"/logs/{p.name}", p, p.stat().st_size, now))
    jobs[job.id] = job
    for old in list(jobs)[:-JOBS_KEPT]:
        del jobs[old]
    return {"id": job.id, "name": f"{name} logs", "state": "active", "selfUri": f"{EDGES}/{edge_id}/logs/jobs/{job.id}"}


def _job(req: ApiRequest) -> LogJob:
    _, edge_id, _ = find_edge(req)
    job = _jobs(req.twin).get(req.match["jobId"])
    if job is None or job.edge_id != edge_id:
        raise ApiError.not_found("log job", req.match["jobId"])
    return job


@route("GET", f"{EDGES}/{{edgeId}}/logs/jobs/{{jobId}}")
async def get_job(req: ApiRequest) -> Json:
    return _job_json(_job(req))


async def _upload(req: ApiRequest, name: str, f: JobFile) -> None:
    await asyncio.sleep(UPLOAD_S)
    st = req.twin.states[name]
    assert isinstance(st, EdgeState)
    if not online(req, name, st):
        f.upload_status = "ERROR_ON_UPLOAD"
        return
    f.download_id = entity_id(req.twin.lab.lab.name, "download", f.id)
    downloads: dict[str, JobFile] = req.twin.shared.setdefault("cloud-downloads", {})
    downloads[f.download_id] = f
    f.upload_status = "UPLOADED"


@route("POST", f"{EDGES}/{{edgeId}}/logs/jobs/{{jobId}}/upload")
async def upload(req: ApiRequest) -> Json:
    name, _, st = find_edge(req)
    job = _job(req)
    try:
        body = json.loads(req.body or b"{}")
    except ValueError:
        raise ApiError(400, "bad.request", "the body is not JSON") from None
    ids = body.get("fileIds") if isinstance(body, dict) else None
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise ApiError(400, "bad.request", "EdgeLogsJobUploadRequest: fileIds must list the job's file ids")
    files = {f.id: f for f in job.files}
    unknown = [i for i in ids if i not in files]
    if unknown:
        raise ApiError(400, "bad.request", f"not files of log job {job.id}: {', '.join(unknown)}")
    require_online(req, name, st, "upload logs")
    for i in ids:
        files[i].upload_status = "UPLOADING"
        asyncio.get_running_loop().create_task(_upload(req, name, files[i]), name=f"log upload {i}")
    return {}


@route("GET", f"{DOWNLOADS}/{{downloadId}}", permission=None)
async def download(req: ApiRequest) -> Json:
    f = req.twin.shared.get("cloud-downloads", {}).get(req.match["downloadId"])
    if f is None:
        raise ApiError.not_found("download", req.match["downloadId"])
    cloud = req.twin.lab.cloud
    assert cloud is not None and cloud.base_url is not None
    url = f"{cloud.base_url.rstrip('/')}{FILE_PATH}/{req.match['downloadId']}/{f.name}"
    if req.query.get("issueRedirect", "true").lower() == "false":
        return {"url": url}
    return web.Response(status=303, headers={"Location": url})


@route("GET", f"{FILE_PATH}/{{downloadId}}/{{name}}", permission=None, auth=False)
async def download_file(req: ApiRequest) -> Json:
    f = req.twin.shared.get("cloud-downloads", {}).get(req.match["downloadId"])
    if f is None or f.name != req.match["name"] or not f.local.is_file():
        raise ApiError.not_found("download", req.match["downloadId"])
    data = await asyncio.to_thread(f.local.read_bytes)
    return web.Response(body=data, content_type="application/gzip")
