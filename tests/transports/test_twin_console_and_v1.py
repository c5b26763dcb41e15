"""The twin's faces that the SNMP and console fixes read: a Linux host's console (the PSTN
simulator's, prompt ``admin@pstn1:~$ ``) with and without ``console-eats-first-char``, and a switch
whose inventory says SNMP ``version: "1"`` (the twin's agent answers v1, ends its MIB with noSuchName).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

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
