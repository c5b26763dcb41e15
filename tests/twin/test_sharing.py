"""Two labs in one folder and two runs on one twin: shared ``.hil/known_hosts`` and the twin lease.

Labs here sit on ``$HIL_TEST_NET.1x.y`` and the next net's ``.1x.y`` (the shipped ``127.0.x.y``
with a ``1`` in front of x), so they never collide with the session twin on ``$HIL_TEST_NET.x.y``
or with other tests' labs on the next nets.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import asyncssh
import pytest

from harness.devices.session import LabSession
from harness.inventory import load
from harness.lifecycle import pid_alive
from harness.transports.ssh import SSHSession
from harness.transports.transcript import Transcript
from harness.twin import manager
from harness.twin.servers.ssh import known_hosts_entry
from tests.conftest import REPO, TEST_NET, make_test_lab, other_net, wait_for

#: these tests start labs of their own (tests/conftest.py marks those that use the session twin)
pytestmark = pytest.mark.twin

FOREIGN = known_hosts_entry("10.9.9.9", 2222, asyncssh.generate_private_key("ssh-ed25519"))  # another lab's host


def lab_text(net: str) -> str:
    return (REPO / "lab_inventory.yaml").read_text().replace("127.0.", f"{net}.1")


@pytest.fixture
def two_labs(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """``lab_a.yaml`` and ``lab_b.yaml`` in one folder, both naming ``.hil/known_hosts``."""
    folder = tmp_path / "labs"
    inv_a = make_test_lab(folder, lab_text(TEST_NET)).rename(folder / "lab_a.yaml")
    inv_b = folder / "lab_b.yaml"
    inv_b.write_text(lab_text(other_net(1)))
    try:
        yield inv_a, inv_b
    finally:
        manager.down(inv_a)
        manager.down(inv_b)


def check_host_keys(inv: Path) -> None:
    """Every SSH device of ``inv`` answers over paramiko with strict host-key checking."""
    loaded = load(inv)
    for name, dev in loaded.lab.devices.items():
        if dev.ssh is None:
            continue
        assert not dev.ssh.trust_on_first_use
        s = SSHSession(name, dev.host, dev.ssh, loaded.resolve, loaded.relative(dev.ssh.known_hosts),
                       Transcript(f"{name} ssh"))
        try:
            assert s.run("show version").strip()
        finally:
            s.close()
    session = LabSession(loaded)
    try:
        assert session.driver("edge1").version().hostname
    finally:
        session.close()


def up_together(*invs: Path) -> None:
    barrier = threading.Barrier(len(invs))
    errors: list[BaseException] = []

    def go(inv: Path) -> None:
        barrier.wait()
        try:
            manager.up(inv)
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=go, args=(inv,)) for inv in invs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors


def test_two_labs_share_known_hosts(two_labs: tuple[Path, Path]) -> None:
    inv_a, inv_b = two_labs
    kh = inv_a.parent / ".hil" / "known_hosts"
    kh.parent.mkdir(parents=True, exist_ok=True)
    kh.write_text(f"# kept\n{FOREIGN}\n")

    manager.up(inv_a)
    check_host_keys(inv_a)
    manager.up(inv_b)  # used to rewrite the file with lab B's lines only
    check_host_keys(inv_a)
    check_host_keys(inv_b)
    manager.down(inv_a)
    manager.up(inv_a)  # a restart replaces its own lines, not B's
    check_host_keys(inv_a)
    check_host_keys(inv_b)
    lines = kh.read_text().splitlines()
    assert lines[:2] == ["# kept", FOREIGN]
    assert len(lines) == 2 + 2 + 2  # sw1 and pstn1 of each lab, once each (a Genesys Edge has no SSH)
    manager.down(inv_a)
    manager.down(inv_b)

    for _ in range(3):  # both twins merge at once, from an empty file
        kh.unlink()
        up_together(inv_a, inv_b)
        check_host_keys(inv_a)
        check_host_keys(inv_b)
        assert len(kh.read_text().splitlines()) == 4
        for inv in (inv_a, inv_b):  # each lab's devices keep their own files (same device names in both)
            own = kh.parent / f"twin-{inv.stem}"
            assert (own / "internet" / "api-public.pem").is_file() and (own / "pstn-host" / "pstn1").is_dir()
        manager.down(inv_a)
        manager.down(inv_b)


# --- the lease -----------------------------------------------------------------------------------

CHILD = """
import json, sys
from pathlib import Path
from harness.twin import manager
from harness.twin.servers.ssh import known_hosts_entry
inv = Path(sys.argv[1])
for line in sys.stdin:
    op, *args = line.split()
    if op == "use":
        out = manager.use(inv)
    elif op == "up":
        out = manager.up(inv)[1]
    elif op == "stop":
        out = manager.stop_if_unused(inv)
    else:
        break
    print(json.dumps(out), flush=True)
"""


class Child:
    """Another process (another ``hil run``) talking to the same twin."""

    def __init__(self, inv: Path) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", CHILD, str(inv)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, cwd=REPO)

    def __call__(self, line: str) -> object:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()


@pytest.fixture
def lease_lab(tmp_path: Path) -> Iterator[Path]:
    inv = make_test_lab(tmp_path / "lab", lab_text(TEST_NET))
    try:
        yield inv
    finally:
        manager.down(inv)


def running(inv: Path) -> bool:
    return manager.read_state(inv) is not None


def test_lease_keeps_the_twin_for_the_last_user(lease_lab: Path) -> None:
    inv = lease_lab
    assert manager.use(inv) is False  # no twin: nothing to use
    assert not manager.users_dir(inv).exists()

    # run A starts the twin; run B uses it; A finishes first: B keeps it and stops it at the end
    assert manager.up(inv)[1] is True
    b = Child(inv)
    try:
        assert b("up") is False
        assert manager.stop_if_unused(inv) is False
        assert running(inv)
        check_host_keys(inv)
        assert b("stop") is True
        assert not running(inv)
    finally:
        b.kill()

    # B finishes first: A still uses the twin, so it stays; A then stops it
    assert manager.up(inv)[1] is True
    b = Child(inv)
    try:
        assert b("use") is True
        assert b("stop") is False
        assert running(inv)
    finally:
        b.kill()
    assert manager.stop_if_unused(inv) is True
    assert not running(inv)

    # a user that died without releasing, or a reused pid, does not keep the twin up
    assert manager.up(inv)[1] is True
    b = Child(inv)
    assert b("use") is True
    b.kill()
    (manager.users_dir(inv) / "1").write_text("not init's start time")
    assert manager.stop_if_unused(inv) is True
    assert not running(inv)

    # a twin started by `hil lab up` (its process gone) outlives the runs that used it
    r = subprocess.run([sys.executable, "-m", "harness.cli", "lab", "up", "--inventory", str(inv)],
                       capture_output=True, text=True, cwd=REPO, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert manager.up(inv)[1] is False
    assert manager.stop_if_unused(inv) is False
    assert running(inv)

    # `hil lab down` is a forced stop whoever uses the twin
    b = Child(inv)
    try:
        assert b("use") is True
        assert manager.down(inv) is True
        assert not running(inv) and not manager.users_dir(inv).exists()
        assert b("stop") is False
    finally:
        b.kill()


def test_a_twin_stops_by_itself_when_its_last_user_died(lease_lab: Path) -> None:
    inv = lease_lab
    b = Child(inv)
    try:
        assert b("up") is True  # B starts the twin (as a `hil run`), then dies without leaving
        info = manager.read_state(inv)
        assert info is not None
        c = Child(inv)
        assert c("use") is True
        b.kill()
        time.sleep(3 * manager.USERS_POLL_S)
        assert running(inv)  # C still uses it
        c.kill()  # the last user died too: nobody calls stop_if_unused
        assert wait_for(lambda: not running(inv), 10 * manager.USERS_POLL_S + 15), "a twin nobody uses kept running"
        assert wait_for(lambda: not pid_alive(info["pid"]), 15), "the twin process did not end"
        assert manager.up(inv)[1] is True  # and a new one starts on the same addresses
        assert manager.stop_if_unused(inv) is True
    finally:
        b.kill()


def test_a_hil_lab_up_twin_stays_without_users(lease_lab: Path) -> None:
    inv = lease_lab
    b = Child(inv)
    try:
        assert b("up") is True
        r = subprocess.run([sys.executable, "-m", "harness.cli", "lab", "up", "--inventory", str(inv)],
                           capture_output=True, text=True, cwd=REPO, timeout=120)
        assert r.returncode == 0 and "already running" in r.stdout, r.stdout + r.stderr
        assert manager.stays(inv)
        b.kill()  # the run that started it dies: `hil lab up` asked for it to stay
        time.sleep(4 * manager.USERS_POLL_S)
        assert running(inv)
        assert manager.stop_if_unused(inv) is False and running(inv)
    finally:
        b.kill()
