"""Read what an Allure 3 single-file report carries: the JSON files its page is built from.

The awesome plugin's single file embeds every data file as ``d("widgets/categories.json", "<base64>")``
in an inline script (``@allurereport/core-api`` ``createReportDataScript``).
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

_DATA_FILE = re.compile(r'd\(("(?:[^"\\]|\\.)*"),\s*("(?:[^"\\]|\\.)*")\)')


def report_files(html: Path) -> dict[str, bytes]:
    """Every data file embedded in the single-file report ``html``, by its path in the report."""
    text = html.read_text(encoding="utf-8")
    return {json.loads(name): base64.b64decode(json.loads(value)) for name, value in _DATA_FILE.findall(text)}


def report_json(html: Path, name: str) -> Any:
    return json.loads(report_files(html)[name])


def categories(html: Path) -> dict[str, set[str]]:
    """Allure's categories tab: category name -> names of the test results under it."""
    tree = report_json(html, "widgets/categories.json")
    nodes = tree["nodes"]

    def results_under(node_id: str) -> set[str]:
        node = nodes[node_id]
        if node["type"] == "tr":
            return {node["name"]}
        return set().union(*(results_under(c) for c in node.get("childrenIds", [])))

    return {nodes[root]["name"]: results_under(root) for root in tree["roots"]}


def global_attachments(html: Path) -> dict[str, str]:
    """The report's global attachments: name -> text."""
    files = report_files(html)
    out = {}
    for a in json.loads(files["widgets/globals.json"])["attachments"]:
        out[a["name"]] = files[f"data/attachments/{a['id']}{a['ext']}"].decode("utf-8")
    return out
