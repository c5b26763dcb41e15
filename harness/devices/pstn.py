"""PSTN simulator driver: the carrier side of the lab, reached over SIP (and SSH for management).

The twin's simulator (platform ``twin_pstn``) answers OPTIONS and calls on ``sip.port``; see
:mod:`harness.devices.sip_facts` for :meth:`~harness.devices.sip_facts.SipFacts.options`,
:meth:`~harness.devices.sip_facts.SipFacts.probe_sip` and
:meth:`~harness.devices.sip_facts.SipFacts.management_alive`.
"""

from __future__ import annotations

from .base import Driver, register
from .sip_facts import SipFacts
from .ssh_facts import SshFacts


@register("pstn", "twin_pstn")
class PstnSimulator(SipFacts, SshFacts, Driver):
    """A PSTN simulator (SIP UAS standing in for the carrier)."""
