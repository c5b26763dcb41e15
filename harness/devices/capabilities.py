"""What a lab device can do, one :class:`typing.Protocol` per capability, named in the field's terms.

=================  ==========================================================================  =========
capability         what the device offers                                                      transport
=================  ==========================================================================  =========
:class:`SshHost`   an SSH host: commands over an SSH exec channel (Edge, carrier simulator)    ``ssh``
:class:`CliDevice` a network device run from its command line: show commands parsed with      ``ssh``
                   ntc-templates, config lines (an access switch, netmiko over SSH)
:class:`SnmpAgent` an SNMP agent: SNMPv2-MIB system group, ENTITY-MIB chassis, IF-MIB rows     ``snmp``
:class:`ConsoleDevice` a serial console (RS-232, a console server's TCP/RFC 2217 port)         ``console``
:class:`SipEndpoint` a SIP endpoint: answers OPTIONS on its SIP port; its management plane     ``sip``
                   tells SIP silence (a finding) from a dead device (a broken lab)
:class:`HttpServer` an HTTP server (the phones' provisioning server)                           ``http``
:class:`GenesysCloudOrg` the lab's Genesys Cloud org (``cloud:``), read through the Platform   ``api``
                   API: the site, its Edges (not a device: ``LabSession.cloud()``)
=================  ==========================================================================  =========

The access mixins of :mod:`harness.devices.drivers` implement them and say so by inheriting them
(``class SnmpFacts(Driver, SnmpAgent)``), so mypy checks every role class against each capability it
claims; a role class adds the ones it implements itself (``class Switch(SnmpFacts, Driver, CliDevice)``).
Generic code asks for a capability (``def f(device: SipEndpoint)``) or tests one at run time
(``isinstance(driver, SnmpAgent)``): every protocol here is runtime-checkable and has methods and
plain attributes only, since on Python 3.11 such a check reads each member, and a property would
open a session (the SNMP client itself, ``SnmpFacts.snmp``, is therefore not part of
:class:`SnmpAgent`).

Every method raises :class:`~harness.errors.LabError` (naming device, transport and address) when the
device does not answer as it should.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from ..transports.cloud import CloudApi
from ..transports.http import Digest, HttpSession
from ..transports.serial import SerialConsole
from ..transports.sip.options import OptionsResult
from .facts.cloud_edges import Edge
from .facts.cloud_sites import Site
from .facts.snmp_system import InterfaceRow, SystemInfo

if TYPE_CHECKING:
    # Named in signatures only. paramiko and netmiko cost about 0.2 s of CPU to import, and every
    # `pytest scenarios` and `hil` process imports this module; the drivers import them where a
    # session is opened (:mod:`.drivers.ssh_access`, :mod:`.drivers.switch`).
    from ..transports.cli import SwitchCli
    from ..transports.ssh import SSHSession

#: a transport an inventory entry may declare, in the order readiness probes them
Transport = Literal["ssh", "snmp", "console", "sip", "http"]
TRANSPORTS: tuple[Transport, ...] = ("ssh", "snmp", "console", "sip", "http")


@runtime_checkable
class LabDevice(Protocol):
    """Any device of the inventory: ``name`` is its inventory name."""

    name: str


@runtime_checkable
class SshHost(LabDevice, Protocol):
    """An SSH host (paramiko, host key checked): one command per exec channel, one session per run."""

    def ssh_session(self) -> SSHSession:
        """The device's SSH session, opened on first use."""
        ...

    def run(self, command: str, timeout_s: float | None = None) -> str:
        """``command``'s output text (``timeout_s``: default the inventory's ``ssh.timeout_s``)."""
        ...

    def probe_ssh(self) -> str:
        """Log in with the inventory's credentials; a one-line identity."""
        ...


@runtime_checkable
class CliDevice(LabDevice, Protocol):
    """A network device run from its command line over SSH (netmiko, privileged when the inventory has
    an enable secret); show commands come back parsed by ntc-templates."""

    def cli(self) -> SwitchCli:
        """The open CLI session."""
        ...

    def send(self, command: str) -> str:
        """A show command's text."""
        ...

    def parse(self, command: str) -> list[dict[str, Any]]:
        """A show command's records (ntc-templates field names)."""
        ...

    def configure(self, lines: list[str]) -> str:
        """Apply config lines (destructive: callers gate it behind ``--allow-destructive``)."""
        ...

    def save(self) -> str:
        """Write the running-config to the startup-config."""
        ...

    def probe_ssh(self) -> str:
        """Log in (and enable); a one-line identity from ``show version``."""
        ...


@runtime_checkable
class SnmpAgent(LabDevice, Protocol):
    """A device that answers SNMP (v2c or v3 authPriv, per the inventory)."""

    def system(self) -> SystemInfo:
        """The SNMPv2-MIB system group."""
        ...

    def entity_firmware(self) -> str | None:
        """ENTITY-MIB entPhysicalSoftwareRev of the chassis; ``None`` when not served."""
        ...

    def interfaces(self) -> list[InterfaceRow]:
        """Every IF-MIB interface, by ifIndex."""
        ...

    def probe_snmp(self) -> str:
        """One GET of the system group; a one-line identity."""
        ...


@runtime_checkable
class ConsoleDevice(LabDevice, Protocol):
    """A device with a serial console (logs in as needed; works with the management network down)."""

    def console(self) -> SerialConsole:
        """The open console session."""
        ...

    def probe_console(self) -> str:
        """Log in on the console; a one-line identity."""
        ...


@runtime_checkable
class SipEndpoint(LabDevice, Protocol):
    """A SIP endpoint (user agent or trunk interface) at the inventory's ``sip`` address."""

    def sip_address(self, port: int | None = None) -> tuple[str, int]:
        """``(host, port)`` asked: ``port`` or the inventory's ``sip.port``."""
        ...

    def options(self, timeout_s: float | None = None, port: int | None = None) -> OptionsResult:
        """One OPTIONS; ``status`` is ``None`` when nothing answered within ``timeout_s`` seconds."""
        ...

    def probe_sip(self, port: int | None = None) -> str:
        """One OPTIONS; a one-line identity (SIP silence on a live device is reported, not raised)."""
        ...

    def management_alive(self) -> bool:
        """Whether the management plane (SSH port, else SNMP) answers."""
        ...

    def ensure_alive(self) -> None:
        """Raise LabUnreachable when the management plane is gone too (after SIP silence)."""
        ...


@runtime_checkable
class HttpServer(LabDevice, Protocol):
    """An HTTP server (the phones' provisioning server: firmware images, configuration files)."""

    def http(self) -> HttpSession:
        """The open HTTP session."""
        ...

    def serves(self, url: str) -> bool:
        """``url`` points at this server (same host and port)."""
        ...

    def image(self, url: str) -> Digest:
        """Stream the file at ``url`` through SHA-256."""
        ...

    def probe_http(self) -> str:
        """One GET; a one-line identity."""
        ...


@runtime_checkable
class GenesysCloudOrg(LabDevice, Protocol):
    """The lab's Genesys Cloud org (the inventory's ``cloud:``), read through the Platform API;
    ``name`` is ``cloud``. Every method raises LabError (naming the call) when the API fails."""

    def api(self) -> CloudApi:
        """The open API session (for resource groups without an accessor here)."""
        ...

    def probe_api(self) -> str:
        """Log in and read the lab's site; a one-line identity."""
        ...

    def site(self) -> Site:
        """The site this lab is."""
        ...

    def edges(self) -> list[Edge]:
        """The Edges of the lab's site."""
        ...

    def edge(self, name: str) -> Edge:
        """One Edge, by its name in the org (its inventory name)."""
        ...
