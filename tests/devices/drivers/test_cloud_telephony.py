"""OrgTelephony's base lookups without a twin: each miss on the way from an Edge's trunk or a phone
record to its base settings is said in its own words, and the found base names its owner."""

from __future__ import annotations

from typing import cast

import pytest

from harness.devices.drivers.cloud import CloudOrg
from harness.devices.drivers.cloud_telephony import OrgTelephony
from harness.devices.facts.cloud_edge_ops import Trunk
from harness.devices.facts.cloud_phones import PhoneBaseSettings, PhoneRecord
from harness.devices.facts.cloud_sites import EntityRef
from harness.devices.facts.cloud_trunk_bases import TrunkBaseSettings

MAC = "00:04:f2:00:00:01"


class Listed(OrgTelephony):
    """The org's listings given, not read."""

    def __init__(self, trunks: list[Trunk], phones: list[PhoneRecord]) -> None:
        super().__init__(cast(CloudOrg, None))
        self._trunks, self._phones = trunks, phones

    def trunks(self) -> list[Trunk]:
        return self._trunks

    def phone_trunks(self) -> list[Trunk]:
        return []

    def phones(self) -> list[PhoneRecord]:
        return self._phones

    def trunk_base_settings(self) -> list[TrunkBaseSettings]:
        return [TrunkBaseSettings(id="tb1", name="edge1 external trunk")]

    def phone_base_settings(self) -> list[PhoneBaseSettings]:
        return [PhoneBaseSettings(id="pb1", name="Polycom VVX")]


def trunk(base: str | None) -> Trunk:
    return Trunk(id="t1", name="carrier", edge=EntityRef(id="e1", name="edge1"),
                 trunk_base=EntityRef(id=base) if base else None)


def phone(base: str | None) -> PhoneRecord:
    return PhoneRecord(id="p1", name="phone1", properties={"phone_hardwareId": {"value": {"instance": MAC}}},
                       phone_base_settings=EntityRef(id=base) if base else None)


@pytest.mark.parametrize(("base", "found", "note"), [
    ("tb1", "edge1 external trunk", "trunk base settings 'edge1 external trunk' of Edge edge1's external trunk"),
    (None, None, "the org's trunk carrier names no trunk base settings"),
    ("tb9", None, "trunk base settings tb9 of the trunk carrier is not in the org"),
])
def test_edge_trunk_base_follows_the_trunk_to_its_base(base, found, note):
    got, where = Listed([trunk(base)], []).edge_trunk_base("edge1")
    assert (got.name if got else None, where) == (found, note)


def test_edge_trunk_base_of_an_edge_without_such_a_trunk():
    assert Listed([trunk("tb1")], []).edge_trunk_base("edge2") == (None, "the org has no external trunk on Edge edge2")
    assert Listed([], []).edge_trunk_base("edge1", "PHONE") == (None, "the org has no phone trunk on Edge edge1")


@pytest.mark.parametrize(("base", "found", "note"), [
    ("pb1", "Polycom VVX", "phone base settings 'Polycom VVX' of the phone record phone1"),
    (None, None, "the phone record phone1 names no phone base settings"),
    ("pb9", None, "phone base settings pb9 of the phone record phone1 is not in the org"),
    ("", None, f"the site has no phone record of hardware ID {MAC}"),
])
def test_phone_base_follows_the_record_to_its_base(base, found, note):
    phones = [] if base == "" else [phone(base)]
    got, where = Listed([], phones).phone_base(MAC)
    assert (got.name if got else None, where) == (found, note)
