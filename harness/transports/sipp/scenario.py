"""SIPp scenarios: the templates shipped in ``scenarios/`` (``uac_did``, ``uas_answer``,
``uas_reject``; ``{{name}}`` placeholders filled by the caller), XML files, and SIPp's built-ins
(``-sn uac``). Checked before anything runs: a template that does not exist, or placeholders
that do not match, raise ``FileNotFoundError`` or ``ValueError`` (a mistake in the test, not in
the lab). Run by :mod:`harness.transports.sipp.runner`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

SCENARIO_DIR = Path(__file__).with_name("scenarios")
#: SIPp 3.6.1's built-in scenarios (``sipp -h``, option ``-sn``)
BUILTIN_SCENARIOS = frozenset({"uac", "uas", "regexp", "branchc", "branchs", "uac_pcap",
                               "3pcc-C-A", "3pcc-C-B", "3pcc-A", "3pcc-B"})
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


def templates() -> list[str]:
    """Names of the scenario templates shipped in ``scenarios/`` (``["uac_did", …]``)."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.xml"))


@dataclass(frozen=True)
class Scenario:
    """A SIPp scenario: ``xml`` text to upload, or ``None`` for a SIPp built-in (``-sn name``).

    ``name`` becomes the file name (``<name>.xml``) and so the prefix of SIPp's trace files.
    """

    name: str
    xml: str | None = None

    @property
    def builtin(self) -> bool:
        return self.xml is None

    @classmethod
    def template(cls, name: str, **params: object) -> Scenario:
        """The template ``scenarios/<name>.xml`` with its ``{{placeholders}}`` filled.

        Raises:
            FileNotFoundError: no such template (the message lists the ones there are).
            ValueError: a placeholder is not given, a parameter matches none, or the XML is broken.
        """
        path = SCENARIO_DIR / f"{name}.xml"
        if not re.fullmatch(r"[\w.-]+", name) or not path.is_file():
            raise FileNotFoundError(f"no SIPp scenario template {name!r} in {SCENARIO_DIR} "
                                    f"(there are: {', '.join(templates()) or 'none'})")
        return cls.from_file(path, name=name, **params)

    @classmethod
    def from_file(cls, path: Path, name: str | None = None, **params: object) -> Scenario:
        """A scenario file (SIPp XML, ISO-8859-1 as SIPp's own) with ``{{placeholders}}`` filled.

        Raises:
            FileNotFoundError: ``path`` does not exist.
            ValueError: placeholders and ``params`` do not match, or the XML does not parse.
        """
        text = Path(path).read_text(encoding="iso-8859-1")
        wanted = set(_PLACEHOLDER.findall(text))
        missing, unknown = sorted(wanted - params.keys()), sorted(params.keys() - wanted)
        if missing or unknown:
            raise ValueError(f"SIPp scenario {path}: " + "; ".join(
                [f"placeholders not given: {', '.join(missing)}"] * bool(missing)
                + [f"parameters it does not have: {', '.join(unknown)}"] * bool(unknown)))
        text = _PLACEHOLDER.sub(lambda m: str(params[m.group(1)]), text)
        try:
            ET.fromstring(text.encode("iso-8859-1"))
        except ET.ParseError as e:
            raise ValueError(f"SIPp scenario {path} is not well-formed XML: {e}") from None
        return cls(name or Path(path).stem, text)

    @classmethod
    def sipp_builtin(cls, name: str) -> Scenario:
        """SIPp's built-in scenario ``name`` (``uac``, ``uas`` …). Raises ValueError for others."""
        if name not in BUILTIN_SCENARIOS:
            known = ", ".join(sorted(BUILTIN_SCENARIOS))
            raise ValueError(f"SIPp has no built-in scenario {name!r} (built-ins: {known})")
        return cls(name)


def reject_scenario(code: int, reason: str) -> Scenario:
    """``uas_reject`` answering every INVITE with ``code reason`` (300-699; 503 for a full trunk)."""
    if not 300 <= code <= 699 or not reason or any(c in reason for c in "\r\n<>&"):
        raise ValueError(f"uas_reject needs a final non-2xx code (300-699) and a one-line reason, "
                         f"not {code} {reason!r}")
    return Scenario.template("uas_reject", code=code, reason=reason)
