"""SNMP end to end against the lab twin: agent, transport, Phone driver, SnmpFacts, net-snmp interop.

Run with ``HIL_TEST_NET=<prefix> .venv/bin/pytest tests/transports/test_snmp.py``.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from typing import Any

import pytest

from harness.devices.drivers.phone import Phone, firmware_audit
from harness.devices.drivers.snmp_access import ENT_SOFTWARE_REV_1, SYS_DESCR, SnmpFacts
from harness.errors import LabAuthError, LabError, LabTimeout
from harness.inventory import LoadedLab
from harness.inventory.secrets import MASK
from harness.transports.snmp import SnmpClient, gather_get, localized_keys
from harness.transports.transcript import Transcript
from harness.twin.manager import TwinControl
from harness.twin.servers.snmp import agent_engine_id

PHONES = ("phone1", "phone2", "phone3", "phone4")
IF_DESCR = "1.3.6.1.2.1.2.2.1.2"


def client(loaded: LoadedLab, name: str, **changes: Any) -> SnmpClient:
    dev = loaded.lab.devices[name]
    assert dev.snmp is not None
    settings = dev.snmp.model_copy(update=changes)
    return SnmpClient(name, dev.host, settings, loaded.resolve,
                      Transcript(f"{name} snmp {dev.host}:{settings.port}"))


def phone(loaded: LoadedLab, name: str) -> Phone:
    dev = loaded.lab.devices[name]
    return Phone(name, dev, loaded)


def facts(loaded: LoadedLab, name: str) -> SnmpFacts:
    return SnmpFacts(name, loaded.lab.devices[name], loaded)


def secret(loaded: LoadedLab, ref: str | None) -> str:
    assert ref
    return loaded.resolve(ref)


def test_v2c_get_sysdescr_on_switch(loaded: LoadedLab, twin: TwinControl) -> None:
    c = client(loaded, "sw1")
    v = c.get_sync(SYS_DESCR, "1.3.6.1.2.1.1.5.0", "1.3.6.1.2.1.1.99.0")
    assert "Cisco IOS Software" in str(v[SYS_DESCR]) and "Version 16.12.4" in str(v[SYS_DESCR])
    assert v["1.3.6.1.2.1.1.5.0"] == "sw1"
    assert v["1.3.6.1.2.1.1.99.0"] is None  # noSuchObject -> None
    text = c.transcript.render()
    assert "GET 1.3.6.1.2.1.1.1.0" in text and "sw1" in text
    assert secret(loaded, loaded.lab.devices["sw1"].snmp.community) not in text  # type: ignore[union-attr]


def test_v3_authpriv_phone_info(loaded: LoadedLab, twin: TwinControl) -> None:
    for name in PHONES:
        f = loaded.lab.devices[name].facts
        info = phone(loaded, name).info()
        assert (info.model, info.firmware, info.mac) == (f.model, f.firmware, f.mac)  # type: ignore[union-attr]
        assert info.extension == f.extension  # type: ignore[union-attr]
        assert info.serial == f.mac.replace(":", "").upper()  # type: ignore[union-attr]
        assert info.registered == twin.state(name)["registered"]
    c = client(loaded, "phone1")  # v3 walks up to the end of the MIB view (the twin phone MIB is last)
    rows = c.walk_sync("1.3.6.1.4.1.99999.2")
    assert [o for o, _ in rows] == [f"1.3.6.1.4.1.99999.2.{i}.0" for i in (1, 2, 3, 4, 5, 6, 7)]
    assert c.bulk_walk_sync("1.3.6.1.4.1.99999.2", max_repetitions=3) == rows


def test_v3_localized_keys_are_masked_once_the_agent_is_known(loaded: LoadedLab, twin: TwinControl) -> None:
    """The keys pysnmp localizes for the agent's engine ID are registered with the mask as it uses them."""
    dev = loaded.lab.devices["phone2"]
    assert dev.snmp is not None
    keys = localized_keys(dev.snmp, secret(loaded, dev.snmp.auth_key), secret(loaded, dev.snmp.priv_key),
                          agent_engine_id(loaded.lab.lab.name))
    c = client(loaded, "phone2")
    assert c.get_sync(SYS_DESCR)[SYS_DESCR]
    auth, priv = keys[1], keys[3]  # as USM uses them (see localized_keys)
    for key in (auth, priv):
        assert MASK(f"key 0x{key.hex()} end") == "key 0x***** end"
        assert MASK(":".join(f"{b:02X}" for b in key)) == "*****"


def test_probe_and_system_uptime_is_live(loaded: LoadedLab, twin: TwinControl) -> None:
    p = phone(loaded, "phone1")
    line = p.probe("snmp")
    assert line.startswith("phone1: ") and "sysObjectID 1.3.6.1.4.1.99999.1.3" in line
    first = p.system().uptime_s
    time.sleep(0.3)
    assert p.system().uptime_s >= first + 0.2


def test_edge_entity_firmware(loaded: LoadedLab, twin: TwinControl) -> None:
    edge = facts(loaded, "edge1")
    assert edge.entity_firmware() == "2026.11.1"
    twin.fault("edge1", "firmware", "2027.1.0")
    assert edge.entity_firmware() == "2027.1.0"


def test_walk_iftable_of_switch(loaded: LoadedLab, twin: TwinControl) -> None:
    ports = twin.state("sw1")["ports"]
    c = client(loaded, "sw1")
    rows = c.walk_sync(IF_DESCR)
    assert len(rows) == len(ports) == 48
    assert sorted(str(v) for _, v in rows) == sorted(p["name"] for p in ports.values())
    assert c.bulk_walk_sync(IF_DESCR) == rows
    ifs = facts(loaded, "sw1").interfaces()
    assert len(ifs) == 48 and ifs[0].name.startswith("Gi1/0/") and ifs[0].mac and ifs[0].speed_mbps > 0


def test_firmware_fault_changes_software_rev(loaded: LoadedLab, twin: TwinControl) -> None:
    c = client(loaded, "phone2")
    assert c.get_sync(ENT_SOFTWARE_REV_1)[ENT_SOFTWARE_REV_1] == "6.4.3"
    twin.fault("phone2", "firmware", "7.0.0-bad")
    assert c.get_sync(ENT_SOFTWARE_REV_1)[ENT_SOFTWARE_REV_1] == "7.0.0-bad"
    twin.heal("phone2")
    assert c.get_sync(ENT_SOFTWARE_REV_1)[ENT_SOFTWARE_REV_1] == "6.4.3"


def test_wrong_community_times_out(loaded: LoadedLab, twin: TwinControl,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HIL_TEST_BAD_COMMUNITY", "not-the-community")
    c = client(loaded, "sw1", community="env:HIL_TEST_BAD_COMMUNITY", timeout_s=0.5, retries=0)
    with pytest.raises(LabTimeout) as e:
        c.get_sync(SYS_DESCR)
    assert e.value.device == "sw1" and e.value.transport == "snmp" and e.value.address == c.address


def test_other_devices_credentials_are_refused(loaded: LoadedLab, twin: TwinControl) -> None:
    sw = loaded.lab.devices["sw1"]
    assert sw.snmp is not None
    settings = sw.snmp.model_copy(update={"timeout_s": 0.5, "retries": 0})
    c = SnmpClient("phone1", loaded.lab.devices["phone1"].host, settings, loaded.resolve, Transcript("x"))
    with pytest.raises(LabTimeout):
        c.get_sync(SYS_DESCR)  # the switch's community is not phone1's credential


def test_wrong_v3_key_is_a_lab_error(loaded: LoadedLab, twin: TwinControl,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HIL_TEST_BAD_KEY", "wrong-auth-key-123")
    c = client(loaded, "phone3", auth_key="env:HIL_TEST_BAD_KEY", timeout_s=0.5, retries=0)
    with pytest.raises(LabError) as e:
        c.get_sync(SYS_DESCR)
    assert isinstance(e.value, LabAuthError)  # pysnmp reports "Wrong SNMP PDU digest"
    assert e.value.device == "phone3" and "wrong-auth-key-123" not in str(e.value)
    assert phone(loaded, "phone3").info().firmware  # the right key still works alongside


def test_down_times_out_in_deadline_and_heal_restores(loaded: LoadedLab, twin: TwinControl) -> None:
    p = phone(loaded, "phone4")
    assert p.info().extension == "1004"
    s = loaded.lab.devices["phone4"].snmp
    assert s is not None
    twin.fault("phone4", "down")
    t0 = time.monotonic()
    with pytest.raises(LabTimeout) as e:
        p.info()
    took = time.monotonic() - t0
    assert took <= s.timeout_s * (s.retries + 1) + 1.0, took
    assert e.value.device == "phone4" and e.value.address.endswith(f":{s.port}")
    assert phone(loaded, "phone1").info().extension == "1001"  # the others still answer
    twin.heal("phone4")
    assert p.info().extension == "1004"


def test_firmware_audit_concurrent_with_one_down(loaded: LoadedLab, twin: TwinControl) -> None:
    twin.fault("phone2", "down")
    drivers = [phone(loaded, n) for n in PHONES]
    t0 = time.monotonic()
    audit = firmware_audit(drivers)
    took = time.monotonic() - t0
    assert list(audit) == list(PHONES)
    assert isinstance(audit["phone2"], LabTimeout)
    assert all(getattr(audit[n], "firmware", None) == "6.4.3" for n in PHONES if n != "phone2")
    s = loaded.lab.devices["phone2"].snmp
    assert s is not None and took <= s.timeout_s * (s.retries + 1) + 1.0  # one timeout, in parallel
    assert gather_get([]) == []


def _netsnmp_v3_args(loaded: LoadedLab, name: str) -> list[str]:
    s = loaded.lab.devices[name].snmp
    assert s is not None and s.user
    return ["-v3", "-l", "authPriv", "-u", s.user, "-a", s.auth_protocol, "-A", secret(loaded, s.auth_key),
            "-x", s.priv_protocol, "-X", secret(loaded, s.priv_key)]


@pytest.mark.skipif(shutil.which("snmpget") is None,
                    reason="net-snmp CLI (Debian package snmp) not installed")
def test_netsnmp_interop(loaded: LoadedLab, twin: TwinControl) -> None:
    sw, ph = loaded.lab.devices["sw1"], loaded.lab.devices["phone1"]
    assert sw.snmp is not None and ph.snmp is not None
    common = ["-On", "-Oq", "-t", "1", "-r", "1"]
    out = subprocess.run(["snmpget", "-v2c", "-c", secret(loaded, sw.snmp.community), *common,
                          f"{sw.host}:{sw.snmp.port}", SYS_DESCR, "1.3.6.1.2.1.1.5.0"],
                         capture_output=True, text=True, timeout=10, check=True).stdout.replace("\"", "")
    assert "Cisco IOS Software" in out and ".1.3.6.1.2.1.1.5.0 sw1" in out
    out = subprocess.run(["snmpwalk", *_netsnmp_v3_args(loaded, "phone1"), *common,
                          f"{ph.host}:{ph.snmp.port}", "1.3.6.1.2.1.47"],
                         capture_output=True, text=True, timeout=10, check=True).stdout.replace("\"", "")
    assert f".{ENT_SOFTWARE_REV_1} 6.4.3" in out and "VVX 450" in out
    out = subprocess.run(["snmpbulkwalk", *_netsnmp_v3_args(loaded, "phone1"), *common,
                          f"{ph.host}:{ph.snmp.port}", "1.3.6.1.4.1.99999.2"],
                         capture_output=True, text=True, timeout=10, check=True).stdout.replace("\"", "")
    assert ".1.3.6.1.4.1.99999.2.2.0 1001" in out
