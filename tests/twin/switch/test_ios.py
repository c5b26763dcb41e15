"""The twin's IOS access switch over real SSH: show commands that ntc-templates parse into the twin's
state, a canonical running-config that hier_config rolls back line for line, --More-- paging, bursts
of config lines, and the access-switch faults (port-vlan … cli-hang) as the CLI shows them."""

from __future__ import annotations

import random
import re
import socket
import time
from collections.abc import Iterator
from typing import Any

import paramiko
import pytest
from hier_config import Platform, WorkflowRemediation, get_hconfig
from netmiko import ConnectHandler
from ntc_templates.parse import parse_output

from harness.errors import LabProtocolError, LabTimeout
from harness.inventory import LoadedLab
from harness.inventory.models import SwitchDevice
from harness.transports.cli import SwitchCli
from harness.transports.transcript import Transcript
from harness.twin.manager import TwinControl, TwinError

P1, P5 = "GigabitEthernet1/0/1", "GigabitEthernet1/0/5"


def _dev(loaded: LoadedLab) -> SwitchDevice:
    d = loaded.lab.devices["sw1"]
    assert isinstance(d, SwitchDevice) and d.ssh is not None
    return d


def _cli(loaded: LoadedLab, timeout_s: float | None = None) -> SwitchCli:
    d = _dev(loaded)
    assert d.ssh is not None
    settings = d.ssh.model_copy(update={"timeout_s": timeout_s}) if timeout_s else d.ssh
    return SwitchCli("sw1", d.host, d.platform, settings, loaded.resolve, loaded.relative(d.ssh.known_hosts),
                     Transcript("sw1 cli"))


@pytest.fixture
def cli(twin: TwinControl, loaded: LoadedLab) -> Iterator[SwitchCli]:
    c = _cli(loaded)
    before = c.send("show running-config")
    yield c
    try:  # put back whatever a test changed, with the rollback under test
        _rollback(c, before)
    finally:
        c.close()


def _state(twin: TwinControl) -> dict[str, Any]:
    st: dict[str, Any] = twin.state("sw1")
    return st


def _short(name: str) -> str:
    return name.replace("GigabitEthernet", "Gi")


def _parse(cli: SwitchCli, command: str) -> list[dict[str, Any]]:
    return parse_output(platform="cisco_ios", command=command, data=cli.send(command))


def _stable(config: str) -> list[str]:
    return [ln for ln in config.splitlines()
            if not ln.startswith(("Current configuration :", "! Last configuration change"))]


def _rollback(cli: SwitchCli, before: str) -> list[str]:
    current = cli.send("show running-config")
    lines = list(WorkflowRemediation(get_hconfig(Platform.CISCO_IOS, current),
                                     get_hconfig(Platform.CISCO_IOS, before)).remediation_config.dump_simple())
    if lines:
        cli.config(lines)
    return lines


# --- show commands parse into the state ------------------------------------------------------------


def test_show_commands_parse_and_match_state(cli: SwitchCli, twin: TwinControl) -> None:
    st = _state(twin)
    ports = st["ports"]
    up = {n for n, p in ports.items() if p["admin_up"] and p["oper_up"]}
    status = {_short(n): r for r in _parse(cli, "show interfaces status") for n in [r["port"]]}
    assert len(status) == 48
    for name, p in ports.items():
        r = status[_short(name)]
        assert r["status"] == ("connected" if name in up else "notconnect")
        assert r["vlan_id"] == str(p["access_vlan"])
        if name in up:
            assert (r["duplex"], r["speed"]) == (f"a-{p['duplex']}", f"a-{p['speed_mbps']}")

    ifs = {r["interface"]: r for r in _parse(cli, "show interfaces")}
    assert set(ifs) == set(ports)
    assert ifs[P1]["input_errors"] == "0" and ifs[P1]["duplex"] == "Full-duplex" and ifs[P1]["speed"] == "1000Mb/s"
    one = _parse(cli, "show interfaces Gi1/0/1")
    assert len(one) == 1 and one[0]["link_status"] == "up" and one[0]["mac_address"]

    lldp = {r["local_interface"]: r for r in _parse(cli, "show lldp neighbors detail")}
    phones = {_short(n): p["neighbor"] for n, p in ports.items() if p["neighbor"]}
    assert set(lldp) == set(phones) and len(phones) == 4
    for short, n in phones.items():
        r = lldp[short]
        assert r["chassis_id"].replace(".", "") == n["mac"].replace(":", "")
        assert (r["neighbor_name"], r["platform"], r["serial"], r["mgmt_address"]) == (
            n["name"], n["model"], n["serial"], n["mgmt_ip"])
        assert r["power_class"] == str(n["poe_class"])
    raw = cli.send("show lldp neighbors detail")
    pol = st["network_policies"]["1"]
    assert raw.count(f"Network Policy(Voice): VLAN {pol['vlan']}, tagged, Layer-2 priority: {pol['cos']}, "
                     f"DSCP: {pol['dscp']}") == 4
    assert raw.rstrip().endswith("Total entries displayed: 4")

    poe = {r["interface"]: r for r in _parse(cli, "show power inline")}
    assert len(poe) == 48
    assert (poe["Gi1/0/1"]["operational_status"], poe["Gi1/0/1"]["class"]) == ("on", "2")
    assert (poe["Gi1/0/5"]["admin_status"], poe["Gi1/0/5"]["operational_status"]) == ("auto", "off")

    stp = _parse(cli, "show spanning-tree")
    assert {(r["vlan_id"], r["interface"]) for r in stp} == {  # the phones' ports, and the WAN router's (data VLAN)
        (str(v), _short(n)) for n in up for v in (ports[n]["access_vlan"], ports[n]["voice_vlan"]) if v}
    assert {r["vlan_id"] for r in stp if r["interface"] == "Gi1/0/48"} == {"10"}
    assert all(r["type"] == "P2p Edge" for r in stp if r["interface"] != "Gi1/0/48")  # portfast on the phones' ports

    macs = _parse(cli, "show mac address-table")
    assert {(r["vlan_id"], r["destination_address"].replace(".", ""), r["destination_port"][0]) for r in macs} == {
        (v, n["mac"].replace(":", ""), s) for s, n in phones.items() for v in ("10", "100")}
    assert all(r["type"] == "DYNAMIC" for r in macs)
    assert "trust state: trust dscp" in cli.send("show mls qos interface Gi1/0/1")


def test_running_config_is_complete_and_canonical(cli: SwitchCli) -> None:
    cli.config(["interface Gi1/0/6", "spanning-tree portfast", "power inline never", "description desk 6",
                "mls qos trust device cisco-phone", "network-policy 1", "switchport voice vlan 100",
                "switchport access vlan 10", "shutdown", "network-policy profile 7", "voice vlan 120 dscp 40",
                "voice vlan 120 cos 3", "vlan 120", "name EXTRA"])
    rc = cli.send("show running-config")
    block = rc.split("interface GigabitEthernet1/0/6\n")[1].split("!")[0].splitlines()
    assert block == [" description desk 6", " switchport access vlan 10", " switchport mode access",
                     " switchport voice vlan 100", " network-policy 1", " power inline never",
                     " mls qos trust device cisco-phone", " spanning-tree portfast", " shutdown"]
    assert "network-policy profile 7\n voice vlan 120 cos 3\n voice vlan 120 dscp 40\n!" in rc
    assert "vlan 120\n name EXTRA\n!" in rc
    assert re.search(r"^! Last configuration change at \d\d:\d\d:\d\d UTC \w{3} \w{3} \d+ \d{4} by \S+$", rc, re.M)
    one = cli.send("show running-config interface Gi1/0/6")
    assert one.splitlines()[3:5] == ["!", "interface GigabitEthernet1/0/6"] and one.rstrip().endswith("end")


# --- the rollback property --------------------------------------------------------------------------


def _random_changes(rng: random.Random) -> list[str]:
    """Config lines drawn from every command the twin prints, on phone and free ports, VLANs, profiles."""
    ports = ["Gi1/0/1", "Gi1/0/2", "Gi1/0/5", "Gi1/0/7", "Gi1/0/48"]
    port_cmds = [
        lambda: f"description {rng.choice(['desk', 'lobby phone', 'x'])} {rng.randint(1, 9)}",
        lambda: "no description",
        lambda: f"switchport access vlan {rng.choice([1, 10, 100, 300, 301])}",
        lambda: f"no switchport access vlan {rng.choice(['', '10', '300'])}",
        lambda: f"switchport mode {rng.choice(['access', 'trunk'])}",
        lambda: "no switchport mode access",
        lambda: f"switchport voice vlan {rng.choice([100, 101, 302])}",
        lambda: "no switchport voice vlan",
        lambda: f"network-policy {rng.choice([1, 2, 9])}",
        lambda: "no network-policy",
        lambda: rng.choice(["power inline never", "power inline auto", "no power inline never"]),
        lambda: "mls qos trust " + rng.choice(["dscp", "cos", "device cisco-phone"]),
        lambda: "no mls qos trust " + rng.choice(["dscp", "cos", "device cisco-phone"]),
        lambda: rng.choice(["spanning-tree portfast", "no spanning-tree portfast"]),
        lambda: rng.choice(["shutdown", "no shutdown"]),
    ]
    out: list[str] = []
    for _ in range(rng.randint(10, 30)):
        k = rng.random()
        if k < 0.65:
            out += [f"interface {rng.choice(ports)}", rng.choice(port_cmds)()]
        elif k < 0.8:
            vid = rng.choice([10, 100, 300, 303])
            out += rng.choice([[f"vlan {vid}", f"name N{rng.randint(1, 99)}"], [f"vlan {vid}", "no name"],
                               [f"no vlan {vid}"], [f"vlan {vid}"]])
        else:
            prof = rng.choice([1, 2])
            vid = rng.choice([100, 200])
            out += [f"network-policy profile {prof}", rng.choice([
                f"voice vlan {vid} cos {rng.randint(0, 7)}", f"voice vlan {vid} dscp {rng.choice([46, 40, 0])}",
                f"no voice vlan {vid} cos {rng.choice([5, 3])}", f"no voice vlan {vid} dscp {rng.choice([46, 40])}",
                "no voice vlan"])]
            if rng.random() < 0.1:
                out.append(f"no network-policy profile {prof}")
    return out


@pytest.mark.parametrize("seed", range(6))
def test_hier_config_rollback_restores_running_config(cli: SwitchCli, seed: int) -> None:
    before = cli.send("show running-config")
    rng = random.Random(seed)
    cli.config(_random_changes(rng))
    changed = cli.send("show running-config")
    assert _stable(changed) != _stable(before)
    assert _rollback(cli, before)
    assert _stable(cli.send("show running-config")) == _stable(before)
    assert _rollback(cli, before) == []  # nothing left to do


def test_no_form_of_every_printed_line_removes_it(cli: SwitchCli) -> None:
    cli.config(["interface Gi1/0/9", "description d", "switchport access vlan 10", "switchport voice vlan 100",
                "network-policy 1", "power inline never", "mls qos trust cos", "spanning-tree portfast", "shutdown",
                "network-policy profile 3", "voice vlan 130 cos 4", "voice vlan 130 dscp 34", "vlan 131", "name X"])
    rc = cli.send("show running-config")
    block = [ln.strip() for ln in rc.split("interface GigabitEthernet1/0/9\n")[1].split("!")[0].splitlines()]
    profile = [ln.strip() for ln in rc.split("network-policy profile 3\n")[1].split("!")[0].splitlines()]
    cli.config(["interface Gi1/0/9", *[f"no {ln}" for ln in block], "network-policy profile 3",
                *[f"no {ln}" for ln in profile], "vlan 131", "no name X"])
    rc = cli.send("show running-config")
    assert rc.split("interface GigabitEthernet1/0/9\n")[1].startswith("!")
    assert "vlan 131 cos 4" not in rc and "dscp 34" not in rc and "vlan 131\n!" in rc
    # the values went back to the IOS defaults (CoS 5, DSCP 46); their no forms remove the policy
    assert "network-policy profile 3\n voice vlan 130 cos 5\n voice vlan 130 dscp 46\n!" in rc
    cli.config(["network-policy profile 3", "no voice vlan 130 cos 5"])
    assert "network-policy profile 3" not in cli.send("show running-config")
    cli.config(["no vlan 131"])
    assert "vlan 131" not in cli.send("show running-config")


# --- bursts and paging ------------------------------------------------------------------------------


def test_burst_of_config_lines_is_answered_in_order(cli: SwitchCli, loaded: LoadedLab) -> None:
    lines = []
    for n in range(5, 49):
        lines += [f"interface GigabitEthernet1/0/{n}", f"description burst {n}", "switchport access vlan 10",
                  "switchport voice vlan 100", "network-policy 1", "mls qos trust dscp", "spanning-tree portfast",
                  "power inline auto", "no shutdown"]
    d = _dev(loaded)
    assert d.ssh is not None and d.ssh.password
    c = ConnectHandler(device_type="cisco_ios", host=d.host, port=d.ssh.port, username=d.ssh.username,
                       password=loaded.resolve(d.ssh.password), secret=loaded.resolve(d.ssh.enable_secret or ""),
                       ssh_strict=True, alt_host_keys=True, alt_key_file=str(loaded.relative(d.ssh.known_hosts)))
    try:
        c.enable()
        t0 = time.monotonic()
        out = c.send_config_set(lines, cmd_verify=False, read_timeout=20)
        took = time.monotonic() - t0
    finally:
        c.disconnect()
    echoed = [ln for ln in out.splitlines() if "(config" in ln]
    sent = [re.sub(r"^sw1\(config[^)]*\)#", "", ln) for ln in echoed]
    assert [s for s in sent if s and s != "end"] == lines  # each line echoed once, in order, after its prompt
    assert took < 10
    rc = cli.send("show running-config")
    assert rc.count("description burst ") == 44


def _shell(loaded: LoadedLab) -> tuple[paramiko.SSHClient, paramiko.Channel]:
    d = _dev(loaded)
    assert d.ssh is not None and d.ssh.password
    client = paramiko.SSHClient()
    client.load_host_keys(str(loaded.relative(d.ssh.known_hosts)))
    client.connect(d.host, d.ssh.port, d.ssh.username, loaded.resolve(d.ssh.password), timeout=5,
                   look_for_keys=False, allow_agent=False)
    chan = client.invoke_shell(width=200, height=50)
    chan.settimeout(5)
    return client, chan


def _read_until(chan: paramiko.Channel, *marks: str) -> str:
    buf = ""
    while not any(buf.endswith(m) for m in marks):
        buf += chan.recv(65536).decode()
    return buf


def test_more_paging_until_terminal_length_0(twin: TwinControl, loaded: LoadedLab) -> None:
    client, chan = _shell(loaded)
    try:
        _read_until(chan, "sw1>")
        chan.send(b"show interfaces status\n")
        first = _read_until(chan, " --More-- ")
        assert first.count("\n") == 1 + 24 and "Gi1/0/22 " in first and "Gi1/0/23 " not in first
        chan.send(b"\r")  # Enter: one more line
        more = _read_until(chan, " --More-- ")
        assert more.count("\n") == 1 and "Gi1/0/23 " in more
        chan.send(b" ")  # space: the next page
        page = _read_until(chan, " --More-- ", "sw1>")
        assert "Gi1/0/47 " in page and "Gi1/0/48 " not in page
        chan.send(b"q")  # stop
        tail = _read_until(chan, "sw1>")
        assert "Gi1/0/48" not in tail
        chan.send(b"terminal length 0\nshow interfaces status\n")
        whole = ""
        while not (whole.endswith("sw1>") and "Gi1/0/48" in whole):
            whole += _read_until(chan, "sw1>", "--More-- ")
        assert "--More--" not in whole and "Gi1/0/48 " in whole
    finally:
        client.close()


# --- faults -----------------------------------------------------------------------------------------


def _ports_parsed(cli: SwitchCli, command: str, key: str) -> dict[str, dict[str, Any]]:
    return {r[key]: r for r in _parse(cli, command)}


def test_port_faults_show_in_cli(cli: SwitchCli, twin: TwinControl) -> None:
    twin.fault("sw1", "port-vlan", "Gi1/0/1:20")
    twin.fault("sw1", "no-voice-vlan", "GigabitEthernet1/0/2")
    twin.fault("sw1", "no-qos-trust", "Gi1/0/3")
    twin.fault("sw1", "half-duplex", "Gi1/0/4")
    twin.fault("sw1", "poe-off", "Gi1/0/2")
    twin.fault("sw1", "lldp-missing", "Gi1/0/3")
    twin.fault("sw1", "port-errors", "Gi1/0/1")
    sw = _ports_parsed(cli, "show interfaces switchport", "interface")
    assert sw["Gi1/0/1"]["access_vlan"] == "20" and sw["Gi1/0/2"]["voice_vlan"] == "none"
    assert "trust state: not trusted" in cli.send("show mls qos interface Gi1/0/3")
    assert "mls qos trust" not in cli.send("show running-config interface Gi1/0/3")
    status = _ports_parsed(cli, "show interfaces status", "port")
    assert (status["Gi1/0/4"]["duplex"], status["Gi1/0/4"]["speed"]) == ("a-half", "a-100")
    assert _ports_parsed(cli, "show interfaces Gi1/0/4", "interface")[
        "GigabitEthernet1/0/4"]["duplex"] == "Half-duplex"
    poe = _ports_parsed(cli, "show power inline", "interface")
    assert (poe["Gi1/0/2"]["operational_status"], poe["Gi1/0/2"]["power"]) == ("faulty", "0.0")
    assert set(_ports_parsed(cli, "show lldp neighbors detail", "local_interface")) == {"Gi1/0/1", "Gi1/0/2",
                                                                                        "Gi1/0/4"}
    e1 = int(_parse(cli, "show interfaces Gi1/0/1")[0]["input_errors"])
    time.sleep(0.5)
    e2 = int(_parse(cli, "show interfaces Gi1/0/1")[0]["input_errors"])
    assert e2 > e1 >= 0
    twin.heal("sw1")
    assert _ports_parsed(cli, "show interfaces switchport", "interface")["Gi1/0/1"]["access_vlan"] == "10"
    assert _ports_parsed(cli, "show power inline", "interface")["Gi1/0/2"]["operational_status"] == "on"
    assert len(_parse(cli, "show lldp neighbors detail")) == 4
    assert _ports_parsed(cli, "show interfaces status", "port")["Gi1/0/4"]["duplex"] == "a-full"
    assert _state(twin)["ports"][P1]["in_errors_per_s"] == 0


def test_phone_moved_fault(cli: SwitchCli, twin: TwinControl) -> None:
    before = cli.send("show running-config interface Gi1/0/1")
    twin.fault("sw1", "phone-moved", "phone1:Gi1/0/20")
    status = _ports_parsed(cli, "show interfaces status", "port")
    assert (status["Gi1/0/1"]["status"], status["Gi1/0/20"]["status"]) == ("notconnect", "connected")
    macs = {r["destination_port"][0] for r in _parse(cli, "show mac address-table")
            if r["destination_address"] == "0004.f200.0001"}
    assert macs == {"Gi1/0/20"}
    lldp = _ports_parsed(cli, "show lldp neighbors detail", "local_interface")
    assert lldp["Gi1/0/20"]["neighbor_name"] == "phone1" and "Gi1/0/1" not in lldp
    moved = cli.send("show running-config interface Gi1/0/20")
    assert moved.split("interface")[1].split("\n", 1)[1] == before.split("interface")[1].split("\n", 1)[1]
    twin.heal("sw1")
    status = _ports_parsed(cli, "show interfaces status", "port")
    assert (status["Gi1/0/1"]["status"], status["Gi1/0/20"]["status"]) == ("connected", "notconnect")
    assert cli.send("show running-config interface Gi1/0/20").split("interface GigabitEthernet1/0/20\n")[1] \
        .startswith(" switchport mode access\nend")


@pytest.mark.parametrize(("fault", "value", "why"), [
    ("port-vlan", "Gi1/0/99:20", "no port"), ("port-vlan", "Gi1/0/5", "PORT:VLAN"),
    ("port-vlan", "Gi1/0/5:5000", "1-4094"), ("no-voice-vlan", "Te1/0/1", "no port"),
    ("lldp-missing", "Gi1/0/30", "nothing is cabled"), ("phone-moved", "phone9:Gi1/0/20", "not cabled"),
    ("phone-moved", "phone1:Gi1/0/2", "not free"), ("snmp-vlan", "Gi1/0/1:x", "1-4094")])
def test_bad_fault_values_are_refused(twin: TwinControl, fault: str, value: str, why: str) -> None:
    with pytest.raises(TwinError, match=why):
        twin.fault("sw1", fault, value)
    assert fault not in _state(twin)["faults"]


def test_snmp_vlan_fault_keeps_cli_truth(cli: SwitchCli, twin: TwinControl) -> None:
    twin.fault("sw1", "snmp-vlan", "Gi1/0/1:30")
    assert _state(twin)["faults"]["snmp-vlan"] == "Gi1/0/1:30"
    assert _ports_parsed(cli, "show interfaces switchport", "interface")["Gi1/0/1"]["access_vlan"] == "10"


def test_reject_config_refuses_that_line_only(cli: SwitchCli, twin: TwinControl) -> None:
    twin.fault("sw1", "reject-config", "switchport voice vlan 100")
    with pytest.raises(LabProtocolError, match="Invalid input") as e:
        cli.config(["interface Gi1/0/11", "description before", "  switchport voice vlan 100 ",
                    "description after"])
    assert "sw1" in str(e.value)
    cli.close()  # netmiko left the session in config mode; the next command reconnects
    rc = cli.send("show running-config interface Gi1/0/11")
    assert "description before" in rc and "voice vlan" not in rc
    cli.config(["interface Gi1/0/11", "switchport voice vlan 101"])  # other lines still work
    assert "switchport voice vlan 101" in cli.send("show running-config interface Gi1/0/11")
    twin.heal("sw1")
    cli.config(["interface Gi1/0/11", "switchport voice vlan 100"])
    assert "switchport voice vlan 100" in cli.send("show running-config interface Gi1/0/11")


def test_reject_config_caret(twin: TwinControl, loaded: LoadedLab) -> None:
    twin.fault("sw1", "reject-config", "spanning-tree portfast")
    client, chan = _shell(loaded)
    try:
        _read_until(chan, "sw1>")
        secret = loaded.resolve(_dev(loaded).ssh.enable_secret or "")  # type: ignore[union-attr]
        chan.send(f"enable\n{secret}\nconfigure terminal\ninterface Gi1/0/12\nspanning-tree portfast\n".encode())
        out = _read_until(chan, "sw1(config-if)#")
        while "marker." not in out:
            out += _read_until(chan, "sw1(config-if)#")
        lines = out.replace("\r", "").splitlines()
        i = next(n for n, ln in enumerate(lines) if ln.endswith("#spanning-tree portfast"))
        assert lines[i + 1].index("^") == lines[i].index("portfast")
        assert lines[i + 2] == "% Invalid input detected at '^' marker."
        chan.send(b"end\n")
    finally:
        client.close()


def test_cli_hang_then_new_session_after_heal(twin: TwinControl, loaded: LoadedLab) -> None:
    twin.fault("sw1", "cli-hang", "description hang here")
    c = _cli(loaded, timeout_s=2)
    try:
        with pytest.raises(LabTimeout):
            c.config(["interface Gi1/0/13", "description before hang", "description hang here",
                      "description after"])
    finally:
        c.close()
    twin.heal("sw1")
    c = _cli(loaded)
    try:
        rc = c.send("show running-config interface Gi1/0/13")
        assert "description before hang" in rc  # lines before the hang stay applied
        c.config(["interface Gi1/0/13", "no description"])
    finally:
        c.close()


def test_cli_hang_is_silent(twin: TwinControl, loaded: LoadedLab) -> None:
    twin.fault("sw1", "cli-hang", "vlan 777")
    client, chan = _shell(loaded)
    try:
        _read_until(chan, "sw1>")
        secret = loaded.resolve(_dev(loaded).ssh.enable_secret or "")  # type: ignore[union-attr]
        chan.send(f"enable\n{secret}\nconfigure terminal\n".encode())
        _read_until(chan, "sw1(config)#")
        chan.send(b"vlan 777\n")
        chan.settimeout(1.0)
        got = b""
        with pytest.raises(socket.timeout):
            while True:
                got += chan.recv(4096)
        assert b"sw1(config" not in got
    finally:
        client.close()
