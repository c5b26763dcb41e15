"""MAINT-PHONE-FIRMWARE rollout: the twin phone's firmware state machine (check-sync NOTIFY,
download, verify, flash, reboot, faults, heal), the phones' registration as the org sees it, the rollout in
waves (canary, concurrency, stop rules, restore) and the destructive scenario (PASS healthy; FAIL
under image-404, bad-checksum, no-apply, never-returns mid-wave).

Scenario runs get a profile with small waves and short deadlines (:data:`OVERRIDES`), so a phone
that never returns costs seconds, not the catalogue's 10 minutes."""

from __future__ import annotations

import dataclasses
import time

import pytest

from harness.devices.drivers.provisioning import FirmwareConfig
from harness.devices.procedures.firmware_rollout import Timeouts, plan_waves, restore, rollout
from harness.devices.session import LabSession
from harness.duties.profile import load_profile
from harness.inventory import LoadedLab
from harness.twin.provisioning.images import image_sha256
from tests.conftest import wait_for
from tests.scenario_runner import run_scenarios

DUTY = "MAINT-PHONE-FIRMWARE"
TEST = "test_phone_firmware_rollout"
PHONES = ["phone1", "phone2", "phone3", "phone4"]
OLD, NEW = "6.4.3", "6.4.4"
OVERRIDES = {"wave_size": 2, "concurrency": 2, "away_max_s": 10, "return_max_s": 5}
QUICK = Timeouts(away_s=10, back_s=5, register_s=10)


@pytest.fixture
def session(loaded):
    s = LabSession(loaded)
    yield s
    s.close()


@pytest.fixture
def target(loaded):
    return load_profile(loaded.relative(loaded.lab.profile)).firmware["generic_sip_phone"]


@pytest.fixture
def small_waves(lab_path):
    """The test lab's profile with :data:`OVERRIDES` (waves: [phone1], [phone2, phone3], [phone4])."""
    prof = lab_path.parent / "profiles" / "default.yaml"
    original = prof.read_text()
    extra = "".join(f"  {DUTY}.{k}: {v}\n" for k, v in OVERRIDES.items())
    assert "thresholds:\n" in original
    kept = "".join(line for line in original.splitlines(keepends=True)
                   if not any(line.strip().startswith(f"{DUTY}.{k}:") for k in OVERRIDES))  # no duplicate keys
    prof.write_text(kept.replace("thresholds:\n", "thresholds:\n" + extra, 1))
    yield
    prof.write_text(original)


def _versions(twin):
    return {p: twin.state(p)["installed_firmware"] for p in PHONES}


def _boots(twin, since=None):
    """Reboots of each phone (since the counts ``since``: boots are counted for the twin's life)."""
    return {p: twin.state(p)["boots"] - (since or {}).get(p, 0) for p in PHONES}


def _run(lab_path, tmp_path, tag):
    r = run_scenarios(lab_path, tmp_path / tag, f"--duty={DUTY}", "--allow-destructive")
    return r, r.tests()[TEST]


# --- the twin phone ---------------------------------------------------------------------------

def test_check_sync_notify_is_200_other_events_489(twin, session):
    phone = session.driver("phone1")
    assert phone.check_sync() == 200  # no config on the server yet: nothing flashed, the reason is kept
    st = wait_for(lambda: (s := twin.state("phone1"))["last_upgrade_error"] and s)
    assert "HTTP 404" in st["last_upgrade_error"] and "0004f2000001.cfg" in st["last_upgrade_error"], st
    assert st["installed_firmware"] == OLD and st["firmware_state"] == "idle"
    assert phone.upgrade_status().error == st["last_upgrade_error"]  # SNMP shows it too

    from harness.transports.sip.message import build_request, new_branch, new_call_id, new_tag
    from harness.transports.sip.stack import Peer

    ua = phone.session("sip-ua", lambda: None)
    host, port = phone.sip_address()

    async def notify(event):
        req = build_request("NOTIFY", f"sip:1001@{host}:{port}", via=ua.core.stack.via("udp", new_branch()),
                            from_=f"<sip:hil@{ua.local_host}>;tag={new_tag()}", to=f"<sip:1001@{host}:{port}>",
                            call_id=new_call_id(ua.local_host), cseq=1, extra=(("Event", event),))
        txn = await ua.core.stack.request(req, Peer("udp", host, port), 4.0)
        resp = await txn.wait_final()
        return resp.code, resp.headers.get("Allow-Events")

    assert ua.run(notify("presence"), 6.0) == (489, "check-sync")
    assert ua.run(notify("check-sync;reboot=true"), 6.0)[0] == 200


def test_check_sync_flashes_reboots_and_heal_puts_the_inventory_firmware_back(twin, session, target):
    phone, edge = session.driver("phone2"), session.driver("edge1")
    session.driver("prov1").put_phone_config("00:04:f2:00:00:02", FirmwareConfig(NEW, target.url, target.sha256))
    uptime_before, boots = phone.system().uptime_s, twin.state("phone2")["boots"]
    assert phone.check_sync() == 200
    assert wait_for(lambda: phone.poll_firmware() is None, 5.0)  # SNMP goes away: rebooting
    assert twin.state("phone2")["firmware_state"] == "rebooting"
    # un-registered on the way down (its SIP stops after its SNMP): read in the twin's Edge, which answers
    # faster than a round of API calls under load, within the phone's boot time
    ext = session.lab.devices["phone2"].facts.extension
    assert wait_for(lambda: ext not in twin.state("edge1")["registrations"], 1.5)
    back = wait_for(lambda: phone.poll_firmware(), 10.0)
    assert back is not None and back.firmware == NEW
    st = twin.state("phone2")
    assert st["firmware_state"] == "up" and st["boots"] == boots + 1 and st["last_upgrade_error"] is None
    assert phone.system().uptime_s < uptime_before + 1
    assert wait_for(lambda: "00:04:f2:00:00:02" in edge.registered_phones(), 10.0)
    twin.heal("phone2")
    st = twin.state("phone2")
    assert (st["installed_firmware"], st["firmware_state"]) == (OLD, "idle")
    assert phone.firmware().firmware == OLD
    twin.heal("prov1")  # a healed provisioning server forgets the uploaded configs
    assert session.driver("prov1").phone_config("00:04:f2:00:00:02") is None


def test_checksum_mismatch_keeps_the_version_and_says_why(twin, session, target):
    boots = _boots(twin)
    session.driver("prov1").put_phone_config("80:5e:c0:00:00:03", FirmwareConfig(NEW, target.url, "0" * 64))
    assert session.driver("phone3").check_sync() == 200
    st = wait_for(lambda: (s := twin.state("phone3"))["last_upgrade_error"] and s)
    assert "SHA-256" in st["last_upgrade_error"] and image_sha256("generic_sip_phone", NEW) in st["last_upgrade_error"]
    assert (st["installed_firmware"], st["firmware_state"]) == (OLD, "idle") and _boots(twin, boots)["phone3"] == 0


def test_never_returns_stays_away_until_healed(twin, session, target):
    twin.fault("phone4", "never-returns")
    session.driver("prov1").put_phone_config("80:5e:c0:00:00:04", FirmwareConfig(NEW, target.url, target.sha256))
    phone = session.driver("phone4")
    assert phone.check_sync() == 200
    assert wait_for(lambda: phone.poll_firmware() is None, 5.0)
    time.sleep(2.5)  # longer than a boot
    assert phone.poll_firmware() is None and twin.status()["devices"]["phone4"]["up"] is False
    twin.heal("phone4")
    assert phone.firmware().firmware == OLD and twin.status()["devices"]["phone4"]["up"] is True


def test_faults_are_registered_for_phone_and_edge(twin):
    faults = {f["name"]: f for f in twin.faults()}
    assert faults["no-apply"]["roles"] == ["phone"]
    assert faults["never-returns"]["roles"] == ["phone", "edge"]
    assert faults["slow-boot"]["roles"] == ["phone", "edge"] and faults["slow-boot"]["value"] == "SECONDS"
    with pytest.raises(Exception, match="slow-boot needs SECONDS"):
        twin.fault("phone1", "slow-boot", "soon")


def test_the_org_sees_every_phone_registered_with_its_edge(twin, session):
    regs = wait_for(lambda: (r := session.driver("edge1").registered_phones()) and len(r) == 4 and r)
    assert sorted(p.name for p in regs.values()) == ["phone1", "phone2", "phone3", "phone4"]
    status = regs["80:5e:c0:00:00:03"].status
    assert status is not None and (status.operational_status, status.edges_status) == ("OPERATIONAL", "IN_SERVICE")


# --- the rollout (API) ------------------------------------------------------------------------

def test_waves_are_planned_canary_first():
    assert plan_waves(PHONES, 2, True) == [["phone1"], ["phone2", "phone3"], ["phone4"]]
    assert plan_waves(PHONES, 3, False) == [["phone1", "phone2", "phone3"], ["phone4"]]
    with pytest.raises(ValueError):
        plan_waves(PHONES, 0, True)


def test_slow_boot_is_timed_and_concurrency_respected(twin, session, target):
    twin.fault("phone3", "slow-boot", "3")
    r = rollout(session, PHONES, target, wave_size=3, concurrency=3, timeouts=QUICK)
    assert not r.stopped and all(u.ok for u in r.phones), r.table()
    slow, quick = r.phone("phone3"), r.phone("phone2")
    assert slow.back_s - slow.went_away_s >= 3.0 - 0.4 > quick.back_s - quick.went_away_s, r.table()  # polls: 0.4 s
    assert slow.registered_s >= slow.back_s and "phone3" in r.table()
    assert all(u.steps[:4] == ["read version", "write config", "check-sync", "go away"] for u in r.phones)
    assert all(u.steps[-2:] == ["register", "done"] for u in r.phones), [u.steps for u in r.phones]
    assert _versions(twin) == dict.fromkeys(PHONES, NEW)
    # wave 1 (phones 2-4) ran at once: it took about one slow phone, not the sum
    assert max(u.total_s for u in r.phones[1:]) < slow.total_s + 1.0


def test_canary_failure_stops_everything(twin, session, target):
    twin.fault("phone1", "no-apply")
    boots = _boots(twin)
    r = rollout(session, PHONES, target, wave_size=2, concurrency=2, timeouts=QUICK)
    canary = r.phone("phone1")
    assert canary.step_reached == "come back" and "same version after reboot" in canary.error, r.table()
    assert canary.steps[:3] == ["read version", "write config", "check-sync"] and canary.steps[-1] == "come back"
    assert r.waves_run == 1 and r.stopped.startswith("canary phone1 failed"), r.stopped
    assert [u.step_reached for u in r.phones[1:]] == ["not started"] * 3
    assert [u.version_after for u in r.phones] == [OLD] * 4
    assert _boots(twin, boots) == {"phone1": 1, "phone2": 0, "phone3": 0, "phone4": 0}


def test_restore_puts_the_original_firmware_back_when_the_inventory_asks(twin, loaded, target):
    devices = dict(loaded.lab.devices)
    for n in ("phone1", "phone2"):
        d = devices[n]
        devices[n] = d.model_copy(update={"facts": d.facts.model_copy(update={"restore_firmware": True})})
    lab = LabSession(dataclasses.replace(loaded, lab=loaded.lab.model_copy(update={"devices": devices})))
    try:
        r = rollout(lab, PHONES, target, wave_size=3, concurrency=3, timeouts=QUICK)
        assert all(u.ok for u in r.phones), r.table()
        back = restore(lab, r, timeouts=QUICK)
        assert [(u.name, u.version_before, u.version_after, u.ok) for u in back] == [
            ("phone1", NEW, OLD, True), ("phone2", NEW, OLD, True)]
        assert _versions(twin) == {"phone1": OLD, "phone2": OLD, "phone3": NEW, "phone4": NEW}
    finally:
        lab.close()


def test_lab_copy_is_unchanged(loaded: LoadedLab):
    assert not any(getattr(d.facts, "restore_firmware", False) for d in loaded.lab.devices.values())


# --- the scenario -----------------------------------------------------------------------------

def test_scenario_passes_on_the_healthy_twin_and_heal_reverts(twin, lab_path, tmp_path, small_waves):
    r, rec = _run(lab_path, tmp_path, "ok")
    assert rec["verdict"] == "PASS", (rec, r.output[-3000:])
    evidence = [m for m in rec["measurements"] if m["what"].startswith("re-registration")]
    assert len(evidence) == 4 and all(m["passed"] and m["measured"] < 1 for m in evidence), evidence
    assert _versions(twin) == dict.fromkeys(PHONES, NEW)
    twin.heal_all()
    assert _versions(twin) == dict.fromkeys(PHONES, OLD)


def test_scenario_is_skipped_without_allow_destructive(twin, lab_path, tmp_path):
    r = run_scenarios(lab_path, tmp_path / "ro", f"--duty={DUTY}")
    assert r.tests()[TEST]["verdict"] == "SKIPPED"


@pytest.mark.parametrize("fault", ["image-404", "bad-checksum"])
def test_scenario_fails_on_a_bad_image_before_any_phone_is_touched(twin, lab_path, tmp_path, small_waves, fault,
                                                                   target):
    twin.fault("prov1", fault)
    boots = _boots(twin)
    _, rec = _run(lab_path, tmp_path, fault)
    assert rec["verdict"] == "FAIL", rec
    msg = rec["message"]
    assert "generic_sip_phone-6.4.4.bin" in msg and "http://" in msg and "no phone was touched" in msg, msg
    if fault == "image-404":
        assert "= 404" in msg, msg
    else:
        assert f"expected {target.sha256}, got " in msg, msg
    assert _versions(twin) == dict.fromkeys(PHONES, OLD) and _boots(twin, boots) == dict.fromkeys(PHONES, 0)
    assert not twin.state("prov1")["files"]  # no phone's configuration was written


def test_scenario_fails_when_a_phone_comes_back_on_the_old_version(twin, lab_path, tmp_path, small_waves):
    twin.fault("phone3", "no-apply")
    boots = _boots(twin)
    _, rec = _run(lab_path, tmp_path, "no-apply")
    assert rec["verdict"] == "FAIL", rec
    msg = rec["message"]
    assert msg.startswith(f"[{DUTY}] phone3: generic_sip_phone firmware after the rollout (wave 1) = {OLD}"), msg
    assert f"limit == {NEW}" in msg and "same version after reboot" in msg and "step come back" in msg, msg
    assert "version before 6.4.3, after 6.4.3" in msg and "total " in msg, msg
    assert _versions(twin) == {"phone1": NEW, "phone2": NEW, "phone3": OLD, "phone4": NEW}  # not a stop rule
    assert _boots(twin, boots) == dict.fromkeys(PHONES, 1)


def test_scenario_never_returns_mid_wave_stops_the_later_waves(twin, lab_path, tmp_path, small_waves):
    twin.fault("phone3", "never-returns")
    boots = _boots(twin)
    _, rec = _run(lab_path, tmp_path, "never")
    assert rec["verdict"] == "FAIL", rec
    msg = rec["message"]
    assert msg.startswith(f"[{DUTY}] phone3: generic_sip_phone firmware after the rollout (wave 1) = nothing"), msg
    assert "step come back" in msg and "did not come back within 5 s" in msg, msg
    assert "phone3 did not come back in wave 1; waves 2-2 (1 phone(s)) not started" in msg, msg
    assert f"phones now: phone1 {NEW}, phone2 {NEW}, phone3 away (was {OLD}), phone4 {OLD} (not started)" in msg, msg
    assert _boots(twin, boots) == {"phone1": 1, "phone2": 1, "phone3": 0, "phone4": 0}
    assert twin.status()["devices"]["phone3"]["up"] is False
    twin.heal("phone3")
    assert twin.status()["devices"]["phone3"]["up"] is True and twin.state("phone3")["installed_firmware"] == OLD
