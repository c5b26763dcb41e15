"""The ``hil`` command line: ``inventory``, ``lab``, ``run``, ``report``, ``duties``, ``carrier``, ``cloud``.

Exit codes: 0 nothing was found wrong (every duty that ran is PASS, PARTIAL, SKIPPED, NOT SELECTED,
NOT RUN or ATTEST: ``verdict`` in summary.json says whether the run was complete) · 1 a duty failed ·
2 usage or inventory error · 3 the lab (or the report) was broken.
"""

from __future__ import annotations

import contextlib
import json
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import TypeAdapter
from rich.console import Console
from rich.table import Table

from . import runner
from .duties.catalogue import CATALOGUE, SOURCES
from .duties.map import MapError, SourceMap, duty_map, map_markdown, map_text
from .duties.permissions import UnknownCall, duty_calls, permissions_text
from .errors import InventoryError
from .inventory import load
from .inventory.models import Lab
from .inventory.secrets import MASK
from .lifecycle import interrupt_on, signal_of
from .preflight import check_lab, inventory_warnings
from .transports.cloud.permissions import table_markdown
from .twin import manager

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="Hardware-in-the-loop harness for telephony labs.")
inventory_app = typer.Typer(no_args_is_help=True, help="Check a lab inventory; print its JSON Schema.")
lab_app = typer.Typer(no_args_is_help=True, help="Start, stop, break and mend the lab twin.")
carrier_app = typer.Typer(no_args_is_help=True, help="Run the PSTN simulator on a lab's Linux host (docs/carrier.md).")
app.add_typer(inventory_app, name="inventory")
app.add_typer(lab_app, name="lab")
app.add_typer(carrier_app, name="carrier")
cloud_app = typer.Typer(no_args_is_help=True, help="What the harness asks of a Genesys Cloud org (docs/cloud-api.md).")
app.add_typer(cloud_app, name="cloud")
out = Console()
err = Console(stderr=True)

InventoryOpt = Annotated[Path, typer.Option("--inventory", "-i", envvar="HIL_INVENTORY",
                                            help="lab inventory file (or $HIL_INVENTORY)")]
DEFAULT_INVENTORY = Path("lab_inventory.yaml")


@inventory_app.command("check")
def inventory_check(file: Annotated[Path, typer.Argument(help="inventory file")] = DEFAULT_INVENTORY) -> None:
    """Validate FILE (and the requirement profile it names); one `FILE:LINE: path: problem` per
    problem and exit 2, or OK."""
    loaded, problems = check_lab(file)
    for line in problems:
        print(line)
    if loaded is None or problems:
        raise typer.Exit(2)
    for line in inventory_warnings(loaded):
        print(line)
    roles: dict[str, int] = {}
    for d in loaded.lab.devices.values():
        roles[d.role] = roles.get(d.role, 0) + 1
    print(f"{file}: OK — lab {loaded.lab.lab.name}, " + ", ".join(f"{n} {r}" for r, n in roles.items()))


@inventory_app.command("schema")
def inventory_schema() -> None:
    """Print the JSON Schema of the inventory (for editors and CI)."""
    schema = TypeAdapter(Lab).json_schema()
    print(json.dumps(schema, indent=2))


def _lab_or_exit(inventory: Path) -> Path:
    try:
        return load(inventory, check_secrets=False).path
    except InventoryError as e:
        for p in e.problems:
            print(p)
        raise typer.Exit(2) from None


@lab_app.command("up")
def lab_up(inventory: InventoryOpt = DEFAULT_INVENTORY) -> None:
    """Start the twin of the inventory in the background (no-op when it runs); it stays up until
    `hil lab down` (a twin `hil run` started stops when its last run ends, unless `hil lab up` was
    called on it meanwhile).

    Exit 2 on inventory problems (one `FILE:LINE: path: problem` line each) or a lab that is not
    emulated; exit 3 when the twin cannot start (one line: device, service, address, reason).
    """
    path = _lab_or_exit(inventory)
    try:
        info, started = manager.up(path, stay=True)
    except InventoryError as e:  # e.g. a secret the twin serves is unset
        for p in e.problems:
            print(p)
        raise typer.Exit(2) from None
    except manager.NotEmulated as e:
        err.print(str(e), style="red", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except (manager.TwinError, OSError) as e:
        err.print(str(e), style="red", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(3) from None
    out.print(f"lab twin {'started' if started else 'already running'}: pid {info['pid']}")


@lab_app.command("down")
def lab_down(inventory: InventoryOpt = DEFAULT_INVENTORY) -> None:
    """Stop the twin of the inventory."""
    out.print("lab twin stopped" if manager.down(inventory) else "no lab twin was running")


@lab_app.command("status")
def lab_status(inventory: InventoryOpt = DEFAULT_INVENTORY,
               as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False) -> None:
    """Show the running twin's devices, services and faults (exit 3 when none runs)."""
    try:
        st = manager.TwinControl(inventory).status()
    except manager.TwinError as e:
        err.print(str(e), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(3) from None
    if as_json:
        print(json.dumps(st, indent=2))
        return
    t = Table(title=f"lab twin {st['lab']} (pid {st['pid']})")
    for col in ("device", "role", "address", "up", "services", "faults"):
        t.add_column(col)
    for name, d in st["devices"].items():
        faults = ", ".join(k if v is None else f"{k}={v}" for k, v in d["faults"].items())
        t.add_row(name, d["role"], d["host"], "yes" if d["up"] else "no", " ".join(d["services"]), faults)
    out.print(t)


@lab_app.command("fault")
def lab_fault(device: Annotated[str | None, typer.Argument(help="device name")] = None,
              fault: Annotated[str | None, typer.Argument(help="FAULT or FAULT=VALUE")] = None,
              list_: Annotated[bool, typer.Option("--list", help="list the faults")] = False,
              inventory: InventoryOpt = DEFAULT_INVENTORY) -> None:
    """Break DEVICE with FAULT[=VALUE] through the twin's control channel (for tests and people)."""
    if list_:
        # Loading every role of the twin costs about a second, which the other commands need not pay.
        from .twin import lab

        t = Table(title="twin faults")
        for col in ("fault", "roles", "help"):
            t.add_column(col)
        for f in lab.faults():
            t.add_row(f"{f.name}={f.value_name}" if f.value_name else f.name, ", ".join(f.role_names()), f.help)
        out.print(t)
        return
    if not device or not fault:
        err.print("usage: hil lab fault DEVICE FAULT[=VALUE]   or   hil lab fault --list")
        raise typer.Exit(2)
    name, sep, value = fault.partition("=")
    try:  # the twin checks the value ("down=" is refused, "firmware=" needs one)
        manager.TwinControl(inventory).fault(device, name, value if sep else None)
    except manager.TwinError as e:
        err.print(str(e), style="red", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    with contextlib.suppress(InventoryError):  # the echo is masked like all the twin says: a value may hold a secret
        load(inventory)  # registers the inventory's secrets with MASK
    out.print(MASK(f"{device}: fault {fault} applied"), markup=False, highlight=False, soft_wrap=True)


@lab_app.command("image-sha")
def lab_image_sha(platform: Annotated[str, typer.Argument(help="platform, e.g. generic_sip_phone")],
                  version: Annotated[str, typer.Argument(help="firmware version, e.g. 6.4.4")]) -> None:
    """Print the SHA-256 of the image the twin's provisioning server serves for PLATFORM VERSION."""
    from .twin.provisioning.images import image_sha256

    out.print(image_sha256(platform, version), markup=False, highlight=False)


@lab_app.command("heal")
def lab_heal(device: Annotated[str | None, typer.Argument(help="device name (none: every device)")] = None,
             all_devices: Annotated[bool, typer.Option("--all", help="every device (the same as no DEVICE)")] = False,
             inventory: InventoryOpt = DEFAULT_INVENTORY) -> None:
    """Remove every fault of DEVICE (of every device without one, or with --all) and undo what they changed."""
    if device is not None and all_devices:
        err.print("usage: hil lab heal DEVICE   or   hil lab heal [--all]")
        raise typer.Exit(2)
    try:
        healed = ({device: manager.TwinControl(inventory).heal(device)["healed"]} if device is not None
                  else manager.TwinControl(inventory).heal_all())
    except manager.TwinError as e:
        err.print(str(e), style="red", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    faulty = {d: f for d, f in healed.items() if f}
    if device is None and not faulty:
        out.print(f"no faults on any of the {len(healed)} devices")
    for d, faults in (faulty if device is None else healed).items():
        out.print(f"{d}: healed {', '.join(faults) if faults else '(no faults)'}")


@app.command("run", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def run_cmd(ctx: typer.Context,
            inventory: InventoryOpt = DEFAULT_INVENTORY,
            reports: Annotated[Path, typer.Option(help="reports folder")] = Path("reports"),
            scenarios: Annotated[Path | None, typer.Option(help="scenarios folder")] = None,
            duty: Annotated[list[str] | None, typer.Option("--duty", "-d", help="only this duty (repeatable)")] = None,
            device: Annotated[list[str] | None, typer.Option("--device", help="only this device (repeatable)")] = None,
            keyword: Annotated[str | None, typer.Option("-k", help="pytest -k expression")] = None,
            allow_destructive: Annotated[bool, typer.Option("--allow-destructive")] = False,
            in_update_window: Annotated[bool, typer.Option(
                "--in-update-window", help="emulated labs only (implied there by --allow-destructive): run the "
                                           "Edge update as if inside the site's update window")] = False,
            no_html: Annotated[bool, typer.Option("--no-html", help="skip the Allure HTML report")] = False,
            wait_lab: Annotated[float, typer.Option("--wait-lab", metavar="SECONDS", min=0,
                                                    help="when another run holds the lab, wait up to SECONDS "
                                                         "for it (default: refuse at once)")] = 0.0) -> None:
    """Run the scenarios on the lab and report per duty. Extra arguments go to pytest.

    One run per lab at a time: a lab another run holds is refused (exit 2, naming the holder) or,
    with --wait-lab, waited for. Ctrl-C, SIGTERM or SIGHUP stop the run and everything it started
    (pytest, SIPp, the twin it started), remove its temporary folders and exit 130 / 143 / 129.
    """
    code = runner.run(runner.RunOptions(inventory=inventory, reports=reports, scenarios=scenarios,
                                        duties=duty or [], devices=device or [], keyword=keyword,
                                        allow_destructive=allow_destructive, report_html=not no_html,
                                        pytest_args=list(ctx.args), in_update_window=in_update_window,
                                        wait_lab_s=wait_lab))
    raise typer.Exit(code)


@app.command("report")
def report_cmd(reports: Annotated[Path, typer.Option(help="reports folder")] = Path("reports")) -> None:
    """(Re)generate reports/allure-report.html from reports/allure-results."""
    html = reports / "allure-report.html"
    ok = runner.generate_report(reports / "allure-results", html, out)
    if ok:
        out.print(f"Allure report: {html}", soft_wrap=True)
    raise typer.Exit(0 if ok else 2)


@app.command("duties")
def duties_cmd(
        duty_ids: Annotated[list[str] | None, typer.Argument(metavar="DUTY",
                                                             help="only these duties (IDs of the catalogue)")] = None,
        markdown: Annotated[bool, typer.Option("--markdown", help="print as Markdown")] = False,
        show_map: Annotated[bool, typer.Option("--map", help="where each duty is checked: scenario files, "
                                               "procedures, driver classes and their transport modules")] = False,
        scenarios: Annotated[Path | None, typer.Option("--scenarios", help="scenarios folder the map reads "
                                                       "(default: the checkout's scenarios/)")] = None) -> None:
    """List the duty catalogue (with thresholds and sources in --markdown), or, with --map, the code
    that checks each duty: duty -> scenario -> driver -> transport. Exit 2 for an unknown duty ID."""
    unknown = [d for d in duty_ids or [] if d not in CATALOGUE]
    if unknown:
        err.print(f"unknown duty {', '.join(unknown)} (see `hil duties`)", soft_wrap=True)
        raise typer.Exit(2)
    wanted = set(duty_ids or CATALOGUE)
    if show_map:
        try:
            routes = [r for r in duty_map(SourceMap(scenarios)) if r.duty.id in wanted]
        except MapError as e:
            err.print(str(e), soft_wrap=True)
            raise typer.Exit(2) from None
        print(map_markdown(routes) if markdown else map_text(routes))
        return
    if markdown:
        print(catalogue_markdown(wanted))
        return
    t = Table(title="duty catalogue")
    for col in ("id", "kind", "area", "title"):
        t.add_column(col)
    for d in CATALOGUE.values():
        if d.id in wanted:
            t.add_row(d.id, d.kind, d.area, d.title)
    out.print(t)


@cloud_app.command("permissions")
def cloud_permissions(
        duty: Annotated[list[str] | None, typer.Option("--duty", "-d", help="only this duty (repeatable)")] = None,
        markdown: Annotated[bool, typer.Option("--markdown", help="print the calls as the Markdown table of "
                                               "docs/cloud-api.md")] = False,
        scenarios: Annotated[Path | None, typer.Option("--scenarios", help="scenarios folder the calls are read "
                                                       "from (default: the checkout's scenarios/)")] = None) -> None:
    """The Genesys Cloud permissions the OAuth client's role needs for the selected duties (default:
    every duty), read from the API calls their code makes. --markdown: without --duty, every call the
    harness makes with its permissions; with --duty, those duties' calls. Exit 2 for an unknown duty ID."""
    unknown = [d for d in duty or [] if d not in CATALOGUE]
    if unknown:
        err.print(f"unknown duty {', '.join(unknown)} (see `hil duties`)", soft_wrap=True)
        raise typer.Exit(2)
    if markdown and not duty:
        print(table_markdown())
        return
    wanted = set(duty or CATALOGUE)
    try:
        selected = duty_calls([r for r in duty_map(SourceMap(scenarios)) if r.duty.id in wanted])
    except (MapError, UnknownCall) as e:
        err.print(str(e), soft_wrap=True)
        raise typer.Exit(2) from None
    if markdown:
        print(table_markdown(list({e.call: e for d in selected for e in d.calls}.values())))
        return
    print(permissions_text(selected))


@carrier_app.command("serve")
def carrier_serve(config: Annotated[Path, typer.Option("--config", "-c", help="carrier file (docs/carrier.md)")]
                  = Path("carrier.yaml"),
                  check: Annotated[bool, typer.Option("--check", help="only check the file: OK, or its problems "
                                                                      "and exit 2")] = False) -> None:
    """Serve the PSTN simulator of CONFIG (SIP, its call log as a file and over HTTP with a bearer
    token) until SIGTERM or Ctrl-C, then stop cleanly (exit 0). Exit 2 for a problem in the file (one
    `FILE:LINE: path: problem` line each), 3 when a port cannot be bound."""
    import logging

    from .carrier.config import load_carrier
    from .carrier.serve import run as serve_carrier
    from .inventory.secrets import mask_log_records, mask_standard_streams

    mask_standard_streams()
    mask_log_records()
    try:
        loaded = load_carrier(config)
    except InventoryError as e:
        for p in e.problems:
            print(p)
        raise typer.Exit(2) from None
    if check:
        print(f"{config}: OK — carrier {loaded.config.name} on {loaded.config.sip.host}:{loaded.config.sip.port}")
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    raise typer.Exit(serve_carrier(loaded, lambda line: print(line, flush=True)))


def catalogue_markdown(duty_ids: set[str] | None = None) -> str:
    """The catalogue as docs/duties.md shows it: one row per duty (of ``duty_ids``, default all), then the sources."""
    rows = ["| duty | kind | area / group | title | thresholds (source) |", "|---|---|---|---|---|"]
    for d in CATALOGUE.values():
        if duty_ids is not None and d.id not in duty_ids:
            continue
        th = "; ".join(f"{t.name} {t.op} {t.value} {t.unit} ({t.source})".replace("  ", " ") for t in d.thresholds)
        rows.append(f"| {d.id} | {d.kind} | {d.area} / {d.group} | {d.title} | {th or '—'} |")
    src = [f"- `{k}`: {v}" for k, v in SOURCES.items()]
    return "\n".join([*rows, "", "Sources:", "", *src])


def main() -> None:
    interrupt_on(signal.SIGTERM, signal.SIGHUP)  # unwind like Ctrl-C: `hil run` stops what it started
    try:
        app()
    except KeyboardInterrupt as e:
        sys.exit(128 + signal_of(e))


if __name__ == "__main__":
    main()
