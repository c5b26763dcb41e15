"""classify: a dial string falls under the first number plan, by priority, whose match type matches."""

from __future__ import annotations

import pytest

from harness.devices.facts.cloud_dialplan import NumberPlan, classify

PLANS = [NumberPlan.model_validate(p) for p in [
    {"name": "International", "classification": "International", "matchType": "interCountryCode", "priority": 4},
    {"name": "Emergency", "classification": "Emergency", "matchType": "numberList", "priority": 1,
     "numbers": [{"start": "911", "end": "911"}]},
    {"name": "Extension", "classification": "Extension", "matchType": "digitLength", "priority": 2,
     "digitLength": {"start": "4", "end": "6"}},
    {"name": "National", "classification": "National", "matchType": "intraCountryCode", "priority": 3},
    {"name": "Premium", "classification": "premium", "matchType": "e164NumberList", "priority": 0,
     "numbers": [{"start": "+19000000000", "end": "+19009999999"}]},
    {"name": "Sip", "classification": "Network", "matchType": "regex", "priority": 5, "match": r"^sip:.+$"},
]]


@pytest.mark.parametrize(("dialled", "expected"), [
    ("911", "Emergency"), ("1001", "Extension"), ("100100", "Extension"), ("1001001", None),
    ("3175559000", "National"), ("13175559000", "National"), ("+13175559000", "National"),
    ("011442079460000", "International"), ("+442079460000", "International"),
    ("19005551234", "premium"), ("sip:alice@example.com", "Network"), ("+1", None),
])
def test_classify(dialled: str, expected: str | None) -> None:
    got = classify(PLANS, dialled, "US")
    assert (got.classification if got else None) == expected


def test_an_unknown_match_type_matches_nothing() -> None:
    plan = NumberPlan.model_validate({"name": "x", "matchType": "somethingNew", "priority": 1})
    assert classify([plan], "1001", "US") is None
