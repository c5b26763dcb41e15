"""A secret a device prints inside other text is masked in every artifact of a `hil run`, in every
form."""

from __future__ import annotations

import base64
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.inventory import LoadedLab
from harness.inventory.models import PhoneDevice, SwitchDevice
from harness.transports.cli import SwitchCli
from harness.transports.snmp import localized_keys
from harness.transports.transcript import Transcript
from harness.twin import manager
from harness.twin.manager import TwinControl
from harness.twin.servers.snmp import agent_engine_id
from tests.conftest import REPO

#: ports of sw1 whose descriptions the test writes (phone ports: their views are attached to failures)
PORTS = ("GigabitEthernet1/0/1", "GigabitEthernet1/0/2", "GigabitEthernet1/0/3", "GigabitEthernet1/0/4")


def secret(name: str) -> str:
    return (REPO / "twin_secrets" / name).read_text().strip()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def forms(value: str) -> dict[str, str]:
    """``value`` as a device, a protocol or a report may show it (computed here, not by the mask)."""
    data = value.encode()
    out = {"raw": value, "hex": data.hex(), "HEX": data.hex().upper(), "colon hex": ":".join(f"{b:02x}" for b in data),
           "base64": b64(data), "base64 unpadded": b64(data).rstrip("="),
           "url-encoded": urllib.parse.quote(value, safe="")}
    for k in (1, 2):  # inside a longer base64 text: the characters the value alone decides
        enc = b64(bytes(k) + data)
        out[f"base64 at +{k}"] = enc[-(-8 * k // 6): 8 * (k + len(data)) // 6]
    return out


def searched(loaded: LoadedLab) -> dict[str, str]:
    """Every twin secret in every form, the HTTP Basic credential and the SNMPv3 localized keys."""
    out: dict[str, str] = {}
    for p in (REPO / "twin_secrets").iterdir():
        if p.name != "README.md":
            out |= {f"{p.name} {k}": v for k, v in forms(secret(p.name)).items()}
    out["http basic"] = b64(f"provision:{secret('http_password')}".encode())
    phone = loaded.lab.devices["phone1"]
    assert isinstance(phone, PhoneDevice) and phone.snmp is not None
    keys = localized_keys(phone.snmp, secret("snmp_auth_key"), secret("snmp_priv_key"), agent_engine_id("hil-twin"))
    out |= {f"snmp key {i}": k.hex() for i, k in enumerate(keys)}
    return out


def switch_cli(loaded: LoadedLab) -> SwitchCli:
    d = loaded.lab.devices["sw1"]
    assert isinstance(d, SwitchDevice) and d.ssh is not None
    return SwitchCli("sw1", d.host, d.platform, d.ssh, loaded.resolve, loaded.relative(d.ssh.known_hosts),
                     Transcript("sw1 cli (test)"))


@pytest.fixture
def descriptions(twin: TwinControl, loaded: LoadedLab) -> Iterator[list[str]]:
    """sw1's phone ports described with the lab's secrets: as written, base64, hex and an HTTP Basic
    credential (what a careless technician types into an interface description)."""
    basic = b64(f"provision:{secret('http_password')}".encode())
    texts = [f"voip sip {secret('sip_password')} snmp {secret('snmp_community')}",
             f"b64 {b64(secret('sip_password').encode())} en {secret('enable_secret')}",
             f"hex {secret('ssh_password').encode().hex()} oauth {secret('cloud_client_secret')}",
             f"prov Basic {basic} v3 {secret('snmp_auth_key')}"]
    cli = switch_cli(loaded)
    lines = [x for port, text in zip(PORTS, texts, strict=True) for x in (f"interface {port}", f"description {text}")]
    try:
        cli.config(lines)
        yield texts
    finally:
        cli.config([x for port in PORTS for x in (f"interface {port}", "no description")])
        cli.close()


def test_secrets_a_device_prints_are_masked_in_every_artifact(twin: TwinControl, loaded: LoadedLab, lab_path: Path,
                                                              tmp_path: Path, descriptions: list[str]) -> None:
    twin.fault("sw1", "drop-voice-vlan")  # NET-VOIP-HW fails: the switch's transcripts are attached
    reports = tmp_path / "reports"
    log = manager.log_file(lab_path)
    log_start = log.stat().st_size
    r = subprocess.run([sys.executable, "-m", "harness.cli", "run", "--inventory", str(lab_path), "--reports",
                        str(reports), "--duty", "LAB-READY", "--duty", "NET-VOIP-HW", "--",
                        "-o", "log_level=DEBUG", "-o", "junit_logging=all"],
                       capture_output=True, text=True, timeout=600, check=False, cwd=REPO)
    assert r.returncode == 1, r.stdout[-4000:] + r.stderr[-2000:]

    # the descriptions did reach the artifacts, masked
    attachments = "\n".join(p.read_text(errors="replace") for p in (reports / "allure-results").glob("*-attachment*"))
    assert "description voip sip ***** snmp *****" in attachments, "the switch's description was not attached"
    assert "prov Basic *****" in attachments and "b64 ***** en *****" in attachments
    junit = (reports / "junit.xml").read_text()
    assert "voip sip *****" in junit, "pytest's captured log did not reach junit.xml"

    artifacts = {p: p.read_bytes() for p in reports.rglob("*") if p.is_file()}
    assert reports / "allure-report.html" in artifacts
    with open(log, "rb") as f:
        f.seek(log_start)
        artifacts[log] = f.read()
    artifacts[Path("<hil run stdout>")] = r.stdout.encode()
    artifacts[Path("<hil run stderr>")] = r.stderr.encode()
    leaks = [f"{name} in {path}" for path, data in artifacts.items() for name, form in searched(loaded).items()
             if form.encode() in data]
    assert not leaks, leaks
