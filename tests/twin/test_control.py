"""The twin's control channel is its owner's only and never hands out a secret."""

from __future__ import annotations

import base64
import json
import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import pytest

from harness.inventory import load
from harness.inventory.models import proxy_endpoint
from harness.twin import manager
from harness.twin.core.control import SUN_PATH_MAX, socket_path
from tests.conftest import REPO, make_test_lab, other_net

#: this module starts a lab of its own
pytestmark = pytest.mark.twin

NET = other_net(3)
#: a Python another user may run (the project's virtualenv may sit in root's home)
OTHER_USER_PYTHON = shutil.which("python3", path="/usr/bin:/bin")
NOBODY = 65534

CLIENT = """
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
try:
    s.connect(sys.argv[1])
    s.sendall(json.dumps({"op": sys.argv[2], "device": "sw1"}).encode() + b"\\n")
    print("reply", s.makefile("rb").readline().decode().strip())
except OSError as e:
    print("refused", e.errno)
"""


@pytest.fixture(scope="module")
def lab() -> Iterator[Path]:
    """A running twin of a lab in a folder every user may enter (only the socket itself guards the
    channel), on this module's own test net."""
    folder = Path(tempfile.mkdtemp(prefix="hil-control-"))
    folder.chmod(0o755)
    text = (REPO / "lab_inventory.yaml").read_text().replace("127.0.", f"{NET}.")
    inv = make_test_lab(folder / "lab", text)
    (folder / "lab").chmod(0o755)
    manager.up(inv)
    try:
        yield inv
    finally:
        manager.down(inv)
        shutil.rmtree(folder, ignore_errors=True)


def secret_forms() -> dict[str, str]:
    out = {}
    for p in (REPO / "twin_secrets").iterdir():
        if p.name == "README.md":
            continue
        v = p.read_text().strip()
        out |= {p.name: v, f"{p.name} hex": v.encode().hex(), f"{p.name} base64": base64.b64encode(v.encode()).decode()}
    return out


def test_the_channel_is_a_socket_only_its_owner_may_open(lab: Path) -> None:
    info = manager.read_state(lab)
    assert info is not None and "control_port" not in info
    path = Path(info["control_socket"])
    st = path.stat()
    assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == os.geteuid()
    assert path.parent == manager.runtime_dir(lab)
    # no TCP port at all on the loopback's 127.0.0.1, where the channel used to listen
    listening = [c.laddr for c in psutil.Process(info["pid"]).net_connections("tcp") if c.status == psutil.CONN_LISTEN]
    assert listening and not [a for a in listening if a.ip == "127.0.0.1"], listening
    loaded = load(lab).lab
    served = {d.host for d in loaded.devices.values()}
    if loaded.cloud is not None and loaded.cloud.base_url:  # the emulated Genesys Cloud API's own address
        served.add(str(urlsplit(str(loaded.cloud.base_url)).hostname))
    if loaded.network.dns is not None:  # the emulated site resolver (DNS over TCP)
        served.add(loaded.network.dns.servers[0])
    if loaded.network.stun is not None:  # the emulated internet's STUN server (TCP on its primary address)
        served.add(loaded.network.stun.server)
    if loaded.network.internet is not None:  # its TLS endpoint and resolver
        served |= {a for a in (loaded.network.internet.api_address, loaded.network.internet.dns_server) if a}
    # and the HTTP proxy of each Edge's WAN port (facts.proxy, served by the emulated internet)
    served |= {proxy_endpoint(p)[0] for d in loaded.devices.values() if (p := getattr(d.facts, "proxy", None))}
    assert {a.ip for a in listening} <= served


@pytest.mark.skipif(os.geteuid() != 0 or OTHER_USER_PYTHON is None, reason="needs root to act as another user")
def test_another_user_is_refused_by_the_socket_and_by_the_twin(lab: Path) -> None:
    path = manager.read_state(lab)["control_socket"]  # type: ignore[index]

    def as_nobody(op: str) -> str:
        r = subprocess.run([OTHER_USER_PYTHON, "-c", CLIENT, path, op], user=NOBODY, group=NOBODY, cwd="/",
                           capture_output=True, text=True, timeout=30, check=False)
        return r.stdout.strip() + r.stderr

    assert as_nobody("state") == "refused 13"  # EACCES: the socket's mode
    os.chmod(path, 0o666)  # even when the file lets everyone in, the twin checks who is calling
    try:
        for op in ("state", "fault", "stop"):
            out = as_nobody(op)
            assert out.startswith("refused") or ('"ok": false' in out and "owner's only" in out), out
    finally:
        os.chmod(path, 0o600)
    assert manager.TwinControl(lab).status()["lab"] == "hil-twin"  # still serving its owner
    log = manager.log_file(lab).read_text()
    assert "refused a client of user 65534" in log


def test_no_reply_holds_a_secret(lab: Path) -> None:
    ctl = manager.TwinControl(lab)
    ctl.fault("phone1", "firmware", (REPO / "twin_secrets" / "sip_password").read_text().strip())
    try:
        replies = {"status": ctl.status(), "faults": ctl.faults()}
        replies |= {f"state {n}": ctl.state(n) for n in replies["status"]["devices"]}
    finally:
        ctl.heal_all()
    assert replies["state sw1"]["enable_secret"] == "*****"
    assert replies["status"]["devices"]["phone1"]["faults"] == {"firmware": "*****"}
    roles = {replies[f"state {n}"]["role"] for n in replies["status"]["devices"]}
    assert roles == {"edge", "switch", "phone", "pstn", "provisioning", "cloud", "dhcp", "dns", "ntp", "internet",
                     "wan"}
    for what, reply in replies.items():
        text = json.dumps(reply)
        for name, form in secret_forms().items():
            assert form not in text, f"{name} in the reply to {what}"


def test_a_socket_path_too_long_for_af_unix_goes_to_a_private_folder(tmp_path: Path) -> None:
    short, none = socket_path(tmp_path / "twin-lab.json")
    assert short == tmp_path / "twin-lab.sock" and none is None
    deep = tmp_path / ("d" * 100) / "twin-lab.json"
    path, private = socket_path(deep)
    try:
        assert private is not None and path.parent == private
        assert len(os.fsencode(path)) <= SUN_PATH_MAX and stat.S_IMODE(private.stat().st_mode) == 0o700
    finally:
        if private is not None:
            shutil.rmtree(private)


def test_a_state_file_without_a_socket_is_an_error_not_a_connection(tmp_path: Path) -> None:
    inv = make_test_lab(tmp_path / "old", (REPO / "lab_inventory.yaml").read_text())
    manager.runtime_dir(inv).mkdir(parents=True, exist_ok=True)
    manager.state_file(inv).write_text(json.dumps({"pid": os.getpid(), "control_port": 1}))  # an older twin's
    try:
        with pytest.raises(manager.TwinError, match="names no control socket"):
            manager.TwinControl(inv).status()
    finally:
        manager.state_file(inv).unlink()
