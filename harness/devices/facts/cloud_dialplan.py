"""The site's number plans and outbound routes as the harness reads them
(``GET …/sites/{siteId}/numberplans``: a list of ``NumberPlan``; ``GET …/sites/{siteId}/outboundroutes``:
``OutboundRouteBase``), and :func:`classify`: which plan a dial string falls under.

Genesys' match types (G-NUMPLAN, API-TF-SITE): ``numberList`` (the dialled digits lie in one of
``numbers``' ranges), ``digitLength`` (all digits, ``digitLength.start``..``end`` of them), ``regex``
(``match`` matches the whole dial string), ``e164NumberList`` (the number in E.164 lies in one of
``numbers``' ranges), ``intraCountryCode`` (a number of the site's own country code, of a length phonenumbers deems
possible for it, local-only lengths excluded: ``+1`` covers the whole North American Numbering Plan,
dialled without an international prefix), ``interCountryCode`` (a possible number of another
country code); plans are tried by ``priority``, lowest first."""

from __future__ import annotations

import re

import phonenumbers

from ...transports.cloud import CloudModel
from .cloud_sites import EntityRef
from .dialplan import normalize

NUMBER_PLANS = "/api/v2/telephony/providers/edges/sites/{siteId}/numberplans"
OUTBOUND_ROUTES = "/api/v2/telephony/providers/edges/sites/{siteId}/outboundroutes"


class NumberRange(CloudModel):
    """``start``..``end`` of a number list (same length: compared as text)."""

    start: str
    end: str | None = None

    def holds(self, number: str) -> bool:
        end = self.end or self.start
        return len(self.start) == len(number) == len(end) and self.start <= number <= end


class DigitLength(CloudModel):
    start: str
    end: str


class NumberPlan(CloudModel):
    """A number plan of the site: ``classification`` it gives the numbers it matches."""

    name: str
    classification: str | None = None
    match_type: str | None = None
    match: str | None = None
    priority: int | None = None
    numbers: tuple[NumberRange, ...] = ()
    digit_length: DigitLength | None = None

    def matches(self, dialled: str, country: str) -> bool:
        """The plan matches ``dialled`` as a station in ``country`` (ISO 3166) dials it. An unknown
        match type matches nothing."""
        digits = dialled.lstrip("+")
        kind = self.match_type or ""
        if kind == "numberList":
            return digits.isdigit() and any(r.holds(digits) for r in self.numbers)
        if kind == "digitLength":
            dl = self.digit_length
            return (dl is not None and digits.isdigit() and not dialled.startswith("+")
                    and int(dl.start) <= len(digits) <= int(dl.end))
        if kind == "regex":
            return self.match is not None and re.fullmatch(self.match, dialled) is not None
        e164 = normalize(dialled, country) if len(digits) > 6 else None
        if e164 is None:
            return False
        if kind == "e164NumberList":
            return any(r.holds(e164) for r in self.numbers)
        parsed = phonenumbers.parse(e164, None)
        if phonenumbers.is_possible_number_with_reason(parsed) != phonenumbers.ValidationResult.IS_POSSIBLE:
            return False
        home = phonenumbers.country_code_for_region(country)
        if kind == "intraCountryCode":
            return parsed.country_code == home
        if kind == "interCountryCode":
            return parsed.country_code != home
        return False


class OutboundRoute(CloudModel):
    """An outbound route of the site: the ``classification_types`` it carries to its trunks
    (``external_trunk_bases``: references to the trunk base settings)."""

    id: str
    name: str
    classification_types: tuple[str, ...] = ()
    enabled: bool | None = None
    external_trunk_bases: tuple[EntityRef, ...] = ()

    def carries(self, classification: str) -> bool:
        """The route is enabled and carries ``classification`` (compared without case)."""
        return self.enabled is not False and classification.lower() in (c.lower() for c in self.classification_types)


def classify(plans: list[NumberPlan], dialled: str, country: str) -> NumberPlan | None:
    """The plan ``dialled`` falls under (the first by ``priority`` that matches), or None."""
    for plan in sorted(plans, key=lambda p: (p.priority if p.priority is not None else 1 << 30, p.name)):
        if plan.matches(dialled, country):
            return plan
    return None
