"""What the org-configuration scenarios share (CFG-TELEPHONY, DATA-ACCURACY): E.164 validity, a
limit's use, and two-way reconciliation of what the org records with what the wire or the carrier
shows. Pure functions: the scenarios read the org (``OrgTelephony``) and the wire themselves.

It also names the org's records as the shared inputs of :mod:`harness.evidence.findings` (one place
for every duty that judges or relies on them: CFG-STATION, DATA-ACCURACY, INET-ACCESS,
MAINT-VERSION-MATRIX): :func:`phone_record_input` and :func:`edge_record_input`."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

import phonenumbers

from ..devices.facts.switch_ports import PortView, normal_mac


def phone_record_input(mac: str) -> str:
    """The shared input a check of the org's phone record of hardware ID ``mac`` judges or relies on
    (:mod:`harness.evidence.findings`): ``"phone record of hardware id 00:04:f2:00:00:02"``, the same
    whichever way the MAC is written (``0004f2000002``, ``0004.f200.0002``). CFG-STATION judges it
    (the MAC on the phone's port has exactly one record of that hardware ID); DATA-ACCURACY's MAC
    reconciliation relies on it."""
    return f"phone record of hardware id {normal_mac(mac) or mac.strip().lower()}"


def edge_record_input(edge: str, field: str) -> str:
    """The shared input a check of one field of the org's record of Edge ``edge`` (``GET
    …/edges/{edgeId}``: ``onlineStatus``, ``softwareVersion``, its external trunks) judges or relies on
    (:mod:`harness.evidence.findings`): ``"genesys cloud record of edge edge1: softwareVersion"``."""
    return f"genesys cloud record of edge {edge}: {field}"


def is_e164(text: str) -> bool:
    """``text`` is a valid number written in E.164 (``+13175550199``: ``+``, country code, national
    number, at most 15 digits, no spaces; ITU-T E.164 and Genesys, G-E164), as phonenumbers judges it."""
    if not text.startswith("+"):
        return False
    try:
        parsed = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return False
    return (phonenumbers.is_valid_number(parsed)
            and phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == text)


def use_pct(used: int, limit: int) -> float:
    """``used`` as a percentage of ``limit`` (100.0 and above: at or past it; a limit of 0 is full)."""
    return 100.0 * used / limit if limit > 0 else 100.0


def reconcile(ours: Iterable[str], theirs: Iterable[str]) -> tuple[list[str], list[str]]:
    """``(only in ours, only in theirs)``, each sorted."""
    a, b = set(ours), set(theirs)
    return sorted(a - b), sorted(b - a)


def duplicates(values: Iterable[str]) -> list[str]:
    """The values that occur more than once, sorted."""
    return sorted(v for v, n in Counter(values).items() if n > 1)


def phone_macs(views: Iterable[PortView | None]) -> list[str]:
    """The MACs of the phone on a port, from the port's views: the LLDP chassis ID where the phone
    announces one (a PC cabled behind the phone shares the port's forwarding table, not its LLDP),
    else every MAC of the forwarding table. Sorted, without repeats."""
    vs = [v for v in views if v is not None]
    lldp = {v.lldp.chassis_mac for v in vs if v.lldp and v.lldp.chassis_mac}
    return sorted(lldp) if lldp else sorted({m for v in vs for m in v.macs})


_VERSION = re.compile(r"(?<![\w.])\d+(?:\.\d+)+(?:[-+.]?\w+)*")


def version_in_header(header: str | None, org_version: str | None) -> str | None:
    """The software version a SIP ``Server``/``User-Agent`` header shows: ``org_version`` when it stands
    in the header as a whole token, else the header's first dotted version number
    (``Genesys Edge (virtual) 2026.11.1`` -> ``2026.11.1``), else ``None`` (the header shows none).
    Genesys does not document its Edge's header, so this reading is a project choice."""
    if not header:
        return None
    tokens = re.split(r"[\s/()]+", header)
    if org_version and org_version in tokens:
        return org_version
    m = _VERSION.search(header)
    return m.group(0) if m else None
