"""The WAN link's arithmetic on the loop clock: loss, delay with order kept, and the token bucket."""

import asyncio
import random

import pytest

from harness.twin.core import uplink
from harness.twin.wan.link import IP_UDP, L2_OVERHEAD, QUEUE_MAX_MS, WanLink, WanService
from harness.twin.wan.state import WanState


def _link(**faults: str) -> WanLink:
    st = WanState(name="wan", role="wan", platform="twin_wan", host="", faults=dict(faults))
    return WanLink(st, random.Random(7))


def _run(link: WanLink, n: int, every_s: float, size: int = 172) -> list[tuple[int, float]]:
    async def go() -> list[tuple[int, float]]:
        loop = asyncio.get_running_loop()
        got: list[tuple[int, float]] = []
        t0 = loop.time()
        for i in range(n):
            link.carry("out", i.to_bytes(2, "big") + bytes(size - 2), lambda d: got.append(
                (int.from_bytes(d[:2], "big"), loop.time() - t0)))
            await asyncio.sleep(every_s)
        await asyncio.sleep(0.3)
        return got

    return asyncio.run(go())


def test_no_fault_passes_everything_at_once() -> None:
    got = _run(_link(), 20, 0.0)
    assert [i for i, _ in got] == list(range(20))


def test_loss_drops_about_the_share_asked() -> None:
    link = _link(**{"wan-loss": "20"})
    got = _run(link, 500, 0.0)
    assert 60 <= 500 - len(got) <= 140 and link.st.lost["out"] == 500 - len(got)


def test_delay_keeps_order_and_jitter_stays_in_its_bounds() -> None:
    got = _run(_link(**{"wan-delay": "50"}), 20, 0.0)
    assert [i for i, _ in got] == list(range(20)) and all(t >= 0.049 for _, t in got)
    got = _run(_link(**{"wan-delay": "50", "wan-jitter": "20"}), 20, 0.005)
    assert sorted(i for i, _ in got) == list(range(20))
    assert all(t - i * 0.005 >= 0.029 for i, t in got)


def test_shaper_holds_the_rate_and_drops_past_its_queue() -> None:
    link = _link(**{"wan-shape": "64"})  # below one G.711 call (87.2 kbit/s on Ethernet)
    got = _run(link, 100, 0.0)  # a burst of 100 datagrams
    per_packet_s = (172 + IP_UDP + L2_OVERHEAD) * 8 / 64_000
    assert len(got) == pytest.approx(QUEUE_MAX_MS / 1000 / per_packet_s + 1, abs=1)
    assert link.st.shaped_out["out"] == 100 - len(got)


def test_the_wan_service_is_the_sites_uplink_while_it_runs() -> None:
    st = WanState(name="wan", role="wan", platform="twin_wan", host="")
    service = WanService(st)
    assert uplink.active() is None
    asyncio.run(service.start())
    try:
        link = uplink.active()
        assert link is service.link
        st.octets["in"], st.offered_octets["out"] = 1000, 2000
        assert link.switch_port_octets() == (1000, 2000)
    finally:
        asyncio.run(service.stop())
    assert uplink.active() is None
