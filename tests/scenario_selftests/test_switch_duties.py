"""NET-VOIP-HW (audit and provisioning) and CFG-STATION: PASS on the healthy twin, FAIL under the fault
each check exists to catch, naming switch, port, phone, expected and found values; BROKEN when the
switch stops answering mid-batch, and the next run says what was left and puts it back."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from harness.devices.procedures.switch_provisioning import config_lines
from harness.devices.session import LabSession
from tests.scenario_runner import run_scenarios

P = "GigabitEthernet1/0/"


def _running_config(loaded) -> list[str]:
    s = LabSession(loaded)
    try:
        return config_lines(s.driver("sw1").send("show running-config"))
    finally:
        s.close()


def _transcripts(allure_dir: Path) -> dict[str, dict[str, str]]:
    """Test name (``test_x[phone1]``) -> its transcript attachments (attachment name -> text)."""
    out: dict[str, dict[str, str]] = {}
    for f in allure_dir.glob("*-result.json"):
        res = json.loads(f.read_text())
        out[res["name"]] = {a["name"]: (allure_dir / a["source"]).read_text(errors="replace")
                            for a in res.get("attachments", []) if a["name"].startswith("transcript ")}
    return out


def test_port_audit_names_switch_port_phone_expected_and_found(twin, lab_path, out):
    twin.fault("sw1", "port-vlan", f"{P}1:20")
    twin.fault("sw1", "no-qos-trust", f"{P}2")
    twin.fault("sw1", "half-duplex", f"{P}3")
    twin.fault("sw1", "poe-off", f"{P}4")
    r = run_scenarios(lab_path, out, "--duty=NET-VOIP-HW")
    assert r.returncode == 1, r.output
    t = r.tests()
    r.fails("test_phone_port_is_access_port_in_data_vlan[phone1]", "[NET-VOIP-HW] sw1 GigabitEthernet1/0/1 (phone1)",
            "access VLAN (cli) = 20", "limit == 10")
    r.fails("test_phone_port_trusts_dscp[phone2]", "sw1 GigabitEthernet1/0/2 (phone2)", "QoS trust (cli) = none",
            "dscp")
    r.fails("test_phone_port_runs_full_duplex_at_100mbps_or_more[phone3]", "sw1 GigabitEthernet1/0/3 (phone3)",
            "= half", "limit == full")
    r.fails("test_phone_port_delivers_poe_in_the_phone_class[phone4]", "sw1 GigabitEthernet1/0/4 (phone4)",
            "PoE delivered", "limit == on")
    for ok in ("test_phone_port_trusts_dscp[phone1]", "test_phone_port_is_access_port_in_data_vlan[phone2]",
               "test_phone_port_delivers_poe_in_the_phone_class[phone3]",
               "test_phone_port_runs_full_duplex_at_100mbps_or_more[phone4]", "test_cli_and_snmp_views_agree[sw1]"):
        assert t[ok]["verdict"] == "PASS", (ok, t[ok])


def test_voice_vlan_errors_lldp_and_view_disagreement_fail(twin, lab_path, out):
    twin.fault("sw1", "no-voice-vlan", f"{P}1")
    twin.fault("sw1", "port-errors", f"{P}2")
    twin.fault("sw1", "lldp-missing", f"{P}3")
    twin.fault("sw1", "snmp-vlan", f"{P}4:30")
    r = run_scenarios(lab_path, out, "--duty=NET-VOIP-HW")
    t = r.tests()
    r.fails("test_phone_port_carries_voice_vlan[phone1]", "sw1 GigabitEthernet1/0/1 (phone1)", "= nothing",
            "limit == 100")
    r.fails("test_phone_port_input_errors_do_not_rise[phone2]", "sw1 GigabitEthernet1/0/2 (phone2)",
            "input errors added", "limit <= 0 errors")
    r.fails("test_phone_port_advertises_lldp_med_voice_policy[phone3]", "sw1 GigabitEthernet1/0/3 (phone3)",
            "no LLDP neighbour", "limit == present")
    r.fails("test_cli_and_snmp_views_agree[sw1]", "[NET-VOIP-HW] sw1", "GigabitEthernet1/0/4 access_vlan",
            "CLI says 10, SNMP says 30")
    assert t["test_phone_port_input_errors_do_not_rise[phone1]"]["verdict"] == "PASS"
    assert t["test_phone_port_advertises_lldp_med_voice_policy[phone4]"]["verdict"] == "PASS"


def test_speed_vlan_name_mode_and_lldp_policy_fail(twin, lab_path, out, loaded):
    twin.fault("sw1", "slow-link", f"{P}1")
    session = LabSession(loaded)
    try:  # the lab's own config drifted: a renamed voice VLAN, a trunk, a policy marking DSCP 40
        session.driver("sw1").configure(["vlan 100", "name PHONES", "interface GigabitEthernet1/0/2",
                                         "switchport mode trunk", "network-policy profile 1",
                                         "voice vlan 100 dscp 40"])
    finally:
        session.close()
    r = run_scenarios(lab_path, out, "--duty=NET-VOIP-HW")
    r.fails("test_phone_port_runs_full_duplex_at_100mbps_or_more[phone1]", "sw1 GigabitEthernet1/0/1 (phone1)",
            "speed (cli) = 10 Mb/s", "limit >= 100 Mb/s (project choice)")
    r.fails("test_voice_vlan_exists_on_access_switch[sw1]", "name of VLAN 100 = PHONES", "limit == VOICE")
    r.fails("test_phone_port_is_access_port_in_data_vlan[phone2]", "sw1 GigabitEthernet1/0/2 (phone2)",
            "switchport mode (cli) = trunk", "limit == access")
    r.fails("test_phone_port_advertises_lldp_med_voice_policy[phone3]", "LLDP-MED voice DSCP (cli) = 40 DSCP",
            "limit == 46 DSCP (STD-RFC4594)")
    session = LabSession(loaded)
    try:
        session.driver("sw1").configure(["vlan 100", "name VOICE", "interface GigabitEthernet1/0/2",
                                         "switchport mode access", "network-policy profile 1",
                                         "voice vlan 100 dscp 46"])
    finally:
        session.close()


def test_provisioning_writes_memory_only_when_the_inventory_asks(twin, lab_path, out):
    saved = twin.state("sw1")["saved_config"]  # other tests may have saved before
    r = run_scenarios(lab_path, out, "--duty=NET-VOIP-HW", "-k", "provision", "--allow-destructive")
    assert r.tests()["test_phone_ports_provision_verify_and_restore[sw1]"]["verdict"] == "PASS"
    assert twin.state("sw1")["saved_config"] == saved  # facts.write_memory is false in the shipped lab


def test_provisioning_saves_when_the_inventory_asks(twin, lab_path, out, tmp_path):
    name = "      voice_vlan_name: VOICE\n"
    real = _as_real_lab(lab_path, tmp_path, lambda t: t.replace(name, name + "      write_memory: true\n"))
    before = twin.state("sw1")["saved_config"]
    r = run_scenarios(real, out, "--duty=NET-VOIP-HW", "-k", "provision", "--allow-destructive")
    assert r.tests()["test_phone_ports_provision_verify_and_restore[sw1]"]["verdict"] == "PASS", r.output[-2000:]
    after = twin.state("sw1")["saved_config"]
    assert after is not None and after != before  # saved after the change and again after the restore


def _as_real_lab(lab_path, tmp_path, edit):
    """A copy of the test lab that reads the running twin as a real lab (``emulated: false``), edited."""
    real = tmp_path / "real"
    shutil.copytree(lab_path.parent, real, ignore=shutil.ignore_patterns("twin-*", "journal"))
    text = (real / "lab_inventory.yaml").read_text().replace("emulated: true", "emulated: false")
    (real / "lab_inventory.yaml").write_text(edit(text))
    return real / "lab_inventory.yaml"


def test_switch_with_phones_but_no_voice_vlan_in_the_intent_fails(twin, lab_path, out, tmp_path):
    real = _as_real_lab(lab_path, tmp_path, lambda t: t.replace("      voice_vlan: 100\n", "")
                        .replace("      voice_vlan_name: VOICE\n", ""))  # the inventory forgot the voice VLAN
    r = run_scenarios(real, out, "--duty=NET-VOIP-HW")
    r.fails("test_voice_vlan_exists_on_access_switch[sw1]", "voice_vlan of a switch with phones = not set",
            "phones cabled to it: phone1, phone2, phone3, phone4")
    assert r.verdict("NET-VOIP-HW") == "FAIL"


def test_station_mac_found_on_another_port_names_both_ports(twin, lab_path, out):
    twin.fault("sw1", "phone-moved", f"phone2:{P}10")
    r = run_scenarios(lab_path, out, "--duty=CFG-STATION")
    t = r.tests()
    r.fails("test_phone_mac_is_seen_on_its_switch_port[phone2]", "sw1 GigabitEthernet1/0/2 (phone2)",
            "00:04:f2:00:00:02", "= sw1 GigabitEthernet1/0/10", "limit == sw1 GigabitEthernet1/0/2")
    assert t["test_phone_mac_is_seen_on_its_switch_port[phone1]"]["verdict"] == "PASS"
    assert t["test_phone_reports_its_inventory_mac[phone2]"]["verdict"] == "PASS"


def test_station_with_a_cloned_mac_names_both_ports_and_the_owner(twin, lab_path, out):
    twin.fault("phone3", "swapped-phone", "00:04:f2:00:00:01")  # phone3's port now shows phone1's MAC
    r = run_scenarios(lab_path, out, "--duty=CFG-STATION")
    t = r.tests()
    r.fails("test_phone_mac_is_seen_on_its_switch_port[phone1]",
            "= sw1 GigabitEthernet1/0/1, sw1 GigabitEthernet1/0/3", "cloned or duplicated hardware ID")
    r.fails("test_phone_mac_is_seen_on_its_switch_port[phone3]", "00:04:f2:00:00:01 (phone1's)")
    assert t["test_phone_mac_is_seen_on_its_switch_port[phone2]"]["verdict"] == "PASS"


def test_station_with_another_unit_in_its_place_fails_both_checks(twin, lab_path, out):
    twin.fault("phone3", "swapped-phone", "80:5e:c0:99:99:99")
    r = run_scenarios(lab_path, out, "--duty=CFG-STATION")
    r.fails("test_phone_mac_is_seen_on_its_switch_port[phone3]", "sw1 GigabitEthernet1/0/3 (phone3)",
            "not seen on any switch port", "MACs on GigabitEthernet1/0/3: 80:5e:c0:99:99:99 (in no inventory entry)")
    r.fails("test_phone_reports_its_inventory_mac[phone3]", "[CFG-STATION] phone3", "= 80:5e:c0:99:99:99",
            "limit == 80:5e:c0:00:00:03")
    assert r.verdict("CFG-STATION") == "FAIL"


def test_link_down_poe_budget_class_and_lldp_cos_fail(twin, lab_path, out, loaded, tmp_path):
    twin.fault("sw1", "phone-moved", f"phone2:{P}10")  # phone2's own port goes dark
    twin.fault("sw1", "poe-budget", f"{P}3:7.0")
    session = LabSession(loaded)
    try:  # phone4's port on a second policy profile that marks CoS 3
        session.driver("sw1").configure(["network-policy profile 2", "voice vlan 100 cos 3",
                                         "voice vlan 100 dscp 46", "interface GigabitEthernet1/0/4",
                                         "network-policy 2"])
    finally:
        session.close()
    # and the inventory says phone1 asks for class 4 (the twin's phone draws class 2)
    real = _as_real_lab(lab_path, tmp_path, lambda t: t.replace(
        '      switch_port: {switch: sw1, port: GigabitEthernet1/0/1}\n',
        '      switch_port: {switch: sw1, port: GigabitEthernet1/0/1}\n      poe_class: 4\n'))
    r = run_scenarios(real, out, "--duty=NET-VOIP-HW")
    r.fails("test_phone_port_runs_full_duplex_at_100mbps_or_more[phone2]", "sw1 GigabitEthernet1/0/2 (phone2)",
            "link up (cli) = False", "limit == True")
    r.fails("test_phone_port_delivers_poe_in_the_phone_class[phone3]", "sw1 GigabitEthernet1/0/3 (phone3)",
            "PoE budget of the port (cli) = 7.0 W", "limit >= 15.4 W (STD-8023AF)")
    r.fails("test_phone_port_delivers_poe_in_the_phone_class[phone1]", "PoE class granted (cli) = 2",
            "limit == 4")
    r.fails("test_phone_port_advertises_lldp_med_voice_policy[phone4]", "LLDP-MED voice CoS (cli) = 3 CoS",
            "limit == 5 CoS (STD-8021Q)")
    session = LabSession(loaded)
    try:
        session.driver("sw1").configure(["interface GigabitEthernet1/0/4", "network-policy 1",
                                         "no network-policy profile 2"])
    finally:
        session.close()


def test_a_powered_off_phone_makes_its_port_checks_broken_not_failed(twin, lab_path, out):
    """``down`` on a phone takes its port dark (no link, no LLDP): that is a dead phone (BROKEN),
    while a dark port with the phone still answering (phone-moved, above) is a FAIL."""
    twin.fault("phone3", "down")
    port = twin.state("sw1")["ports"][f"{P}3"]
    assert not port["oper_up"] and port["neighbor"] is None, port
    r = run_scenarios(lab_path, out, "--duty=NET-VOIP-HW", "--duty=CFG-STATION", "--device=phone3", "-k", "port")
    t = r.tests()
    assert t and all(rec["verdict"] == "BROKEN" for rec in t.values()), t
    msg = t["test_phone_port_runs_full_duplex_at_100mbps_or_more[phone3]"]["message"]
    assert "sw1 GigabitEthernet1/0/3 (phone3) has no link and the phone answers nothing" in msg, msg
    twin.heal("phone3")
    port = twin.state("sw1")["ports"][f"{P}3"]
    assert port["oper_up"] and port["neighbor"]["name"] == "phone3", port


def test_provisioning_is_skipped_without_opt_in(twin, lab_path, out, loaded):
    before = _running_config(loaded)
    r = run_scenarios(lab_path, out, "--duty=NET-VOIP-HW", "-k", "provision")
    rec = r.tests()["test_phone_ports_provision_verify_and_restore[sw1]"]
    assert rec["verdict"] == "SKIPPED" and "--allow-destructive" in rec["message"], rec
    assert _running_config(loaded) == before


def test_provisioning_passes_and_restores_line_for_line(twin, lab_path, out, loaded):
    before = _running_config(loaded)
    r = run_scenarios(lab_path, out, "--duty=NET-VOIP-HW", "-k", "provision", "--allow-destructive")
    rec = r.tests()["test_phone_ports_provision_verify_and_restore[sw1]"]
    assert rec["verdict"] == "PASS", (rec, r.output[-3000:])
    assert _running_config(loaded) == before


def test_provisioning_fails_on_a_rejected_line_and_rolls_back(twin, lab_path, out, loaded):
    before = _running_config(loaded)
    twin.fault("sw1", "reject-config", "power inline auto")
    r = run_scenarios(lab_path, out, "--duty=NET-VOIP-HW", "-k", "provision", "--allow-destructive")
    r.fails("test_phone_ports_provision_verify_and_restore[sw1]",
            "'power inline auto' under 'interface GigabitEthernet1/0/47' rejected",  # the spare port (48: WAN)
            "% Invalid input detected at '^' marker.", "rolled back")
    assert _running_config(loaded) == before


def test_provisioning_fails_when_the_port_gives_no_power(twin, lab_path, out, loaded):
    before = _running_config(loaded)
    twin.fault("sw1", "poe-off", f"{P}3")
    r = run_scenarios(lab_path, out, "--duty=NET-VOIP-HW", "-k", "provision", "--allow-destructive")
    r.fails("test_phone_ports_provision_verify_and_restore[sw1]", "sw1 GigabitEthernet1/0/3 (phone3)",
            "PoE delivered after provisioning")
    assert _running_config(loaded) == before


def test_switch_that_hangs_mid_batch_is_broken_and_the_next_run_restores(twin, lab_path, out, loaded):
    before = _running_config(loaded)
    twin.fault("sw1", "cli-hang", "spanning-tree portfast")
    r = run_scenarios(lab_path, out / "1", "--duty=NET-VOIP-HW", "-k", "provision", "--allow-destructive")
    rec = r.tests()["test_phone_ports_provision_verify_and_restore[sw1]"]
    assert rec["verdict"] == "BROKEN", rec
    twin.heal("sw1")
    assert _running_config(loaded) != before  # lines before the hang stayed applied
    # a read-only run says exactly which lines remain, and leaves them
    r = run_scenarios(lab_path, out / "2", "--duty=LAB-READY", "--device=sw1")
    rec = r.tests()["test_no_switch_change_left_by_an_earlier_run[sw1]"]
    assert rec["verdict"] == "BROKEN" and "left the running-config changed" in rec["message"], rec
    assert "undo:" in rec["message"] and "spanning-tree portfast" not in rec["message"].split("undo:")[0], rec
    assert "not restored: writing needs --allow-destructive" in rec["message"]
    # the audit does not judge the harness's own leftover as the lab's config: BROKEN, not FAIL
    r = run_scenarios(lab_path, out / "2b", "--duty=NET-VOIP-HW")
    audit = [t for n, t in r.tests().items() if "provision" not in n]
    assert audit and all(t["verdict"] == "BROKEN" for t in audit), audit
    assert "left the running-config changed" in audit[0]["message"]
    # a run allowed to write puts the switch back and says so
    r = run_scenarios(lab_path, out / "3", "--duty=LAB-READY", "--device=sw1", "--allow-destructive")
    rec = r.tests()["test_no_switch_change_left_by_an_earlier_run[sw1]"]
    assert rec["verdict"] == "PASS", rec
    assert _running_config(loaded) == before


def test_voip_hw_takes_its_limits_from_the_requirement_profile(twin, lab_path, out):
    """A NET-VOIP-HW threshold the profile overrides is the one judged, and the profile is named."""
    prof = lab_path.parent / "profiles" / "default.yaml"
    original = prof.read_text()
    assert "thresholds:\n" in original and "NET-VOIP-HW.port_speed_mbps" not in original
    prof.write_text(original.replace("thresholds:\n", "thresholds:\n  NET-VOIP-HW.port_speed_mbps: 10000\n", 1))
    try:
        r = run_scenarios(lab_path, out, "--duty=NET-VOIP-HW")
    finally:
        prof.write_text(original)
    assert r.verdict("NET-VOIP-HW") == "FAIL", r.summary["duties"]["NET-VOIP-HW"]
    t = r.tests()
    for phone in ("phone1", "phone2", "phone3", "phone4"):
        r.fails(f"test_phone_port_runs_full_duplex_at_100mbps_or_more[{phone}]", f"({phone}): speed (cli) = ",
                "limit >= 10000.0 Mb/s (requirement profile default)")
    # the other checks keep the catalogue's limits, named as such
    _passes = [n for n, rec in t.items() if "full_duplex" not in n and "provision" not in n]
    assert _passes and all(t[n]["verdict"] == "PASS" for n in _passes), {n: t[n] for n in _passes}


def test_every_failing_audit_test_carries_the_cli_and_snmp_transcripts_it_was_judged_on(twin, lab_path, out):
    """The switch audit is read once per run; each test that judged it carries its transcripts."""
    twin.fault("sw1", "drop-voice-vlan")
    allure_dir = out / "allure"
    r = run_scenarios(lab_path, out, "--duty=NET-VOIP-HW", f"--alluredir={allure_dir}")
    failing = sorted(n for n, rec in r.tests().items() if rec["verdict"] == "FAIL")
    assert "test_voice_vlan_exists_on_access_switch[sw1]" in failing, failing
    assert {f"test_phone_port_carries_voice_vlan[phone{i}]" for i in range(1, 5)} <= set(failing), failing
    got = _transcripts(allure_dir)
    for test in failing:
        cli = [text for name, text in got[test].items() if name.startswith("transcript sw1 cli ")]
        snmp = [text for name, text in got[test].items() if name.startswith("transcript sw1 snmp ")]
        assert any("> show vlan brief" in text for text in cli), (test, list(got[test]))
        assert any("> BULKWALK 1.3.6.1.2.1.2.2.1" in text for text in snmp), (test, list(got[test]))  # IF-MIB


def test_a_phone_port_of_a_quarantined_switch_is_broken_with_the_failed_sessions_attached(twin, lab_path, out):
    twin.fault("sw1", "down")
    allure_dir = out / "allure"
    r = run_scenarios(lab_path, out, "--duty=LAB-READY", "--duty=NET-VOIP-HW", "--device=sw1",
                      f"--alluredir={allure_dir}")
    t = r.tests()
    assert t["test_device_answers_on_every_declared_transport[sw1]"]["verdict"] == "BROKEN"
    ports = [n for n in t if n.startswith("test_phone_port_")]
    assert len(ports) >= 4 and all(t[n]["verdict"] == "BROKEN" for n in ports), {n: t[n] for n in ports}
    # Quarantined by LAB-READY, or (when a port test's read was already under way on a loaded
    # machine) BROKEN by sw1's own silence: either way the message names sw1's dead transport.
    assert all("quarantined" in t[n]["message"] or ("sw1 " in t[n]["message"] and "no answer" in t[n]["message"])
               for n in ports), {n: t[n]["message"] for n in ports}
    got = _transcripts(allure_dir)
    for test in ports:
        cli = [text for name, text in got[test].items() if name.startswith("transcript sw1 cli ")]
        snmp = [text for name, text in got[test].items() if name.startswith("transcript sw1 snmp ")]
        assert any("connect " in text for text in cli), (test, list(got[test]))
        assert any("> GET " in text for text in snmp), (test, list(got[test]))


def test_an_output_that_does_not_parse_breaks_only_its_facts(twin, lab_path, out):
    """issue 13: ``show power inline`` in a layout its template cannot parse makes the PoE checks BROKEN
    (switch, command and parse error named, the raw output in the CLI transcript attached); the checks
    of facts from the other commands PASS."""
    twin.fault("sw1", "poe-stack-layout")
    r = run_scenarios(lab_path, out, "--duty=NET-VOIP-HW", f"--alluredir={out / 'allure'}")
    t = r.tests()
    poe = t["test_phone_port_delivers_poe_in_the_phone_class[phone1]"]
    assert poe["verdict"] == "BROKEN", poe
    for part in ("sw1", "'show power inline'", "does not parse"):
        assert part in poe["message"], (part, poe["message"])
    for name in ("test_voice_vlan_exists_on_access_switch[sw1]", "test_phone_port_carries_voice_vlan[phone1]",
                 "test_phone_port_trusts_dscp[phone1]", "test_phone_port_advertises_lldp_med_voice_policy[phone1]",
                 "test_phone_port_is_access_port_in_data_vlan[phone1]"):
        assert t[name]["verdict"] == "PASS", (name, t[name])
    assert t["test_cli_and_snmp_views_agree[sw1]"]["verdict"] == "BROKEN"
    attached = _transcripts(out / "allure")["test_phone_port_delivers_poe_in_the_phone_class[phone1]"]
    cli = "".join(v for k, v in attached.items() if "cli" in k)
    assert cli.count("Module   Available") == 2, attached.keys()
    assert r.verdict("NET-VOIP-HW") == "BROKEN"
