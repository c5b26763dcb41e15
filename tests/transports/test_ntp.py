"""The NTP probe (harness.transports.ntp) against a one-shot UDP server on loopback: the offset and the
server's fields come through, a foreign answer is skipped, silence is a LabTimeout, a closed port
LabUnreachable, garbage LabProtocolError, and the request leaves from the source address asked for."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from harness.errors import LabProtocolError, LabTimeout, LabUnreachable
from harness.transports.ntp import NtpSourceError, query
from harness.twin.ntp.server import answer
from harness.twin.ntp.state import NtpState
from tests.conftest import TEST_NET

SERVER = f"{TEST_NET}.8.201"
SOURCE = f"{TEST_NET}.3.251"

Reply = Callable[[bytes, tuple[str, int]], list[bytes]]


@pytest.fixture
def serve() -> Iterator[Callable[[Reply], int]]:
    """``serve(reply)``: a UDP server on SERVER answering one request with ``reply(request, sender)``;
    returns its port."""
    socks: list[socket.socket] = []
    seen: list[tuple[str, int]] = []

    def start(reply: Reply) -> int:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((SERVER, 0))
        s.settimeout(3)
        socks.append(s)

        def run() -> None:
            try:
                data, sender = s.recvfrom(1024)
            except OSError:
                return
            seen.append(sender)
            for out in reply(data, sender):
                s.sendto(out, sender)

        threading.Thread(target=run, daemon=True).start()
        return int(s.getsockname()[1])

    start.seen = seen  # type: ignore[attr-defined]
    yield start
    for s in socks:
        s.close()


def _state(**faults: str | None) -> NtpState:
    return NtpState(name="ntp", role="ntp", platform="sntp", host=SERVER, servers=[SERVER], faults=dict(faults))


def test_offset_stratum_and_source(serve) -> None:
    port = serve(lambda req, _: [answer(_state(**{"ntp-offset": "2.5"}), req, time.time(), SERVER) or b""])
    r = query(SERVER, port, timeout_s=2, source=SOURCE)
    assert r.stratum == 2 and r.leap == 0 and r.ref_id == "192.0.2.1"
    assert abs(r.offset_s - 2.5) < 0.05 and 0 <= r.delay_s < 0.5, r
    assert serve.seen[0][0] == SOURCE  # asked from the vantage address
    assert abs(r.reference_time(r.measured_at) - (r.measured_at + r.offset_s)) < 1e-9


def test_an_answer_to_another_request_is_skipped(serve) -> None:
    def reply(req: bytes, _: object) -> list[bytes]:
        good = answer(_state(), req, time.time(), SERVER)
        assert good is not None
        stale = good[:24] + bytes(8) + good[32:]  # originate timestamp is not ours
        return [stale, good]

    r = query(SERVER, serve(reply), timeout_s=2)
    assert abs(r.offset_s) < 0.05


def test_silence_is_a_timeout(serve) -> None:
    port = serve(lambda req, _: [answer(_state(**{"ntp-silent": None}), req, 0.0, SERVER) or b""][:0])
    with pytest.raises(LabTimeout, match=r"ntp .*: no NTP answer within 0.3 s"):
        query(SERVER, port, timeout_s=0.3)


def test_a_closed_port_is_unreachable() -> None:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((SERVER, 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(LabUnreachable, match="port unreachable"):
        query(SERVER, port, timeout_s=1)


def test_a_source_address_not_on_this_host_is_unreachable() -> None:
    with pytest.raises(NtpSourceError, match=r"cannot send from 192\.0\.2\.7"):
        query(SERVER, 123, timeout_s=0.2, source="192.0.2.7")


def test_garbage_is_a_protocol_error(serve) -> None:
    port = serve(lambda req, _: [b"hello"])
    with pytest.raises(LabProtocolError, match="5-byte answer"):
        query(SERVER, port, timeout_s=1)


def test_a_client_mode_answer_is_a_protocol_error(serve) -> None:
    port = serve(lambda req, _: [bytes([req[0]]) + req[1:24] + req[40:48] + req[32:]])
    with pytest.raises(LabProtocolError, match="mode 3, not server mode 4"):
        query(SERVER, port, timeout_s=1)
