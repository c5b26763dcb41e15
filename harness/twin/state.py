"""Live state of every emulated device. Protocol services read and write it; faults bend it.

State is real state: a VLAN created over the switch CLI is in the next ``show vlan brief`` and in
the SNMP view, because both read the same objects here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from ..inventory.models import AnyDevice, EdgeDevice, PhoneDevice, ProvisioningDevice, SwitchDevice


@dataclass
class DeviceState:
    name: str
    role: str
    platform: str
    host: str
    faults: dict[str, str | None] = field(default_factory=dict)
    boot_time: float = field(default_factory=time.time)

    @property
    def down(self) -> bool:
        return "down" in self.faults

    def uptime_s(self) -> float:
        return time.time() - self.boot_time


@dataclass
class TrunkRouteConfig:
    """One outbound route of an Edge's trunk as ``show trunk`` prints it: the PSTN device's name,
    ``host:port`` and the transport the Edge uses toward it (``udp``/``tcp``)."""

    name: str
    address: str
    transport: str


@dataclass
class EdgeState(DeviceState):
    hostname: str = "edge"
    model: str = "Genesys Edge (virtual)"
    serial: str = "VE-000000"
    installed_firmware: str = "0.0.0"
    registrations: dict[str, tuple[str, int, float]] = field(default_factory=dict)  # ext -> (ip, port, until)
    # SIP trunk (harness/twin/edge_sip.py, docs/twin-edge-sip.md); config copied from the inventory at start
    trunk_max_calls: int = 0  # inventory trunk.max_calls (0: unlimited); see effective_max_calls
    trunk_max_calls_code: int = 503
    trunk_routes: list[TrunkRouteConfig] = field(default_factory=list)
    trunk_options: dict[str, int | None] = field(default_factory=dict)  # route -> last OPTIONS code, None: silent
    trunk_inbound_calls: int = 0  # active carrier -> Edge calls (INVITE accepted .. call ended)
    trunk_outbound_calls: int = 0  # active Edge -> carrier calls
    trunk_calls_total: int = 0  # trunk call attempts (INVITEs on the trunk port + outbound to numbers)
    trunk_calls_answered: int = 0
    trunk_calls_refused: dict[int, int] = field(default_factory=dict)  # code -> trunk calls the Edge refused
    station_calls: int = 0  # active station-to-station calls (not trunk calls)
    media_relays: int = 0  # relays open (two UDP sockets each)
    media_packets_relayed: int = 0
    media_packets_dropped: int = 0
    # software update (harness/twin/edge_software.py, docs/edge-update.md)
    software_status: str = "idle"  # see show software in docs/edge-update.md (idle, staged, draining …)
    staged_version: str | None = None  # the version of the image staged (downloaded and verified)
    software_error: str | None = None  # why the last stage or install failed (None: it did not)
    draining: bool = False  # new calls are refused 503 (`software drain`) until the reboot or `software cancel`

    @property
    def firmware(self) -> str:
        """The version the Edge reports (the ``firmware=`` fault overrides the installed one)."""
        return self.faults.get("firmware") or self.installed_firmware

    @property
    def effective_max_calls(self) -> int:
        """Max Calls enforced: the ``max-calls=N`` fault's N, else the inventory's (0: unlimited)."""
        v = self.faults.get("max-calls")
        return int(v) if v is not None and v.isdigit() else self.trunk_max_calls

    @property
    def calls_refused(self) -> int:
        return sum(self.trunk_calls_refused.values())


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
    enable_secret: str = ""
    vlans: dict[int, str] = field(default_factory=lambda: {1: "default"})
    ports: dict[str, PortState] = field(default_factory=dict)
    network_policies: dict[int, NetworkPolicy] = field(default_factory=dict)  # profile number -> policy
    poe_budget_w: float = 800.0  # PoE budget of a WS-C3850-48P with one 1100 W supply (Cisco data sheet)

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


@dataclass
class PhoneState(DeviceState):
    model: str = "VVX 450"
    installed_firmware: str = "0.0.0"
    mac: str = "00:00:00:00:00:00"
    extension: str = ""
    registered: bool = False
    registrar: str | None = None  # "ip:port" of the Edge's phone trunk
    last_register_code: int | None = None  # final SIP code of the last REGISTER; None: unanswered
    serial: str = ""  # empty: the MAC without colons, upper case (what Poly and Yealink phones report)
    # firmware state machine (harness/twin/phone_firmware.py, docs/firmware.md)
    firmware_state: str = "idle"  # idle | downloading | verifying | flashing | rebooting | up
    last_upgrade_error: str | None = None  # why the last check-sync did not flash (download, checksum …)
    boots: int = 0  # reboots since the twin started (a flash reboots the phone)

    def __post_init__(self) -> None:
        if not self.serial:
            self.serial = self.mac.replace(":", "").upper()

    @property
    def firmware(self) -> str:
        return self.faults.get("firmware") or self.installed_firmware


@dataclass
class PstnState(DeviceState):
    options_received: int = 0
    invites_received: int = 0
    calls_answered: int = 0
    acks_received: int = 0
    calls_completed: int = 0  # BYE answered 200 on an answered call
    cancels_received: int = 0
    malformed_received: int = 0  # messages answered 400 or dropped as unparseable
    active_calls: dict[str, str] = field(default_factory=dict)  # Call-ID -> called number (R-URI user), answered
    calls_refused: dict[int, int] = field(default_factory=dict)  # SIP code -> INVITEs refused with it (503 …)
    options_sent: int = 0  # OPTIONS pings sent to the Edges of the trunk
    edge_options: dict[str, int | None] = field(default_factory=dict)  # Edge -> last ping's status, None: silent


@dataclass
class ProvisioningState(DeviceState):
    """A provisioning server: phone configs uploaded to it (file name -> bytes) and what it served."""

    files: dict[str, bytes] = field(default_factory=dict)
    requests: list[tuple[str, str, int]] = field(default_factory=list)  # method, path, status (last 1000)


def initial_state(name: str, dev: AnyDevice) -> DeviceState:
    """Build the state a device boots with, from the facts the inventory expects it to have."""
    base: dict[str, Any] = {"name": name, "role": dev.role, "platform": dev.platform, "host": dev.host}
    if isinstance(dev, EdgeDevice):
        f = dev.facts
        return EdgeState(**base, hostname=name, installed_firmware=f.firmware or "2026.11.1",
                         model=f.model or "Genesys Edge (virtual)", serial=f.serial or "VE-000000",
                         trunk_max_calls=f.trunk.max_calls if f.trunk else 0,
                         trunk_max_calls_code=f.trunk.max_calls_code if f.trunk else 503)
    if isinstance(dev, SwitchDevice):
        sf = dev.facts
        st = SwitchState(**base, hostname=name, model=sf.model or "WS-C3850-48P", version=sf.firmware or "16.12.4")
        return st
    if isinstance(dev, PhoneDevice):
        pf = dev.facts
        return PhoneState(**base, model=pf.model or "VVX 450", installed_firmware=pf.firmware or "6.4.3",
                          mac=pf.mac, extension=pf.extension)
    if isinstance(dev, ProvisioningDevice):
        return ProvisioningState(**base)
    return PstnState(**base)
