"""SIP phone driver (platform ``generic_sip_phone``): identity and firmware over SNMP, check-sync over SIP.

Facts come from ENTITY-MIB (model, firmware, serial of the chassis row 1), IF-MIB (the MAC of
ifIndex 1) and the lab twin's phone MIB ``1.3.6.1.4.1.99999.2`` (registration state and extension,
a project choice documented in docs/twin-snmp.md). A real phone without that MIB gives
``registered=None`` and ``extension=None``. :func:`firmware_audit` polls many phones concurrently.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ...errors import LabError, LabTimeout
from ...inventory.models import PhoneDevice
from ...transports.sip.call import CONFIRMED
from ...transports.sip.message import build_request, new_branch, new_call_id, new_tag
from ...transports.sip.stack import Peer
from ...transports.sip.transport import local_address_toward
from ...transports.sip.ua import SipUserAgent
from ...transports.snmp import SnmpClient, gather_get
from ..driver import Driver
from ..registry import register
from .sip_access import SipFacts
from .snmp_access import ENT_MODEL_1, ENT_SERIAL_1, ENT_SOFTWARE_REV_1, IF_PHYS_ADDRESS_1, SYS_UPTIME, SnmpFacts

TWIN_PHONE_REGISTERED = "1.3.6.1.4.1.99999.2.1.0"  # INTEGER registered(1) unregistered(2)
TWIN_PHONE_EXTENSION = "1.3.6.1.4.1.99999.2.2.0"  # OCTET STRING, the station's extension
PHONE_OIDS = (ENT_MODEL_1, ENT_SOFTWARE_REV_1, ENT_SERIAL_1, IF_PHYS_ADDRESS_1, TWIN_PHONE_REGISTERED,
              TWIN_PHONE_EXTENSION)
FIRMWARE_OIDS = (ENT_MODEL_1, ENT_SOFTWARE_REV_1)
TWIN_PHONE_FIRMWARE_STATE = "1.3.6.1.4.1.99999.2.5.0"  # OCTET STRING idle|downloading|…|up (docs/firmware.md)
TWIN_PHONE_UPGRADE_ERROR = "1.3.6.1.4.1.99999.2.6.0"  # OCTET STRING, why the last check-sync did not flash
DIRECT_CALL_AUDIO_S = 0.2  # project choice: 10 frames of 20 ms, enough to read the phone's RTP marking
DIRECT_CALL_TIMEOUT_S = 4.0  # project choice: a phone on the LAN answers (auto-answer or not) in seconds
POLL_TIMEOUT_S = 0.3  # project choice: one try of a "is it there?" poll during a reboot (loopback or LAN)


@dataclass(frozen=True)
class UpgradeStatus:
    """The firmware state a phone reports (twin phone MIB; ``None`` values: a phone without it)."""

    state: str | None
    error: str | None


@dataclass(frozen=True)
class FirmwareReading:
    """Model and firmware version as the phone reports them (ENTITY-MIB chassis row 1)."""

    model: str
    firmware: str

    @classmethod
    def from_values(cls, values: dict[str, object]) -> FirmwareReading:
        return cls(model=str(values.get(ENT_MODEL_1) or ""), firmware=str(values.get(ENT_SOFTWARE_REV_1) or ""))


@dataclass(frozen=True)
class PolledFirmware(FirmwareReading):
    """A :class:`FirmwareReading` with the sysUpTime read in the same GET (seconds; ``None``: not served)."""

    uptime_s: float | None = None


@dataclass(frozen=True)
class PhoneInfo:
    """What a phone reports about itself. ``mac`` is ``aa:bb:cc:dd:ee:ff``; ``registered`` and
    ``extension`` are ``None`` when the phone does not serve the twin phone MIB."""

    model: str
    firmware: str
    mac: str | None
    registered: bool | None
    extension: str | None
    serial: str


def phone_info(values: dict[str, object]) -> PhoneInfo:
    """A :class:`PhoneInfo` from the answer to a GET of :data:`PHONE_OIDS`."""
    reg = values.get(TWIN_PHONE_REGISTERED)
    ext = values.get(TWIN_PHONE_EXTENSION)
    mac = values.get(IF_PHYS_ADDRESS_1)
    return PhoneInfo(model=str(values.get(ENT_MODEL_1) or ""),
                     firmware=str(values.get(ENT_SOFTWARE_REV_1) or ""),
                     mac=str(mac) if mac else None, registered=(reg == 1) if isinstance(reg, int) else None,
                     extension=str(ext) if ext is not None else None,
                     serial=str(values.get(ENT_SERIAL_1) or ""))


@dataclass(frozen=True)
class DirectCall:
    """A call the harness placed straight to the phone (:meth:`Phone.direct_call`).

    Attributes:
        final_code / final_reason: the INVITE's final status (``None``: no final answer) and phrase.
        rtp_tos: packets per IP ToS byte of the RTP the phone sent (``IP_RECVTOS``; DSCP in its upper
            six bits, RFC 2474); audio_packets: the phone's audio packets received.
        address: the phone's SIP address called.
    """

    final_code: int | None
    final_reason: str
    rtp_tos: dict[int, int]
    audio_packets: int
    address: str

    @property
    def answered(self) -> bool:
        return self.final_code is not None and 200 <= self.final_code < 300


@register("phone", "generic_sip_phone")
class Phone(SnmpFacts, SipFacts, Driver):
    """A SIP desk phone (``role: phone``) managed over SNMP (v2c or v3 authPriv, from the inventory): an
    :class:`~harness.devices.capabilities.SnmpAgent` and a :class:`~harness.devices.capabilities.SipEndpoint`.
    Other phone platforms subclass it."""

    device: PhoneDevice

    def info(self) -> PhoneInfo:
        """Model, firmware, MAC, registration, extension and serial in one GET.

        Raises:
            LabError: timeout, auth refused or protocol error (names device and address).
        """
        return phone_info(self.snmp.get_sync(*PHONE_OIDS))

    def firmware(self) -> FirmwareReading:
        """Model and firmware only (one GET of two OIDs). Raises LabError."""
        return FirmwareReading.from_values(self.snmp.get_sync(*FIRMWARE_OIDS))

    def poll_firmware(self, timeout_s: float = POLL_TIMEOUT_S) -> PolledFirmware | None:
        """Model, firmware and sysUpTime in one GET with one try of ``timeout_s`` seconds; ``None``
        when the phone does not answer (rebooting, away, or slow). Raises LabError other than a
        timeout (auth refused …)."""
        s = self.device.snmp
        if s is None:
            self.snmp  # noqa: B018 - raises LabUnreachable naming the missing settings
            raise AssertionError("unreachable")
        client: SnmpClient = self.session("snmp-poll", lambda: SnmpClient(
            self.name, self.device.host, s.model_copy(update={"timeout_s": timeout_s, "retries": 0}),
            self.loaded.resolve, self.transcript("snmp", f"{self.device.host}:{s.port}")))
        try:
            v = client.get_sync(*FIRMWARE_OIDS, SYS_UPTIME)
        except LabTimeout:
            return None
        up = v.get(SYS_UPTIME)
        r = FirmwareReading.from_values(v)
        return PolledFirmware(r.model, r.firmware, up / 100.0 if isinstance(up, int) else None)

    def upgrade_status(self) -> UpgradeStatus:
        """Firmware state and last upgrade error from the twin phone MIB. Raises LabError."""
        v = self.snmp.get_sync(TWIN_PHONE_FIRMWARE_STATE, TWIN_PHONE_UPGRADE_ERROR)
        state, error = v.get(TWIN_PHONE_FIRMWARE_STATE), v.get(TWIN_PHONE_UPGRADE_ERROR)
        return UpgradeStatus(str(state) if state is not None else None, str(error) if error else None)

    def check_sync(self, timeout_s: float | None = None) -> int | None:
        """Send ``NOTIFY`` with ``Event: check-sync`` (out of dialog, as Polycom and Yealink phones
        take it) to the phone's SIP port; the final status code (200: the phone will fetch its
        configuration), ``None`` when no final answer came within ``timeout_s`` (default: the
        inventory's ``sip.timeout_s``).

        Raises:
            ValueError: the inventory declares no ``sip`` for this phone.
            LabUnreachable: the NOTIFY could not be sent. LabProtocolError: the answer is not SIP.
        """
        host, port = self.sip_address()
        sip = self.device.sip
        assert sip is not None
        transport = "tcp" if sip.transport == "tcp" else "udp"
        deadline = timeout_s if timeout_s is not None else sip.timeout_s
        ua: SipUserAgent = self.session("sip-ua", lambda: SipUserAgent(
            self.name, self.transcript("sip", f"{host}:{port}"), local_address_toward(host, port), user="hil"))
        core, user = ua.core, sip.username or self.device.facts.extension or "phone"
        uri = f"sip:{user}@{host}:{port}"

        async def notify() -> int | None:
            req = build_request("NOTIFY", uri, via=core.stack.via(transport, new_branch()),
                                from_=f"<sip:hil@{core.local_host}>;tag={new_tag()}", to=f"<{uri}>",
                                call_id=new_call_id(core.local_host), cseq=1, contact=core.contact(transport),
                                extra=(("Event", "check-sync"), ("Subscription-State", "terminated")),
                                user_agent=core.stack.user_agent)
            txn = await core.stack.request(req, Peer(transport, host, port), deadline)
            resp = await txn.wait_final()
            return resp.code if resp is not None else None

        return ua.run(notify(), deadline + 2.0)

    def direct_call(self, audio_s: float = DIRECT_CALL_AUDIO_S,
                    timeout_s: float = DIRECT_CALL_TIMEOUT_S) -> DirectCall:
        """Call the phone's own SIP address (``sip:USER@host:port``, not through its Edge), send a G.711
        tone for ``audio_s`` seconds once it answers, then hang up: what its RTP was marked with.
        A phone that takes calls only from its registrar answers 403 or the like (``answered`` false).

        Raises:
            ValueError: the inventory declares no ``sip`` for this phone.
            LabUnreachable: the INVITE could not be sent.
        """
        host, port = self.sip_address()
        sip = self.device.sip
        assert sip is not None
        transport = "tcp" if sip.transport == "tcp" else "udp"
        ua: SipUserAgent = self.session("sip-ua", lambda: SipUserAgent(
            self.name, self.transcript("sip", f"{host}:{port}"), local_address_toward(host, port), user="hil"))
        user = sip.username or self.device.facts.extension or "phone"
        call = ua.dial(f"sip:{user}@{host}:{port}", peer=(host, port), transport=transport, timeout_s=timeout_s)
        if call.state == CONFIRMED:
            time.sleep(audio_s)
            stats = call.rtp_stats()
            call.bye()
        else:
            stats = call.rtp_stats()
        r = call.result()
        return DirectCall(r.final_code, r.final_reason, dict(stats.tos), stats.audio_packets, f"{host}:{port}")


def firmware_audit(drivers: list[Phone], limit: int = 50) -> dict[str, FirmwareReading | LabError]:
    """Read model and firmware of every phone at once (at most ``limit`` GETs in flight).

    Returns:
        ``{device name: FirmwareReading}``, or the :class:`LabError` of a phone that did not
        answer; one dead phone costs one timeout, in parallel with the others.
    """
    out: dict[str, FirmwareReading | LabError] = {}
    polled: list[Phone] = []
    for d in drivers:
        try:
            d.snmp  # noqa: B018 - opens the session; raises if the inventory has no snmp settings
        except LabError as e:
            out[d.name] = e
        else:
            polled.append(d)
    results = gather_get([(d.snmp, FIRMWARE_OIDS) for d in polled], limit=limit)
    for d, r in zip(polled, results, strict=True):
        out[d.name] = r if isinstance(r, LabError) else FirmwareReading.from_values(r)
    return {d.name: out[d.name] for d in drivers}
