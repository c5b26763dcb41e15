"""SIP facts of a device: OPTIONS against its own SIP port, a SIP probe, and a management-plane check.

The OPTIONS go out on the harness's SIP user agent (:class:`~harness.transports.sip.ua.SipUserAgent`,
the same stack calls use), one per device and port, its UDP socket connected to the device so that
an ICMP port unreachable is heard (:mod:`harness.transports.sip.options`).

:class:`SipFacts` is a mixin for drivers whose inventory entry has ``sip`` (Edge, phones, PSTN
simulators): ``class GenesysEdge(SipFacts, Driver)``. The port asked is ``sip.port``: for an Edge,
that is the carrier trunk (5060); pass ``port=`` for the phone trunk (``sip.phone_port``, 8060).
The deadline is ``sip.timeout_s`` from the inventory unless the caller gives one.

Silence is measured, not raised, by :meth:`SipFacts.options`; :meth:`SipFacts.probe_sip` turns it
into a lab error. :meth:`SipFacts.management_alive` tells "SIP silent on a live device" (a duty
FAIL) from "device down" (lab BROKEN).
"""

from __future__ import annotations

import socket
from typing import ClassVar

from ...errors import LabError, LabUnreachable
from ...transports.sip.options import OptionsResult
from ...transports.sip.transport import local_address_toward
from ...transports.sip.ua import SipUserAgent
from ..capabilities import SipEndpoint, SnmpAgent
from ..driver import Driver


class SipFacts(Driver, SipEndpoint):
    """A :class:`~harness.devices.capabilities.SipEndpoint`; ``sip_local_host`` is the address probes
    bind (``None``: the one the route to the device picks)."""

    sip_local_host: ClassVar[str | None] = None

    def sip_address(self, port: int | None = None) -> tuple[str, int]:
        """``(host, port)`` probed: the device's host and ``port`` or its ``sip.port``.

        Raises:
            ValueError: the inventory declares no ``sip`` for this device.
        """
        sip = self.device.sip
        if sip is None:
            raise ValueError(f"{self.name}: the inventory declares no sip settings")
        return self.device.host, port or sip.port

    def options(self, timeout_s: float | None = None, port: int | None = None) -> OptionsResult:
        """One OPTIONS to the device's SIP port; ``status`` is ``None`` when nothing answered.

        Args:
            timeout_s: deadline in seconds (default: the inventory's ``sip.timeout_s``).
            port: another SIP port of the device (default ``sip.port``).

        Raises:
            LabUnreachable: no local socket could reach the device (no route, an address that cannot
                be bound), or an ICMP error other than port unreachable came back.
            LabProtocolError: the device answered with something that is not SIP.
        """
        host, p = self.sip_address(port)
        address = f"{host}:{p}"
        agent: SipUserAgent = self.session(f"sip {address}", lambda: SipUserAgent(
            self.name, self.transcript("sip", address), self.sip_local_host or local_address_toward(host, p, self.name),
            udp_port=0, tcp_port=None, udp_peer=(host, p)))
        assert self.device.sip is not None
        return agent.probe_options(host, p, timeout_s if timeout_s is not None else self.device.sip.timeout_s)

    def sip_tos_seen(self, port: int | None = None) -> dict[int, int]:
        """Packets per IP ToS byte (DSCP in its upper six bits, RFC 2474) of the SIP datagrams the
        device's ``port`` (default ``sip.port``) sent the harness's OPTIONS agent so far (``IP_RECVTOS``);
        empty before :meth:`options` or over TCP."""
        host, p = self.sip_address(port)
        agent = self._sessions.get(f"sip {host}:{p}")
        if not isinstance(agent, SipUserAgent):
            return {}
        return agent.sip_tos_from(host, p)

    def probe_sip(self, port: int | None = None) -> str:
        """One-line identity from an OPTIONS answer (any final status counts as alive).

        A device whose SIP stays silent while its management plane answers is up: its silence is
        a duty finding (PSTN-CONNECT), not a broken lab, so the probe reports it and does not raise.

        Raises:
            LabUnreachable: ICMP port unreachable, no local socket could reach the device, or the
                device is silent on SIP and on its management plane.
            LabProtocolError: the answer is not SIP.
        """
        r = self.options(port=port)
        if r.status is None:
            if not r.refused and self.management_alive():
                return (f"SIP silent at {r.address}: {r.reason} ({r.attempts} sent); the management plane "
                        f"answers, so the device is up (a duty matter, not the lab's)")
            raise LabUnreachable(self.name, "sip", r.address, f"OPTIONS: {r.reason} ({r.attempts} sent)"
                                 + ("" if r.refused else "; the management plane does not answer either"))
        ua = f" ({r.user_agent})" if r.user_agent else ""
        return f"SIP {r.status} {r.reason} from {r.address}{ua} in {r.rtt_ms:.1f} ms"

    def management_alive(self) -> bool:
        """Whether the device's management plane answers: a TCP connect to its ``ssh`` port, or else
        an SNMP probe (an :class:`~harness.devices.capabilities.SnmpAgent`). ``False`` when it declares neither."""
        ssh = self.device.ssh
        if ssh is not None:
            address = f"{self.device.host}:{ssh.port}"
            t = self.transcript("tcp", address)
            try:
                with socket.create_connection((self.device.host, ssh.port), timeout=ssh.timeout_s):
                    t.event("TCP connect to the management port: accepted")
                    return True
            except OSError as e:
                t.event(f"TCP connect to the management port failed: {e}")
                return False
        if self.device.snmp is not None and isinstance(self, SnmpAgent):
            try:
                self.probe_snmp()
                return True
            except LabError:
                return False
        return False

    def ensure_alive(self) -> None:
        """Raise :class:`~harness.errors.LabUnreachable` when the management plane is gone too.

        Used after SIP silence: a device whose management plane still answers is alive and its
        silence is a finding; one that answers nothing at all is a broken lab.
        """
        if not self.management_alive():
            host, port = self.sip_address()
            raise LabUnreachable(self.name, "sip", f"{host}:{port}",
                                 "no SIP answer and the management plane does not answer either")
