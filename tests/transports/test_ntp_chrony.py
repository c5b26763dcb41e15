"""The NTP probe against a real NTP server: chrony (Debian ``chrony``, installed by ``make setup``),
run in the foreground as a server on a loopback address of the test net, without touching this
host's clock (``-x``) and with no command socket, as a free-running ``local stratum 8`` server. The
probe reads what a lab's chrony would send: stratum 8, leap 0, the local clock's reference ID, and an
offset near zero (chronyd keeps this host's time)."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.errors import LabError, LabTimeout
from harness.transports.ntp import NtpReading, query
from tests.conftest import TEST_NET, stop_process

SERVER = f"{TEST_NET}.8.150"
SOURCE = f"{TEST_NET}.3.250"
CHRONYD = shutil.which("chronyd") or "/usr/sbin/chronyd"
START_S = 5.0  # project choice: chronyd answers within a second here

pytestmark = pytest.mark.skipif(not Path(CHRONYD).exists(), reason="chrony is not installed (make setup installs it)")


@pytest.fixture
def chronyd(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    conf = tmp_path / "chrony.conf"
    conf.write_text(f"port 123\nbindaddress {SERVER}\nlocal stratum 8\nallow {TEST_NET}.0.0/16\n"
                    f"cmdport 0\nbindcmdaddress /\npidfile {tmp_path / 'chronyd.pid'}\n")
    log = (tmp_path / "chronyd.log").open("wb")
    proc = subprocess.Popen([CHRONYD, "-x", "-d", "-u", "root", "-f", str(conf)], stdout=log, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        stop_process(proc)
        log.close()


def _first_answer(deadline_s: float) -> NtpReading:
    end = time.monotonic() + deadline_s
    while True:
        try:
            return query(SERVER, 123, 0.3, source=SOURCE)
        except LabError:
            if time.monotonic() > end:
                raise
            time.sleep(0.1)


def test_the_probe_reads_chrony(chronyd: subprocess.Popen[bytes]) -> None:
    r = _first_answer(START_S)
    assert chronyd.poll() is None
    assert (r.stratum, r.leap, r.ref_id) == (8, 0, "127.127.1.1"), r  # chrony's local reference (LOCL)
    assert abs(r.offset_s) < 0.05 and 0 <= r.delay_s < 0.05, r
    again = query(SERVER, 123, 1.0, source=SOURCE)
    assert abs(again.offset_s - r.offset_s) < 0.05


def test_chrony_refuses_a_source_it_does_not_allow(chronyd: subprocess.Popen[bytes]) -> None:
    _first_answer(START_S)
    outside = "127.0.0.1"  # allow names the test net only: chrony ignores (does not answer) the rest
    if TEST_NET == "127.0":
        pytest.skip("the test net is 127.0: no loopback source outside it")
    with pytest.raises(LabTimeout):
        query(SERVER, 123, 0.5, source=outside)
