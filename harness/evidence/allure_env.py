"""Allure metadata written into the results folder before the report is generated.

* ``environment.properties``: lab, site, emulated, inventory, and per device its role, platform and
  firmware (the version a scenario read, else the one the inventory expects).
* ``categories.json``: "Duty not met" (failed), "Lab infrastructure broken" (broken by a lab
  error: timeout, unreachable, auth refused, protocol error), "Harness error" (any other broken).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..inventory import LoadedLab
from ..inventory.secrets import MASK

CATEGORIES = [
    {"name": "Duty not met", "matchedStatuses": ["failed"]},
    {"name": "Lab infrastructure broken", "matchedStatuses": ["broken"],
     "messageRegex": r"(?s).*(timeout|unreachable|auth refused|protocol error|lab error): .*"},
    {"name": "Harness error", "matchedStatuses": ["broken"]},
]


def _observed_firmware(summary: dict[str, Any]) -> dict[str, str]:
    seen: dict[str, str] = {}
    for t in summary.get("tests", []):
        for m in t.get("measurements", []):
            if m.get("what") == "firmware version" and m.get("measured"):
                seen[m["device"]] = str(m["measured"])
    return seen


def _escape(v: object) -> str:
    return MASK(str(v)).replace("\\", "\\\\").replace("\n", " ")


def write_allure_metadata(results_dir: Path, loaded: LoadedLab, summary: dict[str, Any]) -> None:
    results_dir.mkdir(parents=True, exist_ok=True)
    lab = loaded.lab
    props = {"lab": lab.lab.name, "site": lab.lab.site, "emulated": lab.lab.emulated,
             "inventory": loaded.path.name, "verdict": summary.get("verdict", "")}
    observed = _observed_firmware(summary)
    for name, d in lab.devices.items():
        props[f"{name}.role"] = d.role
        props[f"{name}.platform"] = d.platform
        fw = observed.get(name) or getattr(d.facts, "firmware", None)
        if fw:
            props[f"{name}.firmware"] = fw
    text = "".join(f"{k}={_escape(v)}\n" for k, v in props.items())
    (results_dir / "environment.properties").write_text(text)
    (results_dir / "categories.json").write_text(json.dumps(CATEGORIES, indent=2))
