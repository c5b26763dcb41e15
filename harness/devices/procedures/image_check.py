"""Firmware images named by the requirement profile, checked before any device is touched.

:func:`check_image` finds the inventory's provisioning server that serves a target's URL, streams
the image through SHA-256 and compares it with the profile's. The result says what came, never
raises for a wrong image: a 404 or a checksum mismatch is the finding that stops the rollout for
that platform (MAINT-PHONE-FIRMWARE, MAINT-EDGE-UPDATE). Transport failures raise LabError.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...duties.profile import FirmwareTarget
from ..drivers.provisioning import ProvisioningServer
from ..session import LabSession


@dataclass(frozen=True)
class ImageCheck:
    """One image: ``platform``, ``url``, the provisioning ``server`` that served it (``None``: no
    server of the inventory serves that URL), HTTP ``status``, ``size_bytes`` and SHA-256 expected
    (from the profile) and got. ``problem`` is ``""`` when the image can be used."""

    platform: str
    version: str
    url: str
    server: str | None
    status: int | None
    size_bytes: int
    sha256_expected: str
    sha256_got: str | None

    @property
    def problem(self) -> str:
        if self.server is None:
            return f"{self.url} is not on a provisioning server of the inventory"
        if self.status != 200:
            return f"{self.url} answered HTTP {self.status}"
        if self.sha256_got != self.sha256_expected:
            return (f"{self.url}: SHA-256 {self.sha256_got} of {self.size_bytes} bytes, the profile expects "
                    f"{self.sha256_expected}")
        return ""

    @property
    def ok(self) -> bool:
        return not self.problem


def check_image(lab: LabSession, platform: str, target: FirmwareTarget) -> ImageCheck:
    """Fetch ``target.url`` from the provisioning server that serves it and hash it. Raises LabError."""
    for name, dev in lab.lab.devices.items():
        if dev.role != "provisioning":
            continue
        server = lab.driver(name, ProvisioningServer)
        if server.serves(target.url):
            d = server.image(target.url)
            return ImageCheck(platform, target.version, target.url, name, d.status, d.size_bytes, target.sha256,
                              d.sha256 if d.status == 200 else None)
    return ImageCheck(platform, target.version, target.url, None, None, 0, target.sha256, None)
