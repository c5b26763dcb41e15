"""The real-lab path, run on this machine: the twin's lab addressed as a real lab (``emulated: false``,
the twin started separately), and a carrier stood up with ``hil carrier serve`` on loopback.

Nothing here is emulated on the harness's side: the plugin does not start or lease a twin, SIPp runs
on the carrier's host over SSH/SFTP (``PstnSimulator.sipp()`` for a real lab), and the carrier's call
log is read as a real lab reads it (``cat`` over SSH, or HTTP with a bearer token).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from harness.devices.drivers.pstn import parse_call_log
from harness.twin import manager
from tests.conftest import make_test_lab, other_net, with_default_sigint
from tests.scenario_runner import ScenarioRun, run_scenarios

pytestmark = pytest.mark.timeout(300)

PSTN_DUTIES = ("PSTN-CONNECT", "PSTN-INTEROP", "PSTN-CAPACITY", "SEC-TOLL-FRAUD")
NET = other_net(5)  # the carrier's lab; tests/carrier uses only <NET>.9.x of it
TOKEN = "carrier-token-for-the-real-lab-test"
PSTN_SIP = "    snmp: null\n    sip:\n      port: 5060\n    facts:\n      carrier: Twin Carrier"


def real_copy(inventory: Path, name: str = "real_lab.yaml", text: str | None = None) -> Path:
    """``inventory`` (or ``text``) as a real lab: ``emulated: false``, written beside it."""
    text = text if text is not None else inventory.read_text()
    assert "emulated: true" in text
    out = inventory.parent / name
    out.write_text(text.replace("emulated: true", "emulated: false"))
    return out


def sipp_where(allure_dir: Path) -> set[str]:
    """Where the SIPp runs of a run's attachments ran (``ssh 127.x.4.1:2222``, ``local``)."""
    where = set()
    for f in allure_dir.glob("*-attachment.txt"):
        for line in f.read_text(errors="replace").splitlines():
            if line.startswith("SIPp ") and " (" in line and "): " in line:
                where.add(line.split(" (", 1)[1].split("): ", 1)[0])
    return where


def _pass(r: ScenarioRun, duties: tuple[str, ...]) -> None:
    for duty in duties:
        d = r.summary["duties"][duty]
        assert d["automated"] == "PASS", (duty, d, r.output[-3000:])
        assert all(t["verdict"] in ("PASS", "SKIPPED") for t in r.tests(duty).values()), r.tests(duty)


def test_the_twins_lab_addressed_as_a_real_lab_passes_the_pstn_duties(twin: manager.TwinControl, lab_path: Path,
                                                                       tmp_path: Path) -> None:
    real = real_copy(lab_path)
    out = tmp_path / "reports"
    r = run_scenarios(real, out, *(f"--duty={d}" for d in PSTN_DUTIES), f"--alluredir={out / 'allure'}")
    assert r.summary["lab"]["emulated"] is False
    _pass(r, PSTN_DUTIES)
    host = twin.state("pstn1")["host"]
    assert sipp_where(out / "allure") == {f"ssh {host}:2222"}  # SIPp ran on the carrier's host, over SSH/SFTP


# -- hil carrier serve on loopback, carrying the twin's trunk ------------------------------------------


@pytest.fixture
def carrier_lab(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Path, Path, subprocess.Popen[str]]]:
    """A twin of the shipped lab on ``NET`` whose pstn1 is only a Linux host (SSH, SFTP, SIPp: no
    SIP), ``hil carrier serve`` answering SIP on pstn1's address, and the real-lab inventory of it.
    ``request.param`` (indirect): ``unavailable`` (the carrier's 503 numbers), ``harness_token`` (the
    token the harness sends)."""
    opts = getattr(request, "param", {})
    text = (Path(__file__).parents[2] / "lab_inventory.yaml").read_text().replace("127.0.", f"{NET}.")
    assert PSTN_SIP in text
    twin_inv = make_test_lab(tmp_path / "lab", text.replace(PSTN_SIP, PSTN_SIP.replace(
        "    sip:\n      port: 5060\n", "    sip: null                # hil carrier serve answers SIP here\n")))
    real = real_copy(twin_inv, text=text.replace(PSTN_SIP, PSTN_SIP.replace(
        "    facts:", "    http: {port: 8088, token: file:twin_secrets/carrier_token}\n    facts:")))
    (twin_inv.parent / "twin_secrets" / "carrier_token").write_text(TOKEN + "\n")
    (twin_inv.parent / "twin_secrets" / "harness_token").write_text(opts.get("harness_token", TOKEN) + "\n")
    real.write_text(real.read_text().replace("token: file:twin_secrets/carrier_token",
                                             "token: file:twin_secrets/harness_token"))
    cfg = twin_inv.parent / "carrier.yaml"
    cfg.write_text(f"""\
name: pstn1
carrier: Twin Carrier
sip: {{host: {NET}.4.1, port: 5060}}
echo_numbers: ["+13175559000"]
unavailable_numbers: {json.dumps(opts.get("unavailable", ["+13175559503"]))}
max_calls: 23
edges: [{{name: edge1, host: {NET}.1.1, port: 5060}}]
call_log:
  file: calls.csv
  http: {{host: {NET}.4.1, port: 8088, token: file:twin_secrets/carrier_token}}
""")
    # the carrier first: the twin's Edge pings its trunk's routes as it starts (an unanswered ping
    # marks the route down until the next one)
    proc = subprocess.Popen(with_default_sigint([sys.executable, "-m", "harness.cli", "carrier", "serve",
                                                 "--config", str(cfg)]),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        seen = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (seen and ("ready" in seen[-1] or not seen[-1])):
            seen.append(proc.stdout.readline())
        assert "ready" in seen[-1], "".join(seen)
        manager.up(twin_inv)
        try:
            yield real, cfg, proc
        finally:
            manager.down(twin_inv)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def test_hil_carrier_serve_carries_outbound_toll_fraud_and_capacity(
        carrier_lab: tuple[Path, Path, subprocess.Popen[str]], tmp_path: Path) -> None:
    real, cfg, proc = carrier_lab
    out = tmp_path / "reports"
    duties = ("PSTN-CONNECT", "SEC-TOLL-FRAUD", "PSTN-CAPACITY")
    r = run_scenarios(real, out, *(f"--duty={d}" for d in duties), f"--alluredir={out / 'allure'}")
    _pass(r, duties)
    outbound = [t for n, t in r.tests("PSTN-CONNECT").items() if n.startswith("test_outbound_call_to_the_carrier")]
    assert outbound and all(t["verdict"] == "PASS" for t in outbound), outbound
    assert sipp_where(out / "allure") == {f"ssh {NET}.4.1:2222"}  # SIPp on the carrier's host
    # the carrier's own log: the outbound calls to its echo line reached it, in E.164
    log = httpx.get(f"http://{NET}.4.1:8088/calls.csv", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
    rows = parse_call_log(log.text, "pstn1", "", "http")
    echo = [x for x in rows if x.method == "INVITE" and x.request_uri.startswith("sip:+13175559000@")]
    assert len(echo) >= 10 and all(x.status == 200 for x in echo), rows
    assert not [x for x in rows if "+1900" in x.request_uri or "+44" in x.request_uri]  # nothing blocked leaked
    assert TOKEN not in json.dumps(r.summary) and TOKEN not in r.output
    proc.send_signal(signal.SIGTERM)
    text, _ = proc.communicate(timeout=15)
    assert proc.returncode == 0 and "stopped (SIGTERM)" in text, text
    assert len(parse_call_log((cfg.parent / "calls.csv").read_text())) == len(rows)


@pytest.mark.parametrize("carrier_lab", [{"unavailable": ["+13175559503", "+13175559000"]}], indirect=True)
def test_a_carrier_refusing_its_echo_line_fails_the_outbound_test_call(
        carrier_lab: tuple[Path, Path, subprocess.Popen[str]], tmp_path: Path) -> None:
    real, _, _ = carrier_lab
    r = run_scenarios(real, tmp_path / "reports", "--duty=PSTN-CONNECT", "-k", "outbound")
    (name, rec), = r.tests("PSTN-CONNECT").items()
    assert name.startswith("test_outbound_call_to_the_carrier") and rec["verdict"] == "FAIL", rec
    assert "[PSTN-CONNECT] edge1" in rec["message"] and "503" in rec["message"], rec["message"]


@pytest.mark.parametrize("carrier_lab", [{"harness_token": "not-the-carriers-token"}], indirect=True)
def test_a_refused_call_log_token_is_a_broken_lab_not_a_finding(
        carrier_lab: tuple[Path, Path, subprocess.Popen[str]], tmp_path: Path) -> None:
    real, _, _ = carrier_lab
    r = run_scenarios(real, tmp_path / "reports", "--duty=SEC-TOLL-FRAUD", "-k", "blocked_prefixes_never")
    (rec,) = r.tests("SEC-TOLL-FRAUD").values()
    assert rec["verdict"] == "BROKEN" and r.verdict("SEC-TOLL-FRAUD") == "BROKEN", rec
    assert "pstn1" in rec["message"] and "http" in rec["message"] and "HTTP 401" in rec["message"], rec["message"]
    assert "file:twin_secrets/harness_token" in rec["message"] and "not-the-carriers-token" not in r.output


def test_the_twins_carrier_serves_its_call_log_over_http_to_a_token(tmp_path: Path) -> None:
    """A PSTN simulator with ``http`` and a token: the twin serves the call log there too, and the
    driver reads it that way (SEC-TOLL-FRAUD reads the log), refusing a request without the token."""
    text = (Path(__file__).parents[2] / "lab_inventory.yaml").read_text().replace("127.0.", f"{NET}.")
    inv = make_test_lab(tmp_path / "lab", text.replace(PSTN_SIP, PSTN_SIP.replace(
        "    facts:", "    http: {port: 8088, token: file:twin_secrets/carrier_token}\n    facts:")))
    (inv.parent / "twin_secrets" / "carrier_token").write_text(TOKEN + "\n")
    manager.up(inv)
    try:
        assert "call-log-http" in manager.TwinControl(inv).status()["devices"]["pstn1"]["services"]
        assert httpx.get(f"http://{NET}.4.1:8088/calls.csv", timeout=5).status_code == 401
        r = run_scenarios(real_copy(inv), tmp_path / "reports", "--duty=SEC-TOLL-FRAUD")
        _pass(r, ("SEC-TOLL-FRAUD",))
        log = httpx.get(f"http://{NET}.4.1:8088/calls.csv", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
        assert [x for x in parse_call_log(log.text) if x.method == "INVITE"]  # the control calls
    finally:
        manager.down(inv)
