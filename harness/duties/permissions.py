"""The Genesys Cloud permissions an OAuth client needs to check some duties (``hil cloud permissions``).

Which duty makes which API call is read from the code (:attr:`harness.duties.map.DutyRoute.endpoints`:
the calls of the driver methods the duty's scenarios, fixtures and procedures call); what each call
needs is the harness's table of Genesys' published permissions
(:data:`harness.transports.cloud.permissions.ENDPOINTS`). Like the map, nothing of the scenarios or
drivers is imported.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..transports.cloud.permissions import ENDPOINTS, Endpoint, needed
from .map import DutyRoute


@dataclass(frozen=True)
class DutyCalls:
    """A duty (``duty_id``) and the API calls its code makes (entries of the permissions table)."""

    duty_id: str
    calls: tuple[Endpoint, ...]


class UnknownCall(Exception):
    """A duty's code makes an API call the permissions table lacks (the table is behind the code)."""


def duty_calls(routes: list[DutyRoute]) -> list[DutyCalls]:
    """The duties of ``routes`` that make API calls, each with its calls, in catalogue order.

    Raises:
        UnknownCall: a call the table (``harness/transports/cloud/permissions.py``) lacks.
    """
    found = []
    for r in routes:
        if not r.endpoints:
            continue
        missing = [c for c in r.endpoints if c not in ENDPOINTS]
        if missing:
            raise UnknownCall(f"{r.duty.id} calls {', '.join(missing)}, which harness/transports/cloud/permissions.py "
                              "does not list: add each with the permissions Genesys publishes for it")
        found.append(DutyCalls(r.duty.id, tuple(ENDPOINTS[c] for c in r.endpoints)))
    return found


def permissions_text(selected: list[DutyCalls]) -> str:
    """What ``hil cloud permissions`` prints: the permissions the role of the OAuth client needs (with
    the duties that need each), the calls Genesys publishes no permission for, and each duty's calls."""
    if not selected:
        return "none of the selected duties calls the Genesys Cloud API"
    calls = {e.call: e for d in selected for e in d.calls}
    required, either, unpublished = needed(list(calls))
    who = {p: [d.duty_id for d in selected if any(p in e.permissions for e in d.calls)] for p in required}
    width = max((len(p) for p in required), default=0)
    lines = ["Permissions the OAuth client's role needs (Genesys Cloud > Admin > Roles / Permissions):"]
    lines += [f"  {p:<{width}}  {', '.join(who[p])}" for p in required] or ["  none published"]
    for e in either:
        lines.append(f"  one of {e.needs()}  ({e.call})")
    if unpublished:
        lines += ["", "Calls Genesys publishes no permission for (none is guessed; a 403 on one names what the "
                      "org refused):"]
        lines += [f"  {e.call}  {', '.join(d.duty_id for d in selected if e in d.calls)}" for e in
                  sorted(unpublished, key=lambda e: (e.template, e.method))]
    lines += ["", "Calls per duty:"]
    for d in selected:
        lines.append(f"  {d.duty_id}")
        lines += [f"    {e.call}  ({e.needs()})" for e in d.calls]
    return "\n".join(lines)
