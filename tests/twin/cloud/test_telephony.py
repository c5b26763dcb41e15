"""The twin org's telephony configuration read through the harness (OrgTelephony): built from the
inventory so it agrees with the wire (phone records carry the inventory's MACs, DIDs are the dial
plan's, pooled), its status rendered from the devices (a phone that is down is OFFLINE), and each
configuration fault bends exactly what it names."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.devices.drivers.cloud_telephony import OrgTelephony
from harness.devices.session import LabSession
from harness.inventory import LoadedLab
from harness.inventory.models import EdgeDevice, PhoneDevice, PstnDevice
from harness.twin.manager import TwinControl
from tests.conftest import wait_for


@pytest.fixture
def org(twin: TwinControl, loaded: LoadedLab) -> Iterator[LabSession]:
    s = LabSession(loaded)
    yield s
    s.close()


def fresh(s: LabSession) -> OrgTelephony:
    return OrgTelephony(s.cloud())


def test_phone_records_are_the_inventory_phones(org: LabSession, loaded: LoadedLab) -> None:
    tel = fresh(org)
    phones = {n: d for n, d in loaded.lab.devices.items() if isinstance(d, PhoneDevice)}
    records = {r.name: r for r in tel.phones()}
    assert set(records) == set(phones)
    for name, d in phones.items():
        r = records[name]
        assert r.mac == d.facts.mac.lower() and r.hardware_id == d.facts.mac.replace(":", "").lower()
        assert r.capabilities is not None and r.capabilities.hardware_id_type == "mac"
        assert r.status is not None and r.status.operational_status == "OPERATIONAL"
        assert r.status.edges_status == "IN_SERVICE"
    bases = tel.phone_base_settings()
    assert {b.name for b in bases} == {d.facts.model for d in phones.values()}
    assert all(b.media_dscp == 46 and b.sip_dscp == 24 for b in bases)
    exts = {e.number: e.owner.name if e.owner else None for e in tel.extensions()}
    assert exts == {d.facts.extension: n for n, d in phones.items()}


def test_dids_are_the_dial_plan_and_pooled(org: LabSession, loaded: LoadedLab) -> None:
    tel = fresh(org)
    edge = next(d for d in loaded.lab.devices.values() if isinstance(d, EdgeDevice))
    pstn = next(d for d in loaded.lab.devices.values() if isinstance(d, PstnDevice))
    assert edge.facts.dial_plan is not None
    dids = {d.phone_number: d for d in tel.dids()}
    assert set(dids) == set(edge.facts.dial_plan.dids) == set(pstn.facts.dids)
    pools = tel.did_pools()
    assert all(any(p.holds(n) for p in pools) for n in dids)
    assert all(d.owner_type == "PHONE" and d.did_pool is not None for d in dids.values())
    loc = tel.location()
    assert loc is not None and loc.emergency_number is not None and loc.emergency_number.number == "911"
    assert tel.limits()["trunks"] == 500


def test_a_phone_down_is_offline_in_the_org(twin: TwinControl, org: LabSession) -> None:
    twin.fault("phone2", "down")
    status = {r.name: r.status for r in fresh(org).phones()}
    assert status["phone2"] is not None and status["phone2"].operational_status == "OFFLINE"
    assert status["phone1"] is not None and status["phone1"].operational_status == "OPERATIONAL"
    twin.heal("phone2")
    wait_for(lambda: next(r for r in fresh(org).phones() if r.name == "phone2").status.operational_status  # type: ignore[union-attr]
             == "OPERATIONAL", 15)


def test_configuration_faults_bend_what_they_name(twin: TwinControl, org: LabSession) -> None:
    twin.fault("cloud", "phone-record-mac", "phone2:00:04:f2:99:99:99")
    twin.fault("cloud", "did-not-pooled", "+13175550101")
    twin.fault("cloud", "did-extra", "+13175550150")
    twin.fault("cloud", "no-emergency-number")
    twin.fault("cloud", "telephony-limit", "trunks:1")
    twin.fault("cloud", "ntp-empty")
    twin.fault("cloud", "site-caller-id", "3175550199")
    tel = fresh(org)
    macs = {r.name: r.mac for r in tel.phones()}
    assert macs["phone2"] == "00:04:f2:99:99:99" and macs["phone1"] == "00:04:f2:00:00:01"
    numbers = {d.phone_number for d in tel.dids()}
    assert "+13175550101" not in numbers and "+13175550150" in numbers
    assert not any(p.holds("+13175550101") for p in tel.did_pools())
    assert any(p.holds("+13175550150") for p in tel.did_pools())
    loc = tel.location()
    assert loc is not None and loc.emergency_number is None
    assert tel.limits()["trunks"] == 1
    site = tel.site()
    assert site.ntp_settings is not None and site.ntp_settings.servers == ()
    assert site.caller_id == "3175550199"


def test_trunk_base_settings_are_the_edge_trunk(twin: TwinControl, org: LabSession, loaded: LoadedLab) -> None:
    pstn = loaded.lab.devices["pstn1"]
    bases = fresh(org).trunk_base_settings()
    assert [(b.name, b.trunk_type) for b in bases] == [("edge1 external trunk", "EXTERNAL"),
                                                       ("Genesys Cloud - CDM SIP Phone Trunk", "PHONE")]
    b = bases[0]
    assert b.trunk_type == "EXTERNAL" and b.acl_allow == (f"{pstn.host}/32",) and not b.allows_all
    assert b.dtmf_method == "RTP Events" and b.transport == "udp"
    twin.fault("cloud", "trunk-acl-allow-all")
    b = fresh(org).trunk_base_settings()[0]
    assert b.acl_allow == ("0.0.0.0/0",) and b.allows_all


def test_base_media_dscp_is_what_the_org_and_its_devices_say(twin: TwinControl, org: LabSession,
                                                             loaded: LoadedLab) -> None:
    tel = fresh(org)
    base, where = tel.edge_trunk_base("edge1")
    assert base is not None and (base.media_dscp, base.sip_dscp) == (46, 24), where
    assert where == "trunk base settings 'edge1 external trunk' of Edge edge1's external trunk"
    phone1 = loaded.lab.devices["phone1"]
    assert isinstance(phone1, PhoneDevice)
    pbase, pwhere = tel.phone_base(phone1.facts.mac.lower())
    assert pbase is not None and (pbase.media_dscp, pbase.sip_dscp) == (46, 24), pwhere
    assert fresh(org).edge_trunk_base("nosuch") == (None, "the org has no external trunk on Edge nosuch")
    phone_base, where = tel.edge_trunk_base("edge1", "PHONE")
    assert phone_base is not None and (phone_base.media_dscp, phone_base.sip_dscp) == (46, 24), where
    assert where == "trunk base settings 'Genesys Cloud - CDM SIP Phone Trunk' of Edge edge1's phone trunk"
    twin.fault("cloud", "base-media-dscp", "34")
    tel = fresh(org)
    base, _ = tel.edge_trunk_base("edge1")
    pbase, _ = tel.phone_base(phone1.facts.mac.lower())
    ptrunk, _ = tel.edge_trunk_base("edge1", "PHONE")
    assert base is not None and pbase is not None and ptrunk is not None
    assert (base.media_dscp, base.sip_dscp, pbase.media_dscp, pbase.sip_dscp) == (34, 24, 34, 24)
    assert (ptrunk.media_dscp, ptrunk.sip_dscp) == (34, 24)
    twin.heal("cloud")
    base, _ = fresh(org).edge_trunk_base("edge1")
    assert base is not None and base.media_dscp == 46
