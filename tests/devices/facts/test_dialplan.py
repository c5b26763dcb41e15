"""Dial-plan arithmetic: E.164 normalisation of the forms stations dial, blocked-prefix classes,
DID and caller-ID lookups, the test numbers the toll-fraud scenario dials."""

from __future__ import annotations

import pytest

from harness.devices.facts import dialplan
from harness.devices.facts.cloud_prefixes import covers
from harness.inventory.models import DialPlan, StationClass

PLAN = DialPlan(country="US", dids={"+13175550100": "1001"}, caller_id="+13175550199",
                prefix_classes={"premium": ["+1900", "+1976"], "international": ["+2", "+4", "+44"], "usa": ["+1"]},
                station_classes={"default": StationClass(blocked=["premium", "international"]),
                                 "executive": StationClass(blocked=["premium"]),
                                 "kiosk": StationClass(blocked=["usa", "premium"])})


@pytest.mark.parametrize(("dialled", "e164"), [
    ("+44 20 7946 0000", "+442079460000"), ("011442079460000", "+442079460000"), ("3175551234", "+13175551234"),
    ("13175551234", "+13175551234"), ("1-900-234-5678", "+19002345678"), ("tel:+13175551234", "+13175551234"),
    ("9002345678", "+19002345678"),
])
def test_normalize_reads_every_form_a_station_dials(dialled, e164):
    assert dialplan.normalize(dialled, "US") == e164


@pytest.mark.parametrize("junk", ["", "abc", "+", "+1234567890123456789"])
def test_normalize_refuses_what_is_no_number(junk):
    assert dialplan.normalize(junk, "US") is None


def test_blocked_names_class_and_longest_prefix():
    assert dialplan.blocked(PLAN, "default", "+442079460000") == dialplan.Block("international", "+44")
    assert dialplan.blocked(PLAN, "default", "+19002345678") == dialplan.Block("premium", "+1900")
    assert dialplan.blocked(PLAN, "kiosk", "+19762345678") == dialplan.Block("premium", "+1976")
    assert dialplan.blocked(PLAN, "kiosk", "+13175551234") == dialplan.Block("usa", "+1")
    assert dialplan.blocked(PLAN, "executive", "+442079460000") is None
    assert dialplan.blocked(PLAN, "default", "+13175551234") is None


def test_unlisted_station_class_gets_the_default_policy():
    assert dialplan.station_policy(PLAN, "lobby").blocked == ["premium", "international"]
    assert dialplan.station_policy(DialPlan(), "lobby").blocked == []


def test_did_and_caller_id_lookups():
    assert dialplan.extension_for_did(PLAN, "+13175550100") == "1001"
    assert dialplan.extension_for_did(PLAN, "3175550100") == "1001"
    assert dialplan.extension_for_did(PLAN, "+13175550999") is None
    assert dialplan.caller_id(PLAN, "1001") == "+13175550100"
    assert dialplan.caller_id(PLAN, "1002") == "+13175550199"


@pytest.mark.parametrize("prefix", ["+1900", "+1976", "+2", "+44", "+7", "+882"])
def test_test_number_starts_with_the_prefix_and_is_barred(prefix):
    number = dialplan.test_number(prefix)
    assert number.startswith(prefix) and 8 <= len(number) <= 16
    assert dialplan.normalize(number, "US") == number
    for form in dialplan.dial_forms(number, "US"):
        assert dialplan.normalize(form, "US") == number, form


def test_dial_forms_of_domestic_and_international_numbers():
    assert dialplan.dial_forms("+19002345678", "US") == ["+19002345678", "19002345678", "9002345678"]
    assert dialplan.dial_forms("+442079460000", "US") == ["+442079460000", "011442079460000"]


def test_the_org_wide_block_list_is_what_every_station_class_bars():
    plan = DialPlan(prefix_classes={"premium": ["+1900", "+1976"], "international": ["+44"]},
                    station_classes={"default": StationClass(blocked=["premium", "international"]),
                                     "executive": StationClass(blocked=["premium"])})
    assert dialplan.org_wide_blocked(plan) == ["+1900", "+1976"]
    assert dialplan.org_wide_blocked(DialPlan(prefix_classes={"premium": ["+1900"]})) == []


def test_national_form_and_emergency_number():
    assert dialplan.national_form("+13175559000") == "3175559000"
    assert dialplan.national_form("+442079460000") == "2079460000"
    assert dialplan.national_form("not a number") == "not a number"
    assert (dialplan.emergency_number("US"), dialplan.emergency_number("CA"), dialplan.emergency_number("GB")) == \
        ("911", "911", "112")


def test_prefix_cover_compares_digits():
    assert covers("+1900", "+19002345678") and covers("1900", "+19002345678")
    assert not covers("+1976", "+19002345678") and not covers("", "+1900")


@pytest.mark.parametrize(("dialled", "country", "like"), [
    ("9112345678", "US", True), ("+19112345678", "US", True), ("19112345678", "US", True), ("911", "US", True),
    ("+19002345678", "US", False), ("+13175559000", "US", False), ("9112345678", "GB", False),
    ("1122334455", "DE", True), ("+4411223344", "GB", True), ("+442079460000", "GB", False),
])
def test_emergency_like_numbers_are_known_in_every_form(dialled: str, country: str, like: bool) -> None:
    assert dialplan.emergency_like(dialled, country) is like
