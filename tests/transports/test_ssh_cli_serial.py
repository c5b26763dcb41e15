"""SSH, switch CLI and serial console against the lab twin: twin services, transports and drivers."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import paramiko
import pytest
from netmiko import BaseConnection, ConnectHandler
from ntc_templates.parse import parse_output

from harness.devices.drivers.edge import Edge
from harness.devices.drivers.switch import Switch, long_interface, uptime_seconds
from harness.errors import LabAuthError, LabError, LabProtocolError
from harness.inventory import LoadedLab
from harness.inventory.models import EdgeDevice, SwitchDevice
from harness.transports.cli import SwitchCli
from harness.transports.serial import SerialConsole
from harness.transports.ssh import SSHSession
from harness.transports.transcript import Transcript
from harness.twin.manager import TwinControl
from harness.twin.switch.ios import IosSession, show_vlan_brief
from harness.twin.switch.state import SwitchState, initial_state, populate_switch
from tests.conftest import CAPTURES

REALWORLD = CAPTURES / "cli" / "ntc-templates"


def _switch(loaded: LoadedLab) -> SwitchDevice:
    d = loaded.lab.devices["sw1"]
    assert isinstance(d, SwitchDevice)
    return d


def _edge(loaded: LoadedLab) -> EdgeDevice:
    d = loaded.lab.devices["edge1"]
    assert isinstance(d, EdgeDevice)
    return d


@pytest.fixture
def sw(twin: TwinControl, loaded: LoadedLab) -> Iterator[Switch]:
    drv = Switch("sw1", _switch(loaded), loaded)
    yield drv
    drv.close()


@pytest.fixture
def edge_driver(twin: TwinControl, loaded: LoadedLab) -> Iterator[Edge]:
    drv = Edge("edge1", _edge(loaded), loaded)
    yield drv
    drv.close()


# --- offline: the IOS state machine's text parses like the real captures ------------------------


def test_ios_outputs_parse_with_ntc_templates(loaded: LoadedLab) -> None:
    st = initial_state("sw1", _switch(loaded))
    assert isinstance(st, SwitchState)
    populate_switch(st, "sw1", loaded.lab)
    s = IosSession(st)
    for cmd, n in (("show version", 1), ("sh vlan br", 7), ("show interfaces switchport", 48)):
        out, _ = s.handle(cmd)
        rows = parse_output(platform="cisco_ios", command=cmd, data=out)
        assert len(rows) == n, cmd
    assert "% Invalid input detected at '^' marker." in s.handle("show bogus")[0]
    assert "Ambiguous" in s.handle("sh v")[0]
    # the wrapped Ports column reads back whole
    rows = parse_output(platform="cisco_ios", command="show vlan brief", data=show_vlan_brief(st))
    assert len(next(r for r in rows if r["vlan_id"] == "1")["interfaces"]) == 44


@pytest.mark.skipif(not REALWORLD.is_dir(), reason="shared/realworld captures are not available")
def test_driver_helpers_on_real_capture() -> None:
    raw = (REALWORLD / "cisco_ios__show_version__cisco_ios_show_version4.raw").read_text()
    row = parse_output(platform="cisco_ios", command="show version", data=raw)[0]
    assert uptime_seconds(row["uptime"]) == ((365 + 22 * 7 + 6) * 86400 + 9 * 3600 + 38 * 60)
    assert long_interface("Gi0/1") == "GigabitEthernet0/1"
    assert long_interface("Te1/1/4") == "TenGigabitEthernet1/1/4"
    assert long_interface("Eth1/49") == "Ethernet1/49"


# --- unmodified netmiko against the twin switch ------------------------------------------------


def _netmiko(loaded: LoadedLab) -> BaseConnection:
    d = _switch(loaded)
    assert d.ssh and d.ssh.password and d.ssh.enable_secret
    return ConnectHandler(device_type="cisco_ios", host=d.host, port=d.ssh.port, username=d.ssh.username,
                          password=loaded.resolve(d.ssh.password), secret=loaded.resolve(d.ssh.enable_secret),
                          ssh_strict=True, alt_host_keys=True,
                          alt_key_file=str(loaded.relative(d.ssh.known_hosts)), conn_timeout=5)


def test_netmiko_textfsm_parses_twin_switch(twin: TwinControl, loaded: LoadedLab) -> None:
    c = _netmiko(loaded)
    try:
        c.enable()
        assert c.find_prompt() == "sw1#"
        ver = c.send_command("show version", use_textfsm=True)
        assert isinstance(ver, list) and ver[0]["hostname"] == "sw1"
        assert ver[0]["version"] == _switch(loaded).facts.firmware
        assert ver[0]["hardware"] == ["WS-C3850-48P"]
        vlans = c.send_command("show vlan brief", use_textfsm=True)
        assert isinstance(vlans, list)
        by_id = {r["vlan_id"]: r for r in vlans}
        assert by_id["100"]["vlan_name"] == "VOICE" and "Gi1/0/1" in by_id["100"]["interfaces"]
        assert by_id["10"]["vlan_name"] == "DATA"
        ports = c.send_command("show interfaces switchport", use_textfsm=True)
        assert isinstance(ports, list) and len(ports) == 48
        gi1 = next(p for p in ports if p["interface"] == "Gi1/0/1")
        assert (gi1["access_vlan"], gi1["voice_vlan"]) == ("10", "100")
        assert "% Invalid input" in c.send_command("show nonsense")
    finally:
        c.disconnect()


def test_config_change_shows_in_later_output(sw: Switch) -> None:
    try:
        sw.configure(["vlan 300", "name TEST", "interface GigabitEthernet1/0/10", "switchport mode access",
                      "switchport voice vlan 300"])
        assert "[OK]" in sw.save()
        vlans = sw.vlans()
        assert vlans[300].name == "TEST" and "GigabitEthernet1/0/10" in vlans[300].ports
        assert sw.switchports()["GigabitEthernet1/0/10"].voice_vlan == 300
        with pytest.raises(LabProtocolError, match="rejected"):
            sw.configure(["vlan 301", "bogus command"])
    finally:
        sw.configure(["interface GigabitEthernet1/0/10", "no switchport voice vlan", "no vlan 300",
                      "no vlan 301"])
    assert 300 not in sw.vlans()
    assert sw.switchports()["GigabitEthernet1/0/10"].voice_vlan is None


def test_drop_voice_vlan_fault_and_heal(sw: Switch, twin: TwinControl) -> None:
    assert sw.vlans()[100].name == "VOICE"
    assert sw.switchports()["GigabitEthernet1/0/1"].voice_vlan == 100
    twin.fault("sw1", "drop-voice-vlan")
    assert 100 not in sw.vlans()
    ports = sw.switchports()
    assert ports["GigabitEthernet1/0/1"].voice_vlan is None
    assert ports["GigabitEthernet1/0/1"].access_vlan == 10
    twin.heal("sw1")
    assert sw.vlans()[100].name == "VOICE"
    assert sw.switchports()["GigabitEthernet1/0/4"].voice_vlan == 100


def test_switch_probe_and_version(sw: Switch, loaded: LoadedLab) -> None:
    v = sw.version()
    assert (v.hostname, v.model, v.version) == ("sw1", "WS-C3850-48P", "16.12.4")
    assert v.uptime_s >= 0 and v.image == "packages.conf"
    assert sw.probe("ssh").startswith("sw1 WS-C3850-48P 16.12.4")
    t = sw.transcript("cli", f"{sw.device.host}:{sw.device.ssh.port if sw.device.ssh else 0}").render()
    assert "show version" in t
    for ref in ("ssh_password", "enable_secret"):
        secret = (loaded.base_dir / "twin_secrets" / ref).read_text().strip()
        assert secret not in t


# --- credentials, host keys, deadlines --------------------------------------------------------


def test_wrong_password_is_lab_auth_error(twin: TwinControl, loaded: LoadedLab, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HIL_TEST_WRONG_PW", "not-the-password")
    for name in ("sw1", "edge1"):
        d = loaded.lab.devices[name]
        assert d.ssh
        bad = d.ssh.model_copy(update={"password": "env:HIL_TEST_WRONG_PW"})
        kh = loaded.relative(d.ssh.known_hosts)
        with pytest.raises(LabAuthError, match="refused"):
            SSHSession(name, d.host, bad, loaded.resolve, kh, Transcript("t"))
    d = _switch(loaded)
    assert d.ssh
    bad = d.ssh.model_copy(update={"password": "env:HIL_TEST_WRONG_PW"})
    with pytest.raises(LabAuthError):
        SwitchCli("sw1", d.host, "cisco_ios", bad, loaded.resolve, loaded.relative(d.ssh.known_hosts),
                  Transcript("t"))


def test_unknown_host_key_is_refused(twin: TwinControl, loaded: LoadedLab, tmp_path: Path) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    d = _switch(loaded)
    assert d.ssh
    with pytest.raises(LabError, match="host key"):
        SSHSession("sw1", d.host, d.ssh, loaded.resolve, empty, Transcript("t"))
    with pytest.raises(LabError, match="host key"):
        SwitchCli("sw1", d.host, "cisco_ios", d.ssh, loaded.resolve, empty, Transcript("t"))
    # trust on first use adds and saves the key, then the strict check passes
    tofu = d.ssh.model_copy(update={"trust_on_first_use": True})
    SSHSession("sw1", d.host, tofu, loaded.resolve, empty, Transcript("t")).close()
    assert f"[{d.host}]:{d.ssh.port}" in empty.read_text()
    SSHSession("sw1", d.host, d.ssh, loaded.resolve, empty, Transcript("t")).close()


def test_down_fault_is_lab_error_within_timeout(edge_driver: Edge, sw: Switch, twin: TwinControl) -> None:
    edge_driver.cli_version()  # an open session that the power-off will cut
    sw.version()
    twin.fault("edge1", "down")
    twin.fault("sw1", "down")
    ssh_timeout = edge_driver.device.ssh.timeout_s if edge_driver.device.ssh else 5.0
    calls = ((edge_driver.cli_version, ssh_timeout), (sw.vlans, 5.0), (edge_driver.console_version, 5.0))
    for call, timeout in calls:
        t0 = time.monotonic()
        with pytest.raises(LabError):
            call()
        assert time.monotonic() - t0 < timeout + 1.0
    twin.heal("edge1")
    twin.heal("sw1")
    assert edge_driver.cli_version().hostname == "edge1"  # the session reconnects after power-on
    assert 100 in sw.vlans()


# --- Edge over SSH and console ----------------------------------------------------------------


def test_edge_version_over_ssh_and_firmware_fault(edge_driver: Edge, twin: TwinControl,
                                                  loaded: LoadedLab) -> None:
    v = edge_driver.cli_version()
    f = _edge(loaded).facts
    assert (v.hostname, v.model, v.serial, v.firmware) == ("edge1", f.model, f.serial, f.firmware)
    twin.fault("edge1", "firmware", "9.9.9")
    assert edge_driver.cli_version().firmware == "9.9.9"
    twin.heal("edge1")
    assert edge_driver.cli_version().firmware == f.firmware
    assert edge_driver.probe("ssh").startswith("edge1 ")


def test_edge_ssh_exec_and_interactive_shell(edge_driver: Edge, loaded: LoadedLab) -> None:
    assert "Registered phones:" in edge_driver.run("show status")
    assert edge_driver.run("sh ver").startswith("Genesys Cloud Edge")
    assert "Unknown command" in edge_driver.run("reboot now")
    d = _edge(loaded)
    assert d.ssh and d.ssh.password
    client = paramiko.SSHClient()
    client.load_host_keys(str(loaded.relative(d.ssh.known_hosts)))
    client.connect(d.host, d.ssh.port, d.ssh.username, loaded.resolve(d.ssh.password), timeout=5,
                   look_for_keys=False, allow_agent=False)
    try:
        chan = client.invoke_shell()
        chan.settimeout(5)
        chan.send(b"show version\n")
        buf = b""
        while buf.count(b"edge1> ") < 2:
            buf += chan.recv(4096)
        text = buf.decode()
        assert "show version\r\n" in text  # echoed by the line editor
        assert f"Firmware Version : {d.facts.firmware}" in text
    finally:
        client.close()


def test_pstn_management_ssh(twin: TwinControl, loaded: LoadedLab) -> None:
    d = loaded.lab.devices["pstn1"]
    assert d.ssh
    kh = loaded.relative(d.ssh.known_hosts)
    s = SSHSession("pstn1", d.host, d.ssh, loaded.resolve, kh, Transcript("t"))
    try:
        assert s.run("uname -a").startswith("Linux pstn1 ")
        assert "SIPp v3.6.1" in s.run("sipp -v")
        s.run("nosuch")
        assert s.last_exit_status == 127
    finally:
        s.close()


def _console(loaded: LoadedLab) -> SerialConsole:
    con = _edge(loaded).console
    assert con is not None
    return SerialConsole("edge1", con, loaded.resolve, Transcript("edge1 serial"))


def test_console_login_show_version_and_left_logged_in(twin: TwinControl, loaded: LoadedLab) -> None:
    c = _console(loaded)
    try:
        c.login()
        out = c.command("show version")
        assert out.startswith("Genesys Cloud Edge\n") and "Hostname         : edge1" in out
    finally:
        c.close(logout=False)  # no exit (a connection that dropped): the line stays logged in
    c2 = _console(loaded)
    try:
        c2.login()  # lands at the prompt
        assert "Firmware Version" in c2.command("show version")
        c2.send_line("exit")
        c2.expect([r"login: ?\Z"])
        c2.send_line("admin")
        c2.expect([r"Password: ?\Z"])
    finally:
        c2.close()  # left at Password:
    c3 = _console(loaded)
    try:
        c3.login()
        assert "Serial Number" in c3.command("show version")
        assert "*****" in c3.transcript.render()
        secret = (loaded.base_dir / "twin_secrets" / "console_password").read_text().strip()
        assert secret not in c3.transcript.render()
    finally:
        c3.close()


def test_console_wrong_password(twin: TwinControl, loaded: LoadedLab,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HIL_TEST_WRONG_PW", "not-the-password")
    con = _edge(loaded).console
    assert con is not None
    c = SerialConsole("edge1", con.model_copy(update={"password": "env:HIL_TEST_WRONG_PW"}), loaded.resolve,
                      Transcript("t"))
    try:
        c.send_line("exit")  # make sure the line is at the login prompt
        with pytest.raises(LabAuthError):
            c.login()
    finally:
        c.close()


def test_edge_console_version_and_probe(edge_driver: Edge, twin: TwinControl, loaded: LoadedLab) -> None:
    v = edge_driver.console_version()
    assert v.firmware == _edge(loaded).facts.firmware and v.hostname == "edge1"
    assert edge_driver.probe("console").startswith("edge1 Genesys Edge (virtual) serial VE-000001")


def _console_line_prompt(loaded: LoadedLab) -> str:
    """What the Edge's console line shows a newcomer who presses Enter: its last line."""
    con = _edge(loaded).console
    assert con is not None
    host, port = con.url.removeprefix("socket://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(b"\r")
        seen = b""
        s.settimeout(0.5)
        with contextlib.suppress(TimeoutError):
            while chunk := s.recv(4096):
                seen += chunk
    return seen.decode(errors="replace").replace("\r", "").split("\n")[-1]


def test_closing_a_console_session_logs_it_out(twin: TwinControl, loaded: LoadedLab) -> None:
    c = _console(loaded)
    try:
        c.login()
        assert "Firmware Version" in c.command("show version")
    finally:
        c.close()
    assert "> exit" in c.transcript.render()
    assert _console_line_prompt(loaded) == "edge1 login: "


def test_closing_the_edge_driver_logs_its_console_out(edge_driver: Edge, loaded: LoadedLab) -> None:
    edge_driver.console_version()
    assert _console_line_prompt(loaded) == "edge1> "  # logged in while the session is open
    edge_driver.close()
    assert _console_line_prompt(loaded) == "edge1 login: "


def test_a_console_that_is_gone_closes_without_waiting(edge_driver: Edge, twin: TwinControl) -> None:
    console = edge_driver.console()
    console.login()
    twin.fault("edge1", "down")
    started = time.monotonic()
    console.close()  # exit is sent into a dead line: no answer, no error
    assert time.monotonic() - started < 5.0
