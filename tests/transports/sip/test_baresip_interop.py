"""The SIP stack and the twin's phones against baresip, a SIP user agent nobody here wrote (Debian
``baresip-core``): the harness's probe calls baresip, and baresip calls a twin phone.

baresip runs per test in its own configuration folder, bound to a loopback address of this
module's net (``net_interface`` is that address, so its SDP names it), with the ``ausine`` module as
its microphone (a 440 Hz tone; ausine works at 48 kHz stereo only, resampled to the codec). Its log
says what it saw (call established, from whom its RTP comes, the hang-up). Accounts auto-answer.
Skipped with a reason where baresip is not installed (``make setup`` installs it).
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from harness.inventory import LoadedLab
from harness.transports.sip.call import CONFIRMED
from harness.transports.sip.ua import SipUserAgent
from harness.twin.manager import TwinControl
from tests.conftest import stop_process, wait_for

TEST_NET = os.environ.get("HIL_TEST_NET", "127.77")
NET = f"{TEST_NET}.248"  # this module's side of the test net
BARESIP = shutil.which("baresip") or "/usr/bin/baresip"
MODULES = Path("/usr/lib/baresip/modules")

pytestmark = [pytest.mark.timeout(60),
              pytest.mark.skipif(not os.path.exists(BARESIP), reason="baresip is not installed (Debian package "
                                 "baresip-core; `make setup` installs it)")]


class Baresip:
    """One baresip process; ``log`` is its console output."""

    def __init__(self, folder: Path, host: str, *commands: str, quit_after_s: float | None = None) -> None:
        self.folder, self.host = folder, host
        self.log = folder / "baresip.log"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "config").write_text(
            f"poll_method epoll\nsip_listen {host}:5060\nsip_transports udp\nnet_interface {host}\n"
            "audio_source ausine,440\naudio_alert aufile,/dev/null\n"
            "ausrc_srate 48000\nausrc_channels 2\nrtp_ports 20000-20999\n"
            f"module_path {MODULES}\nmodule g711.so\nmodule ausine.so\nmodule aufile.so\n"
            "module_app account.so\nmodule_app menu.so\n")
        (folder / "accounts").write_text(f"<sip:hil@{host}>;regint=0;answermode=auto;audio_codecs=PCMU\n")
        argv = [BARESIP, "-f", str(folder), "-v"]
        for c in commands:
            argv += ["-e", c]
        if quit_after_s is not None:
            argv += ["-t", str(math.ceil(quit_after_s))]
        self._out = self.log.open("wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._out, stderr=subprocess.STDOUT)
        if not wait_for(lambda: "baresip is ready" in self.text() or self.proc.poll() is not None, 10):
            self.stop()
            pytest.fail(f"baresip did not start: {self.text()[-2000:]}")

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait(self, timeout_s: float) -> int:
        return self.proc.wait(timeout_s)

    def stop(self) -> None:
        stop_process(self.proc)
        self._out.close()


@pytest.fixture
def baresip(tmp_path: Path) -> Iterator[Callable[..., Baresip]]:
    made: list[Baresip] = []

    def start(host: str, *commands: str, quit_after_s: float | None = None) -> Baresip:
        b = Baresip(tmp_path / f"baresip{len(made)}", host, *commands, quit_after_s=quit_after_s)
        made.append(b)
        return b

    yield start
    for b in made:
        b.stop()


def test_probe_calls_baresip_and_gets_its_media(baresip: Callable[..., Baresip],
                                                agents: Callable[..., SipUserAgent]) -> None:
    b = baresip(f"{NET}.1")
    ua = agents(2)
    call = ua.dial(f"sip:hil@{NET}.1:5060", timeout_s=5.0, telephone_event_pt=101)
    assert call.state == CONFIRMED, call.result().ladder
    assert wait_for(lambda: call.rtp_stats().audio_packets >= 25, 3.0), call.rtp_stats()
    st = call.rtp_stats()
    assert set(st.by_pt) == {0} and st.unexpected_pt == {} and len(st.ssrcs) == 1 and st.malformed == 0
    r = call.result()
    assert r.codec == "PCMU" and r.telephone_event_pt == 101  # baresip answered our offer's DTMF type
    call.send_dtmf("42#")
    assert call.bye() == 200
    # baresip's own RFC 4733 decoder: one "end=1" event per digit, in order
    assert wait_for(lambda: re.findall(r"received event: '(.)' \(end=1\)", b.text()) == ["4", "2", "#"], 3.0), \
        b.text()[-1500:]
    assert wait_for(lambda: f"sip:hil@{NET}.2: session closed" in b.text(), 3.0), b.text()[-1500:]  # our BYE


def test_baresip_calls_a_twin_phone(baresip: Callable[..., Baresip], twin: TwinControl, loaded: LoadedLab) -> None:
    phone = loaded.lab.devices["phone1"]
    b = baresip(f"{NET}.3", f"/dial sip:1001@{phone.host}:5060", quit_after_s=3)
    assert b.wait(15) == 0, b.text()[-2000:]
    log = b.text()
    assert "SIP Progress: 180 Ringing" in log and "Call established" in log, log[-2000:]
    assert "Set audio decoder: PCMU 8000Hz" in log, log[-2000:]
    # the phone's echo reaches baresip from the address the phone's SDP answer named
    assert f"incoming rtp for 'audio' established, receiving from {phone.host}:" in log, log[-2000:]
    assert f"Call with sip:1001@{phone.host}:5060 terminated" in log, log[-2000:]  # BYE at quit, answered
