"""A call's evidence pcap: the SIP messages and RTP packets the harness's probe sent and received,
written as a classic libpcap file (dpkt) a voice engineer opens in Wireshark (Telephony > VoIP Calls,
RTP Stream Analysis).

The probe does not sniff: it records what passed through its own sockets (the SIP ladder's raw
messages, the RTP session's datagrams with the ToS byte each carried), and each is wrapped here in
Ethernet/IPv4/UDP headers rebuilt from its addresses (MACs are zero; SIP over TCP is written as
UDP datagrams, one per message, since the probe keeps messages, not segments). The RTP packets keep
their received ToS byte, so the capture shows the DSCP the check judged; SIP's is not known per
message and is written as 0.
"""

from __future__ import annotations

import io
import ipaddress
import socket
from collections.abc import Iterable

import dpkt

SipRow = tuple[float, str, str, bytes]  # (epoch, ">"|"<", "UDP host:port" of the peer, message)
RtpRow = tuple[float, str, tuple[str, int], tuple[str, int], int, bytes]  # (epoch, dir, src, dst, tos, datagram)


def _addr(text: str) -> tuple[str, int]:
    """``"UDP 127.0.1.1:5060"`` -> ``("127.0.1.1", 5060)`` (``("0.0.0.0", 0)`` when unreadable)."""
    hostport = text.split()[-1] if text.split() else ""
    host, _, port = hostport.rpartition(":")
    try:
        return host.strip("[]"), int(port)
    except ValueError:
        return "0.0.0.0", 0


def _frame(src: tuple[str, int], dst: tuple[str, int], tos: int, payload: bytes) -> bytes | None:
    try:
        s, d = ipaddress.ip_address(src[0]), ipaddress.ip_address(dst[0])
    except ValueError:
        return None
    if s.version != 4 or d.version != 4:
        return None
    udp = dpkt.udp.UDP(sport=src[1], dport=dst[1], data=payload)
    udp.ulen = len(udp)
    ip = dpkt.ip.IP(src=socket.inet_aton(str(s)), dst=socket.inet_aton(str(d)), p=dpkt.ip.IP_PROTO_UDP, tos=tos,
                    ttl=64, data=udp)
    ip.len = len(ip)
    return bytes(dpkt.ethernet.Ethernet(src=b"\0" * 6, dst=b"\0" * 6, type=dpkt.ethernet.ETH_TYPE_IP, data=ip))


def call_pcap(local: str, sip: Iterable[SipRow], rtp: Iterable[RtpRow]) -> bytes:
    """The pcap bytes of one call seen from the probe at ``local`` (``"UDP host:port"``, the ladder's
    ``local``): SIP and RTP in time order. Packets with non-IPv4 addresses are left out."""
    me = _addr(local)
    rows: list[tuple[float, bytes]] = []
    for wall, direction, peer, msg in sip:
        other = _addr(peer)
        src, dst = (me, other) if direction == ">" else (other, me)
        if (f := _frame(src, dst, 0, msg)) is not None:
            rows.append((wall, f))
    for wall, _direction, src, dst, tos, data in rtp:
        if (f := _frame(src, dst, tos, data)) is not None:
            rows.append((wall, f))
    out = io.BytesIO()
    writer = dpkt.pcap.Writer(out, linktype=dpkt.pcap.DLT_EN10MB)
    for wall, f in sorted(rows, key=lambda r: r[0]):
        writer.writepkt(f, ts=wall)
    return out.getvalue()
