"""The twin's ``ntp`` unit: an SNTP server on each of the inventory's NTP server addresses, read with
the harness's NTP probe from the voice-VLAN vantage address; ``ntp-offset`` and ``ntp-silent`` bend
every server of the unit and heal puts them back; the emulated org's site lists the same servers."""

from __future__ import annotations

import pytest

from harness.devices.session import LabSession
from harness.errors import LabTimeout
from harness.inventory import LoadedLab
from harness.transports.ntp import query
from harness.twin.manager import TwinControl


def _ask(loaded: LoadedLab, server: str, timeout_s: float = 1.0):
    ntp = loaded.lab.network.ntp
    return query(server, ntp.port, timeout_s, source=loaded.lab.network.vantage.voice_vlan)


def test_each_inventory_server_answers(twin: TwinControl, loaded: LoadedLab) -> None:
    servers = loaded.lab.network.ntp.servers
    assert len(servers) == 2
    for s in servers:
        r = _ask(loaded, s)
        assert r.stratum == 2 and r.leap == 0 and abs(r.offset_s) < 0.05, r


def test_offset_and_silence_bend_every_server_until_healed(twin: TwinControl, loaded: LoadedLab) -> None:
    servers = loaded.lab.network.ntp.servers
    twin.fault("ntp", "ntp-offset", "-3.5")
    for s in servers:
        assert abs(_ask(loaded, s).offset_s + 3.5) < 0.05
    twin.fault("ntp", "ntp-silent")
    for s in servers:
        with pytest.raises(LabTimeout):
            _ask(loaded, s, timeout_s=0.3)
    twin.heal("ntp")
    assert all(abs(_ask(loaded, s).offset_s) < 0.05 for s in servers)


def test_an_offset_for_one_address_moves_that_server_alone(twin: TwinControl, loaded: LoadedLab) -> None:
    first, second = loaded.lab.network.ntp.servers
    twin.fault("ntp", "ntp-offset", f"{second}:4")
    assert abs(_ask(loaded, first).offset_s) < 0.05
    assert abs(_ask(loaded, second).offset_s - 4) < 0.05


def test_a_bad_offset_is_refused(twin: TwinControl) -> None:
    with pytest.raises(Exception, match=r"needs \[ADDRESS:\]SECONDS"):
        twin.fault("ntp", "ntp-offset", "soon")
    with pytest.raises(Exception, match=r"serves no NTP on '192\.0\.2\.9'"):
        twin.fault("ntp", "ntp-offset", "192.0.2.9:1")


def test_the_site_lists_the_inventory_servers(twin: TwinControl, loaded: LoadedLab) -> None:
    s = LabSession(loaded)
    try:
        site = s.cloud().site()
    finally:
        s.close()
    assert site.ntp_settings is not None and site.ntp_settings.servers == loaded.lab.network.ntp.servers
