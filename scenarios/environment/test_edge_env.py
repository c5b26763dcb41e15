"""ENV-EDGE: every Edge runs within the requirement profile's limits, as Genesys Cloud reports it.

Each Edge's metrics (``GET /api/v2/telephony/providers/edges/{edgeId}/metrics``, the SDK's
``EdgeMetrics``): the busiest processor's active time at most ``cpu_pct``, memory used at most
``memory_used_pct``, the fullest disk partition used at most ``disk_used_pct``. The limits are the
project's choice (Genesys publishes no operating limits for these figures; a requirement profile may
set its own), named as such in the report. Room conditions (temperature, humidity, power) are not
in the API: that part of the duty is an attestation (DUTIES.md §3), so the duty is hybrid and a
PASS needs it too. Without ``cloud:`` in the inventory the Edge's metrics cannot be read: SKIPPED.
An Edge the org sees OFFLINE reports no metrics: BROKEN (a lab that is not sound).
"""

import pytest

from harness.devices.drivers.edge import Edge
from harness.devices.session import LabSession
from harness.duties.profile import Profile
from harness.evidence.check import check, observe

DUTY = "ENV-EDGE"


@pytest.mark.duty(DUTY)
@pytest.mark.core("the Edge's metrics")
def test_edge_runs_within_its_limits(edge: Edge, lab: LabSession, profile: Profile) -> None:
    if lab.lab.cloud is None:
        pytest.skip("the inventory has no cloud: section: an Edge's metrics are read from Genesys Cloud")
    edge.online_record("it reports no metrics")
    m = edge.metrics()
    observe(f"{(m.up_time_msec or 0) / 3_600_000:.1f} h", duty=DUTY, device=edge.name, what="up time (Edge metrics)")
    check(m.cpu_pct, profile.threshold(DUTY, "cpu_pct"), duty=DUTY, device=edge.name,
          what="busiest processor's active time (Edge metrics)",
          detail=", ".join(f"cpu {p.cpu_id}: {p.active_time_pct} %" for p in m.processors))
    check(m.memory_used_pct, profile.threshold(DUTY, "memory_used_pct"), duty=DUTY, device=edge.name,
          what="memory used (Edge metrics)",
          detail=", ".join(f"{x.type}: {x.available_bytes:.0f} of {x.total_bytes:.0f} bytes available"
                           for x in m.memory if x.available_bytes is not None and x.total_bytes is not None))
    check(m.disk_used_pct, profile.threshold(DUTY, "disk_used_pct"), duty=DUTY, device=edge.name,
          what="fullest disk partition used (Edge metrics)",
          detail=", ".join(f"{d.partition_name}: {d.available_bytes:.0f} of {d.total_bytes:.0f} bytes available"
                           for d in m.disks if d.available_bytes is not None and d.total_bytes is not None))
