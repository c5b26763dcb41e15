"""What an access switch reports about its ports, in one shape for every view (CLI and SNMP).

The CLI fact functions (:mod:`harness.devices.facts.switch_cli`) and the SNMP fact functions
(:mod:`harness.devices.facts.switch_snmp`) both return :class:`PortView` records, so a scenario can
read either and :func:`disagreements` can compare them field by field. A field a view cannot see is
``None`` (SNMP has no portfast, the CLI table has no PVID), and ``None`` never disagrees.

Units: speeds in Mb/s, power in watts, VLAN IDs 1-4094, DSCP 0-63, CoS (802.1p priority) 0-7.
MAC addresses are lower case with colons (``00:04:f2:aa:00:01``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: IEEE 802.3af/at power a PSE must be able to deliver per class, in watts (IEEE 802.3-2018 table 33-7)
POE_CLASS_PSE_W = {0: 15.4, 1: 4.0, 2: 7.0, 3: 15.4, 4: 30.0, 5: 45.0, 6: 60.0, 7: 75.0, 8: 90.0}


def normal_mac(text: str) -> str | None:
    """``0004.f2aa.0001``, ``00-04-F2-AA-00-01``, ``0004f2aa0001`` -> ``00:04:f2:aa:00:01``; None if not a MAC."""
    hexits = re.sub(r"[^0-9a-fA-F]", "", text or "")
    if len(hexits) != 12 or not re.fullmatch(r"[0-9a-fA-F:.\- ]+", (text or "").strip()):
        return None
    h = hexits.lower()
    return ":".join(h[i:i + 2] for i in range(0, 12, 2))


@dataclass(frozen=True)
class NetworkPolicy:
    """One LLDP-MED network policy TLV (ANSI/TIA-1057 section 10.2.3).

    ``app`` is ``voice`` (application type 1) or ``voice-signaling`` (type 2); ``vlan`` 0 means
    priority-tagged, ``None`` not advertised.
    """

    app: str
    vlan: int | None
    tagged: bool | None
    cos: int | None
    dscp: int | None


@dataclass(frozen=True)
class LldpNeighbor:
    """One LLDP neighbour on a local port (LLDP-MIB lldpRemTable / ``show lldp neighbors detail``).

    ``chassis_mac`` is the chassis ID when it is a MAC address (subtype 4), else ``None``;
    ``chassis_id`` is the raw text. ``policies`` maps ``app`` -> :class:`NetworkPolicy`.
    """

    local_port: str
    chassis_id: str
    chassis_mac: str | None
    port_id: str
    system_name: str
    model: str = ""
    policies: dict[str, NetworkPolicy] = field(default_factory=dict)


@dataclass(frozen=True)
class PoePort:
    """PoE on one port (POWER-ETHERNET-MIB pethPsePortTable / ``show power inline``).

    ``admin`` is ``auto`` | ``never``/``off``; ``oper`` ``on`` | ``off`` | ``faulty`` | ``searching``;
    ``power_class`` the detected IEEE class (None when nothing is detected); ``watts`` drawn now and
    ``max_w`` the port's limit (None where the view has no such number).
    """

    interface: str
    admin: str
    oper: str
    power_class: int | None
    watts: float | None
    max_w: float | None


@dataclass(frozen=True)
class PortView:
    """One port as one view sees it. ``source`` is ``"cli"`` or ``"snmp"``; unknown fields are None.

    ``mode``: ``access`` | ``trunk`` | ``dynamic auto``…; ``duplex``: ``full`` | ``half`` | ``auto``;
    ``trust``: ``dscp`` | ``cos`` | ``device cisco-phone`` | ``none``; ``in_errors``: input error
    counter (IF-MIB ifInErrors / ``show interfaces`` input errors); ``macs``: MAC addresses the
    bridge learned on the port (any VLAN).
    """

    interface: str
    source: str
    oper_up: bool | None = None
    mode: str | None = None
    access_vlan: int | None = None
    voice_vlan: int | None = None
    speed_mbps: int | None = None
    duplex: str | None = None
    in_errors: int | None = None
    trust: str | None = None
    portfast: bool | None = None
    poe: PoePort | None = None
    lldp: LldpNeighbor | None = None
    macs: tuple[str, ...] = ()


#: fields :func:`disagreements` compares (both views must know them to disagree)
COMPARED = ("oper_up", "access_vlan", "voice_vlan", "speed_mbps", "duplex")


@dataclass(frozen=True)
class Disagreement:
    """The two views of one port differ on one field."""

    interface: str
    field: str
    cli: object
    snmp: object

    def __str__(self) -> str:
        return f"{self.interface} {self.field}: CLI says {self.cli!r}, SNMP says {self.snmp!r}"


def _poe_key(p: PoePort | None) -> tuple[object, ...] | None:
    return None if p is None else (p.oper == "on", p.power_class)


def _lldp_key(n: LldpNeighbor | None) -> tuple[object, ...] | None:
    if n is None:
        return None
    voice = n.policies.get("voice")
    return (n.chassis_mac or n.chassis_id, voice.vlan if voice else None, voice.dscp if voice else None,
            voice.cos if voice else None)


def disagreements(cli: dict[str, PortView], snmp: dict[str, PortView],
                  ports: list[str] | None = None) -> list[Disagreement]:
    """Field-by-field differences between the CLI and the SNMP view of ``ports`` (default: all in both).

    A port missing from one view is a disagreement on ``present``. Fields: :data:`COMPARED`, PoE
    (delivering, class), LLDP neighbour (chassis, voice policy VLAN/DSCP/CoS) and learned MACs
    (compared as sets when both views list some).
    """
    names = ports if ports is not None else sorted(set(cli) | set(snmp))
    out: list[Disagreement] = []
    for name in names:
        c, s = cli.get(name), snmp.get(name)
        if c is None or s is None:
            out.append(Disagreement(name, "present", c is not None, s is not None))
            continue
        for f in COMPARED:
            a, b = getattr(c, f), getattr(s, f)
            if a is not None and b is not None and a != b:
                out.append(Disagreement(name, f, a, b))
        pairs = ((_poe_key(c.poe), _poe_key(s.poe), "poe"), (_lldp_key(c.lldp), _lldp_key(s.lldp), "lldp"))
        for a, b, what in pairs:
            if a != b and (c.poe is not None and s.poe is not None if what == "poe" else True):
                out.append(Disagreement(name, what, a, b))
        if c.macs and s.macs and set(c.macs) != set(s.macs):
            out.append(Disagreement(name, "macs", sorted(c.macs), sorted(s.macs)))
    return out


__all__ = ["COMPARED", "POE_CLASS_PSE_W", "Disagreement", "LldpNeighbor", "NetworkPolicy", "PoePort", "PortView",
           "disagreements", "normal_mac"]
