"""The twin's SNMP agent: every emulated device with ``snmp`` settings answers SNMP on its own address.

Built as EMULATION-NOTES.md section 1 says: ONE pysnmp 7 ``SnmpEngine`` for the whole twin, one UDP
transport per device (``host:snmp.port`` from the inventory) registered under its own transport
domain ``udp.DOMAIN_NAME + (n,)``, and a duck-typed instrumentation controller (:class:`_Agent`)
that picks the device by the request's ``transportDomain``. Credentials come from the inventory: one
v1/v2c community entry per distinct community (a ``version: "1"`` device answers SNMPv1 only; pysnmp
turns the end of its MIB into ``noSuchName`` as RFC 2576 4.2 says), one USM user per distinct v3
user (authPriv only), and a device answers only the credentials its own inventory entry names
(others are dropped unanswered).

What a device serves is its role's MIB (:attr:`~harness.twin.core.twin.RoleSpec.mib`: sections of
builders over the live device state; a role without one serves the system group alone, built here).
Values are computed from the live state once per request message, so sysUpTime ticks, the
``firmware=`` fault shows at once and switch ports added over the CLI appear in the next walk; a
role with a ``mib_key`` has its MIB reused across messages while the key stays the same.
``stop()`` (the ``down`` fault) closes the device's socket: it does not answer at all until
``start()`` binds it again. The served OIDs are listed in docs/twin-snmp.md. Read-only: SET answers
``notWritable``.
"""

from __future__ import annotations

import asyncio
import bisect
import hashlib
import logging
import socket
from typing import Any

from pysnmp.carrier.asyncio.dgram import udp
from pysnmp.carrier.asyncio.dispatch import AsyncioDispatcher
from pysnmp.entity import config, engine
from pysnmp.entity.rfc3413 import cmdrsp, context
from pysnmp.error import PySnmpError
from pysnmp.proto import rfc1902, rfc1905
from pysnmp.smi import error as smi_error

from ...inventory.secrets import MASK
from ...transports.snmp import AUTH_PROTOCOLS, PRIV_PROTOCOLS, localized_keys
from ..core.faces import OID, Mib, Section
from ..core.state import DeviceState
from ..core.twin import RoleSpec, Service, Twin, server_factory
from .mib2 import TWIN_PRODUCTS, system_group

log = logging.getLogger("hil.twin.snmp")

_EXEC_POINT = "rfc3412.receiveMessage:request"


# --- what a device serves ------------------------------------------------------------------------

def default_mib(st: DeviceState, location: str) -> Mib:
    """The MIB of a device whose role gives none: the system group (``twin <role> <platform>``)."""
    return system_group(st, f"twin {st.role} {st.platform}", (*TWIN_PRODUCTS, 9), st.name, location, 72)


def sections_of(spec: RoleSpec[Any]) -> list[Section]:
    """A role's MIB as (subtree prefix, builder) sections: its own, else one whole-tree section."""
    return list(spec.mib) or [((), default_mib)]


def agent_engine_id(lab_name: str) -> bytes:
    """The twin's SNMP engine ID for the lab named ``lab_name``: stable per lab (as a real agent keeps
    its own), so pysnmp persists snmpEngineBoots for it and a restarted twin looks like a rebooted
    agent (boots + 1). RFC 3411 format 5 (octets) under enterprise 20408 (pysnmp's)."""
    return bytes.fromhex("80004fb805" + hashlib.sha1(lab_name.encode()).hexdigest()[:12])


class _Snapshot:
    """A device's MIB as one request message sees it: each section is built on first touch, once,
    so a GETBULK page reads one consistent snapshot and only the tables it reaches are computed."""

    def __init__(self, st: DeviceState, location: str, sections: list[Section]) -> None:
        self.state = st
        self.location = location
        self.sections = sections
        self._built: dict[int, tuple[list[OID], Mib]] = {}

    def _section(self, i: int) -> tuple[list[OID], Mib]:
        got = self._built.get(i)
        if got is None:
            prefix, build = self.sections[i]
            n = len(prefix)
            mib = {k: v for k, v in build(self.state, self.location).items() if k[:n] == prefix}
            got = self._built[i] = (sorted(mib), mib)
        return got

    def get(self, oid: OID) -> Any:
        """The value at ``oid``, or noSuchInstance (its object exists) / noSuchObject."""
        for i, (prefix, _) in enumerate(self.sections):
            if oid[: len(prefix)] == prefix:
                keys, mib = self._section(i)
                value = mib.get(oid)
                if value is None:
                    j = bisect.bisect_left(keys, oid[:-1])
                    known_object = j < len(keys) and keys[j][: len(oid) - 1] == oid[:-1]
                    value = rfc1905.noSuchInstance if known_object else rfc1905.noSuchObject
                return value
        return rfc1905.noSuchObject

    def next(self, oid: OID) -> tuple[OID, Any] | None:
        """The first (OID, value) after ``oid``, or None at the end of the MIB view."""
        for i, (prefix, _) in enumerate(self.sections):
            if oid[: len(prefix)] == prefix or oid < prefix:
                keys, mib = self._section(i)
                j = bisect.bisect_right(keys, oid)
                if j < len(keys):
                    return keys[j], mib[keys[j]]
        return None


class _View:
    """One device as the agent sees it: allowed credentials and a per-message snapshot."""

    def __init__(self, st: DeviceState, spec: RoleSpec[Any], location: str, allowed: tuple[int, str, int]) -> None:
        self.state = st
        self.location = location
        self.sections = sections_of(spec)
        self.key_of = spec.mib_key
        self.allowed = allowed  # (securityModel, securityName, securityLevel)
        self._snap: tuple[object, _Snapshot] | None = None

    def snapshot(self, message: object) -> _Snapshot:
        """The snapshot of this request message (a GETBULK reads it many times).

        With the role's ``mib_key``, the snapshot also serves the next messages while the key stays
        equal (a switch: same config change count, same faults, same 0.1 s time slot). A 48-port
        read walks some 30 columns of a few tables; building each table once per read instead of
        once per column took a quarter off the agent's CPU.
        """
        st = self.state
        key: object
        if self.key_of is not None:
            key = self.key_of(st)
            fresh = self._snap is None or self._snap[0] != key
        else:
            key, fresh = message, self._snap is None or self._snap[0] is not message
        if fresh:
            self._snap = (key, _Snapshot(st, self.location, self.sections))
        assert self._snap is not None
        return self._snap[1]


def _text(v: Any) -> str:
    return bytes(v).decode(errors="replace") if hasattr(v, "asOctets") else str(v)


class _Agent:
    """The twin's single SNMP engine and the MIB instrumentation controller of its context b''."""

    def __init__(self, twin: Twin) -> None:
        self.twin = twin
        self.engine_id = agent_engine_id(twin.lab.lab.name)
        self.engine = engine.SnmpEngine(snmpEngineID=rfc1902.OctetString(self.engine_id))
        # An explicit dispatcher: pysnmp closes an automatic one when its last transport goes
        # (all devices `down`), and then a heal could not re-add transports.
        self.engine.register_transport_dispatcher(AsyncioDispatcher())
        self.views: dict[OID, _View] = {}
        self._communities: dict[str, str] = {}  # community value -> securityName
        self._users: dict[str, tuple[str, str, str, str]] = {}  # v3 user -> credentials installed
        snmp_context = context.SnmpContext(self.engine)
        snmp_context.unregister_context_name(b"")
        snmp_context.register_context_name(b"", self)
        for responder in (cmdrsp.GetCommandResponder, cmdrsp.NextCommandResponder,
                          cmdrsp.BulkCommandResponder, cmdrsp.SetCommandResponder):
            responder(self.engine, snmp_context)

    def add_device(self, name: str) -> tuple[OID, str, int]:
        """Install the device's credentials; returns its transport domain, host and port."""
        dev = self.twin.lab.devices[name]
        s = dev.snmp
        assert s is not None
        if s.version in ("1", "2c"):
            community = self.twin.secret(s.community) or ""
            sec_name = self._communities.get(community)
            if sec_name is None:
                sec_name = self._communities[community] = f"community{len(self._communities) + 1}"
                config.add_v1_system(self.engine, sec_name, community)
                for model in (1, 2):  # securityModel SNMPv1 / SNMPv2c (RFC 3411)
                    config.add_vacm_user(self.engine, model, sec_name, "noAuthNoPriv", (1, 3, 6), (1, 3, 6))
            allowed = (1 if s.version == "1" else 2, sec_name, 1)
        else:
            user = s.user or ""
            creds = (s.auth_protocol, self.twin.secret(s.auth_key) or "", s.priv_protocol,
                     self.twin.secret(s.priv_key) or "")
            have = self._users.get(user)
            if have is None:
                self._users[user] = creds
                for key in localized_keys(s, creds[1], creds[3], self.engine_id):  # masked in the twin's log
                    MASK.add_key(key)
                config.add_v3_user(self.engine, user, AUTH_PROTOCOLS[s.auth_protocol], creds[1],
                                   PRIV_PROTOCOLS[s.priv_protocol], creds[3])
                config.add_vacm_user(self.engine, 3, user, "authPriv", (1, 3, 6), (1, 3, 6))
            elif have != creds:  # one engine holds one key set per user name
                log.warning("%s: SNMPv3 user %s already has other keys on this twin; %s will refuse "
                            "its own", name, user, name)
            allowed = (3, user, 3)
        domain = (*udp.DOMAIN_NAME, len(self.views) + 1)
        self.views[domain] = _View(self.twin.states[name], self.twin.roles[name], self.twin.lab.lab.site, allowed)
        return domain, dev.host, s.port

    # duck-typed MibInstrumController (what cmdrsp calls) ---------------------------------------

    def _lookup(self, ctx: dict[str, Any]) -> _Snapshot:
        ex = ctx["snmpEngine"].observer.get_execution_context(_EXEC_POINT)
        view = self.views.get(tuple(ex["transportDomain"]))
        if view is None or (int(ex["securityModel"]), _text(ex["securityName"]),
                            int(ex["securityLevel"])) != view.allowed:
            # Not this device's credentials: a plain PySnmpError makes cmdrsp send nothing.
            raise PySnmpError("request not for this device's credentials; dropped")
        return view.snapshot(ex)

    def read_variables(self, *var_binds: Any, **ctx: Any) -> list[tuple[Any, Any]]:
        snap = self._lookup(ctx)
        return [(oid, snap.get(tuple(oid))) for oid, _ in var_binds]

    def read_next_variables(self, *var_binds: Any, **ctx: Any) -> list[tuple[Any, Any]]:
        snap = self._lookup(ctx)
        out: list[tuple[Any, Any]] = []
        for oid, _ in var_binds:
            found = snap.next(tuple(oid))
            out.append((rfc1902.ObjectName(found[0]), found[1]) if found else (oid, rfc1905.endOfMibView))
        return out

    def write_variables(self, *var_binds: Any, **ctx: Any) -> list[tuple[Any, Any]]:
        self._lookup(ctx)
        raise smi_error.NotWritableError(name=var_binds[0][0] if var_binds else None, idx=0)


class _DelayedUdpTransport(udp.UdpTransport):
    """A UDP transport that sends each response ``delay_s`` late: the agent's processing time."""

    def __init__(self, delay_s: float) -> None:
        super().__init__()
        self.delay_s = delay_s

    def send_message(self, outgoingMessage: Any, transportAddress: Any) -> None:
        asyncio.get_running_loop().call_later(self.delay_s, super().send_message, outgoingMessage, transportAddress)


class SnmpService:
    """The SNMP endpoint of one device: ``start`` binds its UDP socket, ``stop`` closes it."""

    name = "snmp"

    def __init__(self, agent: _Agent, device: str) -> None:
        self.agent = agent
        self.device = device
        self.domain, self.host, self.port = agent.add_device(device)
        self._sock: socket.socket | None = None
        self._transport: Any = None

    async def start(self) -> None:
        if self._transport is not None:
            return
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind((self.host, self.port))
        except OSError as e:
            sock.close()
            raise RuntimeError(f"{self.device}: cannot bind SNMP on {self.host}:{self.port}: {e}") from None
        sock.setblocking(False)
        self._sock = sock
        delay_s = self.agent.twin.lab.twin.snmp_response_ms / 1000.0
        transport = _DelayedUdpTransport(delay_s) if delay_s > 0 else udp.UdpTransport()
        self._transport = transport.open_server_mode(sock=sock)
        config.add_transport(self.agent.engine, self.domain, self._transport)

    async def stop(self) -> None:
        if self._transport is None:
            return
        config.delete_transport(self.agent.engine, self.domain)
        self._transport.close_transport()
        if self._sock is not None:
            self._sock.close()  # also when the endpoint was still being created
        self._transport = self._sock = None


def agent_of(twin: Twin) -> _Agent:
    """The twin's one SNMP agent (created on first use, inside the twin's loop)."""
    agent = twin.shared.get("snmp")
    if agent is None:
        agent = twin.shared["snmp"] = _Agent(twin)
    assert isinstance(agent, _Agent)
    return agent


@server_factory(rank=90)
def snmp_services(twin: Twin, device: str) -> list[Service]:
    """An SNMP agent for every device whose inventory entry has ``snmp`` settings."""
    if twin.lab.devices[device].snmp is None:
        return []
    return [SnmpService(agent_of(twin), device)]

