"""Plain CLI fact functions for access switches: ntc-templates records (and raw text) -> typed facts.

No I/O here: the driver (:mod:`harness.devices.drivers.switch`) sends the commands and hands the parsed
records to these functions, and :func:`cli_port_views` folds them into one
:class:`~harness.devices.facts.switch_ports.PortView` per port (``source="cli"``). Platforms are the
ntc-templates names ``cisco_ios``, ``cisco_nxos`` and ``arista_eos`` (the one an inventory platform
uses is :attr:`~harness.transports.cli.CliPlatform.templates`: IOS-XE is ``cisco_ios``); a field a
platform cannot show stays ``None``. Interface names are returned in the long form (``Gi1/0/1`` ->
``GigabitEthernet1/0/1``), MAC addresses as :func:`~harness.devices.facts.switch_ports.normal_mac` gives
them (``00:04:f2:aa:00:01``). Units: speeds in Mb/s, power in watts.

Sources per function: :func:`status_facts` ``show interfaces status`` (NX-OS ``show interface
status``); :func:`error_counters` ``show interfaces`` (IOS) / ``show interface`` (NX-OS);
:func:`poe_facts` ``show power inline``; :func:`cdp_facts` ``show cdp neighbors detail``;
:func:`lldp_table_facts` ``show lldp neighbors``; :func:`lldp_facts` ``show lldp neighbors detail`` (the
LLDP-MED network-policy lines through our own template
``templates/cisco_ios_show_lldp_neighbors_detail_med.textfsm``, which ntc-templates does not
capture); :func:`stp_portfast` ``show spanning-tree``; :func:`mac_table` ``show mac
address-table``; :func:`config_facts` ``show running-config`` (read with hier_config).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hier_config import Platform, get_hconfig

from ...transports.cli_text import parse_output
from .switch_ports import LldpNeighbor, NetworkPolicy, PoePort, PortView, normal_mac
from .templates import parse_template

#: abbreviation -> long interface name prefix (IOS, NX-OS and EOS spellings)
IF_PREFIXES = {
    "gi": "GigabitEthernet", "fa": "FastEthernet", "te": "TenGigabitEthernet", "tw": "TwoGigabitEthernet",
    "fi": "FiveGigabitEthernet", "twe": "TwentyFiveGigE", "fo": "FortyGigabitEthernet",
    "hu": "HundredGigE", "eth": "Ethernet", "et": "Ethernet", "po": "Port-channel", "vl": "Vlan",
    "mgmt": "mgmt", "ma": "Management",
}
_UNITS_S = {"year": 365 * 86400, "week": 7 * 86400, "day": 86400, "hour": 3600, "minute": 60, "second": 1}


def long_interface(name: str) -> str:
    """``Gi1/0/1`` -> ``GigabitEthernet1/0/1``; long names and unknown prefixes are kept."""
    m = re.fullmatch(r"([A-Za-z-]+)\s*(\d.*)", name.strip())
    if not m:
        return name.strip()
    prefix, rest = m.groups()
    low = prefix.lower()
    for long in IF_PREFIXES.values():
        if long.lower() == low:
            return long + rest
    for abbr in sorted(IF_PREFIXES, key=len, reverse=True):
        if low.startswith(abbr) and IF_PREFIXES[abbr].lower().startswith(low):
            return IF_PREFIXES[abbr] + rest
    return prefix + rest


def uptime_seconds(text: str) -> int:
    """``1 year, 22 weeks, 6 days, 9 hours, 38 minutes`` -> seconds (unknown words ignored)."""
    total = 0
    for n, unit in re.findall(r"(\d+)\s*(year|week|day|hour|minute|second)", text):
        total += int(n) * _UNITS_S[unit]
    return total


def _vlan_id(v: Any) -> int | None:
    s = str(v or "").strip()
    return int(s) if s.isdigit() else None


def _first(row: dict[str, Any], *keys: str) -> str:
    for k in keys:
        v = row.get(k)
        if isinstance(v, list):
            v = v[0] if v else ""
        if v:
            return str(v)
    return ""


@dataclass(frozen=True)
class SwitchVersion:
    """``show version``: ``version`` is the running OS version, ``uptime_s`` whole seconds."""

    hostname: str
    model: str
    version: str
    serial: str
    uptime_s: int
    image: str


@dataclass(frozen=True)
class Vlan:
    """One VLAN of ``show vlan brief``; ``ports`` are long interface names (access and voice members)."""

    vlan_id: int
    name: str
    status: str
    ports: tuple[str, ...]


@dataclass(frozen=True)
class Switchport:
    """One interface of ``show interfaces switchport``.

    ``mode`` is the administrative mode (``access``, ``trunk``, ``dynamic auto`` …), ``oper_mode``
    the operational one (``static access``, ``trunk``, ``down``). VLANs are ``None`` when unset.
    """

    interface: str
    mode: str
    oper_mode: str
    access_vlan: int | None
    voice_vlan: int | None
    native_vlan: int | None
    trunking_vlans: tuple[str, ...]


def version_facts(r: dict[str, Any]) -> SwitchVersion:
    """A :class:`SwitchVersion` from one ntc-templates ``show version`` record (IOS, NX-OS, EOS keys)."""
    return SwitchVersion(
        hostname=_first(r, "hostname"),
        model=_first(r, "hardware", "platform", "model"),
        version=_first(r, "version", "os", "image"),
        serial=_first(r, "serial", "serial_number"),
        uptime_s=uptime_seconds(_first(r, "uptime")),
        image=_first(r, "running_image", "software_image", "boot_image", "image"))


def vlan_facts(rows: list[dict[str, Any]]) -> dict[int, Vlan]:
    """VLAN id -> :class:`Vlan` from ntc-templates ``show vlan [brief]`` records."""
    out: dict[int, Vlan] = {}
    for r in rows:
        vid = _vlan_id(r.get("vlan_id"))
        if vid is None:
            continue
        ports = r.get("interfaces") or []
        out[vid] = Vlan(vid, _first(r, "vlan_name", "name"), _first(r, "status"),
                        tuple(long_interface(p) for p in ports))
    return out


def switchport_facts(rows: list[dict[str, Any]]) -> dict[str, Switchport]:
    """Long interface name -> :class:`Switchport` from ``show interface(s) switchport`` records.

    ``mode`` is the administrative mode (``access`` for ``static access``; a port left in
    ``dynamic auto`` stays that), ``oper_mode`` what the port runs; ``none`` VLANs are ``None``.
    """
    out: dict[str, Switchport] = {}
    for r in rows:
        name = long_interface(_first(r, "interface"))
        admin = _first(r, "admin_mode", "mode")
        mode = "access" if admin == "static access" else admin
        trunking = r.get("trunking_vlans") or []
        out[name] = Switchport(
            interface=name, mode=mode, oper_mode=_first(r, "mode"),
            access_vlan=_vlan_id(r.get("access_vlan")), voice_vlan=_vlan_id(r.get("voice_vlan")),
            native_vlan=_vlan_id(r.get("native_vlan")),
            trunking_vlans=tuple(trunking) if isinstance(trunking, list) else (str(trunking),))
    return out


# --- show interfaces status ------------------------------------------------------------------------


@dataclass(frozen=True)
class PortStatus:
    """One row of ``show interfaces status``.

    ``status`` is the raw word (``connected``, ``notconnect``, ``err-disabled`` …) and ``oper_up``
    is true for ``connected`` only; ``vlan`` is ``"trunk"``, ``"routed"`` or a VLAN ID text and
    ``access_vlan`` its number (``None`` for trunk/routed). ``duplex``: ``full`` | ``half`` |
    ``auto`` | ``None`` (unconfigured); ``speed_mbps`` ``None`` when the port shows ``auto``;
    ``description`` the Name column (NX-OS ``--`` is empty).
    """

    interface: str
    oper_up: bool
    status: str
    vlan: str
    access_vlan: int | None
    duplex: str | None
    speed_mbps: int | None
    description: str


def speed_mbps(text: str) -> int | None:
    """``a-1000`` / ``1000`` -> 1000, ``a-40G`` / ``10G`` -> 40000 / 10000; ``auto`` / ``unconf`` -> None."""
    m = re.fullmatch(r"(?:a-)?(\d+)([MG]?)", (text or "").strip(), re.I)
    if not m:
        return None
    return int(m.group(1)) * (1000 if m.group(2).upper() == "G" else 1)


def duplex_word(text: str) -> str | None:
    """``a-full`` / ``full`` -> ``full``, ``a-half`` -> ``half``, ``auto`` -> ``auto``; else None."""
    word = (text or "").strip().lower().removeprefix("a-").removesuffix("-duplex").removesuffix(" duplex")
    return word if word in ("full", "half", "auto") else None


def status_facts(rows: list[dict[str, Any]]) -> dict[str, PortStatus]:
    """Long interface name -> :class:`PortStatus` from ``show interface(s) status`` records (IOS, NX-OS, EOS)."""
    out: dict[str, PortStatus] = {}
    for r in rows:
        name = long_interface(_first(r, "port", "interface"))
        status = _first(r, "status").rstrip(":")
        vlan = _first(r, "vlan_id", "vlan")
        out[name] = PortStatus(interface=name, oper_up=status == "connected", status=status, vlan=vlan,
                               access_vlan=_vlan_id(vlan), duplex=duplex_word(_first(r, "duplex")),
                               speed_mbps=speed_mbps(_first(r, "speed")),
                               description="" if _first(r, "name") == "--" else _first(r, "name"))
    return out


# --- show interfaces (error counters) --------------------------------------------------------------


def error_counters(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Long interface name -> input error counter from ``show interfaces`` records (IOS and NX-OS
    ``input_errors``; the EOS template does not capture the counter, so EOS rows give nothing)."""
    out: dict[str, int] = {}
    for r in rows:
        n = str(r.get("input_errors") or "").strip()
        if n.isdigit():
            out[long_interface(_first(r, "interface"))] = int(n)
    return out


# --- show power inline -----------------------------------------------------------------------------


def _float(text: str) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def poe_facts(rows: list[dict[str, Any]]) -> dict[str, PoePort]:
    """Long interface name -> :class:`PoePort` from IOS ``show power inline`` records.

    ``admin`` / ``oper`` are the Admin / Oper columns as printed (``auto``/``off``;
    ``on``/``off``/``faulty``…), ``power_class`` the Class column (``n/a`` -> None), ``watts`` the
    Power column and ``max_w`` the Max column, in watts.
    """
    out: dict[str, PoePort] = {}
    for r in rows:
        name = long_interface(_first(r, "interface"))
        cls = _first(r, "class")
        out[name] = PoePort(interface=name, admin=_first(r, "admin_status", "admin"),
                            oper=_first(r, "operational_status", "oper"),
                            power_class=int(cls) if cls.isdigit() else None,
                            watts=_float(_first(r, "power")), max_w=_float(_first(r, "max")))
    return out


# --- show lldp neighbors detail --------------------------------------------------------------------

#: IOS ``Network Policy(<application>)`` words -> :attr:`NetworkPolicy.app`
MED_APPS = {"voice": "voice", "voice signal": "voice-signaling", "guest voice": "guest-voice",
            "guest voice signal": "guest-voice-signaling"}
MED_TEMPLATE = "cisco_ios_show_lldp_neighbors_detail_med"


def med_policies(text: str) -> dict[str, dict[str, NetworkPolicy]]:
    """Long local interface -> app -> :class:`NetworkPolicy` from IOS ``show lldp neighbors detail`` text.

    ``VLAN 10, tagged`` -> vlan 10, tagged; ``VLAN data, untagged`` (the phone sends untagged, in
    the port's data VLAN) -> vlan None, tagged False. ``cos`` is the ``Layer-2 priority``.
    Raises ``textfsm.TextFSMError`` only on a broken template.
    """
    out: dict[str, dict[str, NetworkPolicy]] = {}
    for r in parse_template(MED_TEMPLATE, text):
        word = r["application"].strip().lower()
        app = MED_APPS.get(word, word.replace(" ", "-"))
        out.setdefault(long_interface(r["local_interface"]), {})[app] = NetworkPolicy(
            app=app, vlan=_vlan_id(r["vlan"]), tagged=r["tagging"] == "tagged",
            cos=int(r["cos"]), dscp=int(r["dscp"]))
    return out


def lldp_facts(text: str, platform: str = "cisco_ios") -> dict[str, LldpNeighbor]:
    """Long local interface -> :class:`LldpNeighbor` from raw ``show lldp neighbors detail`` text.

    The neighbour fields come from the ntc-templates template of ``platform`` (``cisco_ios``,
    ``cisco_nxos``, ``arista_eos``), the LLDP-MED policies from :func:`med_policies` (IOS layout; other
    platforms give none). ``model`` is the LLDP-MED inventory model where shown (IOS), else ``""``.
    The first neighbour of a port wins. Raises ntc-templates' / TextFSM's error when the text does
    not fit the platform's template.
    """
    rows = parse_output(platform=platform, command="show lldp neighbors detail", data=text)
    policies = med_policies(text) if platform.startswith("cisco_ios") else {}
    out: dict[str, LldpNeighbor] = {}
    for r in rows:
        local = long_interface(_first(r, "local_interface"))
        if not local or local in out:
            continue
        chassis = _first(r, "chassis_id").strip().strip('"')
        out[local] = LldpNeighbor(
            local_port=local, chassis_id=chassis, chassis_mac=normal_mac(chassis),
            port_id=_first(r, "neighbor_port_id", "neighbor_interface").strip('"'),
            system_name=_first(r, "neighbor_name"), model=_first(r, "platform"),
            policies=policies.get(local, {}))
    return out


def lldp_table_facts(rows: list[dict[str, Any]]) -> dict[str, LldpNeighbor]:
    """Long local interface -> :class:`LldpNeighbor` from ntc-templates ``show lldp neighbors`` records
    (the table without ``detail``, for switches or sessions where the detail is not available).

    The table has no chassis ID, model or LLDP-MED lines: ``chassis_id`` is ``""``, ``chassis_mac``
    None and ``policies`` empty; ``system_name`` is the Device ID column (IOS cuts it to 20
    characters) and ``port_id`` the Port ID column. The first neighbour of a port wins.
    """
    out: dict[str, LldpNeighbor] = {}
    for r in rows:
        local = long_interface(_first(r, "local_interface"))
        if not local or local in out:
            continue
        out[local] = LldpNeighbor(local_port=local, chassis_id="", chassis_mac=None,
                                  port_id=_first(r, "neighbor_interface", "neighbor_port_id"),
                                  system_name=_first(r, "neighbor_name", "neighbor"))
    return out


# --- show cdp neighbors detail ---------------------------------------------------------------------


@dataclass(frozen=True)
class CdpNeighbor:
    """One neighbour of ``show cdp neighbors detail`` (Cisco Discovery Protocol; Cisco IP phones send it).

    ``local_port``: long name of the switch port; ``device_id``: the CDP Device ID as printed (a phone's
    ``SEP`` + MAC, NX-OS's ``name(serial)``); ``port_id``: the neighbour's interface (``Port 1`` on a
    phone); ``platform``: ``cisco IP Phone 7962`` and the like; ``capabilities``: the words of the
    Capabilities line; ``mgmt_address``: the first (management) address, ``""`` when none is shown;
    ``software``: the Version text.
    """

    local_port: str
    device_id: str
    port_id: str
    platform: str
    capabilities: tuple[str, ...]
    mgmt_address: str
    software: str


def cdp_facts(rows: list[dict[str, Any]]) -> dict[str, CdpNeighbor]:
    """Long local interface -> :class:`CdpNeighbor` from ntc-templates ``show cdp neighbors detail``
    records (IOS and NX-OS keys). The first neighbour of a port wins."""
    out: dict[str, CdpNeighbor] = {}
    for r in rows:
        local = long_interface(_first(r, "local_interface", "local_port"))
        if not local or local in out:
            continue
        out[local] = CdpNeighbor(
            local_port=local, device_id=_first(r, "neighbor_name", "destination_host", "chassis_id"),
            port_id=_first(r, "neighbor_interface", "remote_port"), platform=_first(r, "platform"),
            capabilities=tuple(_first(r, "capabilities").split()),
            mgmt_address=_first(r, "mgmt_address", "management_ip", "interface_ip"),
            software=_first(r, "neighbor_description", "software_version"))
    return out


# --- show spanning-tree / show mac address-table ---------------------------------------------------


def stp_portfast(rows: list[dict[str, Any]]) -> dict[str, bool]:
    """Long interface name -> portfast from IOS ``show spanning-tree`` records: true when the Type
    column holds ``Edge`` in any VLAN the port is listed in (ports that are down are not listed)."""
    out: dict[str, bool] = {}
    for r in rows:
        name = long_interface(_first(r, "interface"))
        out[name] = out.get(name, False) or "edge" in _first(r, "type").lower()
    return out


def mac_table(rows: list[dict[str, Any]]) -> dict[str, tuple[str, ...]]:
    """Long interface name -> learned MACs (first-seen order, any VLAN) from ``show mac
    address-table`` records (IOS, NX-OS, EOS keys). Entries on ``CPU`` / ``Router`` / ``Drop``,
    other ports without a number and the NX-OS supervisor (``sup-eth1(R)``) are left out."""
    out: dict[str, list[str]] = {}
    for r in rows:
        mac = normal_mac(_first(r, "destination_address", "mac_address"))
        ports = r.get("destination_port") or r.get("ports") or []
        for port in [ports] if isinstance(ports, str) else ports:
            port = re.sub(r"\(.*\)$", "", str(port)).strip()
            if mac is None or not re.search(r"\d", port) or port.lower().startswith("sup-"):
                continue
            macs = out.setdefault(long_interface(port), [])
            if mac not in macs:
                macs.append(mac)
    return {k: tuple(v) for k, v in out.items()}


# --- show running-config ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PortConfig:
    """What the running-config says about one interface.

    ``trust``: ``dscp`` | ``cos`` (``mls qos trust dscp|cos``), else ``device cisco-phone`` (``mls qos
    trust device cisco-phone`` alone), else ``none``; ``portfast``: ``spanning-tree portfast``
    (``… edge`` / ``… trunk`` too; ``… disable`` is false); ``poe_admin``: ``never`` for ``power
    inline never``, else ``auto``; ``network_policy``: the ``network-policy N`` profile number;
    ``description`` with runs of blanks collapsed to one (hier_config normalises lines).
    """

    interface: str
    description: str = ""
    trust: str = "none"
    portfast: bool = False
    poe_admin: str = "auto"
    network_policy: int | None = None


@dataclass(frozen=True)
class SwitchConfig:
    """The parsed running-config: ``ports`` by long interface name and the global LLDP-MED
    ``network_policies``: profile number -> app (``voice`` | ``voice-signaling``) -> policy."""

    ports: dict[str, PortConfig] = field(default_factory=dict)
    network_policies: dict[int, dict[str, NetworkPolicy]] = field(default_factory=dict)


#: ntc-templates platform (:attr:`~harness.transports.cli.CliPlatform.templates`) -> hier_config platform
HCONFIG_PLATFORMS = {"cisco_ios": Platform.CISCO_IOS, "cisco_nxos": Platform.CISCO_NXOS,
                     "arista_eos": Platform.ARISTA_EOS}
_POLICY_LINE = re.compile(r"(voice|voice-signaling) vlan (\S+)(?: cos (\d+))?(?: dscp (\d+))?")


def _profile(lines: list[str]) -> dict[str, NetworkPolicy]:
    """``voice vlan 100 cos 5`` + ``voice vlan 100 dscp 46`` -> {"voice": vlan 100, CoS 5, DSCP 46}.
    ``dot1p`` is VLAN 0 (priority-tagged), ``untagged`` VLAN None untagged; unset CoS/DSCP are None."""
    out: dict[str, NetworkPolicy] = {}
    for line in lines:
        m = _POLICY_LINE.fullmatch(line.strip())
        if not m or m.group(2) == "none":
            continue
        app, vlan_text, cos, dscp = m.groups()
        vlan = 0 if vlan_text == "dot1p" else _vlan_id(vlan_text)
        old = out.get(app)
        out[app] = NetworkPolicy(
            app=app, vlan=vlan, tagged=vlan_text != "untagged",
            cos=int(cos) if cos else (old.cos if old else None),
            dscp=int(dscp) if dscp else (old.dscp if old else None))
    return out


def _port_config(name: str, lines: list[str]) -> PortConfig:
    trust, device = None, False
    description, portfast, poe, policy = "", False, "auto", None
    for line in lines:
        words = line.split()
        if words[:1] == ["description"]:
            description = line.strip().removeprefix("description").strip()
        elif words[:3] == ["mls", "qos", "trust"] and len(words) > 3:
            if words[3] == "device":
                device = True
            else:
                trust = words[3]
        elif words[:2] == ["spanning-tree", "portfast"]:
            portfast = words[2:3] != ["disable"]
        elif words[:3] == ["power", "inline", "never"]:
            poe = "never"
        elif words[:1] == ["network-policy"] and len(words) == 2 and words[1].isdigit():
            policy = int(words[1])
    return PortConfig(interface=name, description=description,
                      trust=trust or ("device cisco-phone" if device else "none"),
                      portfast=portfast, poe_admin=poe, network_policy=policy)


def config_facts(text: str, platform: str = "cisco_ios") -> SwitchConfig:
    """A :class:`SwitchConfig` from ``show running-config`` (or ``… interface IF``) text, parsed with
    hier_config; lines outside ``interface`` and ``network-policy profile`` blocks are ignored."""
    tree = get_hconfig(HCONFIG_PLATFORMS.get(platform, Platform.CISCO_IOS), text)
    ports: dict[str, PortConfig] = {}
    policies: dict[int, dict[str, NetworkPolicy]] = {}
    for child in tree.children:
        words = child.text.split()
        lines = [c.text for c in child.children]
        if words[:1] == ["interface"] and len(words) == 2:
            name = long_interface(words[1])
            ports[name] = _port_config(name, lines)
        elif words[:2] == ["network-policy", "profile"] and len(words) == 3 and words[2].isdigit():
            policies[int(words[2])] = _profile(lines)
    return SwitchConfig(ports=ports, network_policies=policies)


# --- one view per port -----------------------------------------------------------------------------


def cli_port_views(switchports: Mapping[str, Switchport], status: Mapping[str, PortStatus] | None = None, *,
                   in_errors: Mapping[str, int] | None = None, poe: Mapping[str, PoePort] | None = None,
                   lldp: Mapping[str, LldpNeighbor] | None = None, portfast: Mapping[str, bool] | None = None,
                   macs: Mapping[str, tuple[str, ...]] | None = None,
                   config: SwitchConfig | None = None) -> dict[str, PortView]:
    """Long interface name -> :class:`PortView` (``source="cli"``) for every port in ``switchports``
    or ``status``, from the outputs of the functions above (all keyed by long interface name).

    ``mode`` and VLANs come from ``show interfaces switchport`` (``access_vlan`` is None on a
    trunk), state, speed and duplex from ``show interfaces status``, ``trust`` from the config,
    ``portfast`` from ``show spanning-tree`` where it lists the port (an up port) else from the
    config. A source not given leaves its fields ``None`` (``macs`` empty).
    """
    status = status or {}
    cfg = config.ports if config else {}
    names = list(dict.fromkeys([*switchports, *status]))
    out: dict[str, PortView] = {}
    for name in names:
        sp, st, pc = switchports.get(name), status.get(name), cfg.get(name)
        mode = sp.mode if sp else (None if st is None else "trunk" if st.vlan == "trunk"
                                   else "routed" if st.vlan == "routed" else "access")
        access = None if mode == "trunk" else (sp.access_vlan if sp else st.access_vlan if st else None)
        fast = portfast.get(name) if portfast and name in portfast else (pc.portfast if pc else None)
        out[name] = PortView(
            interface=name, source="cli", oper_up=st.oper_up if st else None, mode=mode,
            access_vlan=access, voice_vlan=sp.voice_vlan if sp else None,
            speed_mbps=st.speed_mbps if st else None, duplex=st.duplex if st else None,
            in_errors=(in_errors or {}).get(name), trust=pc.trust if pc else None, portfast=fast,
            poe=(poe or {}).get(name), lldp=(lldp or {}).get(name), macs=tuple((macs or {}).get(name, ())))
    return out


__all__ = ["IF_PREFIXES", "MED_APPS", "CdpNeighbor", "PortConfig", "PortStatus", "SwitchConfig", "SwitchVersion",
           "Switchport", "Vlan", "cdp_facts", "cli_port_views", "config_facts", "duplex_word", "error_counters",
           "lldp_facts", "lldp_table_facts", "long_interface", "mac_table", "med_policies", "poe_facts",
           "speed_mbps", "status_facts", "stp_portfast", "switchport_facts", "uptime_seconds", "version_facts",
           "vlan_facts"]
