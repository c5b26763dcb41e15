"""Switch CLI text, without the SSH session: the CLI platforms, ntc-templates parsing, and the
pairing of a config batch's lines with their answers.

This is the part of the CLI layer that fact parsers and drivers need at import time; the session
(:class:`~harness.transports.cli.SwitchCli`, netmiko over paramiko) is imported where one is opened,
so a process that never opens a switch CLI does not pay netmiko's and paramiko's import (about 0.2 s
of CPU, in every `pytest scenarios` and `hil` process).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

from ntc_templates.parse import _get_template_dir
from textfsm import clitable

from ..errors import LabProtocolError


@dataclass(frozen=True)
class CliPlatform:
    """How the CLI layer speaks to one inventory platform: ``netmiko`` is the netmiko ``device_type``,
    ``templates`` the ntc-templates platform whose templates parse its outputs (IOS-XE prints the
    IOS layouts, and ntc-templates files them under ``cisco_ios`` only)."""

    netmiko: str
    templates: str


#: inventory platform -> :class:`CliPlatform`: the one list of CLI platforms. The switch drivers
#: register one driver per entry (:mod:`harness.devices.drivers.switch`), and the inventory check
#: accepts a switch platform exactly when a driver is registered for it.
CLI_PLATFORMS: dict[str, CliPlatform] = {
    "cisco_ios": CliPlatform("cisco_ios", "cisco_ios"),
    "cisco_xe": CliPlatform("cisco_xe", "cisco_ios"),
    "cisco_nxos": CliPlatform("cisco_nxos", "cisco_nxos"),
    "arista_eos": CliPlatform("arista_eos", "arista_eos"),
}
#: what IOS-like CLIs print when they refuse a command
ERROR_PATTERN = r"% ?(Invalid input|Incomplete command|Ambiguous command|Unknown command|Access denied)"


_TABLE: list[clitable.CliTable] = []
_TABLE_LOCK = threading.Lock()


def parse_output(platform: str, command: str, data: str) -> list[dict[str, Any]]:
    """ntc-templates' ``parse_output``, with the template index read once per process.

    ``ntc_templates.parse.parse_output`` builds a new ``CliTable`` (index file read and its ~1,000
    regular expressions compiled) on every call: 70 % of the parse time of a 48-port audit. The one
    table is shared under a lock (parsing holds the GIL anyway). Raises what it raises
    (``clitable.CliTableError`` without a template, ``TextFSMError`` on text it cannot parse).
    """
    with _TABLE_LOCK:
        if not _TABLE:
            _TABLE.append(clitable.CliTable("index", _get_template_dir()))
        table = _TABLE[0]
        table.ParseCmd(data, {"Command": command, "Platform": platform})
        header = [h.lower() for h in table.header]
        return [dict(zip(header, row, strict=True)) for row in table]


class CliParseError(LabProtocolError):
    """A command's output that its template cannot parse: ``command`` and the raw ``output`` are kept
    (the output is in the session's transcript too) so a reader can make only the facts of that
    command BROKEN and keep the rest. It keeps LabError's four-argument form (``command`` and
    ``output`` default to empty)."""

    def __init__(self, device: str, transport: str, address: str, detail: str, command: str = "",
                 output: str = "") -> None:
        super().__init__(device, transport, address, detail)
        self.command, self.output = command, output


def _rejection(output: str) -> str | None:
    m = re.search(ERROR_PATTERN + r".*", output)
    return m.group(0).strip() if m else None


@dataclass(frozen=True)
class LineResult:
    """One config line of a batch and what the switch answered (``rejected``: its error message)."""

    line: str
    answer: str
    rejected: str | None


def split_batch_output(output: str, base_prompt: str, lines: list[str]) -> list[LineResult]:
    """Pair each line of a config batch with its answer, splitting ``output`` at the prompts.

    ``output`` is what came back for ``configure terminal``, ``lines``, ``end`` (echo included); the
    text between the i-th and the (i+1)-th prompt is the answer to the i-th line. Lines whose answer
    is missing (the session ended early) get an empty answer.
    """
    prompt = re.compile(rf"(?m){re.escape(base_prompt)}(?:\([\w-]+\))?#")
    chunks = prompt.split(output.replace("\r\n", "\n").replace("\r", "\n"))
    answers = chunks[1:]  # chunks[0]: echo and answer of `configure terminal`
    out = []
    for i, line in enumerate(lines):
        text = answers[i] if i < len(answers) else ""
        body = text.split("\n", 1)[1] if "\n" in text else ""  # drop the echoed line
        out.append(LineResult(line, body.strip("\n"), _rejection(body)))
    return out
