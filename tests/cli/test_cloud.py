"""``hil cloud permissions``: the permissions the OAuth client needs for the selected duties."""

from __future__ import annotations

from typer.testing import CliRunner

from harness.cli import app
from harness.transports.cloud.permissions import table_markdown

runner = CliRunner()


def test_permissions_of_some_duties():
    r = runner.invoke(app, ["cloud", "permissions", "--duty", "MAINT-EDGE-LOGS"])
    assert r.exit_code == 0, r.output
    assert r.output.startswith("Permissions the OAuth client's role needs")
    assert "telephony:plugin:all  MAINT-EDGE-LOGS" in r.output
    assert "GET /api/v2/downloads/{downloadId}  MAINT-EDGE-LOGS" in r.output  # not published
    assert "CFG-TELEPHONY" not in r.output and "extensionPool" not in r.output


def test_a_duty_without_api_calls_says_so():
    r = runner.invoke(app, ["cloud", "permissions", "-d", "NET-VOIP-HW"])
    assert r.exit_code == 0 and r.output.strip() == "none of the selected duties calls the Genesys Cloud API"


def test_markdown_is_the_whole_table_or_the_duties_calls():
    assert runner.invoke(app, ["cloud", "permissions", "--markdown"]).output == table_markdown() + "\n"
    one = runner.invoke(app, ["cloud", "permissions", "--markdown", "-d", "CFG-STATION"]).output
    assert "`GET /api/v2/telephony/providers/edges/phones`" in one and "softwareupdate" not in one


def test_an_unknown_duty_exits_2():
    r = runner.invoke(app, ["cloud", "permissions", "-d", "NOPE"])
    assert r.exit_code == 2 and "unknown duty NOPE" in r.output
