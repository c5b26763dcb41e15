"""``hil carrier serve``: its file (FILE:LINE errors), and the carrier it runs on loopback (SIP, the
call log as a file and over HTTP with a bearer token, a clean stop on SIGTERM and SIGINT)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from harness.carrier.config import load_carrier
from harness.devices.drivers.pstn import parse_call_log
from harness.errors import InventoryError
from harness.transports.sip.call import CONFIRMED
from harness.transports.sip.ua import SipUserAgent
from harness.transports.transcript import Transcript
from tests.conftest import TEST_NET, other_net, wait_for, with_default_sigint

NET = other_net(5)  # the carrier on <NET>.9.1; nothing of the shared test twin lives there
HOST = f"{NET}.9.1"
TOKEN = "carrier-token-7f3a9c"
ECHO, BUSY, OTHER = "+15125559000", "+15125559503", "+15125551234"

CONFIG = f"""\
name: pstn-sim
carrier: Example Telco
sip:
  host: {HOST}
  port: 5070
country: US
echo_numbers: ["{ECHO}"]
unavailable_numbers: ["{BUSY}"]
max_calls: 4
call_log:
  file: calls.csv
  http:
    host: {HOST}
    port: 8089
    token: file:token
"""


def _write(tmp: Path, text: str = CONFIG) -> Path:
    (tmp / "token").write_text(TOKEN + "\n")
    cfg = tmp / "carrier.yaml"
    cfg.write_text(text)
    return cfg


# -- the file ---------------------------------------------------------------------------------------


def test_a_good_file_loads_and_its_token_resolves(tmp_path: Path) -> None:
    loaded = load_carrier(_write(tmp_path))
    s = loaded.config.settings()
    assert (s.name, s.host, s.port, s.max_calls) == ("pstn-sim", HOST, 5070, 4)
    assert s.echo_numbers == {ECHO} and s.unavailable_numbers == {BUSY}
    assert s.server == "Example Telco PSTN simulator (hil carrier)"
    assert loaded.token == TOKEN and loaded.call_log_file() == tmp_path / "calls.csv"


@pytest.mark.parametrize(("old", "new", "where", "message"), [
    ("  port: 5070\n", "  prot: 5070\n", ":5: sip.prot:", "unknown key; did you mean port?"),
    (f'echo_numbers: ["{ECHO}"]', 'echo_numbers: ["5125559000"]', ":7: echo_numbers.0:", "must match pattern"),
    (f"  host: {HOST}\n  port: 5070\n", "  port: 5070\n", ":3: sip.host:", "required key is missing"),
    ("max_calls: 4", "max_calls: -1", ":9: max_calls:", "greater than or equal to 0"),
    ("token: file:token", "token: s3cret-literal", ":15: call_log.http.token:", "not a literal"),
    ("token: file:token", "token: env:HIL_CARRIER_TEST_UNSET", ":15: call_log.http.token:",
     "environment variable HIL_CARRIER_TEST_UNSET is not set"),
    ("file: calls.csv", "file: nowhere/calls.csv", ":11: call_log.file:", "does not exist"),
], ids=["misspelt", "not-e164", "missing", "negative", "literal-token", "unset-token", "no-folder"])
def test_problems_are_one_line_each_at_their_line(tmp_path: Path, old: str, new: str, where: str,
                                                  message: str) -> None:
    assert old in CONFIG
    cfg = _write(tmp_path, CONFIG.replace(old, new))
    with pytest.raises(InventoryError) as e:
        load_carrier(cfg)
    lines = [str(p) for p in e.value.problems]
    assert len(lines) == 1 and lines[0].startswith(f"{cfg}{where}") and message in lines[0], lines
    assert TOKEN not in lines[0]


def test_the_cli_checks_the_file_and_exits_2(tmp_path: Path) -> None:
    cfg = _write(tmp_path, CONFIG.replace("  port: 5070\n", "  prot: 5070\n"))
    p = subprocess.run([sys.executable, "-m", "harness.cli", "carrier", "serve", "--config", str(cfg)],
                       capture_output=True, text=True, timeout=60, check=False)
    assert p.returncode == 2 and f"{cfg}:5: sip.prot: unknown key; did you mean port?" in p.stdout
    ok = subprocess.run([sys.executable, "-m", "harness.cli", "carrier", "serve", "--check", "--config",
                         str(_write(tmp_path))], capture_output=True, text=True, timeout=60, check=False)
    assert ok.returncode == 0 and "OK — carrier pstn-sim" in ok.stdout


# -- the carrier on loopback ------------------------------------------------------------------------


@pytest.fixture
def carrier(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    cfg = _write(tmp_path)
    proc = subprocess.Popen(with_default_sigint([sys.executable, "-m", "harness.cli", "carrier", "serve",
                                                 "--config", str(cfg)]),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    lines = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        lines.append(line)
        if "ready" in line or not line:
            break
    assert "ready" in lines[-1], "".join(lines)
    yield proc, tmp_path
    if proc.poll() is None:
        proc.kill()
        proc.wait(10)


def _free(host: str, port: int, kind: int) -> bool:
    s = socket.socket(socket.AF_INET, kind)
    try:
        s.bind((host, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_carrier_answers_logs_serves_its_log_and_stops_cleanly(carrier: tuple[subprocess.Popen[str], Path],
                                                               sig: signal.Signals) -> None:
    proc, folder = carrier
    with SipUserAgent("probe", Transcript("probe"), f"{NET}.9.2") as ua:
        call = ua.dial(f"sip:{ECHO}@{HOST}:5070", timeout_s=5.0, from_uri=f"sip:+13175550199@{NET}.9.2")
        assert call.state == CONFIRMED
        assert wait_for(lambda: call.rtp_stats().audio_packets >= 25, 3.0)  # the tone, then the echo
        assert call.bye() == 200
        assert ua.dial(f"sip:{BUSY}@{HOST}:5070", timeout_s=5.0).result().final_code == 503
        assert ua.dial(f"sip:{OTHER}@{HOST}:5070", timeout_s=5.0).result().final_code == 404
    url = f"http://{HOST}:8089/calls.csv"
    assert httpx.get(url, timeout=5).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Bearer wrong"}, timeout=5).status_code == 401
    r = httpx.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = parse_call_log(r.text, "pstn-sim", HOST, "http")
    invites = [x for x in rows if x.method == "INVITE"]
    assert [(x.request_uri.split("@")[0], x.status) for x in invites] == [
        (f"sip:{ECHO}", 200), (f"sip:{BUSY}", 503), (f"sip:{OTHER}", 404)]
    assert invites[0].ended == "bye" and invites[0].rtp_received > 0
    file = folder / "calls.csv"
    assert wait_for(lambda: len(parse_call_log(file.read_text())) == len(rows), 3.0)  # the file for SSH/SFTP
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=15)
    assert proc.returncode == 0, out
    assert f"stopped ({sig.name})" in out and TOKEN not in out
    assert _free(HOST, 5070, socket.SOCK_DGRAM) and _free(HOST, 5070, socket.SOCK_STREAM)
    assert _free(HOST, 8089, socket.SOCK_STREAM)
    assert sorted(p.name for p in folder.iterdir()) == ["calls.csv", "carrier.yaml", "token"]  # no temporary file
    assert len(parse_call_log(file.read_text())) == len(rows)


def test_a_port_in_use_stops_it_with_exit_3_and_nothing_bound(tmp_path: Path) -> None:
    cfg = _write(tmp_path)
    hold = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    hold.bind((HOST, 8089))
    hold.listen()
    try:
        p = subprocess.run([sys.executable, "-m", "harness.cli", "carrier", "serve", "--config", str(cfg)],
                           capture_output=True, text=True, timeout=60, check=False)
    finally:
        hold.close()
    assert p.returncode == 3, p.stdout + p.stderr
    assert f"call log http http://{HOST}:8089/calls.csv (bearer token): address already in use" in p.stdout
    assert _free(HOST, 5070, socket.SOCK_DGRAM) and _free(HOST, 5070, socket.SOCK_STREAM)


def test_test_net_is_not_the_carriers() -> None:
    assert not HOST.startswith(TEST_NET + ".")
