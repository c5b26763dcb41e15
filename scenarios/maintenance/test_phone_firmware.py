"""MAINT-PHONE-FIRMWARE, read-only part: the image each phone platform must run is on the
provisioning server and matches the SHA-256 the requirement profile gives for it.

This is the check that runs before any phone is touched: a missing image (404) or a wrong checksum
stops a rollout for that platform, with the URL and both checksums in the message. Threshold: the
profile's ``firmware.<platform>.sha256`` (project choice: the customer's approved image; no Genesys
firmware policy found)."""

import pytest

from harness.devices.firmware import check_image
from harness.evidence.check import check, intent

DUTY = "MAINT-PHONE-FIRMWARE"


@pytest.mark.duty(DUTY)
def test_target_images_are_served_with_their_checksum(lab, profile):
    platforms = sorted({d.platform for d in lab.lab.devices.values() if d.role == "phone"})
    targets = {p: profile.firmware[p] for p in platforms if p in profile.firmware}
    if not targets:
        pytest.skip(f"requirement profile {profile.name} names no target firmware for {', '.join(platforms)}")
    for platform, target in targets.items():
        img = check_image(lab, platform, target)
        if img.server is None:
            pytest.skip(img.problem)
        check(img.status, intent("HTTP status of the image", 200), duty=DUTY, device=img.server,
              what=f"{platform} {target.version} image {img.url}", detail=img.problem)
        check(img.sha256_got, intent("SHA-256 of the image (requirement profile)", target.sha256), duty=DUTY,
              device=img.server, what=f"{platform} {target.version} image {img.url} SHA-256",
              detail=f"{img.size_bytes} bytes received; expected {target.sha256}, got {img.sha256_got}")
