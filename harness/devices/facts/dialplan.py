"""Dial-plan arithmetic on the inventory's :class:`~harness.inventory.models.DialPlan`: E.164
normalisation (phonenumbers), blocked-prefix classification, DID and caller-ID lookups, and the
forms a station may dial a number in.

The Edge twin routes with these functions and the scenarios compute what the carrier must (or
must not) see with them, so both read the inventory the same way; what the carrier *did* see is
always read from the carrier, never from here.

Sources: E.164 at most 15 digits (ITU-T E.164, [G-E164]); national and international numbers are
normalised to E.164 ([G-NUMPLAN]); blocked prefixes answered with a reject and never sent on
([G-PREFIX], SEC-TOLL-FRAUD).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import phonenumbers

from ...inventory.models import DialPlan, StationClass

E164_MAX_DIGITS = 15  # ITU-T E.164
FILLER = "2345678901234"  # digits appended to a bare prefix to make a dialable test number (project choice)


@dataclass(frozen=True)
class Block:
    """Why a number is barred: the prefix class and the prefix that matched."""

    prefix_class: str
    prefix: str


def normalize(number: str, country: str) -> str | None:
    """``number`` as dialled (``+44 20 7946 0000``, ``011442079460000``, ``3175551234``) in E.164
    (``+442079460000``), read as from ``country`` (ISO 3166 alpha-2). ``None`` when phonenumbers
    cannot read it or it has more than 15 digits. Validity is not required: a barred number must be
    barred even when no such line exists.
    """
    text = number.strip()
    if text.startswith("tel:"):
        text = text[4:]
    try:
        parsed = phonenumbers.parse(text, country)
    except phonenumbers.NumberParseException:
        return None
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if not e164.startswith("+") or len(e164) - 1 > E164_MAX_DIGITS or len(e164) < 4:
        return None
    return e164


def station_policy(plan: DialPlan, station_class: str) -> StationClass:
    """The plan's policy for ``station_class``; the ``default`` entry when the class is not listed;
    nothing blocked when neither is."""
    return plan.station_classes.get(station_class) or plan.station_classes.get("default") or StationClass()


def blocked(plan: DialPlan, station_class: str, e164: str, skip: Collection[str] = ()) -> Block | None:
    """The first blocked prefix class whose prefix starts ``e164`` for this station class, or ``None``;
    prefixes in ``skip`` are not tried (an Edge that follows the org's Block List skips
    :func:`org_wide_blocked`: those are the org's to block).

    Longer prefixes are tried first, so ``+1900`` wins over ``+1``."""
    hits = [(len(p), cls, p) for cls in station_policy(plan, station_class).blocked
            for p in plan.prefix_classes.get(cls, []) if e164.startswith(p) and p not in skip]
    if not hits:
        return None
    _, cls, prefix = max(hits)
    return Block(cls, prefix)


def extension_for_did(plan: DialPlan, number: str) -> str | None:
    """Extension an inbound call to ``number`` rings (``number`` normalised first), or ``None``."""
    e164 = normalize(number, plan.country) if not number.startswith("+") else number
    return plan.dids.get(e164 or number)


def caller_id(plan: DialPlan, extension: str) -> str | None:
    """ANI for an outbound call from ``extension``: its DID, else the site caller ID, else ``None``."""
    for did, ext in plan.dids.items():
        if ext == extension:
            return did
    return plan.caller_id


def test_number(prefix: str) -> str:
    """A number that starts with ``prefix`` (E.164 form) and has a plausible length: phonenumbers'
    example number of the matching region when it starts with the prefix, else the prefix padded
    with filler digits to 11 digits (country code 1) or 12."""
    digits = prefix.lstrip("+")
    for cc_len in (1, 2, 3):
        cc = int(digits[:cc_len]) if len(digits) >= cc_len else None
        if cc is None or cc not in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            continue
        for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[cc]:
            for kind in (phonenumbers.PhoneNumberType.PREMIUM_RATE, phonenumbers.PhoneNumberType.FIXED_LINE,
                         phonenumbers.PhoneNumberType.MOBILE):
                ex = phonenumbers.example_number_for_type(region, kind)
                if ex is not None:
                    e164 = phonenumbers.format_number(ex, phonenumbers.PhoneNumberFormat.E164)
                    if e164.startswith(prefix):
                        return e164
        break
    total = 11 if digits.startswith("1") else 12
    return "+" + (digits + FILLER)[: max(total, len(digits))]


def dial_forms(e164: str, country: str) -> list[str]:
    """The ways a station in ``country`` may dial ``e164``: the E.164 form, the form dialled from
    ``country`` (``011 44 …`` or ``1 900 …``) without spaces, and the national form when the
    number is domestic. Duplicates removed, order kept."""
    forms = [e164]
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return forms
    dialled = phonenumbers.format_out_of_country_calling_number(parsed, country)
    forms.append("".join(ch for ch in dialled if ch.isdigit() or ch == "+"))
    if parsed.country_code and phonenumbers.region_code_for_country_code(parsed.country_code) == country:
        forms.append(str(parsed.national_number))
    return list(dict.fromkeys(forms))


def org_wide_blocked(plan: DialPlan) -> list[str]:
    """The E.164 prefixes that every station class of ``plan`` may not dial, in plan order: what an
    org-wide block list (Genesys prefix blocking, [G-PREFIX]: one Block List for the whole org) must
    hold. A prefix class barred for some station classes only is the Edge's per-station business, not
    the org's list. Empty when the plan names no station class."""
    classes = list(plan.station_classes.values())
    if not classes:
        return []
    barred = [c for c in plan.prefix_classes if all(c in sc.blocked for sc in classes)]
    return list(dict.fromkeys(p for c in barred for p in plan.prefix_classes[c]))


def national_form(e164: str) -> str:
    """``e164`` as its national significant number (``+13175559000`` gives ``3175559000``): the form
    that is not E.164 on a Request-URI; ``e164`` unchanged when phonenumbers cannot read it."""
    try:
        return str(phonenumbers.parse(e164, None).national_number)
    except phonenumbers.NumberParseException:
        return e164


def emergency_number(country: str) -> str:
    """The emergency number a station in ``country`` dials: 911 in North America (US, CA), else 112
    (project choice: the numbers of North America and of the EU's single emergency number)."""
    return "911" if country in ("US", "CA") else "112"


def emergency_like(dialled: str, country: str) -> bool:
    """``dialled`` (any form a station dials: ``9112345678``, ``+19112345678``, ``19112345678``)
    begins with the emergency number of ``country``, as dialled or once the country code and the
    trunk prefix are taken off. A test call never dials such a string on a site whose emergency route
    may reach a live service: a switch or carrier may act on the first three digits (project choice,
    for safety)."""
    sos = emergency_number(country)
    digits = dialled.strip().lstrip("+")
    e164 = normalize(dialled, country)
    national = national_form(e164) if e164 else digits
    return any(s.startswith(sos) for s in (digits, national, digits[1:] if digits.startswith("1") else digits))
