"""DSCP on the wire: the ToS byte a socket marks arrives at a TosUdpEndpoint unchanged (loopback keeps
it, NETWORK-NOTES E3/E4), and an RTP receiver counts it per packet."""

import asyncio

import dpkt
import pytest

from harness.transports.rtp import RtpSession
from harness.transports.rtp_receiver import RtpReceiver
from harness.transports.udp_tos import dscp_of, open_udp_tos, tos_of_dscp
from tests.conftest import TEST_NET


class _Sink(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.got: list[tuple[bytes, int | None]] = []

    def datagram_received_tos(self, data: bytes, addr: tuple[str, int], tos: int | None) -> None:
        self.got.append((data, tos))


def test_dscp_and_tos_convert() -> None:
    assert tos_of_dscp(46) == 0xB8 and tos_of_dscp(24) == 0x60
    assert dscp_of(0xB8) == 46 and dscp_of(0xB9) == 46  # ECN bits are not DSCP
    with pytest.raises(ValueError):
        tos_of_dscp(64)


def test_marked_datagrams_arrive_with_their_tos() -> None:
    host = f"{TEST_NET}.10.1"

    async def run() -> list[tuple[bytes, int | None]]:
        rx_proto, tx_proto = _Sink(), _Sink()
        rx = await open_udp_tos(rx_proto, host)
        now = [0xB8]
        tx = await open_udp_tos(tx_proto, host, mark=lambda: now[0])
        for i, tos in enumerate([0xB8, 0x60, 0x00, 0xB9]):  # re-read before every datagram
            now[0] = tos
            tx.sendto(bytes([i]), rx.get_extra_info("sockname"))
        for _ in range(50):
            if len(rx_proto.got) == 4:
                break
            await asyncio.sleep(0.01)
        tx.close()
        rx.close()
        return rx_proto.got

    got = asyncio.run(run())
    assert got == [(b"\x00", 0xB8), (b"\x01", 0x60), (b"\x02", 0x00), (b"\x03", 0xB9)]


def test_receiver_counts_tos_loss_and_round_trips() -> None:
    rx = RtpReceiver()
    frame = b"\x11" * 160
    rx.sent_at = {frame: 1.000}
    for seq in (1, 2, 4, 5):  # 3 is lost
        rx.feed(bytes(dpkt.rtp.RTP(pt=0, seq=seq, ts=seq * 160, ssrc=7, data=frame)), 1.050, 0xB8)
    rx.feed(bytes(dpkt.rtp.RTP(pt=0, seq=6, ts=6 * 160, ssrc=7, data=b"\x22" * 160)), 1.060, 0x00)
    st = rx.stats
    assert st.tos == {0xB8: 4, 0x00: 1} and st.dscp == {46: 4, 0: 1}
    assert st.lost == 1 and st.expected == 6 and st.loss_pct == pytest.approx(100 / 6)
    assert st.rtt_ms == pytest.approx([50.0] * 4)


def test_rtp_session_marks_and_reads() -> None:
    host = f"{TEST_NET}.10.1"

    async def run() -> tuple[dict[int, int], list[float]]:
        a = RtpSession(host, mark=lambda: 0xB8)
        b = RtpSession(host, echo=True, mark=lambda: 0x60)
        await a.open()
        await b.open()
        a.configure((host, b.port), "PCMU", 0, None, True, (0,), None)
        b.configure((host, a.port), "PCMU", 0, None, True, (0,), None)
        await asyncio.sleep(0.3)
        sa, sb = a.stats(), b.stats()
        await a.close()
        await b.close()
        assert sb.tos and set(sb.tos) == {0xB8}
        return sa.tos, sa.rtt_ms

    tos, rtt = asyncio.run(run())
    assert set(tos) == {0x60}
    assert rtt and all(0 <= r < 100 for r in rtt)
