"""The provisioning server: the twin's HTTP server (images, phone configs, auth, faults), the
driver, and the MAINT-PHONE-FIRMWARE image check (PASS healthy, FAIL on 404 and on a bad checksum
with the URL and both checksums)."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from harness.devices.drivers.provisioning import FirmwareConfig, ProvisioningServer, config_name
from harness.devices.session import LabSession
from harness.errors import LabAuthError
from harness.twin.provisioning.images import firmware_image, image_sha256
from tests.scenario_runner import run_scenarios


@pytest.fixture
def session(loaded):
    s = LabSession(loaded)
    yield s
    s.close()


def test_image_is_deterministic_and_named_by_platform_and_version():
    a = firmware_image("generic_sip_phone", "6.4.4")
    assert len(a) == 1 << 20 and a.startswith(b"HIL-FIRMWARE generic_sip_phone 6.4.4\n")
    assert hashlib.sha256(a).hexdigest() == image_sha256("generic_sip_phone", "6.4.4")
    assert image_sha256("generic_sip_phone", "6.4.5") != image_sha256("generic_sip_phone", "6.4.4")


def test_driver_streams_an_image_through_sha256(twin, session):
    prov = session.driver("prov1")
    assert prov.probe("http").startswith("prov1 HTTP 200 hil-twin provisioning server")
    url = prov.image_url("generic_sip_phone", "6.4.4")
    d = prov.image(url)
    assert (d.status, d.size_bytes, d.sha256) == (200, 1 << 20, image_sha256("generic_sip_phone", "6.4.4"))
    assert prov.image(prov.http().url("/firmware/nothing.img")).status == 404


def test_phone_config_round_trip_needs_the_servers_credentials(twin, session, loaded):
    prov = session.driver("prov1")
    mac = "00:04:f2:00:00:01"
    assert prov.phone_config(mac) is None
    cfg = FirmwareConfig("6.4.4", prov.image_url("generic_sip_phone", "6.4.4"), "ab" * 32)
    prov.put_phone_config(mac, cfg)
    assert prov.phone_config(mac) == cfg
    url = prov.http().url(f"/phones/{config_name(mac)}")
    assert httpx.put(url, content=b"x").status_code == 401  # no credentials
    dev = loaded.lab.devices["prov1"]
    bad = dev.model_copy(update={"http": dev.http.model_copy(update={"password": None})})
    intruder = ProvisioningServer("prov1", bad, loaded)
    with pytest.raises(LabAuthError, match="prov1 http"):
        intruder.put_phone_config(mac, cfg)
    intruder.close()


def test_image_check_passes_healthy_and_fails_404_and_bad_checksum(twin, lab_path, tmp_path):
    r = run_scenarios(lab_path, tmp_path / "ok", "--duty=MAINT-PHONE-FIRMWARE")
    assert r.tests()["test_target_images_are_served_with_their_checksum"]["verdict"] == "PASS", r.output[-3000:]
    twin.fault("prov1", "image-404")
    r = run_scenarios(lab_path, tmp_path / "404", "--duty=MAINT-PHONE-FIRMWARE")
    rec = r.tests()["test_target_images_are_served_with_their_checksum"]
    assert rec["verdict"] == "FAIL" and "[MAINT-PHONE-FIRMWARE] prov1" in rec["message"], rec
    assert "= 404" in rec["message"] and "generic_sip_phone-6.4.4.bin" in rec["message"], rec
    twin.heal("prov1")
    twin.fault("prov1", "bad-checksum")
    r = run_scenarios(lab_path, tmp_path / "sha", "--duty=MAINT-PHONE-FIRMWARE")
    rec = r.tests()["test_target_images_are_served_with_their_checksum"]
    good = image_sha256("generic_sip_phone", "6.4.4")
    assert rec["verdict"] == "FAIL" and f"expected {good}, got " in rec["message"], rec
    assert "http://" in rec["message"] and "generic_sip_phone-6.4.4.bin" in rec["message"], rec
