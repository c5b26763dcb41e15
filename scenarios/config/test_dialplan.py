"""CFG-DIALPLAN: the site's number plans classify dial strings as the lab intends, and the
classifications that leave the site are carried by an outbound route (G-NUMPLAN).

Read through the Platform API (the site's number plans and outbound routes). The dial strings and the
classification each should get come from the inventory: every phone's extension (``Extension``), the
emergency number of the dial plan's country (``Emergency``: 911 in North America, else 112), the
carrier's test numbers and the DIDs in every form a station may dial them (E.164, with the trunk
prefix, national: ``National``), and an international number in its forms (``International``: +44 20
7946 0000, from the range Ofcom keeps for drama, a project choice). Each string is classified as
Genesys does it (the plans by priority, each by its match type: ``harness/devices/facts/cloud_dialplan.py``).

Not checked yet: dialling each classification's test number from a station and seeing it reach the
carrier with an E.164 Request-URI (PSTN-CONNECT and SEC-TOLL-FRAUD place such calls today).
"""

import pytest

from harness.devices.drivers.cloud_telephony import OrgTelephony
from harness.devices.facts import dialplan
from harness.devices.facts.cloud_dialplan import classify
from harness.devices.session import LabSession
from harness.duties.catalogue import duty
from harness.evidence.attach import attach
from harness.evidence.check import check
from harness.inventory.models import CLOUD_NAME, EdgeDevice, PhoneDevice, PstnDevice

DUTY = "CFG-DIALPLAN"
INTERNATIONAL_SAMPLE = "+442079460000"  # Ofcom's drama range (020 7946 0xxx): never a real line (project choice)
LEAVE_THE_SITE = ("Emergency", "National", "International")  # the classifications a site dials out


def _country(lab: LabSession) -> str:
    plans = [d.facts.dial_plan for d in lab.lab.devices.values() if isinstance(d, EdgeDevice) and d.facts.dial_plan]
    return plans[0].country if plans else "US"


def intended(lab: LabSession) -> dict[str, list[str]]:
    """Classification -> the dial strings that should get it, from the inventory."""
    country = _country(lab)
    out: dict[str, list[str]] = {"Extension": [], "Emergency": ["911" if country in ("US", "CA") else "112"],
                                 "National": [], "International": []}
    for d in lab.lab.devices.values():
        if isinstance(d, PhoneDevice):
            out["Extension"].append(d.facts.extension)
        elif isinstance(d, PstnDevice):
            for n in (*d.facts.test_numbers, *d.facts.dids):
                out["National"] += dialplan.dial_forms(n, country)
    out["International"] += dialplan.dial_forms(INTERNATIONAL_SAMPLE, country)
    return {k: list(dict.fromkeys(v)) for k, v in out.items()}


@pytest.mark.duty(DUTY)
@pytest.mark.core("the number plans")
@pytest.mark.parametrize("classification", ["Extension", "Emergency", "National", "International"])
def test_number_plans_classify_dial_strings(classification: str, lab: LabSession,
                                            org_telephony: OrgTelephony) -> None:
    strings = intended(lab)[classification]
    if not strings:
        pytest.skip(f"the inventory gives no dial string that should be {classification}")
    plans = org_telephony.number_plans()
    country = _country(lab)
    got = {s: (p.classification if (p := classify(plans, s, country)) else None) for s in strings}
    attach(f"{classification} dial strings", "\n".join(f"{s:18} -> {c or 'no plan'}" for s, c in got.items()))
    wrong = [f"{s} -> {c or 'no plan'}" for s, c in got.items() if (c or "").lower() != classification.lower()]
    site = org_telephony.site().name
    check(len(wrong), duty(DUTY).threshold("misclassified_dial_strings"), duty=DUTY,
          device=f"{CLOUD_NAME} site {site}", what=f"dial strings not classified {classification}",
          detail=(f"{', '.join(wrong)}; the site's plans: "
                  + ", ".join(f"{p.name} ({p.match_type}, priority {p.priority})" for p in plans))
          if wrong else f"{len(strings)} dial strings: {', '.join(strings)}")


@pytest.mark.duty(DUTY)
def test_outbound_routes_carry_what_leaves_the_site(org_telephony: OrgTelephony) -> None:
    routes = [r for r in org_telephony.outbound_routes() if r.enabled is not False]
    planned = {p.classification for p in org_telephony.number_plans() if p.classification}
    carried = {c.lower() for r in routes for c in r.classification_types}
    missing = [c for c in LEAVE_THE_SITE if c in planned and c.lower() not in carried]
    site = org_telephony.site().name
    check(len(missing), duty(DUTY).threshold("unrouted_classifications"), duty=DUTY,
          device=f"{CLOUD_NAME} site {site}", what="classifications that leave the site without an outbound route",
          detail=(f"no enabled outbound route carries {', '.join(missing)}; routes: "
                  + "; ".join(f"{r.name}: {', '.join(r.classification_types)}" for r in routes))
          if missing else f"{len(routes)} route(s) carry {', '.join(sorted(carried))}")
