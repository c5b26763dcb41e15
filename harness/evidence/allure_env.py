"""Allure metadata written into the results folder before the report is generated.

* ``environment.properties``: lab, site, emulated, inventory, and per device its role, platform and
  firmware (the version a scenario read, else the one the inventory expects).
* the duty summary (the text of ``summary.md``) as a *global attachment* of the run: an
  ``<uuid>-attachment.md`` file and the ``<uuid>-globals.json`` that names it, in allure-python's
  own format (``allure_commons``); Allure 3 shows it under the report's "Global Attachments" tab.
* ``categories.json``: :data:`CATEGORIES`, for Allure 2 viewers. Allure 3 ignores that file and
  reads the same list from its configuration (``allurerc.mjs`` beside this module loads
  ``allure_categories.json``, the one place they are written).
* the duty verdicts on the test results: every result of a duty gets the labels ``duty_verdict``
  (PASS, PARTIAL …) and, for a hybrid or attest duty, ``attestation`` (ATTESTED, ATTESTATION
  MISSING, ATTESTATION EXPIRED); a PARTIAL duty's reasons become tags (``PARTIAL: core check not
  run: …``), so a filter on the tag finds what a PASS would have hidden. ``environment.properties``
  carries the overall verdict and, for a partial run, its selection.
* the run's root-cause findings on the consequences' results (``consequence of: …`` and a ``root
  cause`` attachment), written once all findings are known: :mod:`harness.evidence.allure_findings`.

:data:`CATEGORIES`, first match wins: "Duty not met: consequence of a root cause" (failed, and the
plugin noted ``consequence of: …`` under the message when pytest ended:
:mod:`harness.evidence.allure_findings`), "Duty not
met" (any other failed), "Lab broken" (broken by a
:class:`~harness.errors.LabError`: allure-pytest's message is ``module.Class: str(exc)`` and a lab
error's text starts with its ``kind``, e.g. ``harness.errors.LabTimeout: timeout: phone4 snmp …``),
"Harness error" (any other broken). The regex is written so that Allure 2 (Java, whole message)
and Allure 3 (JavaScript, search) read it alike.
"""

from __future__ import annotations

import json
import time
import uuid
from importlib.resources import files
from pathlib import Path
from typing import Any

from allure_commons.logger import AllureFileLogger
from allure_commons.model2 import GlobalAttachment, Globals

from ..inventory import LoadedLab
from ..inventory.secrets import MASK
from .allure_findings import tag_consequences
from .summary import render_markdown

#: Allure categories (Allure 2 ``categories.json`` keys, which Allure 3 also accepts)
CATEGORIES: list[dict[str, Any]] = json.loads(
    files("harness.evidence").joinpath("allure_categories.json").read_text(encoding="utf-8"))
#: name of the duty summary among the report's global attachments
SUMMARY_ATTACHMENT = "summary.md"


def _observed_firmware(summary: dict[str, Any]) -> dict[str, str]:
    seen: dict[str, str] = {}
    for t in summary.get("tests", []):
        for m in t.get("measurements", []):
            if m.get("what") == "firmware version" and m.get("measured"):
                seen[m["device"]] = str(m["measured"])
    return seen


def _escape(v: object) -> str:
    return MASK(str(v)).replace("\\", "\\\\").replace("\n", " ")


def attach_summary(results_dir: Path, summary: dict[str, Any]) -> str:
    """Write the duty summary (Markdown, as in ``summary.md``) as a global attachment of the results
    in ``results_dir``; returns the attachment's file name (``<uuid>-attachment.md``)."""
    logger = AllureFileLogger(results_dir)
    source = f"{uuid.uuid4()}-attachment.md"
    logger.report_attached_data(body=render_markdown(summary), file_name=source)
    logger.report_globals(Globals(attachments=[GlobalAttachment(
        name=SUMMARY_ATTACHMENT, source=source, type="text/markdown", timestamp=int(time.time() * 1000))]))
    return source


def write_allure_metadata(results_dir: Path, loaded: LoadedLab, summary: dict[str, Any]) -> None:
    results_dir.mkdir(parents=True, exist_ok=True)
    lab = loaded.lab
    props = {"lab": lab.lab.name, "site": lab.lab.site, "emulated": lab.lab.emulated,
             "inventory": loaded.path.name, "verdict": summary.get("verdict", ""),
             "overall": summary.get("overall", summary.get("verdict", ""))}
    if sel := summary.get("selection"):
        props["partial run"] = sel.get("text") or "tests left out"
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
    label_duty_verdicts(results_dir, summary)
    tag_consequences(results_dir, summary.get("findings", []))
    attach_summary(results_dir, summary)


def label_duty_verdicts(results_dir: Path, summary: dict[str, Any]) -> int:
    """Label every test result in ``results_dir`` with its duty's verdict (and attestation, and a
    PARTIAL duty's reasons as tags); returns how many results were labelled."""
    duties = summary.get("duties", {})
    done = 0
    for path in results_dir.glob("*-result.json"):
        result = json.loads(path.read_text())
        labels = [lb for lb in result.get("labels", []) if lb.get("name") not in ("duty_verdict", "attestation")
                  and not (lb.get("name") == "tag" and str(lb.get("value", "")).startswith("PARTIAL: "))]
        duty = next((lb["value"] for lb in labels if lb.get("name") == "duty"), None)
        d = duties.get(duty)
        if d is None:
            continue
        labels.append({"name": "duty_verdict", "value": d["verdict"]})
        if att := d.get("attestation"):
            labels.append({"name": "attestation", "value": att["status"]})
        if d["verdict"] == "PARTIAL":
            labels += [{"name": "tag", "value": f"PARTIAL: {MASK(r)}"} for r in d.get("reasons", [])]
        result["labels"] = labels
        path.write_text(json.dumps(result))
        done += 1
    return done
