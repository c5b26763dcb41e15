"""The provisioning server's live state: phone configurations uploaded to it and the requests it served."""

from __future__ import annotations

from dataclasses import dataclass, field

from ...inventory.models import AnyDevice, Lab
from ..core.state import DeviceState


@dataclass
class ProvisioningState(DeviceState):
    """A provisioning server: phone configs uploaded to it (file name -> bytes) and what it served."""

    files: dict[str, bytes] = field(default_factory=dict)
    requests: list[tuple[str, str, int]] = field(default_factory=list)  # method, path, status (last 1000)


def initial_state(name: str, dev: AnyDevice, lab: Lab | None = None) -> ProvisioningState:
    """A provisioning server as it boots: no configuration uploaded yet."""
    return ProvisioningState(name=name, role=dev.role, platform=dev.platform, host=dev.host)
