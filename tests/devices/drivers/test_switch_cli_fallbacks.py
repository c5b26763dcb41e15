"""Per-command fallbacks of the switch's CLI view (issue 13, item 3): an output the template cannot
parse leaves only the facts of that command unread, BROKEN with the parse error, the switch and the
command named and the raw output kept; every other fact of the switch stands.

The odd output is fed to the driver in place of the twin's answer to one command (the session and
every other command are the twin's). Run with ``HIL_TEST_NET=<prefix> .venv/bin/pytest
tests/devices/drivers/test_switch_cli_fallbacks.py``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.devices.drivers.switch import CLI_FACT_COMMANDS, Switch
from harness.errors import LabProtocolError
from harness.inventory import LoadedLab
from harness.transports.cli import CliParseError
from harness.twin.manager import TwinControl
from tests.conftest import CAPTURES

REALWORLD = CAPTURES / "cli" / "ntc-templates"
PHONE_PORT = "GigabitEthernet1/0/1"


def _stack_layout(one_module: str) -> str:
    """A ``show power inline`` of a two-switch stack whose second module's budget block follows the
    first module's rows with no blank line between them (the layout of the real stack output in
    issue 13); ntc-templates' ``cisco_ios_show_power_inline`` template stops on it with an Error."""
    lines = one_module.rstrip("\n").splitlines()
    second = [line.replace("Gi1/0/", "Gi2/0/") for line in lines]
    second[3] = "2" + second[3][1:]
    return "\n".join(lines + second) + "\n"


@pytest.fixture
def sw1(twin: TwinControl, loaded: LoadedLab) -> Iterator[Switch]:
    sw = Switch("sw1", loaded.lab.devices["sw1"], loaded)
    yield sw
    sw.close()


def _answer(sw: Switch, command: str, text: str) -> None:
    """The switch's session answers ``command`` with ``text``; every other command goes to the twin."""
    cli = sw.cli()
    send = cli.send

    def odd(cmd: str, timeout_s: float | None = None) -> str:
        if cmd == command:
            cli.transcript.sent(cmd)
            cli.transcript.received(text)
            return text
        return send(cmd, timeout_s)

    cli.send = odd  # type: ignore[method-assign]


def test_healthy_twin_reads_every_fact(sw1: Switch) -> None:
    got = sw1.cli_read()
    assert got.unread == {}
    assert got.ports[PHONE_PORT].poe is not None and got.vlans


def test_odd_poe_output_breaks_only_poe(sw1: Switch) -> None:
    healthy = sw1.cli_read()
    odd = _stack_layout(sw1.send("show power inline"))
    _answer(sw1, "show power inline", odd)
    audit = sw1.audit()
    assert set(audit.cli_unread) == {"poe"}
    error = audit.cli_error("poe")
    assert isinstance(error, CliParseError) and isinstance(error, LabProtocolError)
    assert error.device == "sw1" and error.command == "show power inline" and error.output == odd
    assert "'show power inline'" in str(error) and "sw1" in str(error)
    assert audit.cli_error("voice_vlan", "lldp", "macs") is None
    port = audit.cli[PHONE_PORT]
    assert port.poe is None
    for fact in ("mode", "access_vlan", "voice_vlan", "oper_up", "speed_mbps", "duplex", "trust", "lldp", "macs"):
        assert getattr(port, fact) == getattr(healthy.ports[PHONE_PORT], fact), fact
    assert audit.vlans == healthy.vlans
    assert not [g for g in audit.disagreements if g.field == "poe"]  # an unread fact is not compared
    with pytest.raises(CliParseError):  # the strict reading keeps raising
        sw1.cli_views()


def test_odd_lldp_output_breaks_lldp_and_keeps_the_text(sw1: Switch) -> None:
    text = "Capability codes:\n    (R) Router\nLocal Intf: Gi1/0/1\nthis is not what the template knows\n"
    _answer(sw1, "show lldp neighbors detail", text)
    got = sw1.cli_read()
    assert set(got.unread) == {"lldp"}
    assert got.unread["lldp"].output == text
    assert got.ports[PHONE_PORT].voice_vlan is not None


def test_no_port_list_at_all_raises(sw1: Switch) -> None:
    _answer(sw1, "show interfaces switchport", "Name: Gi1/0/1\ngarbage\n")
    _answer(sw1, "show interfaces status", "Port Name Status\n!!\n")
    with pytest.raises(CliParseError, match="show interfaces switchport"):
        sw1.cli_read()


def test_every_fact_names_commands_of_the_driver() -> None:
    for fact, attrs in CLI_FACT_COMMANDS.items():
        for attr in attrs:
            assert attr.startswith("SHOW_") and hasattr(Switch, attr), (fact, attr)


@pytest.mark.parametrize("raw", sorted(REALWORLD.glob("cisco_ios__show_power_inline__*.raw"))
                         if REALWORLD.is_dir() else [], ids=lambda p: p.stem)
def test_real_power_inline_outputs_read_or_break_only_poe(sw1: Switch, raw) -> None:
    """Every real ``show power inline`` capture either gives PoE facts or leaves only PoE unread."""
    _answer(sw1, "show power inline", raw.read_text())
    got = sw1.cli_read()
    assert set(got.unread) <= {"poe"}
    assert got.ports[PHONE_PORT].voice_vlan is not None


def test_real_captures_are_there() -> None:
    if not REALWORLD.is_dir():
        pytest.skip(f"real CLI captures are not available at {REALWORLD} (set HIL_REALWORLD)")
    assert sorted(REALWORLD.glob("cisco_ios__show_power_inline__*.raw"))


def test_cdp_neighbors_read_a_real_capture(sw1: Switch) -> None:
    if not REALWORLD.is_dir():
        pytest.skip(f"real CLI captures are not available at {REALWORLD} (set HIL_REALWORLD)")
    raw = next(REALWORLD.glob("cisco_ios__show_cdp_neighbors_detail__*.raw")).read_text()
    _answer(sw1, "show cdp neighbors detail", raw)
    nb = sw1.cdp_neighbors()["GigabitEthernet0/3"]
    assert (nb.device_id, nb.platform) == ("switchxxxxx", "cisco WS-C3560X-24P")
