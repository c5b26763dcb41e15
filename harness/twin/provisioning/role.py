"""The provisioning server as a twin role: firmware images and phone configurations over HTTP.

``role: provisioning``: the HTTP server of :mod:`.http_server` serving :mod:`.images` and the phone
configuration files uploaded to it. Heal forgets those files. Its faults are declared in :mod:`.faults`.
"""

from __future__ import annotations

from ..core.twin import RoleSpec, Twin, register_role
from .http_server import provisioning_services
from .state import ProvisioningState, initial_state


async def _heal(twin: Twin, device: str) -> None:
    """A healed provisioning server forgets the phone configuration files uploaded to it."""
    st = twin.states[device]
    assert isinstance(st, ProvisioningState)
    st.files.clear()


PROVISIONING = register_role(RoleSpec(role="provisioning", state=initial_state, services=provisioning_services,
                                      heal=_heal))
