"""CFG-TELEPHONY: the org's telephony configuration is within Genesys' limits and its numbers are E.164.

Read through the Platform API (the org of the inventory's ``cloud:``):

* **Limits** (G-LIMITS): for each resource Genesys limits and the API can count (trunks, sites, phone
  lines, phone base settings, extension assignments), the org's use as a share of its limit. The limit is
  the org's own value from ``GET /api/v2/organizations/limits/namespaces/telephony.configuration``
  when it names the resource, else Genesys' published number. Genesys marks 80–89 % yellow and
  90 % or more red: from 80 % the evidence carries a warning (the verdict stays PASS), from 90 %
  the check FAILS. Trunks are the org's, every kind (``GET …/edges/trunks``: each Edge's external and
  phone trunks). Schedules, call routes and emergency groups are not counted yet (their endpoints are
  not read).
* **E.164** (API-TF-SITE, API-TF-DIDPOOL): the site's caller ID, each DID pool's first and last
  number and every DID are valid E.164 numbers (``phonenumbers``). Standalone phones' line addresses
  are not read yet.
"""

import allure
import pytest

from harness.checks.org_records import is_e164, use_pct
from harness.devices.drivers.cloud_telephony import OrgTelephony
from harness.devices.facts.cloud_edge_ops import TRUNKS
from harness.devices.facts.cloud_numbers import EXTENSIONS
from harness.devices.facts.cloud_phones import LINES, PHONE_BASES
from harness.devices.facts.cloud_sites import SITES
from harness.duties.catalogue import duty
from harness.evidence.check import check, observe
from harness.inventory.models import CLOUD_NAME

DUTY = "CFG-TELEPHONY"
#: resource -> (threshold of the published limit, the org's limit key, the listing that counts it)
RESOURCES = {
    "trunks": ("trunks", "trunks", TRUNKS),
    "sites": ("sites", "sites", SITES),
    "phone lines": ("phone_lines", "phone.lines", LINES),
    "base settings": ("base_settings", "base.settings", PHONE_BASES),
    "extension assignments": ("extension_assignments", "extension.assignments", EXTENSIONS),
}


@pytest.mark.duty(DUTY)
@pytest.mark.core("the telephony limits")
@pytest.mark.parametrize("resource", list(RESOURCES))
def test_org_is_within_the_telephony_limit(resource: str, org_telephony: OrgTelephony) -> None:
    threshold, key, listing = RESOURCES[resource]
    published = duty(DUTY).threshold(threshold)
    org_limit = org_telephony.limits().get(key)
    limit = org_limit if org_limit is not None else int(published.number)
    used = org_telephony.total(listing)
    pct = use_pct(used, limit)
    where = f"the org's limit {key} = {limit}" if org_limit is not None else \
        f"Genesys' published limit {limit} (G-LIMITS; the org names no {key})"
    detail = f"{used} {published.unit} of {limit}: {where}"
    warn = duty(DUTY).threshold("limit_use_warn_pct")
    if pct >= warn.number:
        msg = f"WARNING: {pct:.1f} % of the {resource} limit in use (Genesys marks {warn.number:.0f} % yellow)"
        observe(msg, duty=DUTY, device=CLOUD_NAME, what=f"{resource} limit warning", detail=detail)
        allure.attach(f"{msg}; {detail}", name=f"{resource} limit warning", attachment_type=allure.attachment_type.TEXT)
    check(pct, duty(DUTY).threshold("limit_use_pct"), duty=DUTY, device=CLOUD_NAME,
          what=f"share of the {resource} limit in use", detail=detail)


@pytest.mark.duty(DUTY)
@pytest.mark.core("the E.164 check")
def test_site_numbers_are_e164(org_telephony: OrgTelephony) -> None:
    site = org_telephony.site()
    numbers = []
    if site.caller_id:
        numbers.append(("site caller ID", site.caller_id))
    for p in org_telephony.did_pools():
        numbers += [("DID pool start", p.start_phone_number), ("DID pool end", p.end_phone_number)]
    numbers += [("DID", d.phone_number) for d in org_telephony.dids()]
    bad = [f"{what} {number!r}" for what, number in numbers if not is_e164(number)]
    check(len(bad), duty(DUTY).threshold("numbers_not_e164"), duty=DUTY, device=f"{CLOUD_NAME} site {site.name}",
          what="numbers not in E.164 (caller ID, DID pools, DIDs)",
          detail=("; ".join(bad) if bad else f"{len(numbers)} numbers read") + " (ITU-T E.164, G-E164)")
