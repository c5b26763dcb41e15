"""PSTN simulator driver: the carrier side of the lab, reached over SIP (and SSH for management).

The twin's simulator (platform ``twin_pstn``) answers OPTIONS and calls on ``sip.port``; see
:mod:`harness.devices.sip_facts` for :meth:`~harness.devices.sip_facts.SipFacts.options`,
:meth:`~harness.devices.sip_facts.SipFacts.probe_sip` and
:meth:`~harness.devices.sip_facts.SipFacts.management_alive`.
"""

from __future__ import annotations

from ..errors import LabUnreachable
from .base import Driver, register
from .sip_facts import SipFacts
from .ssh_facts import SshFacts


@register("pstn", "twin_pstn")
class PstnSimulator(SipFacts, SshFacts, Driver):
    """A PSTN simulator (SIP UAS standing in for the carrier)."""

    def ensure_alive(self) -> None:
        """Raise :class:`~harness.errors.LabUnreachable` when the management plane is gone too.

        Used after SIP silence: a simulator whose SSH still answers is alive and its silence is a
        finding; one that answers nothing at all is a broken lab.
        """
        if not self.management_alive():
            host, port = self.sip_address()
            raise LabUnreachable(self.name, "sip", f"{host}:{port}",
                                 "no SIP answer and the management plane (ssh) does not answer either")
