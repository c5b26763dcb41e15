"""The twin Edge's management CLI (SSH exec, SSH shell and serial console share it).

Commands: ``show version``, ``show status``, ``show trunk``, ``show registrations``, ``show software``,
``software …`` (updates, docs/edge-update.md), ``logs …``, ``help``, ``exit``.
Keywords may be abbreviated (``sh ver``). Output formats are documented in ``docs/twin-cli.md``; the Edge driver parses
``show version`` with ``harness/devices/templates/genesys_edge_show_version.textfsm`` and ``show trunk``
with ``genesys_edge_show_trunk.textfsm`` (format in ``docs/twin-edge-sip.md``).
"""

from __future__ import annotations

import time
from pathlib import Path

from .faults import TRANSPORT_MISMATCH, WAN_DOWN
from .logs import XmodemSend, logs_command
from .software import EdgeSoftware
from .state import EdgeState

SERVICES = ("sip-trunk", "phone-trunk", "media", "cloud-link")


def show_version(st: EdgeState) -> str:
    """Identity and firmware. ``Firmware Version`` is :attr:`EdgeState.firmware` (fault-aware)."""
    up = int(st.uptime_s())
    days, rest = divmod(up, 86400)
    hms = f"{rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"
    return (
        "Genesys Cloud Edge\n"
        f"Hostname         : {st.hostname}\n"
        f"Model            : {st.model}\n"
        f"Serial Number    : {st.serial}\n"
        f"Firmware Version : {st.firmware}\n"
        f"Uptime           : {days} days {hms} ({up} seconds)\n"
    )


def show_status(st: EdgeState) -> str:
    """Service table and the number of phones registered with the Edge."""
    rows = [f"{s:<16} {'down' if s == 'cloud-link' and WAN_DOWN.on(st) else 'running'}"
            for s in SERVICES]  # wan-down: the cloud link is down (harness/twin/edge/faults.py)
    return (
        f"Edge {st.hostname} status: in-service\n"
        "Service          State\n"
        "---------------- --------\n" + "\n".join(rows) + "\n"
        f"Registered phones: {len(st.registrations)}\n"
    )


def show_trunk(st: EdgeState) -> str:
    """The external SIP trunk: limits, active calls, totals and each route's last OPTIONS answer.

    ``in-service`` unless every route has been pinged and none answered 2xx (or there is no route).
    Route lines: ``<host:port>/<transport> options <code|none|->`` (``none``: the last ping went
    unanswered; ``-``: not pinged yet). Values are live: faults (``max-calls``, ``transport-mismatch``)
    show here as the Edge enforces them.
    """
    flip = TRANSPORT_MISMATCH.on(st)
    routes = []
    answered = False
    pinged_all = bool(st.trunk_routes)
    for r in st.trunk_routes:
        transport = {"udp": "tcp", "tcp": "udp"}.get(r.transport, r.transport) if flip else r.transport
        if r.name not in st.trunk_options:
            status, pinged_all = "-", False
        else:
            code = st.trunk_options[r.name]
            status = "none" if code is None else str(code)
            answered = answered or (code is not None and 200 <= code < 300)
        routes.append(f"{'Route ' + r.name:<17}: {r.address}/{transport} options {status}\n")
    state = "out-of-service" if not st.trunk_routes or (pinged_all and not answered) else "in-service"
    return (
        f"Trunk external status: {state}\n"
        f"Max calls        : {st.effective_max_calls}\n"
        f"Max calls code   : {st.trunk_max_calls_code}\n"
        f"Inbound calls    : {st.trunk_inbound_calls}\n"
        f"Outbound calls   : {st.trunk_outbound_calls}\n"
        f"Calls total      : {st.trunk_calls_total}\n"
        f"Calls refused    : {st.calls_refused}\n" + "".join(routes)
    )


def show_registrations(st: EdgeState) -> str:
    """The phones registered with the Edge now: extension, contact ``ip:port`` and the seconds left
    of the binding (expired bindings are left out), sorted by extension (docs/firmware.md)."""
    now = time.time()
    live = sorted((ext, ip, port, int(until - now)) for ext, (ip, port, until) in st.registrations.items()
                  if until > now)
    return (f"Registrations: {len(live)}\n"
            "Extension        Contact                Expires\n"
            "---------------- ---------------------- -------\n"
            + "".join(f"{ext:<16} {f'{ip}:{port}':<22} {left}\n" for ext, ip, port, left in live))


def show_software(st: EdgeState) -> str:
    """The software update state (harness/twin/edge/software.py; format in docs/edge-update.md):
    status, running (fault-aware) and staged version, drain, calls in progress, last error."""
    calls = st.trunk_inbound_calls + st.trunk_outbound_calls + st.station_calls
    error = " ".join((st.software_error or "-").split())
    return (f"Software status  : {st.software_status}\n"
            f"Current version  : {st.firmware}\n"
            f"Staged version   : {st.staged_version or '-'}\n"
            f"Draining         : {'yes' if st.draining else 'no'}\n"
            f"Calls in progress: {calls}\n"
            f"Last error       : {error}\n")


def software_command(software: EdgeSoftware | None, args: list[str]) -> str:
    """``software stage|drain|install|cancel …``, run by the Edge's update state machine (``None``:
    a CLI outside a twin, which has none)."""
    if software is None:
        return "% Software updates are not available on this Edge\n"
    return software.command(args)


HELP = ("Commands:\n  show version\n  show status\n  show trunk\n  show registrations\n  show software\n"
        "  software stage <url> <sha256> | software drain <timeout_s> | software install | software cancel\n"
        "  logs bundle | logs manifest [NAME] | logs list | logs send [NAME]\n  help\n  exit\n")
_COMMANDS: dict[tuple[str, ...], str] = {("show", "version"): "version", ("show", "status"): "status",
                                         ("show", "trunk"): "trunk", ("show", "registrations"): "registrations",
                                         ("show", "software"): "software",
                                         ("help",): "help", ("exit",): "exit", ("quit",): "exit",
                                         ("logout",): "exit"}


def _lookup(line: str) -> str | None:
    toks = line.lower().split()
    hits = {v for k, v in _COMMANDS.items()
            if len(k) == len(toks) and all(w.startswith(t) for w, t in zip(k, toks, strict=True))}
    return hits.pop() if len(hits) == 1 else None


class EdgeCli:
    """One CLI session: ``handle(line) -> (output, close)``, ``exec(command) -> (output, status)``."""

    hide_input = False

    def __init__(self, st: EdgeState, disk: Path | None = None, console: bool = False,
                 software: EdgeSoftware | None = None) -> None:
        self.st = st
        self.disk, self.console = disk, console  # the Edge's disk (log bundles); on the serial console?
        self.software = software  # the Edge's update state machine (software.py)
        self.raw: XmodemSend | None = None  # set by `logs send`: the console starts it (logs.py)

    def banner(self) -> str:
        return f"Genesys Cloud Edge {self.st.hostname} management shell. Type 'help' for commands.\n"

    def prompt(self) -> str:
        return f"{self.st.hostname}> "

    def handle(self, line: str) -> tuple[str, bool]:
        self.raw = None
        if not line.strip():
            return "", False
        if line.split()[0].lower() == "logs":  # log bundles: harness/twin/edge/logs.py, docs/edge-logs.md
            out, self.raw = logs_command(self.st, self.disk, line.split()[1:], self.console)
            return out, False
        if line.split()[0].lower() == "software":  # updates: harness/twin/edge/software.py, docs/edge-update.md
            return software_command(self.software, line.split()[1:]), False
        what = _lookup(line)
        if what == "exit":
            return "", True
        if what == "version":
            return show_version(self.st), False
        if what == "status":
            return show_status(self.st), False
        if what == "trunk":
            return show_trunk(self.st), False
        if what == "registrations":
            return show_registrations(self.st), False
        if what == "software":
            return show_software(self.st), False
        if what == "help":
            return HELP, False
        return f"% Unknown command: '{line.strip()}'. Type 'help' for a list of commands.\n", False

    def exec(self, command: str) -> tuple[str, int]:
        out, _ = self.handle(command)
        return out, 1 if out.startswith("% ") else 0
