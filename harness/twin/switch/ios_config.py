"""Running configuration of the twin's IOS switch, and the config-mode commands that change it.

``running_config`` renders the state canonically: the order of lines depends only on the state
(VLANs by number, network-policy profiles by number, interfaces by port number, a fixed line order
inside each), never on the order commands were typed. Every line it prints under an interface or
globally has a ``no`` form that returns the state to one where the line is not printed, so a
rollback computed by hier_config from two running-configs restores the first line for line.

Interface lines, in print order (a line is printed only when it differs from the IOS default)::

    description TEXT                 switchport access vlan N (N != 1)
    switchport mode access|trunk     switchport voice vlan N
    network-policy N                 power inline never
    mls qos trust dscp|cos           mls qos trust device cisco-phone
    spanning-tree portfast           shutdown

Global: ``hostname``, ``vlan N`` (`` name X`` unless the default ``VLAN00NN``), ``network-policy
profile N`` with `` voice vlan V cos C`` and `` voice vlan V dscp D``. A profile exists while it
has a voice policy; ``no voice vlan V cos C`` puts CoS back to 5 (and removes the policy when it
already was 5), likewise DSCP with 46. The ``! Last configuration change at … by USER`` line is
volatile (the time and user of the last accepted config command).

Handlers take ``(session, args)`` and return the text IOS prints (mostly nothing); the session is
any :class:`ConfigSession` (the IOS session of :mod:`.ios`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from .ios_show import RESERVED_VLANS, ios_time, sorted_ports
from .state import DEFAULT_POLICY_COS, DEFAULT_POLICY_DSCP, NetworkPolicy, PortState, SwitchState


class ConfigSession(Protocol):
    """What a config handler uses of a CLI session: the switch, the sub-mode's port / VLAN /
    network-policy profile, a way to change mode and one to record a config change."""

    st: SwitchState
    port: str | None
    vlan: int | None
    profile: int | None

    def enter(self, mode: str, port: str | None = None, vlan: int | None = None,
              profile: int | None = None) -> None: ...

    def changed(self) -> None: ...


Handler = Callable[[ConfigSession, list[object]], str]

DEFAULT_HOSTNAME = "Switch"
PORTFAST_WARNING = """%Warning: portfast should only be enabled on ports connected to a single
 host. Connecting hubs, concentrators, switches, bridges, etc... to this
 interface  when portfast is enabled, can cause temporary bridging loops.
 Use with CAUTION
"""


def default_vlan_name(vid: int) -> str:
    return "default" if vid == 1 else f"VLAN{vid:04d}"


def last_change(st: SwitchState) -> tuple[float, str]:
    """(time, user) of the last config change; the boot time and ``admin`` before any."""
    return st.last_change or (st.boot_time, "admin")


def mark_changed(st: SwitchState, user: str) -> None:
    st.config_changes += 1
    st.last_change = (time.time(), user)


def interface_lines(p: PortState) -> list[str]:
    """The config lines of one port, canonical order, without the ``interface`` line."""
    lines = []
    if p.description:
        lines.append(f" description {p.description}")
    if p.access_vlan != 1:
        lines.append(f" switchport access vlan {p.access_vlan}")
    if p.mode in ("access", "trunk"):
        lines.append(f" switchport mode {p.mode}")
    if p.voice_vlan:
        lines.append(f" switchport voice vlan {p.voice_vlan}")
    if p.network_policy is not None:
        lines.append(f" network-policy {p.network_policy}")
    if p.poe_admin == "never":
        lines.append(" power inline never")
    if p.trust:
        lines.append(f" mls qos trust {p.trust}")
    if p.portfast:
        lines.append(" spanning-tree portfast")
    if not p.admin_up:
        lines.append(" shutdown")
    return lines


def running_config(st: SwitchState, port: str | None = None) -> str:
    """``show running-config [interface IF]`` (VTP transparent: VLANs are in the config)."""
    if port:
        p = st.ports[port]
        body = ["!", f"interface {p.name}", *interface_lines(p)]
    else:
        when, user = last_change(st)
        body = ["!", f"! Last configuration change at {ios_time(when)} by {user}", "!",
                f"version {'.'.join(st.version.split('.')[:2])}"]
        if st.hostname != DEFAULT_HOSTNAME:
            body.append(f"hostname {st.hostname}")
        body.append("!")
        for vid, name in sorted(st.vlans.items()):
            if vid != 1:
                body += [f"vlan {vid}"] + ([f" name {name}"] if name != default_vlan_name(vid) else []) + ["!"]
        for num, pol in sorted(st.network_policies.items()):
            body += [f"network-policy profile {num}", f" voice vlan {pol.vlan} cos {pol.cos}",
                     f" voice vlan {pol.vlan} dscp {pol.dscp}", "!"]
        for p in sorted_ports(st):
            body += [f"interface {p.name}", *interface_lines(p), "!"]
    text = "\n".join(body) + "\nend\n"
    return "Building configuration...\n\n" + f"Current configuration : {len(text)} bytes\n" + text


# --- handlers ------------------------------------------------------------------------------------


def _port(s: ConfigSession) -> PortState:
    assert s.port is not None
    return s.st.ports[s.port]


def set_port(s: ConfigSession, **kw: object) -> str:
    p = _port(s)
    for k, v in kw.items():
        setattr(p, k, v)
    s.changed()
    return ""


def _clear_if(s: ConfigSession, field: str, a: list[object], default: object) -> str:
    """``no X [value]``: back to ``default`` unless a value is given and differs from the current one."""
    p = _port(s)
    if not a or str(getattr(p, field)) == str(a[0]):
        setattr(p, field, default)
    s.changed()
    return ""


def hostname(s: ConfigSession, a: list[object]) -> str:
    s.st.hostname = str(a[0]) if a else DEFAULT_HOSTNAME
    s.changed()
    return ""


def vlan(s: ConfigSession, a: list[object]) -> str:
    vid = int(str(a[0]))
    if vid in RESERVED_VLANS:
        return f"%Default VLAN {vid} may not be modified.\n"
    if vid not in s.st.vlans:
        s.st.vlans[vid] = default_vlan_name(vid)
        s.changed()
    s.enter("config-vlan", vlan=vid)
    return ""


def no_vlan(s: ConfigSession, a: list[object]) -> str:
    vid = int(str(a[0]))
    if vid == 1 or vid in RESERVED_VLANS:
        return f"%Default VLAN {vid} may not be deleted.\n"
    s.st.vlans.pop(vid, None)
    s.changed()
    return ""


def vlan_name(s: ConfigSession, a: list[object]) -> str:
    assert s.vlan is not None
    if s.vlan == 1:
        return "%Default VLAN 1 may not have its name changed.\n"
    s.st.vlans[s.vlan] = str(a[0])[:32]
    s.changed()
    return ""


def no_vlan_name(s: ConfigSession, a: list[object]) -> str:
    assert s.vlan is not None
    if s.vlan != 1 and (not a or s.st.vlans.get(s.vlan) == str(a[0])):
        s.st.vlans[s.vlan] = default_vlan_name(s.vlan)
    s.changed()
    return ""


def interface(s: ConfigSession, a: list[object]) -> str:
    s.enter("config-if", port=str(a[0]))
    return ""


def port_vlan(kind: str) -> Handler:
    """``switchport access|voice vlan N``: IOS creates a missing VLAN and says so."""

    def run(s: ConfigSession, a: list[object]) -> str:
        vid = int(str(a[0]))
        msg = ""
        if vid not in s.st.vlans:
            msg = f"% {kind.capitalize()} VLAN does not exist. Creating vlan {vid}\n"
            s.st.vlans[vid] = default_vlan_name(vid)
        return set_port(s, **{f"{kind}_vlan": vid}) + msg

    return run


def no_access_vlan(s: ConfigSession, a: list[object]) -> str:
    return _clear_if(s, "access_vlan", a, 1)


def no_voice_vlan(s: ConfigSession, a: list[object]) -> str:
    return _clear_if(s, "voice_vlan", a, None)


def no_mode(s: ConfigSession, a: list[object]) -> str:
    return _clear_if(s, "mode", [" ".join(map(str, a))] if a else [], "dynamic auto")


def no_description(s: ConfigSession, a: list[object]) -> str:
    return set_port(s, description="")


def no_network_policy(s: ConfigSession, a: list[object]) -> str:
    return _clear_if(s, "network_policy", a, None)


def trust(value: str) -> Handler:
    def run(s: ConfigSession, a: list[object]) -> str:
        return set_port(s, trust=value)

    return run


def no_trust(value: str | None) -> Handler:
    """``no mls qos trust [dscp|cos|device cisco-phone]``: untrusted, when the named trust is set."""

    def run(s: ConfigSession, a: list[object]) -> str:
        return _clear_if(s, "trust", [value] if value else [], None)

    return run


def portfast(s: ConfigSession, a: list[object]) -> str:
    set_port(s, portfast=True)
    return PORTFAST_WARNING


# --- network-policy profiles ---------------------------------------------------------------------


def profile(s: ConfigSession, a: list[object]) -> str:
    s.enter("config-network-policy", profile=int(str(a[0])))
    return ""


def no_profile(s: ConfigSession, a: list[object]) -> str:
    s.st.network_policies.pop(int(str(a[0])), None)
    s.changed()
    return ""


def voice(field: str | None) -> Handler:
    """``voice vlan V [cos C | dscp D]`` in config-network-policy mode."""

    def run(s: ConfigSession, a: list[object]) -> str:
        assert s.profile is not None
        vid = int(str(a[0]))
        pol = s.st.network_policies.get(s.profile)
        if pol is None:
            pol = s.st.network_policies[s.profile] = NetworkPolicy(vlan=vid, cos=DEFAULT_POLICY_COS,
                                                                  dscp=DEFAULT_POLICY_DSCP)
        pol.vlan = vid
        if field:
            setattr(pol, field, int(str(a[1])))
        s.changed()
        return ""

    return run


def no_voice(field: str | None) -> Handler:
    """``no voice vlan [V [cos C | dscp D]]``: the value back to its default, or the policy removed."""

    def run(s: ConfigSession, a: list[object]) -> str:
        assert s.profile is not None
        pol = s.st.network_policies.get(s.profile)
        if pol is not None and (not a or pol.vlan == int(str(a[0]))):
            default = DEFAULT_POLICY_COS if field == "cos" else DEFAULT_POLICY_DSCP
            if field is None or getattr(pol, field) == default:
                if field is None or len(a) < 2 or int(str(a[1])) == default:
                    del s.st.network_policies[s.profile]
            elif len(a) < 2 or getattr(pol, field) == int(str(a[1])):
                setattr(pol, field, default)
        s.changed()
        return ""

    return run
