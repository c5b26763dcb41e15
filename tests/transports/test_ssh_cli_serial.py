"""SSH and the switch CLI against the lab twin: twin services, transports and drivers (the serial
console against the twin: tests/transports/test_twin_console_and_v1.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from netmiko import BaseConnection, ConnectHandler
from ntc_templates.parse import parse_output

from harness.devices.drivers.switch import Switch, long_interface, uptime_seconds
from harness.errors import LabAuthError, LabError, LabProtocolError
from harness.inventory import LoadedLab
from harness.inventory.models import SwitchDevice
from harness.transports.cli import SwitchCli
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


@pytest.fixture
def sw(twin: TwinControl, loaded: LoadedLab) -> Iterator[Switch]:
    drv = Switch("sw1", _switch(loaded), loaded)
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
    # 48 ports less 4 phone ports (voice VLAN) and the WAN router's port (the data VLAN)
    assert len(next(r for r in rows if r["vlan_id"] == "1")["interfaces"]) == 43


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
    for name in ("sw1", "pstn1"):
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


def test_down_fault_is_lab_error_within_timeout(sw: Switch, twin: TwinControl) -> None:
    sw.version()  # an open session that the power-off will cut
    twin.fault("sw1", "down")
    t0 = time.monotonic()
    with pytest.raises(LabError):
        sw.vlans()
    assert time.monotonic() - t0 < 5.0 + 1.0
    twin.heal("sw1")
    assert 100 in sw.vlans()  # the session reconnects after power-on


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


def test_a_short_port_name_in_the_inventory_is_the_same_port_on_the_twin(loaded: LoadedLab) -> None:
    """``network.media.wan_port: Gi1/0/48`` and a phone's ``switch_port: Gi1/0/1`` name the ports the
    harness reads as GigabitEthernet1/0/48 and 1/0/1: the twin's switch cables the same ports."""
    media = loaded.lab.network.media
    assert media is not None and media.wan_port is not None
    short_wan = media.model_copy(update={"wan_port": media.wan_port.model_copy(update={"port": "Gi1/0/48"})})
    devices = dict(loaded.lab.devices)
    phone = devices["phone1"]
    assert phone.facts.switch_port is not None  # type: ignore[union-attr]
    sp = phone.facts.switch_port.model_copy(update={"port": "Gi1/0/1"})  # type: ignore[union-attr]
    devices["phone1"] = phone.model_copy(update={"facts": phone.facts.model_copy(update={"switch_port": sp})})
    lab = loaded.lab.model_copy(update={"devices": devices, "network": loaded.lab.network.model_copy(
        update={"media": short_wan})})
    st = initial_state("sw1", _switch(loaded))
    assert isinstance(st, SwitchState)
    populate_switch(st, "sw1", lab)
    wan, first = st.ports["GigabitEthernet1/0/48"], st.ports["GigabitEthernet1/0/1"]
    assert wan.oper_up and wan.wan_uplink and wan.description == "WAN router"
    assert first.oper_up and first.voice_vlan is not None
