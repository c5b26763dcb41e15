"""PSTN simulator driver: the carrier side of the lab, reached over SIP (and SSH for management).

The twin's simulator (platform ``twin_pstn``) answers OPTIONS and calls on ``sip.port``; see
:mod:`harness.devices.drivers.sip_access` for :meth:`~harness.devices.drivers.sip_access.SipFacts.options`,
:meth:`~harness.devices.drivers.sip_access.SipFacts.probe_sip` and
:meth:`~harness.devices.drivers.sip_access.SipFacts.management_alive`. :meth:`PstnSimulator.call_log`
reads what reached the carrier: its call log (CSV at ``facts.call_log`` on the simulator's host,
format in docs/twin-sip.md) over SSH.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from ...errors import LabProtocolError, LabUnreachable
from ...inventory.models import PstnDevice
from ...transports.http import HttpSession
from ...transports.sipp.hosts import LocalHost, SippHost
from ...transports.sipp.runner import SippRunner
from ..driver import Driver
from ..registry import register
from .sip_access import SipFacts
from .ssh_access import SshFacts

CALL_LOG_PATH = "/calls.csv"  # where a carrier serves its call log over HTTP (docs/carrier.md)
CALL_LOG_MAX_BYTES = 64 << 20  # project choice: 100,000 rows (the simulator's bound) are about 16 MB
CALL_LOG_COLUMNS = ("time", "method", "call_id", "transport", "source", "request_uri", "from_uri", "pai",
                    "status", "rtp_received", "dtmf_received", "ended")


@dataclass(frozen=True)
class CarrierRecord:
    """One row of the carrier's call log: a request it received outside a dialog.

    Attributes:
        time: arrival, timezone-aware UTC. method: ``INVITE``, ``OPTIONS`` …
        call_id, transport (``udp``/``tcp``), source (``ip:port`` it came from).
        request_uri: as received (``sip:+13175559000@127.0.4.1:5060;user=phone``).
        from_uri / pai: the From URI and the P-Asserted-Identity URI (``""`` when absent).
        status: the final SIP code the carrier sent, ``None`` while none.
        rtp_received: audio RTP packets received on the call (RFC 4733 packets not counted).
        dtmf_received: the RFC 4733 digits received. ended: ``bye``, ``cancel`` or ``""``.
    """

    time: datetime
    method: str
    call_id: str
    transport: str
    source: str
    request_uri: str
    from_uri: str
    pai: str
    status: int | None
    rtp_received: int
    dtmf_received: str
    ended: str


def parse_call_log(text: str, device: str = "pstn", address: str = "", transport: str = "ssh") -> list[CarrierRecord]:
    """Rows of a call log CSV (header :data:`CALL_LOG_COLUMNS`, exactly).

    Raises:
        LabProtocolError: the header differs or a row does not parse (names device and address).
    """
    rows = list(csv.reader(io.StringIO(text.replace("\r\n", "\n"))))
    if not rows or tuple(rows[0]) != CALL_LOG_COLUMNS:
        got = ",".join(rows[0]) if rows else "(empty output)"
        raise LabProtocolError(device, transport, address, f"call log header is {got[:200]!r}, "
                                                       f"expected {','.join(CALL_LOG_COLUMNS)!r}")
    out = []
    for n, r in enumerate(rows[1:], 2):
        if not r:
            continue
        try:
            if len(r) != len(CALL_LOG_COLUMNS):
                raise ValueError(f"{len(r)} columns")
            t, method, call_id, transport, source, ruri, from_uri, pai, status, rtp, dtmf, ended = r
            out.append(CarrierRecord(datetime.fromisoformat(t), method, call_id, transport, source, ruri, from_uri,
                                     pai, int(status) if status else None, int(rtp), dtmf, ended))
        except ValueError as e:
            raise LabProtocolError(device, transport, address, f"call log line {n} does not parse: {e}") from None
    return out


@register("pstn", "twin_pstn")
class PstnSimulator(SipFacts, SshFacts, Driver):
    """A PSTN simulator (``role: pstn``, a SIP UAS standing in for the carrier): a
    :class:`~harness.devices.capabilities.SipEndpoint` and an :class:`~harness.devices.capabilities.SshHost`."""

    device: PstnDevice

    def sipp(self, via: Literal["local", "ssh"] | None = None) -> SippRunner:
        """A SIPp runner for this simulator's load (see :mod:`harness.transports.sipp.runner`), binding its ``host``.

        ``via``: ``local`` runs SIPp on this machine, ``ssh`` on the simulator's host over its SSH
        session (SFTP upload, exec, SFTP fetch). Default: ``local`` for an emulated lab (the twin's
        host has no SIPp), ``ssh`` otherwise. Raises LabError when the SSH session cannot open.
        """
        where = via or ("local" if self.loaded.lab.lab.emulated else "ssh")
        host: SippHost = LocalHost()
        if where == "ssh":
            ssh = self.ssh_session()  # outside self.session(): its lock is not re-entrant
            # imported where it is used: paramiko's import (about 0.2 s of CPU) is paid by the runs that
            # open an SSH session, not by every process that loads the drivers
            from ...transports.sipp.ssh_host import SshHost

            host = self.session("sipp ssh", lambda: SshHost(ssh))
        return SippRunner(self.name, host, self.device.host, self.transcript("sipp", where))

    def http(self) -> HttpSession:
        """The HTTP session to the simulator's call log server (``http`` of the inventory).

        Raises:
            LabUnreachable: the inventory declares no ``http`` for this device.
        """
        settings = self.device.http
        if settings is None:
            raise LabUnreachable(self.name, "http", self.device.host, "the inventory declares no http settings")
        return self.session("http", lambda: HttpSession(self.name, self.device.host, settings, self.resolve,
                                                        self.transcript("http", f"{self.device.host}:{settings.port}")))

    def probe_http(self) -> str:
        """``"pstn1 HTTP call log: 12 rows"``: the call log read over HTTP. Raises LabError."""
        return f"{self.name} HTTP call log: {len(self._call_log_http())} rows"

    def probe(self, transport: str) -> str:
        """As :meth:`Driver.probe`; ``http`` reads the call log (:meth:`probe_http`)."""
        return self.probe_http() if transport == "http" else super().probe(transport)

    @property
    def call_log_transport(self) -> str:
        """How :meth:`call_log` reads the log: ``http`` when the inventory declares ``http``, else ``ssh``."""
        return "http" if self.device.http is not None else "ssh"

    def _call_log_http(self) -> list[CarrierRecord]:
        http = self.http()
        r = http.get(CALL_LOG_PATH)
        if r.status_code != 200:
            raise LabProtocolError(self.name, "http", http.address,
                                   f"GET {CALL_LOG_PATH}: HTTP {r.status_code} {r.reason_phrase}")
        return parse_call_log(r.text, self.name, http.address, "http")

    def call_log(self, timeout_s: float | None = None,
                 via: Literal["http", "ssh", "sftp"] | None = None) -> list[CarrierRecord]:
        """The carrier's call log, oldest row first, parsed.

        ``via``: ``http`` is ``GET /calls.csv`` with the bearer token (``timeout_s`` is then
        ``http.timeout_s``); ``ssh`` is ``cat <facts.call_log>`` on an exec channel; ``sftp`` fetches
        that file by SFTP (paramiko; for an account without a shell; at most
        :data:`CALL_LOG_MAX_BYTES`). Default: ``http`` when the inventory declares ``http``, else ``ssh``.

        Raises:
            LabProtocolError: the output is no call log (header differs, a row does not parse), the
                HTTP status is not 200, or the SFTP file is missing or too large.
            LabAuthError: the token or SSH credentials were refused.
            LabError: the session failed (LabTimeout past ``timeout_s``, default ``ssh.timeout_s``).
        """
        how = via or self.call_log_transport
        if how == "http":
            return self._call_log_http()
        path = self.device.facts.call_log
        ssh = self.device.ssh
        address = f"{self.device.host}:{ssh.port}" if ssh else self.device.host
        if how == "sftp":
            from ...transports.sftp import sftp_get  # paramiko: imported where it is used, as in sipp()

            buf = io.BytesIO()
            sftp_get(self.ssh_session(), path, buf, CALL_LOG_MAX_BYTES)
            return parse_call_log(buf.getvalue().decode("utf-8", "replace"), self.name, address)
        return parse_call_log(self.run(f"cat {path}", timeout_s), self.name, address)
