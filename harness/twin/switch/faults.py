"""The access switch's faults (issue 3): each bends one port, VLAN or CLI behaviour, and its undo puts
back what it changed. Ports are named long or short (``GigabitEthernet1/0/5``, ``Gi1/0/5``).

Read elsewhere: ``reject-config`` and ``cli-hang`` by the IOS session (:mod:`.ios`), ``snmp-vlan``
by the switch MIB (:mod:`.mib`), ``counters-frozen`` through the ports' octet counters
(:func:`~.state.port_octets`), ``clock-offset`` by :func:`switch_clock` (``show clock`` and the MIB's
``cntpSysClock``); the others change :class:`~.state.SwitchState` here.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable

from ..core.faults import declare, declare_value, set_fields, text, undo_all
from ..core.twin import Twin, Undo
from .state import PortState, SwitchState, neighbor_port, port_name, port_octets, port_order

MAX_CLOCK_OFFSET_S = 86400.0  # project choice: a day either way is any clock error a site shows
PORT_ERRORS_PER_S = 5.0  # project choice: clearly rising within a one-second test
_MOVED_CONFIG = ("description", "mode", "access_vlan", "voice_vlan", "network_policy", "trust", "portfast",
                 "poe_admin", "admin_up")


def _switch(twin: Twin, device: str) -> SwitchState:
    st = twin.states[device]
    assert isinstance(st, SwitchState)
    return st


def _port(st: SwitchState, fault_name: str, text: str) -> PortState:
    """The port ``text`` names (long ``GigabitEthernet1/0/5`` or short ``Gi1/0/5``); ValueError if none."""
    name = port_name(st, text)
    if name is None:
        first, last = (min(st.ports, key=port_order), max(st.ports, key=port_order)) if st.ports else ("", "")
        raise ValueError(f"fault {fault_name}: {st.name} has no port {text!r} (ports {first} .. {last}, "
                         "long or short names such as Gi1/0/5)")
    return st.ports[name]


def _pair(example: str) -> Callable[[str, str], tuple[str, str]]:
    """A parser of ``LEFT:RIGHT`` values (``example`` shows the form in the error)."""

    def parse(name: str, value: str) -> tuple[str, str]:
        left, sep, right = value.rpartition(":")
        if not sep or not left or not right:
            raise ValueError(f"fault {name} needs {example}, got {value!r}")
        return left, right

    return parse


def _vlan_id(fault_name: str, text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 4094:
        raise ValueError(f"fault {fault_name}: VLAN must be a number 1-4094, got {text!r}")
    return int(text)


def _port_and_watts(name: str, value: str) -> tuple[str, float]:
    port, watts = _pair("PORT:WATTS (Gi1/0/5:7.0)")(name, value)
    try:
        w = float(watts)
    except ValueError:
        w = -1.0
    if not 0 <= w <= 90:
        raise ValueError(f"fault {name}: WATTS must be a number 0-90, got {watts!r}")
    return port, w


# --- VLANs -----------------------------------------------------------------------------------------

async def _drop_voice_vlan(twin: Twin, device: str) -> Undo:
    st = _switch(twin, device)
    dev = twin.lab.devices[device]
    vid = getattr(dev.facts, "voice_vlan", None)
    saved_name = st.vlans.pop(vid, None) if vid else None
    saved_ports = {p.name: p.voice_vlan for p in st.ports.values() if vid and p.voice_vlan == vid}
    for p in st.ports.values():
        if p.name in saved_ports:
            p.voice_vlan = None

    async def undo() -> None:
        if vid and saved_name is not None:
            st.vlans[vid] = saved_name
        for n, v in saved_ports.items():
            st.ports[n].voice_vlan = v

    return undo


async def _port_vlan(twin: Twin, device: str, value: tuple[str, str]) -> Undo:
    port, vlan = value
    return set_fields(_port(_switch(twin, device), PORT_VLAN.name, port), access_vlan=_vlan_id(PORT_VLAN.name, vlan))


DROP_VOICE_VLAN = declare("drop-voice-vlan", ("switch",), "the voice VLAN is deleted and removed from every port",
                          _drop_voice_vlan)
PORT_VLAN = declare_value("port-vlan", ("switch",), "the port's access VLAN becomes VLAN", "PORT:VLAN",
                          _pair("PORT:VLAN (Gi1/0/5:20)"), _port_vlan)


# --- one port's config and link -------------------------------------------------------------------------

def _port_fields(fault_name: str, **values: object) -> Callable[[Twin, str, str], Awaitable[Undo | None]]:
    """An apply that sets ``values`` on the port the fault's value names."""

    async def apply(twin: Twin, device: str, port: str) -> Undo:
        return set_fields(_port(_switch(twin, device), fault_name, port), **values)

    return apply


NO_VOICE_VLAN = declare_value("no-voice-vlan", ("switch",), "the port loses its voice VLAN (switchport voice vlan "
                              "removed)", "PORT", text, _port_fields("no-voice-vlan", voice_vlan=None))
NO_QOS_TRUST = declare_value("no-qos-trust", ("switch",), "the port trusts no QoS marking (mls qos trust removed)",
                             "PORT", text, _port_fields("no-qos-trust", trust=None))
HALF_DUPLEX = declare_value("half-duplex", ("switch",), "the port negotiates half duplex at 100 Mb/s", "PORT", text,
                            _port_fields("half-duplex", duplex="half", speed_mbps=100))
SLOW_LINK = declare_value("slow-link", ("switch",), "the port negotiates 10 Mb/s full duplex (a bad cable pair)",
                          "PORT", text, _port_fields("slow-link", duplex="full", speed_mbps=10))


async def _poe_budget(twin: Twin, device: str, value: tuple[str, float]) -> Undo:
    port, watts = value
    return set_fields(_port(_switch(twin, device), POE_BUDGET.name, port), poe_max_w=watts)


POE_BUDGET = declare_value("poe-budget", ("switch",), "the port's PoE limit becomes WATTS (a PSE that grants less "
                           "than 802.3af)", "PORT:WATTS", _port_and_watts, _poe_budget)


async def _port_errors(twin: Twin, device: str, port: str) -> Undo:
    p = _port(_switch(twin, device), PORT_ERRORS.name, port)
    saved = (p.in_errors_per_s, p.errors_since)
    p.in_errors, p.in_errors_per_s, p.errors_since = p.errors_now(), PORT_ERRORS_PER_S, time.time()

    async def undo() -> None:  # counters never go back: the errors counted so far stay counted
        p.in_errors = p.errors_now()
        p.in_errors_per_s, p.errors_since = saved

    return undo


PORT_ERRORS = declare_value("port-errors", ("switch",), f"the port's input errors rise by {PORT_ERRORS_PER_S:g}/s",
                            "PORT", text, _port_errors)
POE_OFF = declare_value("poe-off", ("switch",), "PSE fault on the port: PoE is not delivered (oper faulty)", "PORT",
                        text, _port_fields("poe-off", poe_fault=True))


async def _poe_stack_layout(twin: Twin, device: str) -> Undo:
    return set_fields(_switch(twin, device), poe_stack_layout=True)


POE_STACK_LAYOUT = declare("poe-stack-layout", ("switch",), "`show power inline` repeats its header block "
                           "mid-table, as a real switch stack printed it (its template cannot parse it)",
                           _poe_stack_layout)


async def _lldp_missing(twin: Twin, device: str, port: str) -> Undo:
    p = _port(_switch(twin, device), LLDP_MISSING.name, port)
    if p.neighbor is None:
        raise ValueError(f"fault {LLDP_MISSING.name}: nothing is cabled to {p.name} on {device}")
    return set_fields(p.neighbor, lldp=False)


LLDP_MISSING = declare_value("lldp-missing", ("switch",), "the device on the port sends no LLDP", "PORT", text,
                             _lldp_missing)


async def _phone_moved(twin: Twin, device: str, value: tuple[str, str]) -> Undo:
    st = _switch(twin, device)
    phone, port = value
    old = neighbor_port(st, phone)
    if old is None:
        raise ValueError(f"fault {PHONE_MOVED.name}: phone {phone!r} is not cabled to {device}")
    new = _port(st, PHONE_MOVED.name, port)
    if new is old or new.neighbor is not None:
        raise ValueError(f"fault {PHONE_MOVED.name}: {new.name} is not free "
                         f"(it has {phone if new is old else 'a device'})")
    undo_new = set_fields(new, neighbor=old.neighbor, oper_up=True, speed_mbps=old.speed_mbps, duplex=old.duplex,
                          **{f: getattr(old, f) for f in _MOVED_CONFIG})
    undo_old = set_fields(old, neighbor=None, oper_up=False)

    async def undo() -> None:
        await undo_old()
        await undo_new()

    return undo


PHONE_MOVED = declare_value("phone-moved", ("switch",), "the phone is recabled to PORT (old port down, same config "
                            "on the new one)", "PHONE:PORT", _pair("PHONE:PORT (phone1:Gi1/0/20)"), _phone_moved)


# --- the CLI and the SNMP view (read by ios.py and mib.py) ----------------------------------------------

REJECT_CONFIG = declare_value("reject-config", ("switch",), "the switch refuses this config line (% Invalid input)",
                              "LINE", text)  # IosSession compares each config line, stripped, with the value
CLI_HANG = declare_value("cli-hang", ("switch",), "on this config line the CLI session stops answering until it "
                         "disconnects", "LINE", text)  # IosSession sets `hung`; the SSH terminal then stays silent


async def _snmp_vlan(twin: Twin, device: str, value: tuple[str, str]) -> None:
    port, vlan = value
    _port(_switch(twin, device), SNMP_VLAN.name, port)
    _vlan_id(SNMP_VLAN.name, vlan)
    return None  # the switch MIB reads SNMP_VLAN.value(state)


SNMP_VLAN = declare_value("snmp-vlan", ("switch",), "SNMP reports this access VLAN for the port (the CLI keeps the "
                          "truth)", "PORT:VLAN", _pair("PORT:VLAN (Gi1/0/5:20)"), _snmp_vlan)


def _offset_s(name: str, value: str) -> float:
    try:
        s = float(value)
    except ValueError:
        s = math.nan
    if not math.isfinite(s) or abs(s) > MAX_CLOCK_OFFSET_S:
        raise ValueError(f"fault {name} needs SECONDS, a number from -{MAX_CLOCK_OFFSET_S:g} to "
                         f"{MAX_CLOCK_OFFSET_S:g}, got {value!r}")
    return s


CLOCK_OFFSET = declare_value("clock-offset", ("switch",), "the switch's clock runs SECONDS ahead (negative: behind) "
                             "of true time (show clock, CISCO-NTP-MIB cntpSysClock)", "SECONDS", _offset_s)


def switch_clock(st: SwitchState) -> float:
    """The switch's clock now, epoch seconds: this host's clock plus ``clock-offset``."""
    return time.time() + (CLOCK_OFFSET.value(st) or 0.0)


async def _freeze_counters(twin: Twin, device: str) -> Undo | None:
    """Every port's octet counters keep the value they have now (as a stuck ASIC counter or an SNMP
    agent serving a stale cache does)."""
    undos = [set_fields(p, frozen_octets=port_octets(p)) for p in _switch(twin, device).ports.values()]
    return undo_all(undos)


COUNTERS_FROZEN = declare("counters-frozen", ("switch",), "the IF-MIB octet counters of every port stop "
                          "counting (ifInOctets, ifOutOctets, ifHCInOctets, ifHCOutOctets keep their value)",
                          _freeze_counters)
