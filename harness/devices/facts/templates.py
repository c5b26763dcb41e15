"""The project's own TextFSM templates (``harness/devices/templates/``), for outputs ntc-templates
does not cover (the Edge's CLI, IOS LLDP-MED policies)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import textfsm

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def parse_template(template: str, text: str) -> list[dict[str, Any]]:
    """Parse ``text`` with ``templates/<template>.textfsm``; rows keyed by lower-case value names.

    Raises ``textfsm.TextFSMError`` when a line does not fit the template.
    """
    with open(TEMPLATES / f"{template}.textfsm") as f:
        fsm = textfsm.TextFSM(f)
    rows = fsm.ParseText(text)
    names = [h.lower() for h in fsm.header]
    return [dict(zip(names, row, strict=True)) for row in rows]
