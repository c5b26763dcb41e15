"""IOS CLI state machine of the twin's access switch (driven by unmodified netmiko ``cisco_ios``).

One :class:`IosSession` per SSH shell. It reads and writes the switch's live
:class:`~harness.twin.state.SwitchState`, so a VLAN created here is in the next ``show vlan brief``
of every session and in the SNMP view, and a fault that bends the state shows at once.

Modes and prompts: ``sw1>`` (user), ``sw1#`` (privileged), ``sw1(config)#``,
``sw1(config-vlan)#``, ``sw1(config-if)#``. Keywords may be abbreviated as on IOS (``sh vlan br``);
an ambiguous abbreviation answers ``% Ambiguous command``, a short one ``% Incomplete command.``,
and anything else ``% Invalid input detected at '^' marker.`` with the caret under the bad word.

The ``show`` texts are laid out like real captures (ntc-templates' ``tests/cisco_ios`` raw files of
a Catalyst 9500 ``show version``, a ``show vlan`` and a ``show interfaces switchport`` with voice
VLAN), so the ntc-templates ``cisco_ios`` templates parse them without ``Error``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..inventory.models import Lab, PhoneDevice, SwitchDevice
from .state import Neighbor, NetworkPolicy, PortState, SwitchState

N_PORTS = 48  # project choice: a 48-port access switch (WS-C3850-48P)
PORT_PREFIX = "GigabitEthernet1/0/"
RESERVED_VLANS = {1002: "fddi-default", 1003: "token-ring-default", 1004: "fddinet-default",
                  1005: "trnet-default"}
PORTS_WIDTH = 62  # the capture wraps the Ports column of `show vlan` after about 62 characters

INVALID = "% Invalid input detected at '^' marker."
PROMPTS = {"user": ">", "exec": "#", "config": "(config)#", "config-vlan": "(config-vlan)#",
           "config-if": "(config-if)#"}


def populate_switch(st: SwitchState, name: str, lab: Lab) -> None:
    """Give a freshly booted switch its inventory configuration (only when ``st.ports`` is empty).

    48 access ports ``GigabitEthernet1/0/1..48`` in VLAN 1 with the link down; VLANs 1 ``default``,
    ``facts.data_vlan`` ``DATA`` and ``facts.voice_vlan`` (``facts.voice_vlan_name`` or ``VOICE``),
    LLDP-MED network-policy profile 1 (voice VLAN, CoS 5, DSCP 46). Every phone whose
    ``facts.switch_port`` names this switch sits on its port as the lab's intent asks: link up at
    1000/full, access port in the data VLAN with the voice VLAN, ``mls qos trust dscp``, portfast,
    PoE on, network-policy 1, and the phone as LLDP neighbour (its MAC, model, serial, firmware,
    address and ``facts.poe_class``, default class 2).
    """
    if st.ports:
        return
    dev = lab.devices[name]
    facts = dev.facts if isinstance(dev, SwitchDevice) else None
    data_vlan = facts.data_vlan if facts else None
    voice_vlan = facts.voice_vlan if facts else None
    if data_vlan:
        st.vlans[data_vlan] = "DATA"
    if voice_vlan and facts:
        st.vlans[voice_vlan] = facts.voice_vlan_name or "VOICE"
        st.network_policies[1] = NetworkPolicy(vlan=voice_vlan, cos=5, dscp=46)
    for n in range(1, N_PORTS + 1):
        st.ports[f"{PORT_PREFIX}{n}"] = PortState(name=f"{PORT_PREFIX}{n}", if_index=n, oper_up=False)
    for phone, d in lab.devices.items():
        if not isinstance(d, PhoneDevice):
            continue
        sp = d.facts.switch_port
        if sp is None or sp.switch != name or sp.port not in st.ports:
            continue
        p = st.ports[sp.port]
        p.oper_up = True
        p.access_vlan = data_vlan or 1
        p.voice_vlan = voice_vlan
        p.network_policy = 1 if voice_vlan else None
        p.trust = "dscp"
        p.portfast = True
        pf = d.facts
        p.neighbor = Neighbor(name=phone, mac=pf.mac,
                              model=pf.model or "VVX 450", serial=pf.mac.replace(":", "").upper(),
                              firmware=pf.firmware or "6.4.3", mgmt_ip=d.host,
                              poe_class=pf.poe_class if pf.poe_class is not None else 2)


def short_name(port: str) -> str:
    """``GigabitEthernet1/0/1`` -> ``Gi1/0/1`` (the form IOS prints in tables)."""
    return re.sub(r"^GigabitEthernet", "Gi", port)


def _port_order(name: str) -> list[int]:
    return [int(x) for x in re.findall(r"\d+", name)]


def _uptime(seconds: float) -> str:
    """IOS uptime text: ``1 year, 22 weeks, 6 days, 9 hours, 38 minutes`` (zero parts left out)."""
    s = int(seconds)
    parts = []
    for unit, size in (("year", 365 * 86400), ("week", 7 * 86400), ("day", 86400), ("hour", 3600)):
        n, s = divmod(s, size)
        if n:
            parts.append(f"{n} {unit}{'s' if n != 1 else ''}")
    m = s // 60
    parts.append(f"{m} minute{'s' if m != 1 else ''}")
    return ", ".join(parts)


def show_version(st: SwitchState) -> str:
    """IOS-XE ``show version`` of a single Catalyst, after the C9500 capture in ntc-templates."""
    boot = time.gmtime(st.boot_time)
    restarted = time.strftime(f"%H:%M:%S UTC %a %b {boot.tm_mday} %Y", boot)
    padded = ".".join(p.zfill(2) if i else p for i, p in enumerate(st.version.split(".")))
    up = _uptime(st.uptime_s())
    return f"""Cisco IOS XE Software, Version {padded}
Cisco IOS Software [Gibraltar], Catalyst L3 Switch Software (CAT3K_CAA-UNIVERSALK9-M), \
Version {st.version}, RELEASE SOFTWARE (fc5)
Technical Support: http://www.cisco.com/techsupport
Copyright (c) 1986-2020 by Cisco Systems, Inc.
Compiled Thu 09-Jul-20 21:49 by mcpre


Cisco IOS-XE software, Copyright (c) 2005-2020 by cisco Systems, Inc.
All rights reserved.  Certain components of Cisco IOS-XE software are
licensed under the GNU General Public License ("GPL") Version 2.0.


ROM: IOS-XE ROMMON
BOOTLDR: CAT3K_CAA Boot Loader (CAT3K_CAA-HBOOT-M) Version 4.68, RELEASE SOFTWARE (P)

{st.hostname} uptime is {up}
Uptime for this control processor is {up}
System returned to ROM by Power Failure or Unknown
System restarted at {restarted}
System image file is "flash:packages.conf"
Last reload reason: Power Failure or Unknown


cisco {st.model} (MIPS) processor (revision AB0) with 795688K/6147K bytes of memory.
Processor board ID {st.serial}
1 Virtual Ethernet interface
{N_PORTS + 4} Gigabit Ethernet interfaces
4 Ten Gigabit Ethernet interfaces
2048K bytes of non-volatile configuration memory.
4194304K bytes of physical memory.
1611414K bytes of Crash Files at crashinfo:.
1611414K bytes of Flash at flash:.

Base Ethernet MAC Address          : {st.base_mac}
Motherboard Assembly Number        : 73-15800-08
Motherboard Serial Number          : {st.serial}
Model Revision Number              : AB0
Motherboard Revision Number        : A0
Model Number                       : {st.model}
System Serial Number               : {st.serial}


Switch Ports Model              SW Version        SW Image              Mode
------ ----- -----              ----------        ----------            ----
*    1 {N_PORTS + 8:<5} {st.model:<18} {st.version:<17} CAT3K_CAA-UNIVERSALK9 INSTALL


Configuration register is 0x102
"""


def _vlan_members(st: SwitchState, vid: int) -> list[str]:
    """Access ports in ``vid`` as access or voice VLAN (trunks are not listed), in port order."""
    ports = [p for p in st.ports.values() if p.mode == "access" and vid in (p.access_vlan, p.voice_vlan)]
    return [short_name(p.name) for p in sorted(ports, key=lambda p: _port_order(p.name))]


def _vlan_rows(st: SwitchState) -> list[tuple[int, str, str, list[str]]]:
    rows = [(vid, name, "active", _vlan_members(st, vid)) for vid, name in sorted(st.vlans.items())]
    return rows + [(vid, name, "act/unsup", []) for vid, name in RESERVED_VLANS.items()]


def show_vlan_brief(st: SwitchState) -> str:
    """``show vlan brief``: ports wrapped onto continuation lines at column 48, as IOS does."""
    out = ["", "VLAN Name                             Status    Ports",
           "---- -------------------------------- --------- -------------------------------"]
    for vid, name, status, ports in _vlan_rows(st):
        lines: list[str] = []
        cur = ""
        for p in ports:
            if cur and len(cur) + 2 + len(p) > PORTS_WIDTH:
                lines.append(cur)
                cur = p
            else:
                cur = f"{cur}, {p}" if cur else p
        lines.append(cur)
        out.append(f"{vid:<4} {name[:32]:<32} {status:<9} {lines[0]}".rstrip() + (" " if not ports else ""))
        out += [" " * 48 + cont for cont in lines[1:]]
    return "\n".join(out) + "\n"


def show_vlan(st: SwitchState) -> str:
    """``show vlan``: the brief table plus the VLAN type table."""
    out = [show_vlan_brief(st).rstrip("\n"), "",
           "VLAN Type  SAID       MTU   Parent RingNo BridgeNo Stp  BrdgMode Trans1 Trans2",
           "---- ----- ---------- ----- ------ ------ -------- ---- -------- ------ ------"]
    for vid, _, _, _ in _vlan_rows(st):
        out.append(f"{vid:<4} enet  {100000 + vid:<10} 1500  -      -      -        -    -        0      0")
    out += ["", "Remote SPAN VLANs", "-" * 78, "", "",
            "Primary Secondary Type              Ports",
            "------- --------- ----------------- ------------------------------------------"]
    return "\n".join(out) + "\n"


def _vlan_ref(st: SwitchState, vid: int) -> str:
    return f"{vid} ({st.vlans.get(vid, 'default' if vid == 1 else 'Inactive')})"


def _switchport_block(st: SwitchState, p: PortState) -> str:
    trunk = p.mode == "trunk"
    up = p.admin_up and p.oper_up
    oper = ("trunk" if trunk else "static access") if up else "down"
    voice = _vlan_ref(st, p.voice_vlan) if p.voice_vlan else "none"
    return f"""Name: {short_name(p.name)}
Switchport: Enabled
Administrative Mode: {"trunk" if trunk else "static access"}
Operational Mode: {oper}
Administrative Trunking Encapsulation: dot1q
Operational Trunking Encapsulation: {"dot1q" if trunk else "native"}
Negotiation of Trunking: {"On" if trunk else "Off"}
Access Mode VLAN: {_vlan_ref(st, p.access_vlan)}
Trunking Native Mode VLAN: 1 (default)
Administrative Native VLAN tagging: enabled
Voice VLAN: {voice}
Administrative private-vlan host-association: none
Administrative private-vlan mapping: none
Administrative private-vlan trunk native VLAN: none
Administrative private-vlan trunk Native VLAN tagging: enabled
Administrative private-vlan trunk encapsulation: dot1q
Administrative private-vlan trunk normal VLANs: none
Administrative private-vlan trunk associations: none
Administrative private-vlan trunk mappings: none
Operational private-vlan: none
Trunking VLANs Enabled: ALL
Pruning VLANs Enabled: 2-1001
Capture Mode Disabled
Capture VLANs Allowed: ALL

Protected: false
Unknown unicast blocked: disabled
Unknown multicast blocked: disabled
Appliance trust: none
"""


def show_interfaces_switchport(st: SwitchState, port: str | None = None) -> str:
    """``show interfaces [IF] switchport``: one block per port, blank line between blocks."""
    ports = [st.ports[port]] if port else sorted(st.ports.values(), key=lambda p: _port_order(p.name))
    return "\n" + "\n".join(_switchport_block(st, p) for p in ports)


def _interface_config(st: SwitchState, p: PortState) -> list[str]:
    lines = [f"interface {p.name}"]
    if p.description:
        lines.append(f" description {p.description}")
    if p.access_vlan != 1:
        lines.append(f" switchport access vlan {p.access_vlan}")
    lines.append(f" switchport mode {p.mode}")
    if p.voice_vlan:
        lines.append(f" switchport voice vlan {p.voice_vlan}")
    if not p.admin_up:
        lines.append(" shutdown")
    return [*lines, "!"]


def running_config(st: SwitchState, port: str | None = None) -> str:
    """``show running-config [interface IF]`` (VTP transparent: VLANs are in the config)."""
    body: list[str] = []
    if port:
        body += _interface_config(st, st.ports[port])
    else:
        body += ["!", f"version {'.'.join(st.version.split('.')[:2])}",
                 "service timestamps debug datetime msec", "no service pad", "!",
                 f"hostname {st.hostname}", "!", "vtp mode transparent", "!"]
        for vid, name in sorted(st.vlans.items()):
            if vid != 1:
                body += [f"vlan {vid}", f" name {name}", "!"]
        for p in sorted(st.ports.values(), key=lambda p: _port_order(p.name)):
            body += _interface_config(st, p)
        body += ["line con 0", " stopbits 1", "line vty 0 15", " login local", " transport input ssh", "!"]
    text = "\n".join(body) + "\nend\n"
    head = "Building configuration...\n\n" + f"Current configuration : {len(text)} bytes\n"
    return head + text


# --- command parser -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Cmd:
    modes: frozenset[str]
    spec: tuple[str, ...]  # literal keywords, or <vlan> <num> <word> <if> <line>
    run: Callable[[IosSession, list[object]], str]


_EXEC = frozenset({"user", "exec"})
_PRIV = frozenset({"exec"})
_CONF = frozenset({"config", "config-vlan", "config-if"})
_VLAN = frozenset({"config-vlan"})
_IF = frozenset({"config-if"})
_SUB = {"config-vlan": _VLAN, "config-if": _IF}


class IosSession:
    """One CLI session on a switch. ``handle(line) -> (output, close)``; output uses ``\\n``.

    ``hide_input`` is true while the session waits for the enable secret (the SSH server turns
    echo off). ``exec(command)`` runs one SSH exec command in user mode.
    """

    def __init__(self, st: SwitchState) -> None:
        self.st = st
        self.mode = "user"
        self.awaiting_secret = False
        self.vlan: int | None = None
        self.port: str | None = None

    @property
    def hide_input(self) -> bool:
        return self.awaiting_secret

    def banner(self) -> str:
        return "\n"

    def prompt(self) -> str:
        return "Password: " if self.awaiting_secret else self.st.hostname + PROMPTS[self.mode]

    def exec(self, command: str) -> tuple[str, int]:
        out, _ = self.handle(command)
        return out, 1 if out.startswith("% ") or "\n% " in out else 0

    def handle(self, line: str) -> tuple[str, bool]:
        line = line.rstrip("\r\n")
        if self.awaiting_secret:
            self.awaiting_secret = False
            if self.st.enable_secret and line == self.st.enable_secret:
                self.mode = "exec"
                return "", False
            return "% Access denied\n\n", False
        if not line.strip():
            return "", False
        if line.strip() in ("exit", "logout", "quit") and self.mode in _EXEC:
            return "", True
        return self._dispatch(line, self.mode), False

    # -- matching ------------------------------------------------------------------------------

    def _arg(self, kind: str, toks: list[str], i: int) -> tuple[object, int] | None:
        """Parse one argument at ``toks[i]``; returns (value, tokens used) or None."""
        t = toks[i]
        if kind in ("<vlan>", "<num>"):
            if not t.isdigit() or (kind == "<vlan>" and not 1 <= int(t) <= 4094):
                return None
            return int(t), 1
        if kind == "<word>":
            return t, 1
        if kind == "<if>":
            for used in (1, 2):
                m = re.fullmatch(r"(?i)(gi[a-z]*)\s*(\d+/\d+/\d+)", " ".join(toks[i : i + used]))
                if m and "gigabitethernet".startswith(m.group(1).lower()):
                    name = PORT_PREFIX[:-4] + m.group(2)
                    if name in self.st.ports:
                        return name, used
        return None

    def _match(self, spec: tuple[str, ...], toks: list[str]) -> tuple[list[object] | None, int, int]:
        """Match ``toks`` against ``spec``: (args or None, index of the bad token, exact keywords)."""
        args: list[object] = []
        i = exact = 0
        for s in spec:
            if i >= len(toks):
                return None, len(toks), exact
            if s == "<line>":
                args.append(" ".join(toks[i:]))
                i = len(toks)
                continue
            if s.startswith("<"):
                got = self._arg(s, toks, i)
                if got is None:
                    return None, i, exact
                args.append(got[0])
                i += got[1]
                continue
            if not s.startswith(toks[i].lower()):
                return None, i, exact
            exact += toks[i].lower() == s
            i += 1
        if i < len(toks):
            return None, i, exact
        return args, -1, exact

    def _dispatch(self, line: str, mode: str) -> str:
        toks = line.split()
        cols = [m.start() for m in re.finditer(r"\S+", line)]
        modes = _SUB.get(mode, frozenset()) | {mode}
        cands = [c for c in COMMANDS if c.modes & modes]
        full: list[tuple[int, int, _Cmd, list[object]]] = []
        furthest = 0
        for c in cands:
            args, bad, exact = self._match(c.spec, toks)
            if args is not None:
                sub_first = 0 if c.modes & _SUB.get(mode, frozenset()) else 1
                full.append((exact, -sub_first, c, args))
            else:
                furthest = max(furthest, bad)
        if full:
            full.sort(key=lambda f: (f[0], f[1]), reverse=True)
            if len(full) > 1 and full[0][:2] == full[1][:2] and full[0][2].spec != full[1][2].spec:
                return f'% Ambiguous command:  "{line.strip()}"\n'
            return full[0][2].run(self, full[0][3])
        if furthest >= len(toks):
            return "% Incomplete command.\n\n"
        caret = len(self.prompt()) + cols[furthest] if mode == self.mode else cols[furthest]
        return " " * caret + "^\n" + INVALID + "\n\n"

    # -- exec commands ---------------------------------------------------------------------------

    def _enable(self, _: list[object]) -> str:
        if self.mode == "exec":
            return ""
        if not self.st.enable_secret:
            return "% No password set\n"
        self.awaiting_secret = True
        return ""

    def _disable(self, _: list[object]) -> str:
        self.mode = "user"
        return ""

    def _configure(self, _: list[object]) -> str:
        self.mode = "config"
        return "Enter configuration commands, one per line.  End with CNTL/Z.\n"

    def _write(self, _: list[object]) -> str:
        self.st.saved_config = running_config(self.st)
        return "Building configuration...\n[OK]\n"

    # -- config commands -------------------------------------------------------------------------

    def _changed(self) -> None:
        self.st.config_changes += 1

    def _vlan(self, a: list[object]) -> str:
        vid = int(str(a[0]))
        if vid in RESERVED_VLANS:
            return f"%Default VLAN {vid} may not be modified.\n"
        if vid not in self.st.vlans:
            self.st.vlans[vid] = f"VLAN{vid:04d}"
            self._changed()
        self.mode, self.vlan, self.port = "config-vlan", vid, None
        return ""

    def _no_vlan(self, a: list[object]) -> str:
        vid = int(str(a[0]))
        if vid == 1 or vid in RESERVED_VLANS:
            return f"%Default VLAN {vid} may not be deleted.\n"
        if self.st.vlans.pop(vid, None) is not None:
            self._changed()
        return ""

    def _name(self, a: list[object]) -> str:
        assert self.vlan is not None
        if self.vlan == 1:
            return "%Default VLAN 1 may not have its name changed.\n"
        self.st.vlans[self.vlan] = str(a[0])[:32]
        self._changed()
        return ""

    def _interface(self, a: list[object]) -> str:
        self.mode, self.port, self.vlan = "config-if", str(a[0]), None
        return ""

    def _port_state(self) -> PortState:
        assert self.port is not None
        return self.st.ports[self.port]

    def _set_port(self, **kw: object) -> str:
        p = self._port_state()
        for k, v in kw.items():
            setattr(p, k, v)
        self._changed()
        return ""

    def _port_vlan(self, kind: str, a: list[object]) -> str:
        """``switchport access|voice vlan N``: IOS creates a missing VLAN and says so."""
        vid = int(str(a[0]))
        msg = ""
        if vid not in self.st.vlans:
            msg = f"% {kind.capitalize()} VLAN does not exist. Creating vlan {vid}\n"
            self.st.vlans[vid] = f"VLAN{vid:04d}"
        return self._set_port(**{f"{kind}_vlan": vid}) + msg

    def _access_vlan(self, a: list[object]) -> str:
        return self._port_vlan("access", a)

    def _voice_vlan(self, a: list[object]) -> str:
        return self._port_vlan("voice", a)

    def _exit(self, _: list[object]) -> str:
        self.mode = "config" if self.mode in _SUB else "exec"
        self.vlan = self.port = None
        return ""

    def _end(self, _: list[object]) -> str:
        self.mode, self.vlan, self.port = "exec", None, None
        return ""

    def _do(self, a: list[object]) -> str:
        return self._dispatch(str(a[0]), "exec")


def _c(modes: frozenset[str], spec: str, run: Callable[[IosSession, list[object]], str]) -> _Cmd:
    return _Cmd(modes, tuple(spec.split()), run)


def _const(text: str) -> Callable[[IosSession, list[object]], str]:
    return lambda s, a: text


COMMANDS: list[_Cmd] = [
    _c(_EXEC, "enable", IosSession._enable),
    _c(_PRIV, "disable", IosSession._disable),
    _c(_EXEC, "terminal length <num>", _const("")),
    _c(_EXEC, "terminal width <num>", _const("")),
    _c(_EXEC, "terminal no monitor", _const("")),
    _c(_EXEC, "show version", lambda s, a: show_version(s.st)),
    _c(_EXEC, "show vlan", lambda s, a: show_vlan(s.st)),
    _c(_EXEC, "show vlan brief", lambda s, a: show_vlan_brief(s.st)),
    _c(_EXEC, "show interfaces switchport", lambda s, a: show_interfaces_switchport(s.st)),
    _c(_EXEC, "show interfaces <if> switchport", lambda s, a: show_interfaces_switchport(s.st, str(a[0]))),
    _c(_PRIV, "show running-config", lambda s, a: running_config(s.st)),
    _c(_PRIV, "show running-config interface <if>", lambda s, a: running_config(s.st, str(a[0]))),
    _c(_PRIV, "configure terminal", IosSession._configure),
    _c(_PRIV, "write memory", IosSession._write),
    _c(_PRIV, "copy running-config startup-config", IosSession._write),
    _c(_CONF, "vlan <vlan>", IosSession._vlan),
    _c(_CONF, "no vlan <vlan>", IosSession._no_vlan),
    _c(_CONF, "interface <if>", IosSession._interface),
    _c(_CONF, "exit", IosSession._exit),
    _c(_CONF, "end", IosSession._end),
    _c(_CONF, "do <line>", IosSession._do),
    _c(_VLAN, "name <word>", IosSession._name),
    _c(_IF, "switchport mode access", lambda s, a: s._set_port(mode="access")),
    _c(_IF, "switchport mode trunk", lambda s, a: s._set_port(mode="trunk")),
    _c(_IF, "switchport access vlan <vlan>", IosSession._access_vlan),
    _c(_IF, "no switchport access vlan", lambda s, a: s._set_port(access_vlan=1)),
    _c(_IF, "switchport voice vlan <vlan>", IosSession._voice_vlan),
    _c(_IF, "no switchport voice vlan", lambda s, a: s._set_port(voice_vlan=None)),
    _c(_IF, "description <line>", lambda s, a: s._set_port(description=str(a[0]))),
    _c(_IF, "no description", lambda s, a: s._set_port(description="")),
]
