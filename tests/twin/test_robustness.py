"""The twin and `hil lab` under a new user's mistakes: busy ports, two starts at once, a real lab,
bad fault values, a broken control channel.

Labs here live on two test networks next to HIL_TEST_NET (copies of the shipped inventory), each started and
stopped by its own test.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.errors import InventoryError
from harness.inventory import load
from harness.twin import manager
from harness.twin.lab import ServiceStartError, Twin
from tests.conftest import REPO, make_test_lab, other_net

#: these tests start labs of their own (tests/conftest.py marks those that use the session twin)
pytestmark = pytest.mark.twin

NET_A, NET_B = other_net(4), other_net(5)
UNSET = "HIL_ROBUSTNESS_NEVER_SET"


def hil(*args: str, timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness.cli", *args], capture_output=True, text=True,
                          timeout=timeout_s, check=False, cwd=REPO)


def lab(dest: Path, net: str = NET_A, **replace: str) -> Path:
    """A copy of the shipped lab on ``net``; ``replace`` maps old text to new text in the inventory."""
    text = (REPO / "lab_inventory.yaml").read_text().replace("127.0.", f"{net}.")
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    return make_test_lab(dest, text)


def assert_no_twin(inv: Path) -> None:
    assert not manager.state_file(inv).exists()
    assert manager.read_state(inv) is None


@pytest.fixture
def busy_ssh() -> Iterator[socket.socket]:
    """Something else listening on sw1's SSH address."""
    s = socket.socket()
    s.bind((f"{NET_A}.2.1", 2222))
    s.listen()
    yield s
    s.close()


# --- 1. a port the twin needs is busy ----------------------------------------------------------

def test_busy_port_is_one_line_and_leaves_nothing(tmp_path: Path, busy_ssh: socket.socket) -> None:
    inv = lab(tmp_path / "lab")
    want = f"twin: sw1 ssh {NET_A}.2.1:2222: address already in use (errno 98), held by pid {os.getpid()} ("
    r = hil("lab", "up", "--inventory", str(inv))
    assert r.returncode == 3, r.stdout + r.stderr
    assert r.stderr.strip().startswith(want) and "\n" not in r.stderr.strip() and r.stdout == "", r.stderr
    assert_no_twin(inv)
    with pytest.raises(manager.TwinError) as e:
        manager.up(inv)
    assert str(e.value).startswith(want), str(e.value)
    assert_no_twin(inv)


def test_second_twin_on_taken_addresses_names_the_first(tmp_path: Path) -> None:
    """Two checkouts of one lab: the second ``hil lab up`` says which twin to stop, and where."""
    first = lab(tmp_path / "first")
    copy = make_test_lab(tmp_path / "second", first.read_text())
    info, _ = manager.up(first)
    try:
        r = hil("lab", "up", "--inventory", str(copy))
    finally:
        manager.down(first)
    assert r.returncode == 3, r.stdout + r.stderr
    assert (f"address already in use (errno 98), held by the lab twin of {first} (pid {info['pid']}); "
            f"stop it with: hil lab down --inventory {first}") in r.stderr, r.stderr
    assert_no_twin(copy)


def test_busy_udp_port_names_the_service(tmp_path: Path) -> None:
    inv = lab(tmp_path / "lab")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((f"{NET_A}.2.1", 1161))
        r = hil("lab", "up", "--inventory", str(inv))
    assert r.returncode == 3
    assert r.stderr.strip().startswith(f"twin: sw1 snmp {NET_A}.2.1:1161: address already in use (errno 98), "
                                       f"held by pid {os.getpid()} ("), r.stderr
    assert_no_twin(inv)


def test_host_the_twin_cannot_serve_is_an_inventory_error(tmp_path: Path) -> None:
    inv = lab(tmp_path / "lab", **{f"host: {NET_A}.2.1": "host: no-such-host.invalid"})
    r = hil("lab", "up", "--inventory", str(inv))
    assert r.returncode == 2, r.stdout + r.stderr
    assert re.fullmatch(rf"{re.escape(str(inv))}:\d+: devices\.sw1\.host: 'no-such-host\.invalid': the twin of an "
                        r"emulated lab serves every device on loopback, so host must be an IPv4 address in "
                        r"127\.0\.0\.0/8", (r.stdout + r.stderr).strip()), r.stdout + r.stderr
    assert_no_twin(inv)


def test_failed_start_stops_what_started(tmp_path: Path) -> None:
    """In-process: the last device cannot bind, so every earlier service must be stopped again."""
    loaded = load(lab(tmp_path / "lab"))
    pstn = loaded.lab.devices["pstn1"]
    assert pstn.sip is not None
    sip_port = pstn.sip.port
    edge = loaded.lab.devices["edge1"]

    async def start() -> Twin:
        twin = Twin(loaded, manager.runtime_dir(loaded.path))
        with pytest.raises(ServiceStartError) as e:
            await twin.start()
        assert (e.value.device, e.value.address) == ("pstn1", f"{pstn.host}:{sip_port}")
        assert "address already in use" in e.value.reason
        return twin

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((pstn.host, sip_port))
        twin = asyncio.run(start())
    assert not any(twin.status()["devices"][n]["up"] for n in twin.states)
    for host, port in ((edge.host, 5060), (f"{NET_A}.2.1", 2222), (edge.host, 8060), (pstn.host, 2222)):
        with socket.socket() as probe:  # released: we can bind it ourselves
            probe.bind((host, port))


# --- 2. two starts at once ---------------------------------------------------------------------

def test_concurrent_up_starts_one_twin(tmp_path: Path) -> None:
    inv = lab(tmp_path / "lab", NET_B)
    barrier = threading.Barrier(2)
    results: list[tuple[dict[str, object], bool] | BaseException] = []

    def go() -> None:
        barrier.wait()
        try:
            results.append(manager.up(inv))
        except BaseException as e:  # reported by the assertion below
            results.append(e)

    threads = [threading.Thread(target=go) for _ in range(2)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert all(isinstance(r, tuple) for r in results), results
        pids = {r[0]["pid"] for r in results if isinstance(r, tuple)}
        started = sorted(r[1] for r in results if isinstance(r, tuple))
        assert len(pids) == 1 and started == [False, True]
    finally:
        manager.down(inv)
    assert_no_twin(inv)

    procs = [subprocess.Popen([sys.executable, "-m", "harness.cli", "lab", "up", "--inventory", str(inv)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
             for _ in range(2)]
    try:
        outs = [p.communicate(timeout=120) for p in procs]
        assert [p.returncode for p in procs] == [0, 0], outs
        said = sorted(o for o, _ in outs)
        assert "already running" in said[0] and "started" in said[1]
        assert len({re.search(r"pid (\d+)", o).group(1) for o, _ in outs}) == 1  # type: ignore[union-attr]
    finally:
        manager.down(inv)


# --- 3. a real lab, and inventory problems -----------------------------------------------------

def test_real_lab_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(UNSET, raising=False)
    plain = lab(tmp_path / "real", **{"emulated: true": "emulated: false"})
    unset = lab(tmp_path / "real-env", **{"emulated: true": "emulated: false",
                                          "file:twin_secrets/ssh_password": f"env:{UNSET}"})
    for inv in (plain, unset):
        r = hil("lab", "up", "--inventory", str(inv))
        assert r.returncode == 2, r.stdout + r.stderr
        assert r.stderr.strip().startswith("lab hil-twin is not emulated: the twin serves only emulated labs")
        assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stdout + r.stderr
        with pytest.raises(manager.NotEmulated):
            manager.up(inv)
        assert_no_twin(inv)
    r = subprocess.run([sys.executable, "-m", "harness.twin", str(plain)], capture_output=True, text=True,
                       timeout=60, check=False, cwd=REPO)
    assert r.returncode == 2 and "twin: lab hil-twin is not emulated" in r.stderr


@pytest.mark.parametrize("change", [
    {"file:twin_secrets/ssh_password": f"env:{UNSET}"},  # the twin must serve this secret
    {"devices:": "devices: [\n"},  # broken YAML
    {"role: switch": "role: router"},
])
def test_inventory_problems_are_lines_not_tracebacks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     change: dict[str, str]) -> None:
    monkeypatch.delenv(UNSET, raising=False)
    inv = lab(tmp_path / "lab", **change)
    r = hil("lab", "up", "--inventory", str(inv))
    assert r.returncode == 2, r.stdout + r.stderr
    assert "Traceback" not in r.stdout + r.stderr
    assert re.search(r"lab_inventory\.yaml:\d+: ", r.stdout), r.stdout
    with pytest.raises(InventoryError):
        manager.up(inv)
    assert_no_twin(inv)


# --- 4. fault values and the control channel ---------------------------------------------------

@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    inv = lab(tmp_path_factory.mktemp("faults"), NET_B)
    manager.up(inv)
    try:
        yield inv
    finally:
        manager.down(inv)


@pytest.mark.parametrize(("device", "fault", "why"), [
    ("phone1", "firmware=" + "9" * 100_000, "1..128 printable"),
    ("phone1", "firmware=" + "9" * 129, "1..128 printable"),
    ("sw1", "down=3", "takes no value"),
    ("sw1", "down=", "takes no value"),
    ("phone1", "firmware= ", "needs a value"),
    ("phone1", "firmware=", "needs a value"),
    ("phone1", "firmware= 1.2", "no whitespace at either end"),
    ("phone1", "firmware=1.2\n3", "1..128 printable"),
    ("phone1", "firmware=1.2\t", "1..128 printable"),
])
def test_bad_fault_values_are_refused(running: Path, device: str, fault: str, why: str) -> None:
    r = hil("lab", "fault", device, fault, "--inventory", str(running))
    assert r.returncode == 2, r.stdout + r.stderr
    assert why in r.stderr and "Traceback" not in r.stderr
    assert manager.TwinControl(running).status()["devices"][device]["faults"] == {}


def test_good_fault_values_still_work(running: Path) -> None:
    ctl = manager.TwinControl(running)
    try:
        assert hil("lab", "fault", "phone1", "firmware=" + "7" * 128, "--inventory", str(running)).returncode == 0
        assert hil("lab", "fault", "phone2", "firmware=1.2 beta", "--inventory", str(running)).returncode == 0
        assert hil("lab", "fault", "sw1", "down", "--inventory", str(running)).returncode == 0
        devices = ctl.status()["devices"]
        assert devices["phone1"]["faults"] == {"firmware": "7" * 128}
        assert devices["phone2"]["faults"] == {"firmware": "1.2 beta"}
        assert not devices["sw1"]["up"]
    finally:
        ctl.heal_all()
    assert ctl.status()["devices"]["sw1"]["up"]


def test_heal_on_a_busy_port_can_be_retried(running: Path) -> None:
    ctl = manager.TwinControl(running)
    ctl.fault("sw1", "down")
    try:
        with socket.socket() as s:  # someone takes sw1's SSH port while sw1 is down
            s.bind((f"{NET_B}.2.1", 2222))
            s.listen()
            r = hil("lab", "heal", "sw1", "--inventory", str(running))
            assert r.returncode == 2
            assert r.stderr.strip().startswith(f"sw1 ssh {NET_B}.2.1:2222: address already in use (errno 98), "
                                               f"held by pid {os.getpid()} ("), r.stderr
            sw1 = ctl.status()["devices"]["sw1"]
            assert sw1["faults"] == {"down": None} and not sw1["up"]
        assert ctl.heal("sw1") == {"healed": ["down"]}
        assert ctl.status()["devices"]["sw1"]["up"]
    finally:
        ctl.heal_all()


def _connect(path: str) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(path)
    return s


def _exchange(path: str, *lines: bytes) -> list[dict[str, object]]:
    with _connect(path) as s:
        f = s.makefile("rwb")
        replies = []
        for line in lines:
            f.write(line)
            f.flush()
            replies.append(json.loads(f.readline()))
        return replies


def test_control_channel_survives_overlong_and_bad_lines(running: Path) -> None:
    path = manager.TwinControl(running).info["control_socket"]
    huge = b'{"op": "status", "pad": "' + b"x" * (3 << 20) + b'"}\n'
    replies = _exchange(path, huge, b"not json\n", b"[1, 2]\n", b'{"op": "heal"}\n', b'{"op": "status"}\n')
    assert replies[0]["ok"] is False and "longer than" in str(replies[0]["error"])
    assert [r["ok"] for r in replies[1:4]] == [False, False, False]
    assert "device" in str(replies[3]["error"])
    assert replies[4]["ok"] is True
    # an over-long line that ends without a newline, then a fresh connection
    with _connect(path) as s:
        s.sendall(b"y" * (2 << 20))
    assert manager.TwinControl(running).status()["lab"] == "hil-twin"


@pytest.fixture
def fake_twin(tmp_path: Path) -> Iterator[tuple[Path, list[bytes | None]]]:
    """An inventory whose state file points at a fake control channel answering ``replies[0]``
    (``None``: close without a word)."""
    inv = lab(tmp_path / "fake", NET_B)
    replies: list[bytes | None] = [None]
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(str(tmp_path / "fake.sock"))
    srv.listen()
    srv.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(10)
                conn.makefile("rb").readline()
                if replies[0] is not None:
                    conn.sendall(replies[0])

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    manager.runtime_dir(inv).mkdir(parents=True, exist_ok=True)
    manager.state_file(inv).write_text(json.dumps({"pid": os.getpid(), "control_socket": srv.getsockname()}))
    try:
        yield inv, replies
    finally:
        stop.set()
        t.join(5)
        srv.close()
        manager.state_file(inv).unlink(missing_ok=True)


@pytest.mark.parametrize(("reply", "why"), [
    (None, "without a reply"),
    (b'{"ok": tr', "without a reply"),
    (b"garbage\n", "not JSON"),
    (b"[]\n", "not a control reply"),
])
def test_missing_or_bad_reply_is_an_error(fake_twin: tuple[Path, list[bytes | None]], reply: bytes | None,
                                          why: str) -> None:
    inv, replies = fake_twin
    replies[0] = reply
    with pytest.raises(manager.TwinError, match=why):
        manager.TwinControl(inv, timeout_s=5).status()
    r = hil("lab", "fault", "sw1", "down", "--inventory", str(inv))
    assert r.returncode == 2 and why in r.stderr, r.stdout + r.stderr


def test_silent_twin_times_out(tmp_path: Path) -> None:
    inv = lab(tmp_path / "silent", NET_B)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as srv:  # accepts (backlog) but never answers
        srv.bind(str(tmp_path / "silent.sock"))
        srv.listen()
        manager.runtime_dir(inv).mkdir(parents=True, exist_ok=True)
        manager.state_file(inv).write_text(json.dumps({"pid": os.getpid(), "control_socket": srv.getsockname()}))
        with pytest.raises(manager.TwinError, match="timed out"):
            manager.TwinControl(inv, timeout_s=0.5).status()
