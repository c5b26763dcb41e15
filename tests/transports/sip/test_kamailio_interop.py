"""The SIP stack and the twin's phones through kamailio, a SIP proxy nobody here wrote (Debian
``kamailio``), as a lab's SBC or a carrier's proxy stands between the Edge and the far end.

kamailio runs per test in the foreground with the script below: every request passes its
``sanity`` checks (Request-URI, CSeq, Content-Length, Via and To/From tags: a malformed message gets
400 and never reaches the phone), INVITEs are record-routed (RFC 3261 16.6 step 4), in-dialog
requests are loose-routed (RFC 3261 16.12). Skipped with a reason where kamailio is not installed
(``make setup`` installs it).
"""

from __future__ import annotations

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
NET = f"{TEST_NET}.247"  # this module's side of the test net
KAMAILIO = shutil.which("kamailio") or "/usr/sbin/kamailio"
MODULES = "/usr/lib/x86_64-linux-gnu/kamailio/modules/"

pytestmark = [pytest.mark.timeout(60),
              pytest.mark.skipif(not os.path.exists(KAMAILIO), reason="kamailio is not installed (Debian package "
                                 "kamailio; `make setup` installs it)")]

SCRIPT = """#!KAMAILIO
debug=2
log_stderror=yes
children=1
auto_aliases=no
listen=udp:{host}:5060
mpath="{modules}"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "sanity.so"
request_route {{
    if (!mf_process_maxfwd_header("10")) {{ sl_send_reply("483", "Too Many Hops"); exit; }}
    if (!sanity_check("17895", "7")) {{ xlog("L_WARN", "hil: sanity failed for $rm from $si\\n"); exit; }}
    xlog("L_INFO", "hil: $rm $ru from $si\\n");
    if (has_totag()) {{
        if (loose_route()) {{ t_relay(); exit; }}
        if (is_method("ACK")) {{ if (t_check_trans()) {{ t_relay(); }} exit; }}
        sl_send_reply("404", "Not here"); exit;
    }}
    if (is_method("CANCEL")) {{ if (t_check_trans()) {{ t_relay(); }} exit; }}
    if (is_method("INVITE")) {{ record_route(); }}
    if (!t_relay()) {{ sl_reply_error(); }}
}}
"""


@pytest.fixture
def kamailio(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``(address, log file)`` of a kamailio proxy on this module's net."""
    host = f"{NET}.1"
    cfg = tmp_path / "kamailio.cfg"
    cfg.write_text(SCRIPT.format(host=host, modules=MODULES))
    check = subprocess.run([KAMAILIO, "-f", str(cfg), "-c"], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr[-2000:]
    log = tmp_path / "kamailio.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([KAMAILIO, "-f", str(cfg), "-DD", "-E", "-P", str(tmp_path / "kamailio.pid"),
                                 "-Y", str(tmp_path)], stdout=out, stderr=subprocess.STDOUT)
    try:
        if not wait_for(lambda: "SO_RCVBUF is finally" in log.read_text(errors="replace") or proc.poll() is not None,
                        10):
            pytest.fail(f"kamailio did not start: {log.read_text(errors='replace')[-2000:]}")
        assert proc.poll() is None, log.read_text(errors="replace")[-2000:]
        yield host, log
    finally:
        stop_process(proc)


def test_call_to_a_twin_phone_through_kamailio_follows_the_route_set(
        kamailio: tuple[str, Path], twin: TwinControl, loaded: LoadedLab,
        agents: Callable[..., SipUserAgent]) -> None:
    proxy, log = kamailio
    phone = loaded.lab.devices["phone1"].host
    ua = agents(2)
    call = ua.dial(f"sip:1001@{phone}:5060", peer=(proxy, 5060), timeout_s=5.0)
    assert call.state == CONFIRMED, call.result().ladder
    assert wait_for(lambda: call.rtp_stats().audio_packets >= 10, 3.0), call.rtp_stats()  # media goes direct
    assert call.bye() == 200
    ladder = call.result().ladder
    rr = f"Record-Route: <sip:{proxy};lr"
    route = f"Route: <sip:{proxy};lr"
    entries = re.split(r"\n(?=\s+[0-9.]+ s (?:-->|<--) )", ladder)  # one per message, headers included
    sent = [e for e in entries if re.match(r"\s+[0-9.]+ s --> ", e)]
    assert len(sent) == 3, ladder  # INVITE, ACK, BYE
    assert all(f"--> UDP {proxy}:5060" in block for block in sent), ladder  # every request to the proxy
    assert rr in ladder, ladder  # the phone's 200 came back through kamailio's Record-Route
    ack = next(b for b in sent if " ACK sip:" in b)
    bye = next(b for b in sent if " BYE sip:" in b)
    assert route in ack and route in bye, ladder  # RFC 3261 12.2.1.1: the route set on ACK and BYE
    assert f"ACK sip:1001@{phone}:5060" in ack and f"BYE sip:1001@{phone}:5060" in bye  # remote target
    text = log.read_text(errors="replace")
    assert "sanity failed" not in text, text[-2000:]  # kamailio's sanity module took every request
    assert all(f"hil: {m} sip:1001@{phone}:5060" in text for m in ("INVITE", "ACK", "BYE")), text[-2000:]
