"""IOS CLI state machine of the twin's access switch (driven by unmodified netmiko ``cisco_ios``).

One :class:`IosSession` per SSH shell. It reads and writes the switch's live
:class:`~harness.twin.switch.state.SwitchState`, so a VLAN created here is in the next ``show vlan brief``
of every session and in the SNMP view, and a fault that bends the state shows at once. The
``show`` texts are in :mod:`.ios_show`, the running-config and config commands in :mod:`.ios_config`.

Modes and prompts: ``sw1>`` (user), ``sw1#`` (privileged), ``sw1(config)#``,
``sw1(config-vlan)#``, ``sw1(config-if)#``, ``sw1(config-network-policy)#``. Keywords may be
abbreviated as on IOS (``sh vlan br``); an ambiguous abbreviation answers ``% Ambiguous command``,
a short one ``% Incomplete command.``, anything else ``% Invalid input detected at '^' marker.``
with the caret under the bad word.

Paging: ``screen_length`` is 24 lines (IOS default) until ``terminal length N`` (0 = no paging);
the SSH terminal (:mod:`.terminal`) pages the output with `` --More-- ``. Faults read here: ``reject-config=LINE`` (that
config line, compared stripped, answers the invalid-input error) and ``cli-hang=LINE`` (the session
sets ``hung`` and the terminal stops answering it).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from . import ios_config as cfg
from .faults import CLI_HANG, REJECT_CONFIG
from .ios_config import running_config
from .ios_show import (
    RESERVED_VLANS,
    short_name,
    show_clock,
    show_interfaces,
    show_interfaces_status,
    show_interfaces_switchport,
    show_lldp_neighbors_detail,
    show_mac_address_table,
    show_mls_qos_interface,
    show_power_inline,
    show_spanning_tree,
    show_version,
    show_vlan,
    show_vlan_brief,
)
from .state import N_PORTS, PORT_PREFIX, SwitchState, port_name

INVALID = "% Invalid input detected at '^' marker."
PROMPTS = {"user": ">", "exec": "#", "config": "(config)#", "config-vlan": "(config-vlan)#",
           "config-if": "(config-if)#", "config-network-policy": "(config-network-policy)#"}
SCREEN_LENGTH = 24  # IOS default terminal length


# --- command parser -------------------------------------------------------------------------------

Run = Callable[["IosSession", list[object]], str]


@dataclass(frozen=True)
class _Cmd:
    modes: frozenset[str]
    spec: tuple[str, ...]  # literal keywords, or <vlan> <num> <cos> <dscp> <word> <if> <line>
    run: Run


_EXEC = frozenset({"user", "exec"})
_PRIV = frozenset({"exec"})
_SUB = {m: frozenset({m}) for m in ("config-vlan", "config-if", "config-network-policy")}
_CONF = frozenset({"config", *_SUB})
_VLAN, _IF, _NETPOL = _SUB["config-vlan"], _SUB["config-if"], _SUB["config-network-policy"]
_RANGES = {"<vlan>": (1, 4094), "<num>": (0, 2**31), "<cos>": (0, 7), "<dscp>": (0, 63)}


class IosSession:
    """One CLI session on a switch. ``handle(line) -> (output, close)``; output uses ``\\n``.

    ``hide_input`` is true while the session waits for the enable secret (the SSH server turns
    echo off). ``exec(command)`` runs one SSH exec command in user mode. ``screen_length`` is the
    page length the server pages output with (0: none); ``hung`` is set by the ``cli-hang`` fault.
    ``user`` is who the ``! Last configuration change`` line names.
    """

    def __init__(self, st: SwitchState, user: str = "admin") -> None:
        self.st = st
        self.user = user
        self.mode = "user"
        self.awaiting_secret = False
        self.vlan: int | None = None
        self.port: str | None = None
        self.profile: int | None = None
        self.screen_length = SCREEN_LENGTH
        self.hung = False

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

    def enter(self, mode: str, port: str | None = None, vlan: int | None = None,
              profile: int | None = None) -> None:
        self.mode, self.port, self.vlan, self.profile = mode, port, vlan, profile

    def changed(self) -> None:
        cfg.mark_changed(self.st, self.user)

    def handle(self, line: str) -> tuple[str, bool]:
        line = line.rstrip("\r\n")
        if self.awaiting_secret:
            self.awaiting_secret = False
            if self.st.enable_secret and line == self.st.enable_secret:
                self.mode = "exec"
                return "", False
            return "% Access denied\n\n", False
        stripped = line.strip()
        if not stripped:
            return "", False
        if stripped in ("exit", "logout", "quit") and self.mode in _EXEC:
            return "", True
        if self.mode in _CONF:
            if stripped == CLI_HANG.value(self.st):
                self.hung = True
                return "", False
            if stripped == REJECT_CONFIG.value(self.st):
                last = [m.start() for m in re.finditer(r"\S+", line)][-1]
                return " " * (len(self.prompt()) + last) + "^\n" + INVALID + "\n\n", False
        return self._dispatch(line, self.mode), False

    # -- matching ------------------------------------------------------------------------------

    def _arg(self, kind: str, toks: list[str], i: int) -> tuple[object, int] | None:
        """Parse one argument at ``toks[i]``; returns (value, tokens used) or None."""
        t = toks[i]
        if kind in _RANGES:
            lo, hi = _RANGES[kind]
            return (int(t), 1) if t.isdigit() and lo <= int(t) <= hi else None
        if kind == "<word>":
            return t, 1
        if kind == "<if>":
            for used in (1, 2):
                name = port_name(self.st, " ".join(toks[i : i + used]))
                if name:
                    return name, used
        return None

    def _match(self, spec: tuple[str, ...], toks: list[str], line: str,
               cols: list[int]) -> tuple[list[object] | None, int, int]:
        """Match ``toks`` against ``spec``: (args or None, index of the bad token, exact keywords)."""
        args: list[object] = []
        i = exact = 0
        for s in spec:
            if i >= len(toks):
                return None, len(toks), exact
            if s == "<line>":
                args.append(line[cols[i]:].strip())
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
        full: list[tuple[int, int, _Cmd, list[object]]] = []
        furthest = 0
        for c in _commands_for(mode):
            args, bad, exact = self._match(c.spec, toks, line, cols)
            if args is not None:
                full.append((exact, 0 if c.modes & _SUB.get(mode, frozenset()) else -1, c, args))
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

    def _length(self, a: list[object]) -> str:
        self.screen_length = int(str(a[0]))
        return ""

    def _configure(self, _: list[object]) -> str:
        self.enter("config")
        return "Enter configuration commands, one per line.  End with CNTL/Z.\n"

    def _write(self, _: list[object]) -> str:
        self.st.saved_config = running_config(self.st)
        return "Building configuration...\n[OK]\n"

    def _exit(self, _: list[object]) -> str:
        self.enter("config" if self.mode in _SUB else "exec")
        return ""

    def _end(self, _: list[object]) -> str:
        self.enter("exec")
        return ""

    def _do(self, a: list[object]) -> str:
        return self._dispatch(str(a[0]), "exec")


def _c(modes: frozenset[str], spec: str, run: Run) -> _Cmd:
    return _Cmd(modes, tuple(spec.split()), run)


def _const(text: str) -> Run:
    return lambda s, a: text


def _port_arg(show: Callable[[SwitchState, str | None], str]) -> Run:
    return lambda s, a: show(s.st, str(a[0]) if a else None)


def _set(**kw: object) -> Run:
    return lambda s, a: cfg.set_port(s, **kw)


COMMANDS: list[_Cmd] = [
    _c(_EXEC, "enable", IosSession._enable),
    _c(_PRIV, "disable", IosSession._disable),
    _c(_EXEC, "terminal length <num>", IosSession._length),
    _c(_EXEC, "terminal width <num>", _const("")),
    _c(_EXEC, "terminal no monitor", _const("")),
    _c(_EXEC, "show version", lambda s, a: show_version(s.st)),
    _c(_EXEC, "show clock", lambda s, a: show_clock(s.st)),
    _c(_EXEC, "show vlan", lambda s, a: show_vlan(s.st)),
    _c(_EXEC, "show vlan brief", lambda s, a: show_vlan_brief(s.st)),
    _c(_EXEC, "show interfaces", _port_arg(show_interfaces)),
    _c(_EXEC, "show interfaces <if>", _port_arg(show_interfaces)),
    _c(_EXEC, "show interfaces status", _port_arg(show_interfaces_status)),
    _c(_EXEC, "show interfaces <if> status", _port_arg(show_interfaces_status)),
    _c(_EXEC, "show interfaces switchport", _port_arg(show_interfaces_switchport)),
    _c(_EXEC, "show interfaces <if> switchport", _port_arg(show_interfaces_switchport)),
    _c(_EXEC, "show lldp neighbors detail", lambda s, a: show_lldp_neighbors_detail(s.st)),
    _c(_EXEC, "show power inline", lambda s, a: show_power_inline(s.st)),
    _c(_EXEC, "show spanning-tree", lambda s, a: show_spanning_tree(s.st)),
    _c(_EXEC, "show mac address-table", lambda s, a: show_mac_address_table(s.st)),
    _c(_EXEC, "show mac address-table interface <if>", lambda s, a: show_mac_address_table(s.st, str(a[0]))),
    _c(_EXEC, "show mac address-table vlan <vlan>",
       lambda s, a: show_mac_address_table(s.st, vlan=int(str(a[0])))),
    _c(_EXEC, "show mls qos interface", _port_arg(show_mls_qos_interface)),
    _c(_EXEC, "show mls qos interface <if>", _port_arg(show_mls_qos_interface)),
    _c(_PRIV, "show running-config", lambda s, a: running_config(s.st)),
    _c(_PRIV, "show running-config interface <if>", lambda s, a: running_config(s.st, str(a[0]))),
    _c(_PRIV, "configure terminal", IosSession._configure),
    _c(_PRIV, "write memory", IosSession._write),
    _c(_PRIV, "copy running-config startup-config", IosSession._write),
    # global configuration (accepted in every config mode, as IOS does)
    _c(_CONF, "hostname <word>", cfg.hostname),
    _c(_CONF, "no hostname", cfg.hostname),
    _c(_CONF, "no hostname <word>", lambda s, a: cfg.hostname(s, [])),
    _c(_CONF, "vlan <vlan>", cfg.vlan),
    _c(_CONF, "no vlan <vlan>", cfg.no_vlan),
    _c(_CONF, "interface <if>", cfg.interface),
    _c(_CONF, "network-policy profile <num>", cfg.profile),
    _c(_CONF, "no network-policy profile <num>", cfg.no_profile),
    _c(_CONF, "exit", IosSession._exit),
    _c(_CONF, "end", IosSession._end),
    _c(_CONF, "do <line>", IosSession._do),
    _c(_VLAN, "name <word>", cfg.vlan_name),
    _c(_VLAN, "no name", cfg.no_vlan_name),
    _c(_VLAN, "no name <word>", cfg.no_vlan_name),
    _c(_NETPOL, "voice vlan <vlan>", cfg.voice(None)),
    _c(_NETPOL, "voice vlan <vlan> cos <cos>", cfg.voice("cos")),
    _c(_NETPOL, "voice vlan <vlan> dscp <dscp>", cfg.voice("dscp")),
    _c(_NETPOL, "no voice vlan", cfg.no_voice(None)),
    _c(_NETPOL, "no voice vlan <vlan>", cfg.no_voice(None)),
    _c(_NETPOL, "no voice vlan <vlan> cos <cos>", cfg.no_voice("cos")),
    _c(_NETPOL, "no voice vlan <vlan> dscp <dscp>", cfg.no_voice("dscp")),
    # interface configuration
    _c(_IF, "switchport", _const("")),
    _c(_IF, "switchport mode access", _set(mode="access")),
    _c(_IF, "switchport mode trunk", _set(mode="trunk")),
    _c(_IF, "switchport mode dynamic auto", _set(mode="dynamic auto")),
    _c(_IF, "no switchport mode", cfg.no_mode),
    _c(_IF, "no switchport mode <line>", cfg.no_mode),
    _c(_IF, "switchport access vlan <vlan>", cfg.port_vlan("access")),
    _c(_IF, "no switchport access vlan", cfg.no_access_vlan),
    _c(_IF, "no switchport access vlan <vlan>", cfg.no_access_vlan),
    _c(_IF, "switchport voice vlan <vlan>", cfg.port_vlan("voice")),
    _c(_IF, "no switchport voice vlan", cfg.no_voice_vlan),
    _c(_IF, "no switchport voice vlan <vlan>", cfg.no_voice_vlan),
    _c(_IF, "description <line>", lambda s, a: cfg.set_port(s, description=str(a[0])[:200])),
    _c(_IF, "no description", cfg.no_description),
    _c(_IF, "no description <line>", cfg.no_description),
    _c(_IF, "network-policy <num>", lambda s, a: cfg.set_port(s, network_policy=int(str(a[0])))),
    _c(_IF, "no network-policy", cfg.no_network_policy),
    _c(_IF, "no network-policy <num>", cfg.no_network_policy),
    _c(_IF, "power inline auto", _set(poe_admin="auto")),
    _c(_IF, "power inline never", _set(poe_admin="never")),
    _c(_IF, "no power inline", _set(poe_admin="auto")),
    _c(_IF, "no power inline never", _set(poe_admin="auto")),
    _c(_IF, "no power inline auto", _set(poe_admin="auto")),
    _c(_IF, "mls qos trust dscp", cfg.trust("dscp")),
    _c(_IF, "mls qos trust cos", cfg.trust("cos")),
    _c(_IF, "mls qos trust device cisco-phone", cfg.trust("device cisco-phone")),
    _c(_IF, "no mls qos trust", cfg.no_trust(None)),
    _c(_IF, "no mls qos trust dscp", cfg.no_trust("dscp")),
    _c(_IF, "no mls qos trust cos", cfg.no_trust("cos")),
    _c(_IF, "no mls qos trust device cisco-phone", cfg.no_trust("device cisco-phone")),
    _c(_IF, "spanning-tree portfast", cfg.portfast),
    _c(_IF, "no spanning-tree portfast", _set(portfast=False)),
    _c(_IF, "shutdown", _set(admin_up=False)),
    _c(_IF, "no shutdown", _set(admin_up=True)),
]

_BY_MODE: dict[str, list[_Cmd]] = {}


def _commands_for(mode: str) -> list[_Cmd]:
    """Commands valid in ``mode`` (sub-mode commands plus the global config ones), cached."""
    got = _BY_MODE.get(mode)
    if got is None:
        got = _BY_MODE[mode] = [c for c in COMMANDS if mode in c.modes]
    return got


__all__ = ["COMMANDS", "INVALID", "N_PORTS", "PORT_PREFIX", "RESERVED_VLANS", "IosSession", "port_name",
           "running_config", "short_name", "show_vlan_brief"]
