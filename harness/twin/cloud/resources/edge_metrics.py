"""Edge metrics: ``GET …/edges/{edgeId}/metrics`` (``EdgeMetrics``) and ``GET …/edges/metrics?edgeIds=…``
(``list[EdgeMetrics]``), rendered from the twin Edge's state on every request: ``upTimeMsec`` since
its last boot, one processor whose load follows its calls, its memory and its data disk.

The figures are the twin's (project choice, :data:`TOTAL_MEMORY_BYTES` …): a quiet Edge at
:data:`IDLE_CPU_PCT` % CPU, each call in progress adding :data:`CPU_PER_CALL_PCT` %; the fault
``edge-hot=PCT`` (declared in :mod:`harness.twin.edge.faults`) pins the CPU at PCT %. An Edge that
does not reach the cloud reports no metrics (400 ``edge.offline``).
"""

from __future__ import annotations

import datetime as dt
import time

from ...edge.faults import EDGE_HOT
from ...edge.state import EdgeState
from ..router import ApiError, ApiRequest, Json, ref, route
from .edges import EDGES, find_edge, online, require_online

IDLE_CPU_PCT = 4.0  # project choice: a quiet twin Edge
CPU_PER_CALL_PCT = 0.5  # project choice: what one call in progress adds
TOTAL_MEMORY_BYTES = 16 * 1024**3  # project choice: a 16 GiB Edge
USED_MEMORY_BYTES = 5 * 1024**3  # project choice
USED_PER_CALL_BYTES = 8 * 1024**2  # project choice
DISK_BYTES = 256 * 1024**3  # project choice: a 256 GiB data partition
DISK_USED_BYTES = 40 * 1024**3  # project choice


def metrics_json(name: str, edge_id: str, st: EdgeState) -> Json:
    """The Edge's metrics as ``EdgeMetrics``."""
    calls = st.trunk_inbound_calls + st.trunk_outbound_calls + st.station_calls
    hot = EDGE_HOT.value(st)
    cpu = float(hot) if hot is not None else min(100.0, IDLE_CPU_PCT + CPU_PER_CALL_PCT * calls)
    now = time.time()
    return {"edge": ref(EDGES, edge_id, name),
            "eventTime": dt.datetime.fromtimestamp(now, dt.UTC).isoformat(timespec="milliseconds")[:-6] + "Z",
            "upTimeMsec": int(max(0.0, now - st.boot_time) * 1000),
            "processors": [{"cpuId": "0", "activeTimePct": round(cpu, 1), "idleTimePct": round(100 - cpu, 1),
                            "userTimePct": round(cpu * 0.7, 1), "privilegedTimePct": round(cpu * 0.3, 1)}],
            "memory": [{"type": "physical", "totalBytes": float(TOTAL_MEMORY_BYTES),
                        "availableBytes": float(TOTAL_MEMORY_BYTES - USED_MEMORY_BYTES - USED_PER_CALL_BYTES * calls)}],
            "disks": [{"partitionName": "/data", "totalBytes": float(DISK_BYTES),
                       "availableBytes": float(DISK_BYTES - DISK_USED_BYTES)}],
            "subsystems": [{"processName": "media", "delayMs": 0}, {"processName": "sip", "delayMs": 0}],
            "networks": [{"ifname": "eth0", "sentBytesPerSec": 0, "receivedBytesPerSec": 0,
                          "bandwidthBitsPerSec": 1e9, "utilizationPct": 0.0}]}


@route("GET", f"{EDGES}/{{edgeId}}/metrics")
async def edge_metrics(req: ApiRequest) -> Json:
    name, edge_id, st = find_edge(req)
    require_online(req, name, st, "report metrics")
    return metrics_json(name, edge_id, st)


@route("GET", f"{EDGES}/metrics")
async def edges_metrics(req: ApiRequest) -> Json:
    wanted = [i for i in req.query.get("edgeIds", "").split(",") if i]
    if not wanted:
        raise ApiError(400, "bad.request", "edgeIds is required (comma-separated Edge ids)")
    out = []
    for name, eid in req.state.edge_ids.items():
        st = req.twin.states[name]
        if eid in wanted and isinstance(st, EdgeState) and online(req, name, st):
            out.append(metrics_json(name, eid, st))
    return out
