"""A small SNMP agent for the transport tests: serves a list of records (from an snmpsim ``.snmprec``
recording, or crafted) in the order given, over v1 and v2c, with pysnmp's own engine.

GETNEXT answers the record after the one asked for, in list order (for an OID not in the list: the
first record, in list order, above it): an agent whose tables are out of order, as snmpsim serves a
recording whose lines are. GET answers the record or noSuchObject. pysnmp's engine turns the end of
the view into ``noSuchName`` for v1 requests (RFC 2576 4.2), as a real v1 agent answers.

``.snmprec`` format (snmpsim): ``OID|TYPE|VALUE`` per line; TYPE is the BER tag number, with ``x``
when VALUE is hex (``4x``: OCTET STRING as hex): 2 Integer32, 4 OCTET STRING, 5 NULL, 6 OBJECT
IDENTIFIER, 64 IpAddress, 65 Counter32, 66 Gauge32, 67 TimeTicks, 68 Opaque, 70 Counter64.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from pathlib import Path
from typing import Any

from pysnmp.carrier.asyncio.dgram import udp
from pysnmp.carrier.asyncio.dispatch import AsyncioDispatcher
from pysnmp.entity import config, engine
from pysnmp.entity.rfc3413 import cmdrsp, context
from pysnmp.proto import rfc1902, rfc1905
from pysnmp.smi import error as smi_error

OID = tuple[int, ...]

_TYPES: dict[str, Any] = {
    "2": rfc1902.Integer32, "4": rfc1902.OctetString, "5": rfc1902.Null, "6": rfc1902.ObjectName,
    "64": rfc1902.IpAddress, "65": rfc1902.Counter32, "66": rfc1902.Gauge32, "67": rfc1902.TimeTicks,
    "68": rfc1902.Opaque, "70": rfc1902.Counter64,
}


def value_of(tag: str, text: str) -> Any:
    """One snmprec value as a pysnmp object."""
    hexed = tag.endswith("x")
    cls = _TYPES[tag.rstrip("x")]
    if cls is rfc1902.Null:
        return rfc1902.Null("")
    if hexed:
        raw = bytes.fromhex(text)
        if cls is rfc1902.IpAddress:
            return cls(raw)
        return cls(raw) if issubclass(cls, rfc1902.OctetString) else cls(int.from_bytes(raw, "big"))
    if cls in (rfc1902.OctetString, rfc1902.Opaque):
        return cls(text.encode())
    if cls in (rfc1902.ObjectName, rfc1902.IpAddress):
        return cls(text)
    return cls(int(text))


def read_snmprec(path: Path) -> list[tuple[OID, Any]]:
    """The records of an ``.snmprec`` file, in file order."""
    out: list[tuple[OID, Any]] = []
    for line in path.read_text(errors="replace").splitlines():
        parts = line.split("|", 2)
        if len(parts) != 3 or line.startswith("#"):
            continue
        oid, tag, text = parts
        out.append((tuple(int(a) for a in oid.split(".")), value_of(tag, text)))
    return out


class _Instrumentation:
    """Duck-typed MIB instrumentation controller (what pysnmp's command responders call)."""

    def __init__(self, records: list[tuple[OID, Any]], fail: set[OID]) -> None:
        self.records, self.fail = records, fail
        self.index = {oid: i for i, (oid, _) in enumerate(records)}

    def read_variables(self, *var_binds: Any, **ctx: Any) -> list[tuple[Any, Any]]:
        out = []
        for n, (oid, _) in enumerate(var_binds):
            if tuple(oid) in self.fail:
                raise smi_error.GenError(name=oid, idx=n)
            i = self.index.get(tuple(oid))
            out.append((oid, self.records[i][1] if i is not None else rfc1905.noSuchObject))
        return out

    def read_next_variables(self, *var_binds: Any, **ctx: Any) -> list[tuple[Any, Any]]:
        out: list[tuple[Any, Any]] = []
        for oid, _ in var_binds:
            t = tuple(oid)
            i = self.index.get(t)
            j = i + 1 if i is not None else next((k for k, (o, _) in enumerate(self.records) if o > t),
                                                  len(self.records))
            if j < len(self.records):
                out.append((rfc1902.ObjectName(self.records[j][0]), self.records[j][1]))
            else:
                out.append((oid, rfc1905.endOfMibView))
        return out

    def write_variables(self, *var_binds: Any, **ctx: Any) -> list[tuple[Any, Any]]:
        raise NotImplementedError


class RecordingAgent:
    """Serves ``records`` on ``host`` (a free UDP port, :attr:`port`) for community ``public``, v1
    and v2c, from a thread of its own; a GET of an OID in ``fail`` answers genErr at its index.
    A context manager: leaving it stops the agent."""

    community = "public"

    def __init__(self, records: list[tuple[OID, Any]], host: str, fail: set[OID] | None = None) -> None:
        self.records, self.host, self.fail = records, host, fail or set()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.sock.setblocking(False)
        self.port: int = self.sock.getsockname()[1]
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="recording-agent", daemon=True)
        self._transport: Any = None
        self._engine: Any = None

    async def _setup(self) -> None:
        eng = self._engine = engine.SnmpEngine()
        eng.register_transport_dispatcher(AsyncioDispatcher())
        config.add_v1_system(eng, "recording", self.community)
        for model in (1, 2):  # the view is not consulted: the controller above serves every OID
            config.add_vacm_user(eng, model, "recording", "noAuthNoPriv", (1,), (1,))
        ctx = context.SnmpContext(eng)
        ctx.unregister_context_name(b"")
        ctx.register_context_name(b"", _Instrumentation(self.records, self.fail))
        for responder in (cmdrsp.GetCommandResponder, cmdrsp.NextCommandResponder, cmdrsp.BulkCommandResponder):
            responder(eng, ctx)
        self._transport = udp.UdpTransport().open_server_mode(sock=self.sock)
        config.add_transport(eng, udp.DOMAIN_NAME, self._transport)

    def __enter__(self) -> RecordingAgent:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._setup(), self.loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        async def close() -> None:
            if self._engine is not None:
                self._engine.close_dispatcher()  # closes the transport and the dispatcher's timer task
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.sock.close()
        self.loop.close()
