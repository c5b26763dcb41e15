"""MAINT-EDGE-LOGS: every Edge's logs can be collected, also when the Edge cannot reach the cloud.

Through Genesys Cloud (``test_edge_logs_through_the_api``, with ``cloud:`` in the inventory; the
duty's core check): a log job on the Edge (:mod:`harness.devices.procedures.edge_log_job`) lists its
log files, uploads them, and each is fetched from its download link, checksummed (SHA-256, in the
report) and read through: the bytes fetched equal the ``sizeBytes`` the API announced
(``log_file_bytes``) and the archive reads whole (gzip CRC-32, ``log_archive_damage``, RFC 1952),
with at least ``bundle_files`` files. An Edge the org sees OFFLINE runs no log job: collecting the
logs of an Edge that cannot reach the cloud has no public Genesys procedure (DUTIES.md), so that
part of the duty falls to attestation, and the test is skipped saying so: the Edge's state, not the
inventory, kept the core check from running, so the duty is PARTIAL, not SKIPPED.

One test per Edge. A Genesys Edge is cloud-managed: its customer has no SSH command line or serial
console on it (GENESYS-API.md), so the API's log job is the only path a customer has. Each fetched
file is kept under ``<--hil-summary>/edge-logs/<edge>`` (else in the test's temporary folder); the
job, its files and their checksums are attached to the report.
"""

import json
from pathlib import Path

import pytest

from harness.devices.drivers.edge import Edge
from harness.devices.procedures.edge_log_job import run_log_job
from harness.devices.session import LabSession
from harness.duties.profile import Profile
from harness.evidence.attach import attach
from harness.evidence.check import check, intent, observe
from harness.evidence.skips import skip_for_run

DUTY = "MAINT-EDGE-LOGS"


def _folder(pytestconfig: pytest.Config, tmp_path: Path, edge: Edge) -> Path:
    summary = pytestconfig.getoption("hil_summary")
    return Path(summary) / "edge-logs" / edge.name if summary else tmp_path


@pytest.mark.duty(DUTY)
@pytest.mark.core("a log job through Genesys Cloud")
def test_edge_logs_through_the_api(edge: Edge, lab: LabSession, profile: Profile, pytestconfig: pytest.Config,
                                   tmp_path: Path) -> None:
    if lab.lab.cloud is None:
        pytest.skip("the inventory has no cloud: section: an Edge's log jobs run through Genesys Cloud")
    rec = edge.record()
    if not rec.online:
        skip_for_run(f"{edge.name} is {rec.online_status} in Genesys Cloud: no log job can run. Collecting the "
                     "logs of an Edge that cannot reach the cloud has no public Genesys procedure, so this part of "
                     f"{DUTY} falls to attestation (the site's offline log runbook)", f"{edge.name} offline")
    report = run_log_job(edge, _folder(pytestconfig, tmp_path, edge))
    attach(f"{edge.name} log job (Genesys Cloud API)", json.dumps({
        "device": edge.name, "job": report.job_id, "seconds": round(report.seconds, 3), "problem": report.problem,
        "files": [{"edge_path": f.edge_path, "announced_bytes": f.announced_bytes, "upload": f.upload_status,
                   "local_path": str(f.local) if f.local else None, "size_bytes": f.size_bytes,
                   "sha256": f.sha256, "members": list(f.members), "damage": f.damage} for f in report.files]},
        indent=2), "json")
    if report.problem:
        check(report.problem, intent("log job outcome", "", source="Genesys Cloud log job"), duty=DUTY,
              device=edge.name, what=f"log job {report.job_id}")
    for f in report.files:
        observe(f"SHA-256 {f.sha256}, {f.size_bytes} bytes in {f.seconds:.2f} s", duty=DUTY, device=edge.name,
                what=f"log file {f.edge_path} fetched through the API")
        check(f.size_bytes, profile.threshold(DUTY, "log_file_bytes"), expected=f.announced_bytes, duty=DUTY,
              device=edge.name, what=f"bytes of {f.edge_path} fetched", detail=f"SHA-256 {f.sha256}")
        check(f.damage or "none", profile.threshold(DUTY, "log_archive_damage"), duty=DUTY, device=edge.name,
              what=f"damage found reading {f.edge_path} (gzip CRC-32)", detail=f"SHA-256 {f.sha256}")
        if f.members:
            check(len(f.members), profile.threshold(DUTY, "bundle_files"), duty=DUTY, device=edge.name,
                  what=f"files in {f.edge_path}")
