"""The twin's faces that the SNMP and console fixes read: a Linux host's console (the PSTN
simulator's, prompt ``admin@pstn1:~$ ``) with and without ``console-eats-first-char``, and a switch
whose inventory says SNMP ``version: "1"`` (the twin's agent answers v1, ends its MIB with noSuchName).
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.errors import LabAuthError
from harness.inventory import LoadedLab, load
from harness.transports.serial import SerialConsole
from harness.transports.snmp import SnmpClient
from harness.transports.transcript import Transcript
from harness.twin import manager
from harness.twin.servers.console import EAT_IDLE_S
from tests.conftest import REPO, make_test_lab, other_net

#: these tests start a lab of their own (tests/conftest.py marks those that use the session twin)
pytestmark = pytest.mark.twin

NET = other_net(2)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LoadedLab, manager.TwinControl]]:
    text = (REPO / "lab_inventory.yaml").read_text()
    pstn = "    host: 127.0.4.1\n    snmp: null\n"
    assert pstn in text and text.count('version: "2c"') == 1
    text = text.replace(pstn, pstn + "    console:\n      url: socket://127.0.4.1:7004\n      username: admin\n"
                                     "      password: file:twin_secrets/console_password\n")
    text = text.replace('version: "2c"', "version: 1").replace("127.0.", f"{NET}.")
    inv = make_test_lab(Path(tmp_path_factory.mktemp("lab")), text)
    manager.up(inv)
    try:
        yield load(inv), manager.TwinControl(inv)
    finally:
        manager.down(inv)


def console(loaded: LoadedLab) -> SerialConsole:
    con = loaded.lab.devices["pstn1"].console
    assert con is not None
    return SerialConsole("pstn1", con, loaded.resolve, Transcript("pstn1 serial"))


def test_console_logs_in_at_a_user_at_host_prompt(lab: tuple[LoadedLab, manager.TwinControl]) -> None:
    c = console(lab[0])
    try:
        assert c.command("hostname") == "pstn1\n"
    finally:
        c.close()


def test_console_that_eats_the_first_character_after_idling(lab: tuple[LoadedLab, manager.TwinControl]) -> None:
    loaded, twin = lab
    twin.fault("pstn1", "console-eats-first-char")
    c = console(loaded)
    try:
        c.login()  # its wake-up CR is lost: the line is woken again
        time.sleep(EAT_IDLE_S + 0.1)
        assert c.command("hostname") == "pstn1\n"
        assert "-bash: ostname: command not found" in c.transcript.render()
        assert "lost the first character of 'hostname'" in c.transcript.render()
        assert c.command("uname -a").startswith("Linux pstn1 ")  # typed at once: nothing lost
    finally:
        c.close()
        twin.heal("pstn1")


def test_console_login_masks_the_password(lab: tuple[LoadedLab, manager.TwinControl]) -> None:
    loaded = lab[0]
    c = console(loaded)
    try:
        c.login()
        assert c.command("hostname") == "pstn1\n"
        assert "*****" in c.transcript.render()
        secret = (loaded.base_dir / "twin_secrets" / "console_password").read_text().strip()
        assert secret not in c.transcript.render()
    finally:
        c.close()


def test_console_wrong_password(lab: tuple[LoadedLab, manager.TwinControl], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HIL_TEST_WRONG_PW", "not-the-password")
    con = lab[0].lab.devices["pstn1"].console
    assert con is not None
    c = SerialConsole("pstn1", con.model_copy(update={"password": "env:HIL_TEST_WRONG_PW"}), lab[0].resolve,
                      Transcript("t"))
    try:
        c.send_line("exit")  # make sure the line is at the login prompt
        with pytest.raises(LabAuthError):
            c.login()
    finally:
        c.close()


def _console_line_prompt(loaded: LoadedLab) -> str:
    """What the console line shows a newcomer who presses Enter: its last line."""
    con = loaded.lab.devices["pstn1"].console
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


def test_closing_a_console_session_logs_it_out(lab: tuple[LoadedLab, manager.TwinControl]) -> None:
    c = console(lab[0])
    try:
        c.login()
        assert c.command("hostname") == "pstn1\n"
    finally:
        c.close()
    assert "exit" in c.transcript.render()
    assert _console_line_prompt(lab[0]).endswith("login: ")


def test_a_console_that_is_gone_closes_without_waiting(lab: tuple[LoadedLab, manager.TwinControl]) -> None:
    loaded, twin = lab
    c = console(loaded)
    c.login()
    twin.fault("pstn1", "down")
    try:
        started = time.monotonic()
        c.close()  # exit is sent into a dead line: no answer, no error
        assert time.monotonic() - started < 5.0
    finally:
        twin.heal("pstn1")


def test_snmp_v1_switch_on_the_twin(lab: tuple[LoadedLab, manager.TwinControl]) -> None:
    loaded = lab[0]
    dev = loaded.lab.devices["sw1"]
    assert dev.snmp is not None and dev.snmp.version == "1"
    c = SnmpClient("sw1", dev.host, dev.snmp, loaded.resolve, Transcript("sw1 snmp"))
    got = c.get_sync("1.3.6.1.2.1.1.5.0", "1.3.6.1.2.1.1.99.0")
    assert got == {"1.3.6.1.2.1.1.5.0": "sw1", "1.3.6.1.2.1.1.99.0": None}
    system = c.bulk_walk_sync("1.3.6.1.2.1.1")
    assert ("1.3.6.1.2.1.1.5.0", "sw1") in system
    assert c.walk_sync("1.3.6.1.6") == []  # past the end of its MIB: noSuchName ends the walk
