"""Typed devices without a twin: which capability each role class claims, the typed accessors of
LabSession, the probe dispatch, and the threshold helpers scenarios read limits with."""

from __future__ import annotations

import pytest

from harness.devices.capabilities import (
    CliDevice,
    ConsoleDevice,
    HttpServer,
    SipEndpoint,
    SnmpAgent,
    SshHost,
)
from harness.devices.driver import Driver
from harness.devices.drivers.edge import Edge
from harness.devices.drivers.phone import Phone
from harness.devices.drivers.provisioning import ProvisioningServer
from harness.devices.drivers.pstn import PstnSimulator
from harness.devices.drivers.switch import EosSwitch, NxosSwitch, Switch
from harness.devices.registry import REGISTRY, load_platforms
from harness.devices.session import LabSession
from harness.duties.catalogue import duty
from harness.duties.profile import Profile
from harness.inventory import LoadedLab
from harness.inventory.models import PhoneDevice, SwitchDevice

CAPABILITIES = (SshHost, CliDevice, SnmpAgent, ConsoleDevice, SipEndpoint, HttpServer)
CLAIMS = {
    Edge: {SnmpAgent, SipEndpoint},  # a Genesys Edge is cloud-managed: no SSH command line, no console
    Switch: {CliDevice, SnmpAgent},
    Phone: {SnmpAgent, SipEndpoint},
    PstnSimulator: {SshHost, SipEndpoint},
    ProvisioningServer: {HttpServer},
}


@pytest.mark.parametrize("cls", list(CLAIMS), ids=lambda c: c.__name__)
def test_each_role_class_claims_the_capabilities_it_implements(cls: type[Driver]) -> None:
    assert {c for c in CAPABILITIES if c in cls.__mro__} == CLAIMS[cls]  # claimed by inheritance


def test_every_registered_platform_is_its_role_class() -> None:
    load_platforms()
    roles = {"edge": Edge, "switch": Switch, "phone": Phone, "pstn": PstnSimulator,
             "provisioning": ProvisioningServer}
    for (role, platform), cls in REGISTRY.items():
        assert issubclass(cls, roles[role]), (role, platform, cls)
    assert REGISTRY[("switch", "cisco_nxos")] is NxosSwitch and REGISTRY[("switch", "arista_eos")] is EosSwitch


def test_driver_typed_accessor_and_inventory_entry(loaded: LoadedLab) -> None:
    s = LabSession(loaded)
    try:
        sw = s.driver("sw1", Switch)
        assert isinstance(sw, Switch) and s.driver("sw1") is sw
        assert isinstance(sw.device, SwitchDevice) and sw.device.facts.voice_vlan == 100
        assert isinstance(s.driver("phone1", Phone), SnmpAgent)  # a capability holds at run time too
        with pytest.raises(TypeError, match=r"phone1 is a phone \(generic_sip_phone\) driven by Phone, not a Switch"):
            s.driver("phone1", Switch)
        assert s.entry("phone1", PhoneDevice).facts.extension
        with pytest.raises(TypeError, match="sw1 is a switch in the inventory, not a PhoneDevice"):
            s.entry("sw1", PhoneDevice)
        with pytest.raises(KeyError):
            s.driver("nosuch")
    finally:
        s.close()


def test_probe_goes_to_the_capability_that_owns_the_transport(loaded: LoadedLab) -> None:
    s = LabSession(loaded)
    try:
        prov = s.driver("prov1", ProvisioningServer)
        with pytest.raises(NotImplementedError, match="ProvisioningServer has no capability over snmp"):
            prov.probe("snmp")
        phone = s.driver("phone1", Phone)
        with pytest.raises(NotImplementedError, match="Phone has no capability over console"):
            phone.probe("console")
    finally:
        s.close()


def test_thresholds_give_numbers_and_choices_and_keep_the_profile_as_source() -> None:
    speed = duty("NET-VOIP-HW").threshold("port_speed_mbps")
    assert speed.number == 100.0
    trust = duty("NET-VOIP-HW").threshold("port_trust")
    assert trust.choices == ("dscp", "device cisco-phone")
    with pytest.raises(TypeError, match="port_trust is 'dscp, device cisco-phone', not a number"):
        _ = trust.number
    prof = Profile(name="site", thresholds={"NET-VOIP-HW.port_speed_mbps": 10000,
                                            "NET-VOIP-HW.port_trust": "dscp"})
    t = prof.threshold("NET-VOIP-HW", "port_speed_mbps")
    assert (t.value, t.source) == (10000, "requirement profile site") and t.number == 10000.0
    assert prof.threshold("NET-VOIP-HW", "port_trust").choices == ("dscp",)
    assert prof.threshold("NET-VOIP-HW", "port_duplex").source == "project choice"
