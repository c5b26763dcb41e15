"""Faults the twin can inject, by name. ``hil lab fault --list`` prints this table.

A fault is applied to one device; ``heal`` removes every fault of a device and undoes what each
one changed. Faults are for the harness's own tests and for people: scenarios never use them.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .ios import port_name
from .ios_show import port_order
from .state import PortState, SwitchState

if TYPE_CHECKING:
    from .server import Twin

MAX_VALUE_CHARS = 128  # project choice: a version string or a name, never a payload

Apply = Callable[["Twin", str, str | None], Awaitable[Callable[[], Awaitable[None]] | None]]


@dataclass(frozen=True)
class Fault:
    """``apply(twin, device, value)`` changes the device and may return an async undo.

    A fault with ``value`` (its name) needs one: 1..:data:`MAX_VALUE_CHARS` printable characters,
    no whitespace at either end; a fault without ``value`` refuses one (checked by ``Twin.apply_fault``).
    """

    name: str
    roles: tuple[str, ...]
    help: str
    apply: Apply
    value: str | None = None  # name of the value, e.g. "VERSION", when one is required


FAULTS: dict[str, Fault] = {}


def fault(name: str, roles: tuple[str, ...], help: str, value: str | None = None) -> Callable[[Apply], Apply]:
    """Register a fault implementation (decorator)."""

    def deco(fn: Apply) -> Apply:
        FAULTS[name] = Fault(name, roles, help, fn, value)
        return fn

    return deco


ALL_ROLES = ("edge", "switch", "phone", "pstn", "provisioning")


# --- provisioning server (issue 5): read by harness/twin/provisioning.py on every request ---------

@fault("image-404", ("provisioning",), "every firmware image GET answers 404 Not Found")
async def _image_404(twin: Twin, device: str, value: str | None) -> None:
    return None


@fault("bad-checksum", ("provisioning",), "firmware images are served with one byte changed (a corrupt upload)")
async def _bad_checksum(twin: Twin, device: str, value: str | None) -> None:
    return None


@fault("down", ALL_ROLES, "the device stops answering on every transport (as if powered off; a phone's switch "
       "port loses link, PoE load and LLDP neighbour)")
async def _down(twin: Twin, device: str, value: str | None) -> Callable[[], Awaitable[None]]:
    await twin.stop_services(device)
    port = _cabled_port(twin, device)
    undo_port = _set_fields(port, neighbor=None, oper_up=False) if port is not None else None

    async def undo() -> None:
        if undo_port is not None:
            await undo_port()
        await twin.start_services(device)

    return undo


def _cabled_port(twin: Twin, device: str) -> PortState | None:
    """The port of any twin switch whose LLDP neighbour is ``device`` (a phone), None when none is."""
    return next((p for st in twin.states.values() if isinstance(st, SwitchState)
                 if (p := _neighbor_port(st, device)) is not None), None)


def _neighbor_port(st: SwitchState, device: str) -> PortState | None:
    """The port of switch ``st`` whose LLDP neighbour is ``device``, None when none is."""
    return next((p for p in st.ports.values() if p.neighbor is not None and p.neighbor.name == device), None)


@fault("firmware", ("edge", "phone"), "the device reports this firmware version", value="VERSION")
async def _firmware(twin: Twin, device: str, value: str | None) -> None:
    return None  # EdgeState/PhoneState.firmware reads the fault value


@fault("drop-voice-vlan", ("switch",), "the voice VLAN is deleted and removed from every port")
async def _drop_voice_vlan(twin: Twin, device: str, value: str | None) -> Callable[[], Awaitable[None]]:
    st = twin.states[device]
    assert isinstance(st, SwitchState)
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


@fault("options-silent", ("pstn", "edge"), "SIP OPTIONS are dropped; other SIP requests are answered")
async def _options_silent(twin: Twin, device: str, value: str | None) -> None:
    return None  # the SIP service checks the fault flag


# --- access-switch faults (issue 3): each bends one port and its undo puts back what it changed ----

Undo = Callable[[], Awaitable[None]]


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


def _split(fault_name: str, value: str | None, what: str) -> tuple[str, str]:
    left, sep, right = (value or "").rpartition(":")
    if not sep or not left or not right:
        raise ValueError(f"fault {fault_name} needs {what}, got {value!r}")
    return left, right


def _vlan_id(fault_name: str, text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 4094:
        raise ValueError(f"fault {fault_name}: VLAN must be a number 1-4094, got {text!r}")
    return int(text)


def _set_fields(obj: object, **values: object) -> Undo:
    """Set attributes of ``obj`` and return an undo that puts exactly those back."""
    saved = {k: getattr(obj, k) for k in values}
    for k, v in values.items():
        setattr(obj, k, v)

    async def undo() -> None:
        for k, v in saved.items():
            setattr(obj, k, v)

    return undo


@fault("port-vlan", ("switch",), "the port's access VLAN becomes VLAN", value="PORT:VLAN")
async def _port_vlan(twin: Twin, device: str, value: str | None) -> Undo:
    st = _switch(twin, device)
    port, vlan = _split("port-vlan", value, "PORT:VLAN (Gi1/0/5:20)")
    return _set_fields(_port(st, "port-vlan", port), access_vlan=_vlan_id("port-vlan", vlan))


@fault("no-voice-vlan", ("switch",), "the port loses its voice VLAN (switchport voice vlan removed)", value="PORT")
async def _no_voice_vlan(twin: Twin, device: str, value: str | None) -> Undo:
    return _set_fields(_port(_switch(twin, device), "no-voice-vlan", value or ""), voice_vlan=None)


@fault("no-qos-trust", ("switch",), "the port trusts no QoS marking (mls qos trust removed)", value="PORT")
async def _no_qos_trust(twin: Twin, device: str, value: str | None) -> Undo:
    return _set_fields(_port(_switch(twin, device), "no-qos-trust", value or ""), trust=None)


@fault("half-duplex", ("switch",), "the port negotiates half duplex at 100 Mb/s", value="PORT")
async def _half_duplex(twin: Twin, device: str, value: str | None) -> Undo:
    return _set_fields(_port(_switch(twin, device), "half-duplex", value or ""), duplex="half", speed_mbps=100)


@fault("slow-link", ("switch",), "the port negotiates 10 Mb/s full duplex (a bad cable pair)", value="PORT")
async def _slow_link(twin: Twin, device: str, value: str | None) -> Undo:
    return _set_fields(_port(_switch(twin, device), "slow-link", value or ""), duplex="full", speed_mbps=10)


@fault("poe-budget", ("switch",), "the port's PoE limit becomes WATTS (a PSE that grants less than 802.3af)",
       value="PORT:WATTS")
async def _poe_budget(twin: Twin, device: str, value: str | None) -> Undo:
    port, watts = _split("poe-budget", value, "PORT:WATTS (Gi1/0/5:7.0)")
    try:
        w = float(watts)
    except ValueError:
        w = -1.0
    if not 0 <= w <= 90:
        raise ValueError(f"fault poe-budget: WATTS must be a number 0-90, got {watts!r}")
    return _set_fields(_port(_switch(twin, device), "poe-budget", port), poe_max_w=w)


PORT_ERRORS_PER_S = 5.0  # project choice: clearly rising within a one-second test


@fault("port-errors", ("switch",), f"the port's input errors rise by {PORT_ERRORS_PER_S:g}/s", value="PORT")
async def _port_errors(twin: Twin, device: str, value: str | None) -> Undo:
    p = _port(_switch(twin, device), "port-errors", value or "")
    saved = (p.in_errors_per_s, p.errors_since)
    p.in_errors, p.in_errors_per_s, p.errors_since = p.errors_now(), PORT_ERRORS_PER_S, time.time()

    async def undo() -> None:  # counters never go back: the errors counted so far stay counted
        p.in_errors = p.errors_now()
        p.in_errors_per_s, p.errors_since = saved

    return undo


@fault("poe-off", ("switch",), "PSE fault on the port: PoE is not delivered (oper faulty)", value="PORT")
async def _poe_off(twin: Twin, device: str, value: str | None) -> Undo:
    return _set_fields(_port(_switch(twin, device), "poe-off", value or ""), poe_fault=True)


@fault("lldp-missing", ("switch",), "the device on the port sends no LLDP", value="PORT")
async def _lldp_missing(twin: Twin, device: str, value: str | None) -> Undo:
    p = _port(_switch(twin, device), "lldp-missing", value or "")
    if p.neighbor is None:
        raise ValueError(f"fault lldp-missing: nothing is cabled to {p.name} on {device}")
    return _set_fields(p.neighbor, lldp=False)


_MOVED_CONFIG = ("description", "mode", "access_vlan", "voice_vlan", "network_policy", "trust", "portfast",
                 "poe_admin", "admin_up")


@fault("phone-moved", ("switch",), "the phone is recabled to PORT (old port down, same config on the new one)",
       value="PHONE:PORT")
async def _phone_moved(twin: Twin, device: str, value: str | None) -> Undo:
    st = _switch(twin, device)
    phone, port = _split("phone-moved", value, "PHONE:PORT (phone1:Gi1/0/20)")
    old = _neighbor_port(st, phone)
    if old is None:
        raise ValueError(f"fault phone-moved: phone {phone!r} is not cabled to {device}")
    new = _port(st, "phone-moved", port)
    if new is old or new.neighbor is not None:
        raise ValueError(f"fault phone-moved: {new.name} is not free (it has {phone if new is old else 'a device'})")
    undo_new = _set_fields(new, neighbor=old.neighbor, oper_up=True, speed_mbps=old.speed_mbps, duplex=old.duplex,
                           **{f: getattr(old, f) for f in _MOVED_CONFIG})
    undo_old = _set_fields(old, neighbor=None, oper_up=False)

    async def undo() -> None:
        await undo_old()
        await undo_new()

    return undo


@fault("reject-config", ("switch",), "the switch refuses this config line (% Invalid input)", value="LINE")
async def _reject_config(twin: Twin, device: str, value: str | None) -> None:
    return None  # IosSession compares each config line, stripped, with the fault value


@fault("cli-hang", ("switch",), "on this config line the CLI session stops answering until it disconnects",
       value="LINE")
async def _cli_hang(twin: Twin, device: str, value: str | None) -> None:
    return None  # IosSession sets `hung`; the SSH server then stays silent


@fault("snmp-vlan", ("switch",), "SNMP reports this access VLAN for the port (the CLI keeps the truth)",
       value="PORT:VLAN")
async def _snmp_vlan(twin: Twin, device: str, value: str | None) -> None:
    port, vlan = _split("snmp-vlan", value, "PORT:VLAN (Gi1/0/5:20)")
    _port(_switch(twin, device), "snmp-vlan", port)
    _vlan_id("snmp-vlan", vlan)
    return None  # the SNMP agent reads st.faults["snmp-vlan"]


@fault("swapped-phone", ("phone",), "another unit with this MAC sits in the phone's place (the phone and "
       "its switch port show MAC)", value="MAC")
async def _swapped_phone(twin: Twin, device: str, value: str | None) -> Undo:
    from ..devices.facts.switch_ports import normal_mac
    from .state import PhoneState

    mac = normal_mac(value or "")
    if mac is None:
        raise ValueError(f"fault swapped-phone needs a MAC address such as 00:04:f2:aa:bb:cc, got {value!r}")
    st = twin.states[device]
    assert isinstance(st, PhoneState)
    undos = [_set_fields(st, mac=mac)]
    for sw in twin.states.values():
        if isinstance(sw, SwitchState):
            for p in sw.ports.values():
                if p.neighbor is not None and p.neighbor.name == device:
                    undos.append(_set_fields(p.neighbor, mac=mac))

    async def undo() -> None:
        for u in reversed(undos):
            await u()

    return undo


# --- PSTN simulator and phones (SIP; harness.twin.pstn_sip and phone_sip read st.faults) -----------

@fault("trunk-503", ("pstn",), "the carrier answers every INVITE 503 Service Unavailable (trunk out of service)")
async def _trunk_503(twin: Twin, device: str, value: str | None) -> None:
    return None  # PstnUserAgent._refusal checks the fault flag


# --- Edge SIP trunk (harness.twin.edge_sip and media_relay read st.faults; docs/twin-edge-sip.md) ------

def _int_value(name: str, value: str | None, low: int, high: int) -> int:
    if value is None or not value.isdigit() or not low <= int(value) <= high:
        raise ValueError(f"fault {name} needs a whole number {low}-{high}, got {value!r}")
    return int(value)


@fault("codec-reject", ("edge",), "the Edge answers 488 to G.711 offers on the trunk port and offers the "
       "carrier only G.729 (PT 18)")
async def _codec_reject(twin: Twin, device: str, value: str | None) -> None:
    return None


@fault("no-telephone-event", ("edge",), "telephone-event is stripped from every SDP the Edge sends and the "
       "media relay drops RFC 4733 packets")
async def _no_telephone_event(twin: Twin, device: str, value: str | None) -> None:
    return None


@fault("dtmf-pt", ("edge",), "the media relay forwards RFC 4733 packets (both ways) with payload type N; "
       "SDP unchanged", value="N")
async def _dtmf_pt(twin: Twin, device: str, value: str | None) -> None:
    _int_value("dtmf-pt", value, 0, 127)
    return None


@fault("drop-record-route", ("edge",), "the Edge ignores the carrier's Record-Route: 2xx without it, in-dialog "
       "requests straight to the carrier's Contact")
async def _drop_record_route(twin: Twin, device: str, value: str | None) -> None:
    return None


@fault("one-way-audio", ("edge",), "the media relay drops every packet from the phone leg toward the trunk leg")
async def _one_way_audio(twin: Twin, device: str, value: str | None) -> None:
    return None


@fault("media-transcode", ("edge",), "the media relay takes G.711 audio through the other law and back (speech "
       "passes, fax pass-through breaks)")
async def _media_transcode(twin: Twin, device: str, value: str | None) -> None:
    return None


@fault("max-calls", ("edge",), "the trunk enforces N concurrent calls instead of the inventory's max_calls "
       "(0: unlimited)", value="N")
async def _max_calls(twin: Twin, device: str, value: str | None) -> None:
    _int_value("max-calls", value, 0, 100000)
    return None


@fault("allow-prefix", ("edge",), "numbers starting with PREFIX (E.164, +1900) are not blocked: toll fraud "
       "leaks to the carrier", value="PREFIX")
async def _allow_prefix(twin: Twin, device: str, value: str | None) -> None:
    if not value or not value.startswith("+") or not value[1:].isdigit():
        raise ValueError(f"fault allow-prefix needs an E.164 prefix such as +1900, got {value!r}")
    return None


@fault("no-early-media", ("edge",), "18x relayed as 180 without SDP and no media relayed before the 200, "
       "both directions")
async def _no_early_media(twin: Twin, device: str, value: str | None) -> None:
    return None


@fault("reinvite-reject", ("edge",), "every re-INVITE is answered 488 (no hold, no resume)")
async def _reinvite_reject(twin: Twin, device: str, value: str | None) -> None:
    return None


@fault("strip-caller-id", ("edge",), 'outbound INVITEs carry From "Anonymous" <sip:anonymous@anonymous.invalid> '
       "and no P-Asserted-Identity")
async def _strip_caller_id(twin: Twin, device: str, value: str | None) -> None:
    return None


@fault("swallow-503", ("edge",), "after a carrier 503 the Edge sends the phone nothing (no retry, no final answer)")
async def _swallow_503(twin: Twin, device: str, value: str | None) -> None:
    return None


@fault("transport-mismatch", ("edge",), "toward the carrier the Edge uses TCP where the trunk says UDP and UDP "
       "where it says TCP")
async def _transport_mismatch(twin: Twin, device: str, value: str | None) -> None:
    return None


# --- issue 5: logs and console (harness.twin.edge_logs, console and edge_cli read st.faults; docs/edge-logs.md) ---

@fault("wan-down", ("edge",), "the Edge's WAN is down: cloud-link down in `show status`, its management address "
       "unreachable (SSH closed); the serial console still works")
async def _wan_down(twin: Twin, device: str, value: str | None) -> Undo:
    ssh = [s for s in twin.services.get(device, []) if s.name == "ssh"]
    for s in ssh:
        await s.stop()

    async def undo() -> None:
        if "down" not in twin.states[device].faults:  # a powered-off Edge comes back when `down` heals
            for s in ssh:
                await s.start()

    return undo


@fault("console-noise", ("edge", "switch", "phone", "pstn"), "stray glitch bytes and bracketed-paste escapes "
       "(ESC[200~ … ESC[201~) at random points of the console's output, some CRLF line ends as bare LF")
async def _console_noise(twin: Twin, device: str, value: str | None) -> Undo:
    import random

    rngs = twin.shared.setdefault("console-noise", {})
    rngs[device] = random.Random(device)  # seeded: a test sees the same noise for the same output

    async def undo() -> None:
        rngs.pop(device, None)

    return undo


@fault("log-corrupt", ("edge",), "each new log bundle is damaged on the Edge's disk after it was hashed: the "
       "bytes either path delivers do not match the SHA-256 the Edge announces")
async def _log_corrupt(twin: Twin, device: str, value: str | None) -> None:
    return None  # harness.twin.edge_logs.make_bundle checks the fault flag


@fault("log-volume", ("edge",), "the Edge has KB KiB of logs: its next bundles are about that size", value="KB")
async def _log_volume(twin: Twin, device: str, value: str | None) -> None:
    from .edge_logs import MAX_VOLUME_KB

    if value is None or not value.isdigit() or not 1 <= int(value) <= MAX_VOLUME_KB:
        raise ValueError(f"fault log-volume needs a whole number of KiB 1-{MAX_VOLUME_KB}, got {value!r}")
    return None


# --- issue 5: firmware (harness.twin.phone_firmware reads st.faults at reboot; docs/firmware.md) -------------

MAX_BOOT_S = 600.0  # project choice: a boot longer than 10 min is a device that never returns


def boot_seconds(value: str | None) -> float:
    """The ``slow-boot=SECONDS`` value as seconds (0 < s <= :data:`MAX_BOOT_S`); ValueError otherwise."""
    try:
        s = float(value or "")
    except ValueError:
        s = -1.0
    if not 0 < s <= MAX_BOOT_S:
        raise ValueError(f"fault slow-boot needs SECONDS, a number > 0 and <= {MAX_BOOT_S:g}, got {value!r}")
    return s


@fault("no-apply", ("phone",), "a flash reboots the phone but it comes back on its old firmware")
async def _no_apply(twin: Twin, device: str, value: str | None) -> None:
    return None


@fault("never-returns", ("phone", "edge"), "a reboot (firmware flash) takes the device away until healed")
async def _never_returns(twin: Twin, device: str, value: str | None) -> None:
    return None  # heal restarts the services (harness.twin.phone_firmware's heal hook)


@fault("slow-boot", ("phone", "edge"), "a reboot (firmware flash) takes SECONDS before the services come back",
       value="SECONDS")
async def _slow_boot(twin: Twin, device: str, value: str | None) -> None:
    boot_seconds(value)
    return None


# --- issue 5: Edge update (harness.twin.edge_software reads st.faults; never-returns and slow-boot above
# also bend an Edge's software reboot; docs/edge-update.md) ------------------------------------------------

@fault("install-fails", ("edge",), "a software install fails after its reboot: the console shows the error and "
       "'rolling back', the Edge comes back on its previous version with the error in `show software`")
async def _install_fails(twin: Twin, device: str, value: str | None) -> None:
    return None
