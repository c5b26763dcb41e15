"""The SNMP client against net-snmp's own agent (Debian ``snmpd``, the agent most Linux-based lab
hosts, gateways and appliances run), not only against the twin's pysnmp agent and recordings.

Each test starts ``snmpd`` in the foreground on a loopback address of its own, with a
configuration written here (``-C``: no system configuration is read; the persistent directory is the
test's temporary folder, so nothing under /var/lib/snmp is touched) and stops it at the end. Skipped
with a reason where ``snmpd`` is not installed (``make setup`` installs it).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.errors import LabTimeout
from harness.inventory.models import SnmpSettings
from harness.transports.snmp import SnmpClient
from harness.transports.transcript import Transcript
from tests.conftest import other_net, stop_process

SNMPD = shutil.which("snmpd") or "/usr/sbin/snmpd"
SECRETS = {"env:T_COMMUNITY": "labRO", "env:T_WRONG": "public", "env:T_AUTH": "auth-key-4711",
           "env:T_PRIV": "priv-key-4711"}
PORT = 11161
IF_DESCR = "1.3.6.1.2.1.2.2.1.2"  # IF-MIB ifDescr
SYS_NAME = "1.3.6.1.2.1.1.5.0"
HR_SYSTEM_DATE = "1.3.6.1.2.1.25.1.2.0"  # HOST-RESOURCES-MIB hrSystemDate (DateAndTime, RFC 2579)


@pytest.fixture
def snmpd(tmp_path: Path) -> Iterator[str]:
    if not os.path.exists(SNMPD):
        pytest.skip("net-snmp's snmpd is not installed (Debian package snmpd; `make setup` installs it)")
    host = f"{other_net(6)}.17.1"
    conf = tmp_path / "snmpd.conf"
    conf.write_text(f"agentAddress udp:{host}:{PORT}\n"
                    "rocommunity labRO 127.0.0.0/8\n"
                    'createUser labuser SHA "auth-key-4711" AES "priv-key-4711"\n'
                    "rouser labuser priv\n"
                    "sysName hil-interop-agent\n"
                    "sysLocation hil test\n")
    env = dict(os.environ, SNMP_PERSISTENT_DIR=str(tmp_path / "persist"), MIBS="", MIBDIRS="/nonexistent")
    proc = subprocess.Popen([SNMPD, "-f", "-Lf", str(tmp_path / "snmpd.log"), "-C", "-c", str(conf),
                             "-p", str(tmp_path / "snmpd.pid")], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while "NET-SNMP version" not in _read(tmp_path / "snmpd.log"):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"snmpd did not start: {_read(tmp_path / 'snmpd.log')[-2000:]}")
            time.sleep(0.05)
        yield host
    finally:
        stop_process(proc)


def _read(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


def client(host: str, **settings: object) -> SnmpClient:
    s = SnmpSettings(port=PORT, timeout_s=1.0, retries=0, **settings)  # type: ignore[arg-type]
    return SnmpClient("host1", host, s, SECRETS.__getitem__, Transcript(f"host1 snmp {host}:{PORT}"))


@pytest.mark.parametrize("version", ["1", "2c"])
def test_get_and_walk_with_a_community(snmpd: str, version: str) -> None:
    c = client(snmpd, version=version, community="env:T_COMMUNITY")
    got = c.get_sync(SYS_NAME, "1.3.6.1.2.1.1.99.0")
    assert got[SYS_NAME] == "hil-interop-agent"
    assert got["1.3.6.1.2.1.1.99.0"] is None  # missing: noSuchObject (v2c) / noSuchName (v1)
    rows = c.walk_sync(IF_DESCR)
    assert rows == c.bulk_walk_sync(IF_DESCR)
    names = {v for _, v in rows}
    assert "lo" in names and names == {n for _, n in socket.if_nameindex()}  # the agent's host is this one


def test_v3_auth_priv_reads_the_agent_clock(snmpd: str) -> None:
    c = client(snmpd, version="3", user="labuser", auth_protocol="SHA", auth_key="env:T_AUTH",
               priv_protocol="AES", priv_key="env:T_PRIV")
    got = c.get_sync(HR_SYSTEM_DATE, SYS_NAME)
    assert got[SYS_NAME] == "hil-interop-agent"
    raw = got[HR_SYSTEM_DATE]
    # DateAndTime: year (2 octets), month, day, hour, minute, second, deci-seconds [, UTC offset];
    # binary octets come back as colon-separated hex, as for a MAC
    assert isinstance(raw, str)
    octets = bytes.fromhex(raw.replace(":", ""))
    agent = dt.datetime(int.from_bytes(octets[:2], "big"), *octets[2:7])
    assert abs((agent - dt.datetime.now()).total_seconds()) < 5  # the agent is this host: same clock
    assert "auth-key-4711" not in c.transcript.render() and "priv-key-4711" not in c.transcript.render()


def test_wrong_community_is_silence_not_an_answer(snmpd: str) -> None:
    # net-snmp drops a request with an unknown community (RFC 3584 5.2.1: no response is sent); the
    # client reports a timeout naming the device, as for a dead agent.
    with pytest.raises(LabTimeout) as info:
        client(snmpd, version="2c", community="env:T_WRONG").get_sync(SYS_NAME)
    assert info.value.device == "host1" and info.value.transport == "snmp"
    assert "public" not in str(info.value)
