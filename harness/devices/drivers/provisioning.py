"""Provisioning server driver (HTTP): firmware images and per-phone configuration files.

A customer's provisioning server holds the firmware images phones fetch and one configuration
file per phone (``<mac>.cfg``, the MAC as 12 lower-case hex digits, as Polycom and Yealink phones
request it). The harness reads images through it to check their SHA-256 before any device is
touched, and writes a phone's configuration (the firmware it must run) before telling the phone to
check-sync.

The configuration is ``key = value`` lines (Yealink ``.cfg`` style)::

    #!version:1.0.0.1
    firmware.version = 6.4.4
    firmware.url = http://127.0.5.1:8080/firmware/generic_sip_phone-6.4.4.bin
    firmware.sha256 = 3f1c…

Errors: LabError subclasses from :mod:`harness.transports.http` (transport ``http``); an upload the
server refuses is LabProtocolError with its status.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from ...errors import LabProtocolError, LabUnreachable
from ...inventory.models import ProvisioningDevice, ProvisioningFacts
from ...transports.http import Digest, HttpSession
from ..capabilities import HttpServer
from ..driver import Driver
from ..registry import register


def config_name(mac: str) -> str:
    """``00:04:f2:00:00:01`` -> ``0004f2000001.cfg``."""
    return mac.replace(":", "").lower() + ".cfg"


@dataclass(frozen=True)
class FirmwareConfig:
    """What a phone's configuration file tells it to run."""

    version: str
    url: str
    sha256: str

    def render(self) -> str:
        return (f"#!version:1.0.0.1\nfirmware.version = {self.version}\nfirmware.url = {self.url}\n"
                f"firmware.sha256 = {self.sha256}\n")

    @classmethod
    def parse(cls, text: str) -> FirmwareConfig | None:
        """The firmware keys of a ``.cfg`` text, ``None`` when one of the three is missing."""
        kv = {}
        for line in text.splitlines():
            key, sep, value = line.partition("=")
            if sep and not line.lstrip().startswith("#"):
                kv[key.strip()] = value.strip()
        try:
            return cls(kv["firmware.version"], kv["firmware.url"], kv["firmware.sha256"])
        except KeyError:
            return None


@register("provisioning", "http_provisioning")
class ProvisioningServer(Driver, HttpServer):
    """An HTTP provisioning server (``role: provisioning``, ``platform: http_provisioning``): an
    :class:`~harness.devices.capabilities.HttpServer`."""

    device: ProvisioningDevice

    @property
    def facts(self) -> ProvisioningFacts:
        return self.device.facts

    def http(self) -> HttpSession:
        settings = self.device.http
        if settings is None:
            raise LabUnreachable(self.name, "http", self.device.host, "the inventory declares no http settings")
        return self.session("http", lambda: HttpSession(self.name, self.device.host, settings, self.resolve,
                                                        self.transcript("http", f"{self.device.host}:{settings.port}")))

    def serves(self, url: str) -> bool:
        """``url`` points at this server (same host and port)."""
        u = urlsplit(url)
        settings = self.device.http
        default = 443 if u.scheme == "https" else 80
        return settings is not None and u.hostname == self.device.host and (u.port or default) == settings.port

    def probe_http(self) -> str:
        """``"prov1 HTTP 200 hil-twin provisioning server"``: GET of the firmware folder."""
        r = self.http().get(self.facts.firmware_path)
        return f"{self.name} HTTP {r.status_code} {r.headers.get('server', '')}".strip()

    def image(self, url: str) -> Digest:
        """Stream the image at ``url`` (on this server) through SHA-256. Raises LabError."""
        return self.http().digest(url)

    def image_url(self, platform: str, version: str) -> str:
        """Where this server keeps ``<platform>-<version>.bin``."""
        return self.http().url(f"{self.facts.firmware_path}{platform}-{version}.bin")

    def phone_config(self, mac: str) -> FirmwareConfig | None:
        """The firmware the phone's configuration file names; ``None`` when there is no file (404)
        or it names no firmware. Raises LabError."""
        r = self.http().get(self.facts.config_path + config_name(mac))
        if r.status_code == 404:
            return None
        if r.status_code != 200:
            raise LabProtocolError(self.name, "http", self.http().address,
                                   f"GET of {config_name(mac)} answered HTTP {r.status_code}")
        return FirmwareConfig.parse(r.text)

    def put_phone_config(self, mac: str, config: FirmwareConfig) -> None:
        """Write the phone's configuration file. Raises LabProtocolError when the server refuses."""
        status = self.http().put(self.facts.config_path + config_name(mac), config.render().encode())
        if status not in (200, 201, 204):
            raise LabProtocolError(self.name, "http", self.http().address,
                                   f"PUT of {config_name(mac)} answered HTTP {status}")
