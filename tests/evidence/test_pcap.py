"""A call's evidence pcap reads back in dpkt with its SIP and RTP in time order, addresses, ports and
the ToS byte each RTP packet carried."""

import io

import dpkt

from harness.evidence.pcap import call_pcap


def test_call_pcap_reads_back() -> None:
    sip = [(10.0, ">", "UDP 127.0.1.1:5060", b"INVITE sip:1@x SIP/2.0\r\n\r\n"),
           (10.2, "<", "UDP 127.0.1.1:5060", b"SIP/2.0 200 OK\r\n\r\n")]
    rtp = [(10.3, ">", ("127.0.9.9", 4000), ("127.0.1.1", 16384), 0, b"\x80\x00" + bytes(170)),
           (10.32, "<", ("127.0.1.1", 16384), ("127.0.9.9", 4000), 0xB8, b"\x80\x00" + bytes(170)),
           (10.1, ">", ("::1", 1), ("::1", 2), 0, b"v6 left out")]
    packets = list(dpkt.pcap.Reader(io.BytesIO(call_pcap("UDP 127.0.9.9:5062", sip, rtp))))
    assert [round(ts, 2) for ts, _ in packets] == [10.0, 10.2, 10.3, 10.32]
    ips = [dpkt.ethernet.Ethernet(buf).data for _, buf in packets]
    assert ips[0].data.sport == 5062 and ips[0].data.dport == 5060 and ips[0].data.data.startswith(b"INVITE")
    assert ips[1].data.sport == 5060 and ips[1].data.data.startswith(b"SIP/2.0 200")
    assert ips[3].tos == 0xB8 and ips[3].data.sport == 16384 and len(ips[3].data.data) == 172
