"""The access switch as a twin role: its state, IOS CLI and terminal, MIBs and what it sees of its phones.

A Catalyst-like access switch (``role: switch``): the IOS CLI over SSH and the console
(:mod:`.ios`, driven by unmodified netmiko ``cisco_ios``), its MIBs over SNMP (:mod:`.mib`), its
faults in :mod:`.faults`. The phones cabled to it are its LLDP neighbours: a phone that powers off
(``down``) takes its port dark, another unit in a phone's place shows its MAC on the port.
"""

from __future__ import annotations

from ..core.faults import set_fields, undo_all
from ..core.twin import RoleSpec, Twin, Undo, register_role
from ..servers.console import booting
from ..servers.shell import ssh_username
from .ios import IosSession
from .mib import SECTIONS, snapshot_key
from .state import SwitchState, booted_switch, neighbor_port
from .terminal import IosTerminal


def _state(twin: Twin, device: str) -> SwitchState:
    st = twin.states[device]
    assert isinstance(st, SwitchState)
    return st


def _session(twin: Twin, device: str, console: bool = False) -> IosSession:
    return IosSession(_state(twin, device), user=ssh_username(twin, device, "console"))


def _terminal(twin: Twin, device: str) -> IosTerminal:
    return IosTerminal(_session(twin, device), twin.lab.twin.cli_show_ms / 1000.0)


def _ssh_started(twin: Twin, device: str) -> None:
    ssh = twin.lab.devices[device].ssh
    _state(twin, device).enable_secret = (twin.secret(ssh.enable_secret) if ssh else None) or ""


def _banner(twin: Twin, device: str) -> str:
    st = _state(twin, device)
    return booting(device, st.model, st.version)


def _switches(twin: Twin) -> list[SwitchState]:
    return [st for st in twin.states.values() if isinstance(st, SwitchState)]


def _unplugged(twin: Twin, device: str) -> Undo | None:
    """The port cabled to ``device`` loses link and its LLDP neighbour (PoE load goes with it)."""
    port = next((p for st in _switches(twin) if (p := neighbor_port(st, device)) is not None), None)
    return set_fields(port, neighbor=None, oper_up=False) if port is not None else None


def _mac_swapped(twin: Twin, device: str, mac: str) -> Undo | None:
    """Every port whose neighbour is ``device`` shows ``mac`` (LLDP chassis ID, forwarding table)."""
    undos = [set_fields(p.neighbor, mac=mac) for st in _switches(twin) for p in st.ports.values()
             if p.neighbor is not None and p.neighbor.name == device]
    return undo_all(undos) if undos else None


SWITCH = register_role(RoleSpec(
    role="switch", state=booted_switch, shell=_session, terminal=_terminal, ssh_started=_ssh_started,
    boot_banner=_banner, mib=SECTIONS, mib_key=snapshot_key, unplugged=_unplugged, mac_swapped=_mac_swapped))
