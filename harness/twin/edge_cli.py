"""The twin Edge's management CLI (SSH exec, SSH shell and serial console share it).

Commands: ``show version``, ``show status``, ``help``, ``exit``. Keywords may be abbreviated
(``sh ver``). Output formats are documented in ``docs/twin-cli.md``; the Edge driver parses
``show version`` with ``harness/devices/templates/genesys_edge_show_version.textfsm``.
"""

from __future__ import annotations

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
    rows = [f"{s:<16} running" for s in SERVICES]
    return (
        f"Edge {st.hostname} status: in-service\n"
        "Service          State\n"
        "---------------- --------\n" + "\n".join(rows) + "\n"
        f"Registered phones: {len(st.registrations)}\n"
    )


HELP = "Commands:\n  show version\n  show status\n  help\n  exit\n"
_COMMANDS: dict[tuple[str, ...], str] = {("show", "version"): "version", ("show", "status"): "status",
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

    def __init__(self, st: EdgeState) -> None:
        self.st = st

    def banner(self) -> str:
        return f"Genesys Cloud Edge {self.st.hostname} management shell. Type 'help' for commands.\n"

    def prompt(self) -> str:
        return f"{self.st.hostname}> "

    def handle(self, line: str) -> tuple[str, bool]:
        if not line.strip():
            return "", False
        what = _lookup(line)
        if what == "exit":
            return "", True
        if what == "version":
            return show_version(self.st), False
        if what == "status":
            return show_status(self.st), False
        if what == "help":
            return HELP, False
        return f"% Unknown command: '{line.strip()}'. Type 'help' for a list of commands.\n", False

    def exec(self, command: str) -> tuple[str, int]:
        out, _ = self.handle(command)
        return out, 1 if out.startswith("% ") else 0
