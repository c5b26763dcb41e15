"""SNMP transport: GET, walk and bulk walk over pysnmp 7's asyncio hlapi, with deadlines and evidence.

:class:`SnmpClient` talks to one device (v2c community or v3 authPriv, from the inventory's
:class:`~harness.inventory.models.SnmpSettings`). Its ``async`` methods run on whatever loop awaits
them; the ``*_sync`` wrappers run them on ONE shared background loop thread, so drivers called from
many threads are polled concurrently. :func:`gather_get` polls many devices at once.

Values come back as Python objects: integers (Integer32, Counter32/64, Gauge32, TimeTicks in
hundredths of a second) as ``int``; OBJECT IDENTIFIER and IpAddress as dotted ``str``; printable
OCTET STRING as ``str``; physical addresses (ifPhysAddress …) as ``aa:bb:cc:dd:ee:ff``; other
binary strings as colon-separated hex; noSuchInstance / noSuchObject / endOfMibView as ``None``.

Errors (all :class:`~harness.errors.LabError`, naming device, ``"snmp"`` and ``host:port``):

* :class:`~harness.errors.LabTimeout`: no answer within ``timeout_s`` × (``retries`` + 1) (a wrong
  v2c community looks like this too: agents drop such requests silently).
* :class:`~harness.errors.LabAuthError`: v3 credentials refused (wrong digest, unknown user,
  decryption error), a secret reference that cannot be resolved, or an ``authorizationError``.
* :class:`~harness.errors.LabProtocolError`: any other error indication or non-zero errorStatus.

One ``SnmpEngine`` is shared per event loop and credential set (pysnmp's local configuration keys
v3 users by name, so two key sets for one user name need two engines).
"""

from __future__ import annotations

import asyncio
import gc
import threading
import weakref
from collections.abc import Callable, Coroutine, Iterable, Sequence
from contextlib import aclosing
from typing import Any, TypeVar

from pyasn1.type import univ
from pysnmp.entity import config as _config
from pysnmp.hlapi.v3arch.asyncio import (
    CommunityData,
    ContextData,
    ObjectIdentity,
    ObjectType,
    SnmpEngine,
    UdpTransportTarget,
    UsmUserData,
    bulk_walk_cmd,
    get_cmd,
    walk_cmd,
)
from pysnmp.proto import errind, rfc1902, rfc1905
from pysnmp.proto.secmod.rfc3414.service import SnmpUSMSecurityModel

from ..errors import LabAuthError, LabError, LabProtocolError, LabTimeout
from ..inventory.models import SnmpSettings
from ..inventory.secrets import MASK, SecretResolutionError
from .base import TransportSession
from .transcript import Transcript

T = TypeVar("T")

#: Inventory ``auth_protocol`` -> pysnmp USM id (shared with the twin's agent).
AUTH_PROTOCOLS: dict[str, tuple[int, ...]] = {
    "SHA": _config.USM_AUTH_HMAC96_SHA,
    "SHA256": _config.USM_AUTH_HMAC192_SHA256,  # RFC 7860; net-snmp -a SHA-256
    "MD5": _config.USM_AUTH_HMAC96_MD5,
}
#: Inventory ``priv_protocol`` -> pysnmp USM id. AES256 is the Reeder-key-extension variant
#: ("AES-256-Cisco") that Cisco gear speaks; project choice. It matches net-snmp's Blumenthal
#: ``-x AES-256`` only with a 32-byte auth hash (SHA256), see docs/twin-snmp.md.
PRIV_PROTOCOLS: dict[str, tuple[int, ...]] = {
    "AES": _config.USM_PRIV_CFB128_AES,
    "AES256": _config.USM_PRIV_CFB256_AES,
    "DES": _config.USM_PRIV_CBC56_DES,
}

#: OCTET STRING columns that hold a physical address, rendered as ``aa:bb:cc:dd:ee:ff``.
PHYS_ADDRESS_OIDS: tuple[tuple[int, ...], ...] = (
    (1, 3, 6, 1, 2, 1, 2, 2, 1, 6),  # IF-MIB ifPhysAddress
    (1, 3, 6, 1, 2, 1, 17, 1, 1),  # BRIDGE-MIB dot1dBaseBridgeAddress
    (1, 3, 6, 1, 2, 1, 4, 22, 1, 2),  # IP-MIB ipNetToMediaPhysAddress
)

_AUTH_INDICATIONS = (errind.WrongDigest, errind.UnknownUserName, errind.AuthenticationFailure,
                     errind.AuthenticationError, errind.DecryptionError, errind.UnknownSecurityName,
                     errind.UnsupportedSecurityLevel, errind.UnknownCommunityName)
_GUARD_S = 1.0  # project choice: slack over pysnmp's own retry deadline before the outer guard fires
_WALK_GUARD_S = 300.0  # project choice: a sync walk that outlives this means the SNMP loop is wedged


# --- SNMPv3 keys, for masking -------------------------------------------------------------------------

def localized_keys(settings: SnmpSettings, auth_password: str, priv_password: str, engine_id: bytes) -> list[bytes]:
    """The keys USM derives from the v3 passwords of ``settings`` for the agent ``engine_id``, as
    pysnmp computes them with its own services (RFC 3414 A.2 password-to-key, then localization;
    RFC 3826 / Reeder for AES): the authentication key, the privacy key as used (AES-128: the first
    16 bytes) and in full, and the two master keys before localization. For
    :meth:`~harness.inventory.secrets.SecretMask.add_key`; a transcript or log holds them in hex."""
    auth_id = AUTH_PROTOCOLS[settings.auth_protocol]
    auth = SnmpUSMSecurityModel.AUTH_SERVICES[auth_id]
    priv = SnmpUSMSecurityModel.PRIV_SERVICES[PRIV_PROTOCOLS[settings.priv_protocol]]
    eid = univ.OctetString(engine_id)
    auth_master = auth.hash_passphrase(auth_password)
    priv_master = priv.hash_passphrase(auth_id, priv_password)
    keys = [auth_master, auth.localize_key(auth_master, eid), priv_master,
            priv.localize_key(auth_id, priv_master, eid), auth.localize_key(priv_master, eid)]
    return [bytes(univ.OctetString(k).asOctets()) for k in keys]


def _mask_usm_keys(snmp_engine: Any, execpoint: str, variables: dict[str, Any], cb_ctx: Any) -> None:
    """pysnmp observer: register the localized keys a v3 message was processed with (as soon as the
    agent's engine ID is known) with :data:`~harness.inventory.secrets.MASK`."""
    for name in ("authKey", "privKey"):
        key = variables.get(name)
        if key is not None and len(key):
            MASK.add_key(bytes(univ.OctetString(key).asOctets()))


# --- value conversion ------------------------------------------------------------------------------

def oid_str(oid: Any) -> str:
    """Dotted form without a leading dot: ``"1.3.6.1.2.1.1.1.0"``."""
    return ".".join(str(n) for n in tuple(oid)) if not isinstance(oid, str) else oid.strip().lstrip(".")


def _hex(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


def to_python(oid: Sequence[int], value: Any) -> object:
    """One SNMP value as a Python object (rules in the module docstring)."""
    if value is None or isinstance(value, univ.Null) or value.tagSet in (
            rfc1905.NoSuchObject.tagSet, rfc1905.NoSuchInstance.tagSet, rfc1905.EndOfMibView.tagSet):
        return None
    if isinstance(value, rfc1902.IpAddress):
        return ".".join(str(b) for b in value.asNumbers())
    if isinstance(value, univ.OctetString):
        raw = bytes(value)
        t = tuple(oid)
        if len(raw) == 6 and any(t[: len(p)] == p for p in PHYS_ADDRESS_OIDS):
            return _hex(raw)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return _hex(raw)
        return text if all(c.isprintable() or c in "\r\n\t" for c in text) else _hex(raw)
    if isinstance(value, univ.ObjectIdentifier):
        return oid_str(value)
    if isinstance(value, univ.Integer):
        return int(value)
    return value.prettyPrint()


_OBJECT_TYPES: dict[str, ObjectType] = {}
_OBJECT_TYPES_MAX = 10_000  # project choice: bounds the cache; drivers poll a small fixed set of OIDs


def _object_type(oid: str) -> ObjectType:
    """A request varbind for ``oid``, reused: hlapi resolves an ObjectType against the MIB once and
    skips it afterwards, which is a quarter of the client's CPU per GET otherwise."""
    ot = _OBJECT_TYPES.get(oid)
    if ot is None:
        ot = ObjectType(ObjectIdentity(oid))
        if len(_OBJECT_TYPES) < _OBJECT_TYPES_MAX:
            _OBJECT_TYPES[oid] = ot
    return ot


def _show(value: object) -> str:
    return "None" if value is None else repr(value)


# --- the shared background loop ---------------------------------------------------------------------

class _LoopThread:
    """One daemon thread running one asyncio loop for every sync caller in the process."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._loop.is_closed():
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="hil-snmp-loop", daemon=True).start()
                self._loop = loop
            return self._loop

    def run(self, coro: Coroutine[Any, Any, T], timeout_s: float) -> T:
        """Run ``coro`` on the shared loop and wait at most ``timeout_s`` (the coroutine has its own
        deadline; this one only guards against a wedged loop)."""
        loop = self.loop()
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            coro.close()
            raise RuntimeError("a *_sync SNMP call was made on the SNMP loop itself; await the async method")
        fut = asyncio.run_coroutine_threadsafe(coro, loop)
        try:
            return fut.result(timeout_s)
        except TimeoutError:
            fut.cancel()
            raise


LOOP = _LoopThread()

_ENGINES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, ...], SnmpEngine]] = (
    weakref.WeakKeyDictionary())


def _engine(key: tuple[str, ...]) -> SnmpEngine:
    """The engine of the running loop for one credential set (created on first use)."""
    per_loop = _ENGINES.setdefault(asyncio.get_running_loop(), {})
    eng = per_loop.get(key)
    if eng is None:
        eng = per_loop[key] = SnmpEngine()
        eng.observer.register_observer(_mask_usm_keys, "rfc3414.processIncomingMsg")
        # An engine loads pysnmp's MIB objects: a large, long-lived heap that the cyclic garbage
        # collector would otherwise walk again and again while many requests are in flight
        # (measured: 0.43 s -> 0.6–0.8 s for 200 concurrent v3 GETs). Move it out of its reach;
        # reference counting still frees everything as usual.
        gc.freeze()
    return eng


# --- the client -------------------------------------------------------------------------------------

class SnmpClient(TransportSession):
    """SNMP session to one device.

    Args:
        device: inventory name (for errors and the transcript).
        host: address to poll; the port comes from ``settings.port``.
        settings: the device's inventory SNMP settings (version, credentials as references,
            ``timeout_s`` per try, ``retries``).
        resolve: turns a secret reference into its value (``LoadedLab.resolve``); called at the
            first request, never at construction.
        transcript: where every request, response and error is recorded.
    """

    transport = "snmp"

    def __init__(self, device: str, host: str, settings: SnmpSettings, resolve: Callable[[str], str],
                 transcript: Transcript) -> None:
        self.device = device
        self.host = host
        self.settings = settings
        self.address = f"{host}:{settings.port}"
        self.transcript = transcript
        self._resolve = resolve
        self._auth: tuple[tuple[str, ...], CommunityData | UsmUserData] | None = None
        self._targets: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, UdpTransportTarget] = (
            weakref.WeakKeyDictionary())

    # deadlines ------------------------------------------------------------------------------------

    @property
    def deadline_s(self) -> float:
        """Longest a request can take before pysnmp reports a timeout: timeout_s × (retries + 1)."""
        return self.settings.timeout_s * (self.settings.retries + 1)

    def _guard_s(self) -> float:
        # v3 may spend one full deadline on engine-ID discovery before the request itself.
        return self.deadline_s * (2 if self.settings.version == "3" else 1) + _GUARD_S

    # errors ---------------------------------------------------------------------------------------

    def _timeout(self, what: str) -> LabError:
        s = self.settings
        return self._error(LabTimeout, f"no answer to {what} within {s.timeout_s:g} s x {s.retries + 1} tries")

    def _check(self, what: str, ei: Any, es: Any, eidx: Any) -> None:
        if ei:
            if isinstance(ei, errind.RequestTimedOut):
                raise self._timeout(what)
            cls = LabAuthError if isinstance(ei, _AUTH_INDICATIONS) else LabProtocolError
            raise self._error(cls, f"{what}: {ei}")
        if es and int(es):
            name = es.prettyPrint()
            cls = LabAuthError if name == "authorizationError" else LabProtocolError
            raise self._error(cls, f"{what}: errorStatus {name} at varbind {int(eidx)}")

    # pysnmp plumbing ------------------------------------------------------------------------------

    def _credentials(self) -> tuple[tuple[str, ...], CommunityData | UsmUserData]:
        if self._auth is None:
            s = self.settings
            try:
                if s.version == "2c":
                    community = self._resolve(s.community) if s.community else ""
                    self._auth = (("2c", community), CommunityData(community, mpModel=1))
                else:
                    auth_key = self._resolve(s.auth_key) if s.auth_key else ""
                    priv_key = self._resolve(s.priv_key) if s.priv_key else ""
                    key = ("3", s.user or "", s.auth_protocol, auth_key, s.priv_protocol, priv_key)
                    self._auth = (key, UsmUserData(s.user or "", auth_key, priv_key,
                                                   authProtocol=AUTH_PROTOCOLS[s.auth_protocol],
                                                   privProtocol=PRIV_PROTOCOLS[s.priv_protocol]))
            except SecretResolutionError as e:
                raise self._error(LabAuthError, f"cannot resolve credentials: {e}") from None
        return self._auth

    async def _plumbing(self) -> tuple[SnmpEngine, CommunityData | UsmUserData, UdpTransportTarget]:
        key, auth = self._credentials()
        loop = asyncio.get_running_loop()
        target = self._targets.get(loop)
        if target is None:
            try:
                target = await UdpTransportTarget.create((self.host, self.settings.port),
                                                         timeout=self.settings.timeout_s,
                                                         retries=self.settings.retries)
            except Exception as e:  # pysnmp wraps resolver failures in PySnmpError
                raise self._error(LabProtocolError, f"cannot resolve {self.host}: {e}") from None
            self._targets[loop] = target
        return _engine(key), auth, target

    # public API -----------------------------------------------------------------------------------

    async def get(self, *oids: str) -> dict[str, object]:
        """GET ``oids`` (dotted strings) in one PDU.

        Returns:
            ``{oid: value}`` in request order; a missing object or instance maps to ``None``.
        Raises:
            LabTimeout, LabAuthError, LabProtocolError: see the module docstring.
        """
        names = [oid_str(o) for o in oids]
        what = "GET " + " ".join(names)
        eng, auth, target = await self._plumbing()
        self.transcript.sent(what)
        try:
            async with asyncio.timeout(self._guard_s()):
                ei, es, eidx, vbs = await get_cmd(eng, auth, target, ContextData(),
                                                  *(_object_type(n) for n in names),
                                                  lookupMib=False)
        except TimeoutError:
            raise self._timeout(what) from None
        self._check(what, ei, es, eidx)
        out = {oid_str(name): to_python(tuple(name), val) for name, val in vbs}
        self.transcript.received("\n".join(f"{k} = {_show(v)}" for k, v in out.items()))
        return out

    async def _walk(self, verb: str, oid: str, bulk: bool, max_repetitions: int) -> list[tuple[str, object]]:
        root = oid_str(oid)
        what = f"{verb} {root}"
        eng, auth, target = await self._plumbing()
        self.transcript.sent(what)
        rows: list[tuple[str, object]] = []
        start = ObjectType(ObjectIdentity(root))
        gen = (bulk_walk_cmd(eng, auth, target, ContextData(), 0, max_repetitions, start,
                             lexicographicMode=False, lookupMib=False) if bulk else
               walk_cmd(eng, auth, target, ContextData(), start, lexicographicMode=False, lookupMib=False))
        async with aclosing(gen) as batches:
            while True:  # each response has its own deadline; pysnmp stops on non-increasing OIDs
                try:
                    async with asyncio.timeout(self._guard_s()):
                        ei, es, eidx, vbs = await anext(batches)
                except StopAsyncIteration:
                    break
                except TimeoutError:
                    raise self._timeout(what) from None
                self._check(what, ei, es, eidx)
                rows += [(oid_str(n), to_python(tuple(n), v)) for n, v in vbs]
        self.transcript.received("\n".join([f"{len(rows)} rows", *(f"{k} = {_show(v)}" for k, v in rows)]))
        return rows

    async def walk(self, oid: str) -> list[tuple[str, object]]:
        """GETNEXT walk of the subtree under ``oid``.

        Returns:
            ``[(oid, value), …]`` in agent order, only OIDs under ``oid``; empty if none.
        Raises:
            LabTimeout, LabAuthError, LabProtocolError.
        """
        return await self._walk("WALK", oid, False, 0)

    async def bulk_walk(self, oid: str, max_repetitions: int = 25) -> list[tuple[str, object]]:
        """GETBULK walk of the subtree under ``oid`` (v2c/v3), ``max_repetitions`` rows per PDU.

        Returns and raises as :meth:`walk`.
        """
        return await self._walk("BULKWALK", oid, True, max_repetitions)

    # sync wrappers for drivers ---------------------------------------------------------------------

    def _sync_guard_s(self, walks: bool = False) -> float:
        return _WALK_GUARD_S if walks else self._guard_s() + _GUARD_S

    def get_sync(self, *oids: str) -> dict[str, object]:
        """:meth:`get` on the shared SNMP loop thread (blocks the caller)."""
        return LOOP.run(self.get(*oids), self._sync_guard_s())

    def walk_sync(self, oid: str) -> list[tuple[str, object]]:
        """:meth:`walk` on the shared SNMP loop thread."""
        return LOOP.run(self.walk(oid), self._sync_guard_s(walks=True))

    def bulk_walk_sync(self, oid: str, max_repetitions: int = 25) -> list[tuple[str, object]]:
        """:meth:`bulk_walk` on the shared SNMP loop thread."""
        return LOOP.run(self.bulk_walk(oid, max_repetitions), self._sync_guard_s(walks=True))

    def close(self) -> None:
        """Forget resolved credentials and targets (the shared engines stay for other clients)."""
        self._auth = None
        self._targets = weakref.WeakKeyDictionary()


async def agather_get(clients_and_oids: Iterable[tuple[SnmpClient, Sequence[str]]],
                      limit: int = 50) -> list[dict[str, object] | LabError]:
    """GET from many devices concurrently, at most ``limit`` requests in flight.

    Returns:
        One entry per input pair, in input order: the ``{oid: value}`` dict of :meth:`SnmpClient.get`,
        or the :class:`LabError` that device raised (one dead device never fails the others).
    """
    sem = asyncio.Semaphore(limit)

    async def one(client: SnmpClient, oids: Sequence[str]) -> dict[str, object] | LabError:
        async with sem:
            try:
                return await client.get(*oids)
            except LabError as e:
                return e

    return list(await asyncio.gather(*(one(c, o) for c, o in clients_and_oids)))


def gather_get(clients_and_oids: Iterable[tuple[SnmpClient, Sequence[str]]],
               limit: int = 50) -> list[dict[str, object] | LabError]:
    """:func:`agather_get` on the shared SNMP loop thread (blocks the caller); same return value."""
    pairs = list(clients_and_oids)
    if not pairs:
        return []
    waves = -(-len(pairs) // max(1, limit))
    guard = max(c._guard_s() for c, _ in pairs) * waves + _GUARD_S
    return LOOP.run(agather_get(pairs, limit), guard)
