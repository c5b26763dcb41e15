"""SNMP as net-snmp reads it: non-increasing OIDs, SNMPv1, odd value types, pysnmp errors as lab errors.

Real recordings: LibreNMS's snmpsim recordings (``$HIL_REALWORLD/snmp/librenms``, GPL-3.0, see
../shared/realworld/INDEX.md; read at test time, never copied here), served in file order by
:class:`tests.transports.snmp_recording.RecordingAgent` as snmpsim serves them. Where no recording
holds the case (Opaque floats, NULL values, an agent error status), the records are crafted here.

Run with ``HIL_TEST_NET=<prefix> .venv/bin/pytest tests/transports/test_snmp_netsnmp_rules.py``.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import pytest
from pysnmp.proto import rfc1902

from harness.errors import LabProtocolError
from harness.inventory.models import SnmpSettings
from harness.transports.snmp import NULL, SnmpClient, SnmpWalkError, opaque_value
from harness.transports.transcript import Transcript
from tests.conftest import CAPTURES, other_net
from tests.transports.snmp_recording import OID, RecordingAgent, read_snmprec

RECORDINGS = CAPTURES / "snmp" / "librenms"


def recording(name: str) -> Path:
    path = RECORDINGS / f"{name}.snmprec"
    if not path.is_file():
        pytest.skip(f"real SNMP recording {path} absent (set HIL_REALWORLD to the realworld folder)")
    return path


def client(agent: RecordingAgent, version: str = "2c", device: str = "gw1") -> SnmpClient:
    settings = SnmpSettings(version=version, port=agent.port, community="env:HIL_TEST_RECORDING_COMMUNITY",
                            timeout_s=1.0, retries=0)  # type: ignore[arg-type]
    return SnmpClient(device, agent.host, settings, lambda ref: agent.community,
                      Transcript(f"{device} snmp {agent.host}:{agent.port}"))


@pytest.fixture
def host() -> str:
    return f"{other_net(6)}.16.1"


# --- a walk meeting an OID that goes backwards ------------------------------------------------------

@pytest.mark.parametrize("verb", ["walk", "bulk_walk"])
def test_walk_stops_on_non_increasing_oid_with_rows_kept(host: str, verb: str) -> None:
    # innovaphone IP3011: line 100 of 258 is 0.3.6.1.2.1.4.22.1.2.3.192.168.176.9 (an OID that goes
    # backwards); net-snmp's snmpwalk stops there with "OID not increasing".
    records = read_snmprec(recording("innovaphone"))
    assert len(records) == 258
    with RecordingAgent(records, host) as agent:
        c = client(agent)
        with pytest.raises(SnmpWalkError) as info:
            getattr(c, f"{verb}_sync")("1.3.6.1")
    e = info.value
    assert isinstance(e, LabProtocolError)
    assert len(e.rows) == 99 and e.rows[0][0] == "1.3.6.1.2.1.1.1.0"
    assert e.rows[-1] == ("1.3.6.1.2.1.4.22.1.2.2.192.168.103.49", "02:50:95:d9:5b:61")
    assert e.stopped_at == "1.3.6.1.2.1.4.22.1.2.2.192.168.103.49"
    assert ("OID not increasing: 1.3.6.1.2.1.4.22.1.2.2.192.168.103.49 >= 0.3.6.1.2.1.4.22.1.2.3.192.168.176.9"
            in e.detail)
    assert e.device == "gw1" and e.transport == "snmp" and e.address == f"{host}:{agent.port}"
    assert "99 rows before the error" in c.transcript.render()


def test_walk_of_an_ordered_recording_is_whole(host: str) -> None:
    records = read_snmprec(recording("linux"))
    with RecordingAgent(records, host) as agent:
        rows = client(agent).bulk_walk_sync("1.3.6.1")
    assert len(rows) == len(records) == 169


# --- SNMPv1 -----------------------------------------------------------------------------------------

def test_v1_walk_ends_at_nosuchname_with_every_row(host: str) -> None:
    # Grandstream HT8xx ATA (v1 is what older ATAs answer); walking past its last object, the v1
    # agent answers noSuchName (RFC 1157 4.1.3), which ends the walk.
    records = read_snmprec(recording("grandstream-ht"))
    with RecordingAgent(records, host) as agent:
        c = client(agent, "1")
        rows = c.walk_sync("1.3.6.1")
        bulk_rows = c.bulk_walk_sync("1.3.6.1")  # v1 has no GETBULK: the same GETNEXT walk
    assert len(rows) == len(records) == 40
    assert rows == bulk_rows
    assert rows[0] == ("1.3.6.1.2.1.1.1.0", records[0][1].asOctets().decode())


def test_v1_get_takes_nosuchname_as_missing_and_asks_again(host: str) -> None:
    records = read_snmprec(recording("ciscospa"))
    with RecordingAgent(records, host) as agent:
        c = client(agent, "1")
        got = c.get_sync("1.3.6.1.2.1.1.5.0", "1.3.6.1.2.1.1.99.0", "1.3.6.1.2.1.1.3.0")
    assert list(got) == ["1.3.6.1.2.1.1.5.0", "1.3.6.1.2.1.1.99.0", "1.3.6.1.2.1.1.3.0"]
    assert got["1.3.6.1.2.1.1.99.0"] is None
    assert got["1.3.6.1.2.1.1.5.0"] == dict((".".join(map(str, o)), v) for o, v in records)[
        "1.3.6.1.2.1.1.5.0"].asOctets().decode()
    assert isinstance(got["1.3.6.1.2.1.1.3.0"], int)
    assert "noSuchName for 1.3.6.1.2.1.1.99.0" in c.transcript.render()


@pytest.mark.parametrize("version", ["1", "2c"])
def test_error_status_names_the_oid_at_the_error_index(host: str, version: str) -> None:
    records: list[tuple[OID, Any]] = [((1, 3, 6, 1, 2, 1, 1, 1, 0), rfc1902.OctetString(b"crafted")),
                                      ((1, 3, 6, 1, 2, 1, 1, 5, 0), rfc1902.OctetString(b"gw1"))]
    with RecordingAgent(records, host, fail={(1, 3, 6, 1, 2, 1, 1, 5, 0)}) as agent, \
            pytest.raises(LabProtocolError) as info:
        client(agent, version).get_sync("1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.5.0")
    assert "errorStatus genErr at varbind 2 (1.3.6.1.2.1.1.5.0)" in info.value.detail
    assert info.value.device == "gw1"


# --- odd types ---------------------------------------------------------------------------------------

def test_opaque_null_and_hex_strings_are_decoded_and_told_from_missing(host: str) -> None:
    vega = [(o, v) for o, v in read_snmprec(recording("vega")) if o[:10] == (1, 3, 6, 1, 2, 1, 2, 2, 1, 6)]
    crafted: list[tuple[OID, Any]] = [
        ((1, 3, 6, 1, 4, 1, 2021, 10, 1, 6, 1), rfc1902.Opaque(bytes([0x9F, 0x78, 4]) + struct.pack(">f", 0.25))),
        ((1, 3, 6, 1, 4, 1, 2021, 10, 1, 6, 2), rfc1902.Opaque(bytes([0x9F, 0x79, 8]) + struct.pack(">d", -1.5))),
        ((1, 3, 6, 1, 4, 1, 2021, 10, 1, 6, 3), rfc1902.Opaque(b"\x01\x02")),
        ((1, 3, 6, 1, 4, 1, 99999, 1, 0), rfc1902.Null("")),
        ((1, 3, 6, 1, 4, 1, 99999, 2, 0), rfc1902.OctetString(b"\x00\x01\xfe")),
    ]
    with RecordingAgent(vega + crafted, host) as agent:
        c = client(agent)
        got = c.get_sync("1.3.6.1.4.1.2021.10.1.6.1", "1.3.6.1.4.1.2021.10.1.6.2", "1.3.6.1.4.1.2021.10.1.6.3",
                         "1.3.6.1.4.1.99999.1.0", "1.3.6.1.4.1.99999.2.0", "1.3.6.1.4.1.99999.3.0")
        macs = c.walk_sync("1.3.6.1.2.1.2.2.1.6")
    assert got["1.3.6.1.4.1.2021.10.1.6.1"] == 0.25
    assert got["1.3.6.1.4.1.2021.10.1.6.2"] == -1.5
    assert got["1.3.6.1.4.1.2021.10.1.6.3"] == "01:02"
    assert got["1.3.6.1.4.1.99999.1.0"] is NULL and NULL is not None
    assert got["1.3.6.1.4.1.99999.2.0"] == "00:01:fe"
    assert got["1.3.6.1.4.1.99999.3.0"] is None  # missing: noSuchObject
    assert macs[0] == ("1.3.6.1.2.1.2.2.1.6.1", "00:50:58:30:32:bc")  # vega's `4x` ifPhysAddress
    assert len(macs) == len(vega)


def test_opaque_value_decodes_net_snmp_special_types() -> None:
    assert opaque_value(bytes([0x9F, 0x7A, 2, 0xFF, 0xFE])) == -2  # I64, shortest form
    assert opaque_value(bytes([0x9F, 0x76, 1, 7])) == 7  # Counter64
    assert opaque_value(bytes([0x9F, 0x78, 3, 0, 0, 0])) == "9f:78:03:00:00:00"  # bad length: left as bytes


# --- pysnmp exceptions become lab errors ------------------------------------------------------------

@pytest.mark.parametrize("root", ["1.3.6.x", "", ".", "3.1", "1.3.6..1"])
def test_odd_roots_are_lab_errors_naming_device_and_oid(host: str, root: str) -> None:
    with RecordingAgent([((1, 3, 6, 1, 2, 1, 1, 1, 0), rfc1902.OctetString(b"x"))], host) as agent:
        c = client(agent)
        for call in (c.walk_sync, c.bulk_walk_sync, c.get_sync):
            with pytest.raises(LabProtocolError) as info:
                call(root)
            e = info.value
            assert e.device == "gw1" and e.transport == "snmp" and e.address == f"{host}:{agent.port}"
            assert repr(root) in e.detail or root in e.detail
