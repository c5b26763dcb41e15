"""The STUN client against a STUN server labs really run: coturn (Debian ``coturn``, in the
Makefile's DEBIAN_PACKAGES) in STUN-only mode on two loopback addresses, where it serves RFC 5780
(OTHER-ADDRESS, RESPONSE-ORIGIN, CHANGE-REQUEST). Loopback has no NAT, so discovery ends at test I
("no NAT"); the change requests and the alternate address are asked directly."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest

from harness.transports.stun import CHANGE_IP, CHANGE_PORT, EIM, binding, binding_tcp, discover
from tests.conftest import TEST_NET

TURNSERVER = shutil.which("turnserver")
PRIMARY, ALTERNATE = f"{TEST_NET}.250.1", f"{TEST_NET}.250.2"
CLIENT = f"{TEST_NET}.250.9"
pytestmark = pytest.mark.skipif(TURNSERVER is None, reason="coturn is not installed (make system-packages)")


@pytest.fixture(scope="module")
def coturn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    run = tmp_path_factory.mktemp("coturn")
    assert TURNSERVER is not None
    proc = subprocess.Popen([TURNSERVER, "-n", "--stun-only", "--no-cli", "--no-tls", "--no-dtls", "--no-auth",
                             "-L", PRIMARY, "-L", ALTERNATE, "--listening-port", "3478", "--alt-listening-port", "3479",
                             "--log-file", "stdout", "--simple-log", "--pidfile", str(run / "turnserver.pid")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                binding_tcp(CLIENT, (PRIMARY, 3478), timeout_s=0.5)
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.1)
        yield PRIMARY, 3478
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_discovery_against_coturn_sees_no_nat_on_loopback(coturn):
    found = discover(CLIENT, coturn, timeout_s=0.5)
    assert found.mapped == found.local and not found.nat and found.mapping == EIM, found


def test_coturn_answers_the_rfc5780_requests_the_client_sends(coturn):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((CLIENT, 0))
        one = binding(s, coturn, timeout_s=0.5)
        assert one is not None and one.other == (ALTERNATE, 3479) and one.origin == (PRIMARY, 3478)
        both = binding(s, coturn, CHANGE_IP | CHANGE_PORT, timeout_s=0.5)
        assert both is not None and both.origin == (ALTERNATE, 3479)
        port = binding(s, coturn, CHANGE_PORT, timeout_s=0.5)
        assert port is not None and port.origin == (PRIMARY, 3479)
        two = binding(s, (ALTERNATE, 3478), timeout_s=0.5)
        assert two is not None and two.mapped == one.mapped
