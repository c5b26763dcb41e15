"""``hil duties``: the catalogue, and with ``--map`` where each duty is checked."""

from __future__ import annotations

from typer.testing import CliRunner

from harness.cli import app, catalogue_markdown
from harness.duties.map import duty_map, map_markdown

runner = CliRunner()


def test_map_of_one_duty_names_its_scenario_driver_and_transport():
    r = runner.invoke(app, ["duties", "--map", "NET-VOIP-HW"])
    assert r.exit_code == 0, r.output
    for path in ("scenarios/network/test_voip_hw.py", "harness/devices/drivers/switch.py",
                 "harness/transports/cli.py", "harness/transports/snmp.py"):
        assert path in r.output
    assert "PSTN-CONNECT" not in r.output and "no scenario yet" not in r.output


def test_map_of_a_duty_without_scenario_says_so():
    r = runner.invoke(app, ["duties", "--map", "PSTN-TDM"])
    assert r.exit_code == 0 and r.output.strip() == "no scenario yet: PSTN-TDM"


def test_map_as_markdown_is_the_map_of_every_duty():
    r = runner.invoke(app, ["duties", "--map", "--markdown"])
    assert r.exit_code == 0 and r.output == map_markdown(duty_map()) + "\n"


def test_catalogue_as_markdown_is_unchanged_and_filters_by_id():
    assert runner.invoke(app, ["duties", "--markdown"]).output == catalogue_markdown() + "\n"
    one = runner.invoke(app, ["duties", "--markdown", "LAB-READY"]).output
    assert "| LAB-READY |" in one and "| NET-NTP |" not in one


def test_unknown_duty_or_missing_scenarios_folder_exits_2(tmp_path):
    assert runner.invoke(app, ["duties", "--map", "NOPE"]).exit_code == 2
    assert runner.invoke(app, ["duties", "NOPE"]).exit_code == 2
    assert runner.invoke(app, ["duties", "--map", "--scenarios", str(tmp_path / "none")]).exit_code == 2
