"""The Edge driver's Genesys Cloud side against the twin's org: the record, the versions offered,
metrics, the Edge's own diagnostics, its trunks and their metrics, a log job with its download,
and the errors: no ``cloud:``, an Edge the org sees offline, a refused order."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.devices.drivers.edge import Edge
from harness.devices.procedures.edge_log_job import archive_damage, run_log_job
from harness.devices.session import LabSession
from harness.errors import LabProtocolError, LabUnreachable
from harness.inventory import LoadedLab
from harness.transports.cloud.errors import ApiStatusError
from harness.twin.manager import TwinControl


@pytest.fixture
def edge(loaded: LoadedLab) -> Iterator[Edge]:
    s = LabSession(loaded)
    yield s.driver("edge1", Edge)
    s.close()


def test_record_version_metrics_and_trunks(twin: TwinControl, edge: Edge) -> None:
    rec = edge.record()
    assert (rec.name, rec.software_version, rec.online, rec.call_draining_state) == ("edge1", "2026.11.1", True, "NONE")
    v = edge.version()
    assert (v.hostname, v.serial, v.firmware) == ("edge1", "VE-000001", "2026.11.1") and v.uptime_s >= 0
    assert [s.version for s in edge.software_versions()] == ["2026.10.2", "2026.11.1", "2026.12.0"]
    assert edge.software_update().status == "NONE"
    m = edge.metrics()
    assert m.cpu_pct is not None and 0 < m.cpu_pct < 80 and m.memory_used_pct and m.disk_used_pct
    trunks = {t.trunk_type: t for t in edge.trunks()}
    assert set(trunks) == {"EXTERNAL", "PHONE"} and trunks["EXTERNAL"].options_status
    calls = edge.trunk_metrics(trunks["EXTERNAL"].id).calls
    assert (calls.inbound_call_count, calls.outbound_call_count) == (0, 0)


def test_diagnostics_run_on_the_edge(twin: TwinControl, edge: Edge) -> None:
    assert "4 received" in edge.diagnostic("ping", "localhost")
    assert "Address: 127.0.0.1" in edge.diagnostic("nslookup", "localhost")
    assert "NXDOMAIN" in edge.diagnostic("nslookup", "no-such-host.invalid")
    twin.fault("edge1", "wan-down")
    with pytest.raises(ApiStatusError, match=r"POST /api/v2/telephony/providers/edges/\{edgeId\}/diagnostic/"
                                             r"\{kind\}.*HTTP 400.*edge1 is offline"):
        edge.diagnostic("ping", "localhost")
    with pytest.raises(ValueError, match="diagnostic 'dig'"):
        edge.diagnostic("dig", "localhost")


def test_a_log_job_is_fetched_whole(twin: TwinControl, edge: Edge, tmp_path: Path) -> None:
    r = run_log_job(edge, tmp_path)
    assert not r.problem and len(r.files) == 1, r
    f = r.files[0]
    assert f.upload_status == "UPLOADED" and f.size_bytes == f.announced_bytes > 1000 and len(f.sha256) == 64
    assert f.local is not None and f.local.parent == tmp_path and not f.damage and len(f.members) == 5
    broken = tmp_path / "broken.tar.gz"
    data = bytearray(f.local.read_bytes())
    data[len(data) // 2] ^= 0xFF
    broken.write_bytes(bytes(data))
    assert archive_damage(broken)[1]


def test_an_order_for_a_version_not_offered_is_refused_before_the_api(twin: TwinControl, edge: Edge) -> None:
    with pytest.raises(LabProtocolError, match=r"version 9\.9\.9 is not offered to edge1"):
        edge.start_update("9.9.9", 60)
    assert twin.state("edge1")["software_status"] == "idle"


def test_without_cloud_the_edge_cannot_be_read(loaded: LoadedLab) -> None:
    lone = Edge("edge1", loaded.lab.devices["edge1"], loaded)  # made without a LabSession: no org
    with pytest.raises(LabUnreachable, match="a Genesys Edge is managed through Genesys Cloud"):
        lone.record()


def test_log_volume_fault_is_checked(twin: TwinControl) -> None:
    for bad in ("0", "abc", "70000"):
        with pytest.raises(Exception, match="log-volume"):
            twin.fault("edge1", "log-volume", bad)
