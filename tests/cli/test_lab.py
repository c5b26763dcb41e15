"""`hil lab up | status | fault | heal | down` through the command line, on a lab of its own."""

from __future__ import annotations

import json

import pytest

from tests.cli.test_run import hil
from tests.conftest import REPO, make_test_lab, other_net

#: these tests start labs of their own (tests/conftest.py marks those that use the session twin)
pytestmark = pytest.mark.twin


def test_lab_lifecycle_and_faults(tmp_path):
    text = (REPO / "lab_inventory.yaml").read_text().replace("127.0.", f"{other_net(2)}.")
    inv = str(make_test_lab(tmp_path / "lab", text))
    try:
        r = hil("lab", "up", "--inventory", inv)
        assert r.returncode == 0 and "started" in r.stdout, r.stdout + r.stderr
        assert "already running" in hil("lab", "up", "--inventory", inv).stdout

        st = json.loads(hil("lab", "status", "--inventory", inv, "--json").stdout)
        # the inventory's devices, the Genesys Cloud org (cloud:, the unit cloud), the site's DHCP server,
        # resolver and NTP servers (network.dhcp, network.dns, network.ntp: the units dhcp, dns and ntp) and the
        # internet (network.stun and network.internet, the unit internet) and the WAN (network.media, the unit wan)
        assert set(st["devices"]) == {"edge1", "sw1", "phone1", "phone2", "phone3", "phone4", "pstn1", "prov1", "cloud",
                                      "dhcp", "dns", "ntp", "internet", "wan"}
        assert st["devices"]["sw1"]["host"] == f"{other_net(2)}.2.1" and st["devices"]["sw1"]["up"]

        assert hil("lab", "fault", "sw1", "drop-voice-vlan", "--inventory", inv).returncode == 0
        secret = (tmp_path / "lab" / "twin_secrets" / "sip_password").read_text().strip()
        r = hil("lab", "fault", "phone1", f"firmware=1.2.3-{secret}", "--inventory", inv)
        assert r.returncode == 0 and r.stdout.strip() == "phone1: fault firmware=1.2.3-***** applied", r.stdout
        assert hil("lab", "heal", "phone1", "--inventory", inv).returncode == 0
        assert hil("lab", "fault", "phone1", "firmware=1.2.3", "--inventory", inv).returncode == 0
        st = json.loads(hil("lab", "status", "--inventory", inv, "--json").stdout)
        assert st["devices"]["sw1"]["faults"] == {"drop-voice-vlan": None}
        assert st["devices"]["phone1"]["faults"] == {"firmware": "1.2.3"}

        bad = hil("lab", "fault", "sw1", "firmware=1.0", "--inventory", inv)
        assert bad.returncode == 2 and "not to switch sw1" in bad.stderr
        assert hil("lab", "fault", "sw1", "no-such-fault", "--inventory", inv).returncode == 2
        assert hil("lab", "fault", "nobody", "down", "--inventory", inv).returncode == 2
        assert hil("lab", "fault", "phone1", "firmware", "--inventory", inv).returncode == 2  # needs a value

        r = hil("lab", "heal", "sw1", "--inventory", inv)
        assert r.returncode == 0 and "drop-voice-vlan" in r.stdout
        st = json.loads(hil("lab", "status", "--inventory", inv, "--json").stdout)
        assert st["devices"]["sw1"]["faults"] == {}

        # without a device (or with --all): every device's faults
        assert hil("lab", "fault", "sw1", "drop-voice-vlan", "--inventory", inv).returncode == 0
        r = hil("lab", "heal", "--inventory", inv)
        assert r.returncode == 0 and "sw1: healed drop-voice-vlan" in r.stdout and "phone1: healed firmware" in r.stdout
        assert "edge1" not in r.stdout, r.stdout  # a device without faults is not listed
        st = json.loads(hil("lab", "status", "--inventory", inv, "--json").stdout)
        assert all(not d["faults"] for d in st["devices"].values()), st
        r = hil("lab", "heal", "--all", "--inventory", inv)
        assert r.returncode == 0 and "no faults on any of the 14 devices" in r.stdout, r.stdout
        assert hil("lab", "heal", "sw1", "--all", "--inventory", inv).returncode == 2

        listing = hil("lab", "fault", "--list").stdout
        for f in ("down", "firmware", "drop-voice-vlan", "options-silent"):
            assert f in listing
    finally:
        r = hil("lab", "down", "--inventory", inv)
    assert "stopped" in r.stdout
    assert hil("lab", "status", "--inventory", inv).returncode == 3
