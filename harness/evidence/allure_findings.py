"""The run's root-cause findings on the Allure results, written once all of them are known.

A test's Allure result is written when the test ends, before the tests after it ran: a consequence
that runs before its root (a check of the wire before the check of the org's list it hinged on) cannot
know yet that it is one. So the plugin tags the results when pytest ends, from the findings the
summary was made from (``summary.json``'s ``findings``: :mod:`harness.evidence.findings`), and Allure
and ``summary.md`` tell the same story.

A test is a *consequence* when it is listed under a finding's consequences and holds no finding's root:
a test whose own check judged the input (the root) and then failed on a check that used it is the
root, never a consequence of its own finding. Its result (``<uuid>-result.json``, found by the
``nodeid`` label the plugin puts on every scenario) gets:

* ``consequence of: <root finding>`` lines under the first line of ``statusDetails.message``, one per
  root, so Allure files it under "Duty not met: consequence of a root cause" (the categories'
  ``messageRegex``: :data:`harness.evidence.allure_env.CATEGORIES`);
* a ``root cause`` text attachment: under each root, every failed check of the test that hangs on it,
  with the inputs it used (a DATA-ACCURACY row beside the count that failed the test: the test once).

Every other result loses any such line and attachment (a rewrite is idempotent). Verdicts and
statuses do not change.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from allure_commons.logger import AllureFileLogger

#: the label holding a result's pytest node id (the plugin adds it to every scenario)
NODEID_LABEL = "nodeid"
#: the line prefix that marks a consequence in a result's message (what the category's regex finds)
CONSEQUENCE_PREFIX = "consequence of: "
#: the name of the attachment that names a consequence's root findings
ROOT_CAUSE_ATTACHMENT = "root cause"


def consequences_by_test(findings: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, list[str]]]:
    """The tests that are consequences, by node id: each root finding's message (run order) -> the
    test's failed checks under it, one line each with the inputs it used (a consequence's ``checks``;
    the consequence itself when it has none). A test that is some finding's root is left out."""
    findings = list(findings)
    roots = {f["root"]["nodeid"] for f in findings}
    out: dict[str, dict[str, list[str]]] = {}
    for f in findings:
        for c in f.get("consequences", []):
            if c["nodeid"] in roots:
                continue  # never a consequence of its own finding
            lines = out.setdefault(c["nodeid"], {}).setdefault(f["root"]["message"], [])
            for check in c.get("checks") or [c]:
                used = check.get("because") or f.get("inputs", [])
                line = f"  - {check['message']} (because {', '.join(used)})"
                if line not in lines:
                    lines.append(line)
    return out


def _untagged(message: str) -> str:
    first, *rest = message.split("\n")
    return "\n".join([first, *(line for line in rest if not line.startswith(CONSEQUENCE_PREFIX))])


def tag_consequences(results_dir: Path, findings: Iterable[Mapping[str, Any]]) -> int:
    """Rewrite the Allure results in ``results_dir`` so that the consequences among ``findings``
    (``summary.json``'s ``findings``) carry their root (module docstring) and no other result does;
    returns how many results were tagged. Results of failed tests only are tagged.

    Raises:
        OSError: a result cannot be read or written.
    """
    tagged = consequences_by_test(findings)
    logger = AllureFileLogger(results_dir)
    done = 0
    for path in sorted(results_dir.glob("*-result.json")):
        result = json.loads(path.read_text(encoding="utf-8"))
        nodeid = next((lb.get("value") for lb in result.get("labels", []) if lb.get("name") == NODEID_LABEL), None)
        details = result.get("statusDetails") or {}
        old = [a for a in result.get("attachments", []) if a.get("name") == ROOT_CAUSE_ATTACHMENT]
        message = _untagged(str(details.get("message", "")))
        cause = tagged.get(nodeid) if result.get("status") == "failed" and nodeid else None
        if cause is None and not old and message == details.get("message", ""):
            continue  # nothing to add, nothing to take away
        for a in old:
            (results_dir / a["source"]).unlink(missing_ok=True)
        attachments = [a for a in result.get("attachments", []) if a.get("name") != ROOT_CAUSE_ATTACHMENT]
        if cause is not None:
            message += "".join(f"\n{CONSEQUENCE_PREFIX}{root}" for root in cause)
            source = f"{uuid.uuid4()}-attachment.txt"
            logger.report_attached_data(
                body="\n".join(f"{root}\n" + "\n".join(lines) for root, lines in cause.items())
                     + "\n\nThe failed checks of this test listed under a root failed because the shared input "
                       "they relied on failed its own check; see the run's findings (summary.md).\n",
                file_name=source)
            attachments.append({"name": ROOT_CAUSE_ATTACHMENT, "source": source, "type": "text/plain"})
            done += 1
        result["statusDetails"] = {**details, "message": message}
        result["attachments"] = attachments
        path.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    return done
