"""The firmware images the twin's provisioning server holds: every release of every platform.

The bytes are deterministic, so a requirement profile can name their SHA-256 (``hil lab image-sha
PLATFORM VERSION`` prints it); the first line names platform and version (``HIL-FIRMWARE
genesys_edge 2026.12.0``), which is how a twin Edge or phone tells what it was given.
"""

from __future__ import annotations

import hashlib

IMAGE_BYTES = 1 << 20  # project choice: 1 MiB images keep rollouts quick (real ones are 50-200 MB)


def firmware_image(platform: str, version: str, size: int = IMAGE_BYTES) -> bytes:
    """The twin's image of ``platform`` ``version``: a header line repeated to ``size`` bytes."""
    line = f"HIL-FIRMWARE {platform} {version}\n".encode()
    return (line * (size // len(line) + 1))[:size]


def image_sha256(platform: str, version: str) -> str:
    """The SHA-256 (hex) of :func:`firmware_image` ``(platform, version)``."""
    return hashlib.sha256(firmware_image(platform, version)).hexdigest()
