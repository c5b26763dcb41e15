"""PSTN simulator driver: the carrier side of the lab, reached over SIP (and SSH for management).

The twin's simulator (platform ``twin_pstn``) answers OPTIONS and calls on ``sip.port``; see
:mod:`harness.devices.sip_facts` for :meth:`~harness.devices.sip_facts.SipFacts.options`,
:meth:`~harness.devices.sip_facts.SipFacts.probe_sip` and
:meth:`~harness.devices.sip_facts.SipFacts.management_alive`.
"""

from __future__ import annotations

from typing import Literal

from .base import Driver, register
from .sip_facts import SipFacts
from .sipp import SippRunner
from .sipp_hosts import LocalHost, SippHost, SshHost
from .ssh_facts import SshFacts


@register("pstn", "twin_pstn")
class PstnSimulator(SipFacts, SshFacts, Driver):
    """A PSTN simulator (SIP UAS standing in for the carrier)."""

    def sipp(self, via: Literal["local", "ssh"] | None = None) -> SippRunner:
        """A SIPp runner for this simulator's load (see :mod:`harness.devices.sipp`), binding its ``host``.

        ``via``: ``local`` runs SIPp on this machine, ``ssh`` on the simulator's host over its SSH
        session (SFTP upload, exec, SFTP fetch). Default: ``local`` for an emulated lab (the twin's
        host has no SIPp), ``ssh`` otherwise. Raises LabError when the SSH session cannot open.
        """
        where = via or ("local" if self.loaded.lab.lab.emulated else "ssh")
        host: SippHost = LocalHost()
        if where == "ssh":
            ssh = self.ssh_session()  # outside self.session(): its lock is not re-entrant
            host = self.session("sipp ssh", lambda: SshHost(ssh))
        return SippRunner(self.name, host, self.device.host, self.transcript("sipp", where))
