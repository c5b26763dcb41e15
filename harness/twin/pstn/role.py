"""The PSTN simulator as a twin role: the carrier's SIP side and its Linux host.

``role: pstn``: a carrier that answers calls with early media then echo, pings the Edges of its
trunk (:mod:`.sip`, on :class:`~harness.twin.pstn.settings.CarrierSettings` built from the
inventory: the code ``hil carrier serve`` runs too) and logs every request it receives
(:mod:`.call_log`). Its Linux host, over SSH: ``cat`` of the call log on its shell, SFTP and SIPp
(:mod:`.host`); over HTTP with a bearer token when the inventory gives it ``http`` (:mod:`.call_log_http`).
Its fault is declared in :mod:`.faults`.
"""

from __future__ import annotations

from ...inventory.models import PstnDevice
from ..core.twin import RoleSpec, Service, Twin, register_role
from ..servers.shell import LinuxShell, ssh_username
from .call_log import call_log_for
from .host import CallLogFileService, host_root, ssh_exec
from .sip import pstn_sip_services
from .state import initial_state


def _shell(twin: Twin, device: str, console: bool) -> LinuxShell:
    """The simulator host's shell; ``cat <facts.call_log>`` prints the call log."""
    dev = twin.lab.devices[device]
    assert isinstance(dev, PstnDevice)
    files = {dev.facts.call_log: call_log_for(twin, device).render}
    return LinuxShell(device, ssh_username(twin, device, "root"), files)


def _services(twin: Twin, device: str) -> list[Service]:
    """SIP and the call log's HTTP server (:func:`~.sip.pstn_sip_services`); with ``ssh``, the host's
    call log file and its SIPp runs (:class:`~.host.CallLogFileService`)."""
    out = pstn_sip_services(twin, device)
    if twin.lab.devices[device].ssh is not None:
        out.append(CallLogFileService(twin, device))
    return out


PSTN = register_role(RoleSpec(role="pstn", state=initial_state, services=_services, shell=_shell,
                              sftp_root=host_root, sftp_writable=True, ssh_exec=ssh_exec))
