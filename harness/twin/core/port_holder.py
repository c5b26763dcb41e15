"""Who holds a local address: the process bound to ``host:port`` (TCP listening or UDP), via psutil.

Used to say why a twin cannot start: ``held by the lab twin of /lab/lab_inventory.yaml (pid 4242)``
tells a user which ``hil lab down`` to run, where "address already in use" alone does not.
"""

from __future__ import annotations

import ipaddress

import psutil

_CMDLINE_CHARS = 100  # project choice: enough to recognise a program, short enough for one line


def holder_of(host: str, port: int) -> str:
    """``"held by …"`` for the process bound to ``host:port`` (or to the wildcard address on ``port``),
    ``""`` when none is found or the system does not say (``host`` must be an IPv4 address).

    A lab twin is named by its inventory (``held by the lab twin of PATH (pid N); stop it with hil
    lab down --inventory PATH``), any other process by pid and command line. Never raises."""
    try:
        ip = str(ipaddress.IPv4Address(host))
        conns = psutil.net_connections(kind="inet4")
    except (ValueError, psutil.Error, OSError):
        return ""
    pids = {c.pid for c in conns
            if c.pid and c.laddr and c.laddr.port == port and c.laddr.ip in (ip, "0.0.0.0")
            and c.status in (psutil.CONN_LISTEN, psutil.CONN_NONE)}
    return "; ".join(_describe(pid) for pid in sorted(pids))


def _describe(pid: int) -> str:
    try:
        cmd = psutil.Process(pid).cmdline()
    except psutil.Error:
        return f"held by pid {pid}"
    if "harness.twin" in cmd and cmd.index("harness.twin") + 1 < len(cmd):
        inv = cmd[cmd.index("harness.twin") + 1]
        return f"held by the lab twin of {inv} (pid {pid}); stop it with: hil lab down --inventory {inv}"
    text = " ".join(cmd)
    return f"held by pid {pid} ({text[:_CMDLINE_CHARS]}{'…' if len(text) > _CMDLINE_CHARS else ''})"
