"""The emulated org's telephony configuration, built from the inventory so the org agrees with the wire:
phone records, DIDs and DID pools, extensions, the site's E911 location and the org's telephony limits.

* **Phone records**: one per inventory phone (``role: phone``), named as in the inventory, its hardware
  ID the inventory's MAC (Genesys writes a ``mac`` hardware ID as 12 lower-case hex digits without
  separators), its line on the phone's extension, its primary Edge the phone's ``sip.registrar``.
  What changes with the device (operational status, which Edges it is registered to) is rendered from
  the phone's own twin state on every request (:mod:`.resources.phones`).
* **DIDs**: the numbers of the Edges' dial plans (``facts.dial_plan.dids``), each owned by the phone
  whose extension it rings; **DID pools** are the runs of consecutive numbers among them (a pool
  holds a range ``startPhoneNumber``..``endPhoneNumber``).
* **Location**: the site's E911 location, emergency number ``911`` (``default``; Poly's default, G-POLYCCX)
  for a North American dial plan, else ``112`` (project choice).
* **Prefix blocking**: the org's Block List holds the prefixes every station class of the Edges' dial
  plans may not dial (``dialplan.org_wide_blocked``: Genesys' list is one for the whole org, G-PREFIX);
  its Allow List is empty.
* **Limits**: the ``telephony.configuration`` namespace with the published Genesys resource limits
  (G-LIMITS); their key names are this project's, as no public source lists the API's keys.

``twin.cloud_synthetic_phones`` adds phone records (no device behind them, ``OFFLINE``) for the
paging benchmark.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ...devices.facts.dialplan import emergency_number, org_wide_blocked
from ...inventory.models import EdgeDevice, Lab, PhoneDevice

#: Genesys' published telephony resource limits (G-LIMITS:
#: https://help.mypurecloud.com/articles/view-telephony-resource-limits), under key names of this
#: project's choosing (no public source lists the API's keys of the telephony.configuration namespace)
LIMITS: dict[str, int] = {"trunks": 500, "sites": 1000, "phone.lines": 50000, "base.settings": 750,
                          "extension.assignments": 25000, "schedule.groups": 10000, "schedules": 10000,
                          "call.routes": 2000, "emergency.groups": 1000}
LIMITS_NAMESPACE = "telephony.configuration"


def hardware_id(mac: str) -> str:
    """A MAC as Genesys writes a ``mac`` hardware ID: ``00:04:F2:00:00:01`` -> ``0004f2000001``."""
    return mac.replace(":", "").replace("-", "").replace(".", "").lower()


@dataclass
class PhoneRecord:
    """The org's phone record of inventory phone ``name``: ``hardware_id`` (12 hex digits),
    ``extension`` of its line, ``model``, ``edge``: its primary Edge (inventory name, or None)."""

    name: str
    hardware_id: str
    extension: str
    model: str
    edge: str | None


@dataclass
class TelephonyConfig:
    """The org's numbers and phones: ``phones`` by inventory name, ``dids`` (E.164 -> owning phone's
    inventory name, or None), ``country`` of the dial plan, ``emergency_number``, ``limits``,
    ``blocked_prefixes``: the org's prefix Block List (E.164 prefixes)."""

    phones: dict[str, PhoneRecord] = field(default_factory=dict)
    dids: dict[str, str | None] = field(default_factory=dict)
    country: str = "US"
    emergency_number: str = "911"
    limits: dict[str, int] = field(default_factory=lambda: dict(LIMITS))
    synthetic_phones: int = 0
    blocked_prefixes: list[str] = field(default_factory=list)


def telephony_config(lab: Lab) -> TelephonyConfig:
    """The org's telephony configuration for ``lab`` (see the module's docstring)."""
    cfg = TelephonyConfig(synthetic_phones=lab.twin.cloud_synthetic_phones)
    by_ext: dict[str, str] = {}
    for name, d in lab.devices.items():
        if isinstance(d, PhoneDevice):
            registrar = d.sip.registrar if d.sip else None
            cfg.phones[name] = PhoneRecord(name, hardware_id(d.facts.mac), d.facts.extension,
                                           d.facts.model or "Generic SIP phone", registrar)
            by_ext[d.facts.extension] = name
    for d in lab.devices.values():
        if isinstance(d, EdgeDevice) and d.facts.dial_plan is not None:
            cfg.country = d.facts.dial_plan.country
            for number, ext in d.facts.dial_plan.dids.items():
                cfg.dids[number] = by_ext.get(ext)
    cfg.emergency_number = emergency_number(cfg.country)
    cfg.blocked_prefixes = list(dict.fromkeys(p for d in lab.devices.values() if isinstance(d, EdgeDevice)
                                              and d.facts.dial_plan for p in org_wide_blocked(d.facts.dial_plan)))
    return cfg


def did_runs(numbers: list[str]) -> list[tuple[str, str]]:
    """E.164 numbers grouped into runs of consecutive numbers, as ``(first, last)``, in order."""
    runs: list[tuple[str, str]] = []
    for n in sorted(numbers, key=lambda x: (len(x), x)):
        if runs and len(runs[-1][1]) == len(n) and int(runs[-1][1][1:]) + 1 == int(n[1:]):
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    return runs
