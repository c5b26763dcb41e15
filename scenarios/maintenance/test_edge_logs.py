"""MAINT-EDGE-LOGS: every Edge's logs can be collected, also when the Edge cannot reach the cloud.

Through Genesys Cloud (``test_edge_logs_through_the_api``, with ``cloud:`` in the inventory; the
duty's core check): a log job on the Edge (:mod:`harness.devices.procedures.edge_log_job`) lists its
log files, uploads them, and each is fetched from its download link, checksummed (SHA-256, in the
report) and read through: the bytes fetched equal the ``sizeBytes`` the API announced
(``log_file_bytes``) and the archive reads whole (gzip CRC-32, ``log_archive_damage``, RFC 1952),
with at least ``bundle_files`` files. An Edge the org sees OFFLINE runs no log job: collecting the
logs of an Edge that cannot reach the cloud has no public Genesys procedure (DUTIES.md), so that
part of the duty falls to attestation, and the test is SKIPPED saying so.

The twin's own paths below (SSH/SFTP and XMODEM on the serial console) are not a customer's: a
Genesys Edge gives its customer neither (GENESYS-API.md); they run only where the inventory gives
the Edge ``ssh:``/``console:``.

One test per Edge and path. The console path (XMODEM-1K on the serial console) runs first: it is
the one that must work with the WAN down, and reads the Edge's cloud-link state there. The SSH path
(SFTP) must work while the Edge's management address answers; when it does not and the Edge reports
its cloud link down on the console, the WAN is down and the SSH test is SKIPPED with that reason:
the console test covers the duty. A bundle that does not arrive intact (checksum other than the
one the Edge announced, or a transfer the line could not complete) is FAIL naming device, path
and both checksums; an unreachable console is BROKEN.

Thresholds (catalogue, project choice): the received bundle's SHA-256 equals the announced one;
the bundle holds at least ``bundle_files`` files. Bundles are kept under ``<--hil-summary>/edge-logs``
(else in the test's temporary folder); file list and checksum are attached to the report.
"""

import json
from pathlib import Path

import pytest

from harness.devices.drivers.edge import Edge
from harness.devices.drivers.edge_logs_cli import LogBundle, Path_, TransferFailed
from harness.devices.procedures.edge_log_job import run_log_job
from harness.devices.session import LabSession
from harness.duties.profile import Profile
from harness.errors import LabTimeout, LabUnreachable
from harness.evidence.attach import attach
from harness.evidence.check import check, intent, observe

DUTY = "MAINT-EDGE-LOGS"


def _folder(pytestconfig: pytest.Config, tmp_path: Path, edge: Edge) -> Path:
    summary = pytestconfig.getoption("hil_summary")
    return Path(summary) / "edge-logs" / edge.name if summary else tmp_path


def _collect(edge: Edge, path: Path_, folder: Path, profile: Profile) -> LogBundle:
    """The verified bundle; a bundle the Edge could not deliver intact fails the duty."""
    try:
        return edge.collect_logs(path, dest=folder)
    except TransferFailed as e:
        check(e.got_sha256, profile.threshold(DUTY, "bundle_sha256"), expected=e.expected_sha256 or "(no manifest)",
              duty=DUTY, device=edge.name, what=f"log bundle SHA-256 over {path}", detail=e.detail)
        raise  # the checksums agree but the transfer failed anyway: a lab error (BROKEN)


def _evidence(edge: Edge, bundle: LogBundle, profile: Profile) -> None:
    attach(f"{edge.name} log bundle files ({bundle.transport})", "\n".join(bundle.files) + "\n")
    attach(f"{edge.name} log bundle checksum ({bundle.transport})", json.dumps({
        "device": edge.name, "transport": bundle.transport, "device_path": bundle.device_path,
        "local_path": str(bundle.path), "size_bytes": bundle.size_bytes, "sha256": bundle.sha256,
        "announced_sha256": bundle.announced_sha256, "seconds": round(bundle.seconds, 3),
        "throughput_kBps": round(bundle.throughput_kBps, 1), "retransmitted_blocks": bundle.retransmitted_blocks,
    }, indent=2), "json")
    check(bundle.sha256, profile.threshold(DUTY, "bundle_sha256"), expected=bundle.announced_sha256, duty=DUTY,
          device=edge.name, what=f"log bundle SHA-256 over {bundle.transport}")
    check(len(bundle.files), profile.threshold(DUTY, "bundle_files"), duty=DUTY, device=edge.name,
          what=f"files in the log bundle over {bundle.transport}")
    observe(f"{bundle.size_bytes} bytes in {bundle.seconds:.2f} s ({bundle.throughput_kBps:.0f} kB/s), "
            f"{bundle.retransmitted_blocks} blocks retransmitted", duty=DUTY, device=edge.name,
            what=f"log bundle transfer over {bundle.transport}")


@pytest.mark.duty(DUTY)
@pytest.mark.core("a log job through Genesys Cloud")
def test_edge_logs_through_the_api(edge: Edge, lab: LabSession, profile: Profile, pytestconfig: pytest.Config,
                                   tmp_path: Path) -> None:
    if lab.lab.cloud is None:
        pytest.skip("the inventory has no cloud: section: an Edge's log jobs run through Genesys Cloud")
    rec = edge.record()
    if not rec.online:
        pytest.skip(f"{edge.name} is {rec.online_status} in Genesys Cloud: no log job can run. Collecting the logs "
                    "of an Edge that cannot reach the cloud has no public Genesys procedure, so this part of "
                    f"{DUTY} falls to attestation (the site's offline log runbook)")
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


@pytest.mark.duty(DUTY)
def test_edge_logs_over_console(edge: Edge, profile: Profile, pytestconfig: pytest.Config, tmp_path: Path) -> None:
    if edge.device.console is None:
        pytest.skip(f"{edge.name}: the inventory declares no serial console")
    status = edge.console_status()
    observe(f"cloud-link {status.services.get('cloud-link', 'absent')}", duty=DUTY, device=edge.name,
            what="cloud link (show status on the console)")
    _evidence(edge, _collect(edge, "console", _folder(pytestconfig, tmp_path, edge), profile), profile)


@pytest.mark.duty(DUTY)
def test_edge_logs_over_ssh(edge: Edge, profile: Profile, pytestconfig: pytest.Config, tmp_path: Path) -> None:
    if edge.device.ssh is None:
        pytest.skip(f"{edge.name}: the inventory declares no SSH access")
    try:
        bundle = _collect(edge, "ssh", _folder(pytestconfig, tmp_path, edge), profile)
    except (LabUnreachable, LabTimeout) as e:
        if edge.device.console is not None and not edge.console_status().cloud_link_up:
            pytest.skip(f"{edge.name}: WAN down (cloud-link down on the console) and SSH unreachable "
                        f"({e.detail}); the console path collects the logs")
        raise
    _evidence(edge, bundle, profile)
