"""The SNTP server of the ``ntp`` unit: one UDP endpoint per served address (service ``sntp <address>``).

A request (48 bytes or more, mode 3 client) is answered in server mode 4 (RFC 4330 §5, RFC 5905
§7.3): the client's version, ``stratum`` of the state, leap 0, the client's transmit timestamp
copied bit for bit into the originate field, receive and transmit timestamps from this host's clock
plus ``ntp-offset`` (when it names this server or none). ``ntp-silent`` drops the request;
``ntp-unsynchronized`` answers with leap 3 and stratum 16. Other datagrams are ignored, as a server
does. The packet codec is ntplib's.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time

import ntplib

from ..core.twin import Service, Twin
from .faults import NTP_OFFSET, NTP_SERVER_SILENT, NTP_SILENT, NTP_UNSYNCHRONIZED
from .state import UPSTREAM_REF_ID, NtpState

_PACKET_BYTES = 48
_PRECISION = -20  # log2 seconds: about a microsecond (RFC 5905 §7.3); project choice
_ROOT_DELAY_S = 0.010  # to the upstream stratum-1 server; project choice
_ROOT_DISPERSION_S = 0.020  # project choice
_REF_AGE_S = 64.0  # the clock was last set one default poll interval ago (RFC 5905 minpoll 6); project choice


def answer(state: NtpState, request: bytes, received_at: float, host: str) -> bytes | None:
    """The answer of the server on ``host`` to ``request`` (received at epoch ``received_at``), or
    ``None`` to stay silent."""
    if len(request) < _PACKET_BYTES or request[0] & 0x7 != 3 or NTP_SILENT.on(state):
        return None
    if NTP_SERVER_SILENT.value(state) == host:
        return None
    offset = NTP_OFFSET.value(state)
    skew = offset[1] if offset is not None and offset[0] in (None, host) else 0.0
    p = ntplib.NTPPacket(version=(request[0] >> 3) & 0x7 or 4, mode=4)
    p.stratum, p.poll, p.precision = state.stratum, request[2], _PRECISION
    if NTP_UNSYNCHRONIZED.on(state):
        p.leap, p.stratum = 3, 16  # RFC 5905 §7.3: alarm, unsynchronized
    p.root_delay, p.root_dispersion = _ROOT_DELAY_S, _ROOT_DISPERSION_S
    p.ref_id = int(ipaddress.IPv4Address(UPSTREAM_REF_ID))
    p.ref_timestamp = ntplib.system_to_ntp_time(received_at + skew - _REF_AGE_S)
    p.recv_timestamp = ntplib.system_to_ntp_time(received_at + skew)
    p.tx_timestamp = ntplib.system_to_ntp_time(time.time() + skew)
    data = bytearray(p.to_data())
    data[24:32] = request[40:48]  # originate = the client's transmit timestamp, bit for bit
    return bytes(data)


class _Endpoint(asyncio.DatagramProtocol):
    def __init__(self, state: NtpState, host: str) -> None:
        self.state, self.host = state, host
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a _SelectorDatagramTransport

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        out = answer(self.state, data, time.time(), self.host)
        if out is not None and self.transport is not None:
            self.transport.sendto(out, addr)
            self.state.answered += 1


class SntpService:
    """The SNTP server on one address of the unit."""

    def __init__(self, state: NtpState, host: str) -> None:
        self.state, self.host = state, host
        self.name = f"sntp {host}"
        self._transport: asyncio.DatagramTransport | None = None

    async def start(self) -> None:
        if self._transport is not None:
            return
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: _Endpoint(self.state, self.host),
                                                           local_addr=(self.host, self.state.port))
        self._transport = transport

    async def stop(self) -> None:
        transport, self._transport = self._transport, None
        if transport is not None:
            transport.close()


def ntp_services(twin: Twin, unit: str) -> list[Service]:
    """One SNTP server per served address."""
    st = twin.states[unit]
    assert isinstance(st, NtpState)
    return [SntpService(st, host) for host in st.servers]
