"""The STUN client against minimal servers of its own (no twin): a plain RFC 5389 server that names
no OTHER-ADDRESS leaves mapping and filtering undetermined; a server that sees the client's own
address means no NAT; an ICMP refusal reaches a connected socket."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from aioice import stun

from harness.transports.stun import EIM, binding, discover
from tests.conftest import TEST_NET

SERVER = f"{TEST_NET}.251.78"
CLIENT = f"{TEST_NET}.251.79"


@pytest.fixture
def plain_server() -> Iterator[tuple[str, int]]:
    """A Binding server that answers with the client's address as it sees it, and nothing else."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((SERVER, 0))
    s.settimeout(0.1)
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            try:
                data, addr = s.recvfrom(2048)
            except TimeoutError:
                continue
            req = stun.parse_message(data)
            resp = stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.RESPONSE,
                                transaction_id=req.transaction_id, attributes={"XOR-MAPPED-ADDRESS": addr})
            s.sendto(bytes(resp), addr)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    yield s.getsockname()
    stop.set()
    t.join()
    s.close()


def test_no_nat_is_endpoint_independent_by_definition(plain_server):
    found = discover(CLIENT, plain_server, timeout_s=0.2)
    assert found.mapped == found.local and not found.nat
    assert found.mapping == found.filtering == EIM


def test_a_server_without_other_address_leaves_the_mapping_undetermined(plain_server, monkeypatch):
    real = stun.parse_message

    def behind_nat(data: bytes) -> stun.Message:  # the client sees a mapped address that is not its own
        msg = real(data)
        if "XOR-MAPPED-ADDRESS" in msg.attributes:
            msg.attributes["XOR-MAPPED-ADDRESS"] = ("192.0.2.10", 40000)
        return msg

    monkeypatch.setattr(stun, "parse_message", behind_nat)
    found = discover(CLIENT, plain_server, timeout_s=0.2)
    assert found.nat and found.mapped == ("192.0.2.10", 40000)
    assert found.mapping is None and "names no OTHER-ADDRESS" in found.steps[-1]


def test_a_refused_port_reaches_a_connected_socket():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as closed:
        closed.bind((SERVER, 0))
        port = closed.getsockname()[1]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((CLIENT, 0))
        s.connect((SERVER, port))
        with pytest.raises(ConnectionRefusedError):
            binding(s, (SERVER, port), timeout_s=0.2)
