"""The access switch's live state: ports, VLANs, LLDP-MED policies and the phones cabled to it.

The IOS CLI (:mod:`.ios`) and the SNMP MIBs (:mod:`.mib`) both read and write these objects, so a
VLAN created over the CLI is in the next ``show vlan brief`` and in the SNMP view, and a fault that
bends a port shows in both at once.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from ...devices.facts.switch_cli import long_interface
from ...inventory.models import AnyDevice, Lab, PhoneDevice, SwitchDevice
from ..core.state import DeviceState, secret_field
from ..core.uplink import active as active_wan

N_PORTS = 48  # project choice: a 48-port access switch (WS-C3850-48P)
PORT_PREFIX = "GigabitEthernet1/0/"


@dataclass
class NetworkPolicy:
    """LLDP-MED network policy (ANSI/TIA-1057): VLAN, L2 priority (CoS 0-7) and DSCP (0-63)."""

    vlan: int
    cos: int = 5
    dscp: int = 46
    tagged: bool = True


#: IOS's LLDP-MED voice policy for a voice VLAN without a network-policy profile (CoS 5, DSCP EF)
DEFAULT_POLICY_COS, DEFAULT_POLICY_DSCP = 5, 46


@dataclass
class Neighbor:
    """The device cabled to a port (an IP phone), as LLDP and the bridge see it.

    ``lldp`` false: the device sends no LLDP (the ``lldp-missing`` fault). ``poe_class`` is the
    IEEE 802.3af/at class it requests (0-4), ``poe_draw_w`` what it draws in watts.
    """

    name: str
    mac: str  # "00:04:f2:aa:00:01"
    model: str
    serial: str
    firmware: str
    mgmt_ip: str
    poe_class: int = 2
    poe_draw_w: float = 5.1
    lldp: bool = True


@dataclass
class PortState:
    """One switch interface. Speeds in Mb/s; VLAN ``None`` means not configured.

    Config (what ``show running-config`` prints): description, mode, access_vlan, voice_vlan,
    network_policy (profile number), poe_admin (``auto`` | ``never``), trust (``dscp`` | ``cos`` |
    ``device cisco-phone`` | None), portfast, admin_up. Operational state: oper_up, speed_mbps,
    duplex, in_errors (+ ``in_errors_per_s`` from ``errors_since``), neighbor, poe_fault.
    """

    name: str
    if_index: int
    description: str = ""
    mode: str = "access"  # access | trunk | dynamic auto
    access_vlan: int = 1
    voice_vlan: int | None = None
    network_policy: int | None = None
    admin_up: bool = True
    oper_up: bool = True
    speed_mbps: int = 1000
    duplex: str = "full"
    trust: str | None = None  # "dscp", "cos", "device cisco-phone"
    portfast: bool = False
    poe_admin: str = "auto"
    poe_max_w: float = 30.0
    poe_fault: bool = False  # PSE fault: power not delivered although admin auto
    in_errors: int = 0
    in_errors_per_s: float = 0.0
    errors_since: float = 0.0
    neighbor: Neighbor | None = None
    #: the port toward the WAN router (``network.media.wan_port``): its octet counters count what the
    #: ``wan`` unit's link carried (:mod:`.mib`)
    wan_uplink: bool = False
    octets_seen: tuple[int, int] = (0, 0)  # (in, out) octets counted so far (kept while the link is stopped)
    frozen_octets: tuple[int, int] | None = None  # the ``counters-frozen`` fault's values

    def errors_now(self, now: float | None = None) -> int:
        """ifInErrors right now: the base count plus what the ``port-errors`` fault adds over time."""
        if not self.in_errors_per_s:
            return self.in_errors
        return self.in_errors + int(((now or time.time()) - self.errors_since) * self.in_errors_per_s)

    def poe_delivering(self) -> bool:
        """Power flows: admin auto, no PSE fault, a powered device attached and the link up."""
        return self.poe_admin == "auto" and not self.poe_fault and self.neighbor is not None and self.oper_up


@dataclass
class SwitchState(DeviceState):
    hostname: str = "sw"
    model: str = "WS-C3850-48P"
    version: str = "16.12.4"
    serial: str = "FOC0000X000"
    base_mac: str = "00:1b:0c:00:00:00"
    enable_secret: str = secret_field()  # never in the control channel's `state`
    vlans: dict[int, str] = field(default_factory=lambda: {1: "default"})
    ports: dict[str, PortState] = field(default_factory=dict)
    network_policies: dict[int, NetworkPolicy] = field(default_factory=dict)  # profile number -> policy
    poe_budget_w: float = 800.0  # PoE budget of a WS-C3850-48P with one 1100 W supply (Cisco data sheet)
    poe_stack_layout: bool = False  # `show power inline` repeats its header block mid-table (fault)

    def voice_policy(self, p: PortState) -> NetworkPolicy | None:
        """The LLDP-MED voice policy port ``p`` sends (and its phone echoes, in the CLI and SNMP
        views alike): its ``network-policy`` profile, else IOS's default for a voice VLAN, else none."""
        if p.network_policy is not None and p.network_policy in self.network_policies:
            return self.network_policies[p.network_policy]
        if p.voice_vlan:
            return NetworkPolicy(vlan=p.voice_vlan, cos=DEFAULT_POLICY_COS, dscp=DEFAULT_POLICY_DSCP)
        return None
    saved_config: str | None = None  # text of the last `write memory`
    last_change: tuple[float, str] | None = None  # (epoch s, user) of the last config change
    config_changes: int = 0


def initial_state(name: str, dev: AnyDevice) -> SwitchState:
    """The state a switch boots with, from the facts the inventory expects (no ports yet:
    :func:`populate_switch` cables them)."""
    assert isinstance(dev, SwitchDevice)
    sf = dev.facts
    return SwitchState(name=name, role=dev.role, platform=dev.platform, host=dev.host, hostname=name,
                       model=sf.model or "WS-C3850-48P", version=sf.firmware or "16.12.4")


def populate_switch(st: SwitchState, name: str, lab: Lab) -> None:
    """Give a freshly booted switch its inventory configuration (only when ``st.ports`` is empty).

    48 access ports ``GigabitEthernet1/0/1..48`` in VLAN 1 with the link down; VLANs 1 ``default``,
    ``facts.data_vlan`` ``DATA`` and ``facts.voice_vlan`` (``facts.voice_vlan_name`` or ``VOICE``),
    LLDP-MED network-policy profile 1 (voice VLAN, CoS 5, DSCP 46). Every phone whose
    ``facts.switch_port`` names this switch sits on its port as the lab's intent asks: link up at
    1000/full, access port in the data VLAN with the voice VLAN, ``mls qos trust dscp``, portfast,
    PoE on, network-policy 1, and the phone as LLDP neighbour (its MAC, model, serial, firmware,
    address and ``facts.poe_class``, default class 2). The port ``network.media.wan_port`` names on
    this switch is up, described ``WAN router``, an access port of the data VLAN, and counts the WAN
    link's octets.
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
    # a short name (Gi1/0/48) is the port the harness reads it as
    wan = lab.network.media.wan_port if lab.network.media else None
    if wan is not None and wan.switch == name and long_interface(wan.port) in st.ports:
        p = st.ports[long_interface(wan.port)]
        p.oper_up, p.wan_uplink, p.description, p.access_vlan = True, True, "WAN router", data_vlan or 1
    for phone, d in lab.devices.items():
        if not isinstance(d, PhoneDevice):
            continue
        sp = d.facts.switch_port
        if sp is None or sp.switch != name or long_interface(sp.port) not in st.ports:
            continue
        p = st.ports[long_interface(sp.port)]
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


def booted_switch(name: str, dev: AnyDevice, lab: Lab) -> SwitchState:
    """The switch as the twin boots it: :func:`initial_state`, then :func:`populate_switch`."""
    st = initial_state(name, dev)
    populate_switch(st, name, lab)
    return st


def port_name(st: SwitchState, text: str) -> str | None:
    """The port ``text`` names (``GigabitEthernet1/0/5``, ``Gi1/0/5``, ``gi 1/0/5``), None if none."""
    m = re.fullmatch(r"(?i)\s*(g[a-z]*)\s*(\d+/\d+/\d+)\s*", text)
    if not m or not "gigabitethernet".startswith(m.group(1).lower()):
        return None
    name = PORT_PREFIX[:-4] + m.group(2)
    return name if name in st.ports else None


def port_order(name: str) -> list[int]:
    """Sort key: the numbers of an interface name (``Gi1/0/10`` after ``Gi1/0/9``)."""
    return [int(x) for x in re.findall(r"\d+", name)]


def neighbor_port(st: SwitchState, device: str) -> PortState | None:
    """The port of switch ``st`` whose LLDP neighbour is ``device``, None when none is."""
    return next((p for p in st.ports.values() if p.neighbor is not None and p.neighbor.name == device), None)


def port_octets(p: PortState) -> tuple[int, int]:
    """``(in, out)`` layer-2 octets port ``p`` has counted: on the WAN uplink, what the site's uplink
    carried (:mod:`harness.twin.core.uplink`, the ``wan`` unit's link:
    :meth:`~harness.twin.wan.state.WanState.switch_port_octets`; the last count while the link is
    stopped), the ``counters-frozen`` fault's values while it is on; 0 on the other ports (the twin
    does not count the phones' or the harness's own packets)."""
    if p.frozen_octets is not None:
        return p.frozen_octets
    if p.wan_uplink and (link := active_wan()) is not None:
        p.octets_seen = link.switch_port_octets()
    return p.octets_seen
