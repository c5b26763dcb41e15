"""The PSTN simulator as a twin role: the carrier's SIP side and its Linux host's shell with the call log.

``role: pstn``: a carrier that answers calls with early media then echo, pings the Edges of its
trunk (:mod:`.sip`) and logs every request it receives (:mod:`.call_log`), read with ``cat`` on its
Linux host's SSH shell. Its fault is declared in :mod:`.faults`.
"""

from __future__ import annotations

from ...inventory.models import PstnDevice
from ..core.twin import RoleSpec, Twin, register_role
from ..servers.shell import LinuxShell, ssh_username
from .call_log import call_log_for
from .sip import pstn_sip_services
from .state import initial_state


def _shell(twin: Twin, device: str, console: bool) -> LinuxShell:
    """The simulator host's shell; ``cat <facts.call_log>`` prints the call log."""
    dev = twin.lab.devices[device]
    assert isinstance(dev, PstnDevice)
    files = {dev.facts.call_log: call_log_for(twin, device).render}
    return LinuxShell(device, ssh_username(twin, device, "root"), files)


PSTN = register_role(RoleSpec(role="pstn", state=initial_state, services=pstn_sip_services, shell=_shell))
