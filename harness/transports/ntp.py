"""An NTP client probe (RFC 5905 client mode 3; ntplib's packet codec and offset arithmetic).

:func:`query` asks one NTP server once, from a chosen source address (the harness's vantage address
on the voice VLAN: the server is asked as a phone there would ask it), and returns an
:class:`NtpReading`: the server's stratum, leap indicator and reference ID, the offset of the
server's clock against the harness's and the round-trip delay, in seconds.

ntplib's own ``NTPClient.request`` cannot bind a source address, so the socket is ours; the packet
(``ntplib.NTPPacket``) and the on-wire arithmetic (``ntplib.NTPStats.offset``/``delay``: offset =
((T2 − T1) + (T3 − T4)) / 2, delay = (T4 − T1) − (T3 − T2), RFC 5905 §8) are ntplib's. An answer
whose originate timestamp is not our transmit timestamp is not ours (RFC 5905 §8, "bogus") and is
skipped; a datagram from another address too.

Errors name ``ntp`` and ``host:port`` (:class:`~harness.errors.LabError`): no answer within the
deadline is LabTimeout; a refused port (ICMP port unreachable) or an unresolvable name is
LabUnreachable; a source address the host does not have is :class:`NtpSourceError` (a LabUnreachable:
the harness is not on the segment it was to probe from); an answer that is not an NTP server's (too
short, mode not 4) is LabProtocolError.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass

import ntplib

from ..errors import LabProtocolError, LabTimeout, LabUnreachable

NTP_PORT = 123  # RFC 5905
NTP_VERSION = 4  # RFC 5905
SERVER_MODE = 4  # RFC 5905 §7.3: mode 4 is "server"
UNSYNCHRONIZED_STRATUM = 16  # RFC 5905 §7.3: stratum 16 is "unsynchronized"
_PACKET_BYTES = 48  # RFC 5905 §7.3: the header without extension fields or MAC
_ORIGIN_TOLERANCE_S = 1e-6  # the 32-bit fraction round-trips our float within 2**-32 s; project choice


class NtpSourceError(LabUnreachable):
    """The request could not leave from the source address asked for (not an address of this host):
    the harness is not where it was to probe from, whatever the server would have answered."""


@dataclass(frozen=True)
class NtpReading:
    """One answer of an NTP server.

    Attributes:
        server: the server as asked (address or name); ``address``: ``host:port`` it answered from.
        stratum: 1 (primary) .. 15; 16 unsynchronized; 0 unspecified / kiss-o'-death (RFC 5905 §7.3).
        leap: leap indicator, 0..2, or 3 "unknown (clock unsynchronized)".
        ref_id: the reference ID as text (``"GPS"``, an address, or the kiss code).
        offset_s: the server's clock minus the harness's, seconds (positive: the server is ahead).
        delay_s: round-trip delay, seconds.
        measured_at: the harness's time (epoch seconds) when the answer arrived.
    """

    server: str
    address: str
    stratum: int
    leap: int
    ref_id: str
    offset_s: float
    delay_s: float
    measured_at: float

    def reference_time(self, harness_time: float) -> float:
        """The server's time (epoch seconds) at harness time ``harness_time``, by this reading's offset."""
        return harness_time + self.offset_s


def query(server: str, port: int = NTP_PORT, timeout_s: float = 2.0, source: str | None = None,
          device: str = "ntp") -> NtpReading:
    """Ask ``server`` (address or name) on UDP ``port`` once, from ``source`` (an address of this host;
    ``None``: the routing table's choice), within ``timeout_s`` seconds.

    Raises:
        LabTimeout: no answer in time. LabUnreachable: the name does not resolve, or the port is refused.
        NtpSourceError: ``source`` is not an address of this host. LabProtocolError: the answer is not an NTP
        server's (shorter than 48 bytes, or its mode is not 4).
    """
    address = f"{server}:{port}"
    try:
        info = socket.getaddrinfo(server, port, socket.AF_UNSPEC, socket.SOCK_DGRAM)[0]
    except socket.gaierror as e:
        raise LabUnreachable(device, "ntp", address, f"the name does not resolve ({e.strerror})") from None
    family, sockaddr = info[0], info[4]
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        try:
            if source is not None:
                s.bind((source, 0))
            s.connect(sockaddr)  # a refused port shows as ConnectionRefusedError on recv
        except OSError as e:
            raise NtpSourceError(device, "ntp", address, f"cannot send from {source or 'this host'}: "
                                 f"{e.strerror or e}") from None
        deadline = time.monotonic() + timeout_s
        sent = ntplib.system_to_ntp_time(time.time())
        s.send(ntplib.NTPPacket(version=NTP_VERSION, mode=3, tx_timestamp=sent).to_data())
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise LabTimeout(device, "ntp", address, f"no NTP answer within {timeout_s:g} s")
            s.settimeout(left)
            try:
                data = s.recv(1024)
            except TimeoutError:
                raise LabTimeout(device, "ntp", address, f"no NTP answer within {timeout_s:g} s") from None
            except ConnectionRefusedError:
                raise LabUnreachable(device, "ntp", address, "port unreachable: no NTP server listens") from None
            arrived = time.time()
            if len(data) < _PACKET_BYTES:
                raise LabProtocolError(device, "ntp", address, f"a {len(data)}-byte answer is no NTP packet")
            stats = ntplib.NTPStats()
            try:
                stats.from_data(data)
            except ntplib.NTPException as e:
                raise LabProtocolError(device, "ntp", address, f"undecodable NTP answer: {e}") from None
            if abs(stats.orig_timestamp - sent) > _ORIGIN_TOLERANCE_S:
                continue  # not the answer to our request (RFC 5905 §8)
            break
    if stats.mode != SERVER_MODE:
        raise LabProtocolError(device, "ntp", address, f"answer in mode {stats.mode}, not server mode 4")
    stats.dest_timestamp = ntplib.system_to_ntp_time(arrived)
    host = str(sockaddr[0])
    return NtpReading(server=server, address=f"{host}:{port}", stratum=stats.stratum,
                      leap=stats.leap, ref_id=ntplib.ref_id_to_text(stats.ref_id, stats.stratum),
                      offset_s=stats.offset, delay_s=stats.delay, measured_at=arrived)


__all__ = ["NTP_PORT", "UNSYNCHRONIZED_STRATUM", "NtpReading", "NtpSourceError", "query"]
