"""SNMP transport: GET, walk and bulk walk over pysnmp 7's asyncio hlapi, with deadlines and evidence.

:class:`SnmpClient` talks to one device (v2c community or v3 authPriv, from the inventory's
:class:`~harness.inventory.models.SnmpSettings`). Its ``async`` methods run on whatever loop awaits
them; the ``*_sync`` wrappers run them on ONE shared background loop thread, so drivers called from
many threads are polled concurrently. :func:`gather_get` polls many devices at once.

Versions: v1 (community, RFC 1157), v2c (community, RFC 1901/3416) and v3 (USM authPriv, RFC 3414).

Values come back as Python objects: integers (Integer32, Counter32/64, Gauge32, TimeTicks in
hundredths of a second) as ``int``; OBJECT IDENTIFIER and IpAddress as dotted ``str``; printable
OCTET STRING as ``str``; physical addresses (ifPhysAddress …) as ``aa:bb:cc:dd:ee:ff``; other
binary strings (hex strings) as colon-separated hex; an Opaque that wraps net-snmp's float or
double (tags ``9f 78`` / ``9f 79``) as ``float``, its 64-bit integers as ``int``, any other Opaque
as colon-separated hex; an ASN.1 NULL value as :data:`NULL` (an object that exists and holds
nothing); a missing object (noSuchInstance / noSuchObject / endOfMibView, or SNMPv1 noSuchName) as
``None``.

Walks follow net-snmp's ``snmpwalk``: GETNEXT (or GETBULK) from the root until an OID outside the
subtree, endOfMibView or, in SNMPv1, ``noSuchName`` (RFC 1157 4.1.3: the end of the agent's MIB);
an OID that does not increase (RFC 3416 4.2.2: GETNEXT returns the lexicographic successor) stops
the walk with :class:`SnmpWalkError` ``OID not increasing: A >= B`` carrying the rows gathered so far.
That check comes before the end-of-subtree one (net-snmp checks it after): an answer at or below
the request is the agent's fault wherever it points, and ending there quietly loses the rest.

Errors (all :class:`~harness.errors.LabError`, naming device, ``"snmp"`` and ``host:port``):

* :class:`~harness.errors.LabTimeout`: no answer within ``timeout_s`` × (``retries`` + 1) (a wrong
  v2c community looks like this too: agents drop such requests silently).
* :class:`~harness.errors.LabAuthError`: v3 credentials refused (wrong digest, unknown user,
  decryption error), a secret reference that cannot be resolved, or an ``authorizationError``.
* :class:`~harness.errors.LabProtocolError`: any other error indication or non-zero errorStatus
  (naming the OID at the error index), an OID that is not one (``1.3.6.x``), and any exception
  pysnmp or pyasn1 raises while encoding, sending or decoding (naming the OID asked for);
  :class:`SnmpWalkError` (a LabProtocolError) when a walk fails part way, with ``rows``.

One ``SnmpEngine`` is shared per event loop and credential set (pysnmp's local configuration keys
v3 users by name, so two key sets for one user name need two engines).
"""

from __future__ import annotations

import asyncio
import gc
import re
import struct
import threading
import weakref
from collections.abc import Callable, Coroutine, Iterable, Sequence
from typing import Any, TypeVar

from pyasn1.error import PyAsn1Error
from pyasn1.type import univ
from pysnmp.entity import config as _config
from pysnmp.error import PySnmpError
from pysnmp.hlapi.v3arch.asyncio import (
    CommunityData,
    ContextData,
    ObjectIdentity,
    ObjectType,
    SnmpEngine,
    UdpTransportTarget,
    UsmUserData,
    bulk_cmd,
    get_cmd,
    next_cmd,
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
_NO_SUCH_NAME = 2  # RFC 1157 errorStatus noSuchName
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

class SnmpNull:
    """The value of an object that exists and holds ASN.1 NULL (its only instance is :data:`NULL`),
    told apart from a missing object, which is ``None``. False as a truth value, ``""`` as text."""

    _instance: SnmpNull | None = None

    def __new__(cls) -> SnmpNull:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NULL"

    def __str__(self) -> str:
        return ""  # as text, an empty value (callers that print ``str(v)`` keep working)

    def __bool__(self) -> bool:
        return False


NULL = SnmpNull()

#: net-snmp's Opaque special types (net-snmp ``asn1.h``: ASN_OPAQUE_TAG1 0x9f, then the tag):
#: tag -> (struct format, length); floats per IEEE 754, big-endian as BER sends them.
OPAQUE_TYPES: dict[int, tuple[str, int]] = {
    0x78: (">f", 4),  # ASN_OPAQUE_FLOAT
    0x79: (">d", 8),  # ASN_OPAQUE_DOUBLE
    0x76: (">Q", 8),  # ASN_OPAQUE_COUNTER64 (up to 8 bytes, unsigned)
    0x7A: (">q", 8),  # ASN_OPAQUE_I64
    0x7B: (">Q", 8),  # ASN_OPAQUE_U64
}


def opaque_value(raw: bytes) -> object:
    """An Opaque's content: a ``float`` for net-snmp's float/double, an ``int`` for its 64-bit
    integers, else the bytes as colon-separated hex."""
    if len(raw) >= 3 and raw[0] == 0x9F and raw[1] in OPAQUE_TYPES:
        fmt, size = OPAQUE_TYPES[raw[1]]
        n, body = raw[2], raw[3:]
        if n == len(body) and (n == size or (fmt[1] in "qQ" and 0 < n <= size)):
            if fmt[1] in "fd":
                return float(struct.unpack(fmt, body)[0])
            return int.from_bytes(body, "big", signed=fmt[1] == "q")
    return _hex(raw)


def oid_str(oid: Any) -> str:
    """Dotted form without a leading dot: ``"1.3.6.1.2.1.1.1.0"``."""
    return ".".join(str(n) for n in tuple(oid)) if not isinstance(oid, str) else oid.strip().lstrip(".")


def _hex(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


_MISSING_TAGS = (rfc1905.NoSuchObject.tagSet, rfc1905.NoSuchInstance.tagSet, rfc1905.EndOfMibView.tagSet)


def parse_oid(oid: str | Sequence[int]) -> tuple[int, ...]:
    """``"1.3.6.1.2.1"`` or ``".1.3.6.1.2.1"`` (or a tuple) as a tuple of arcs.

    Raises:
        ValueError: not an OBJECT IDENTIFIER as BER can encode it (X.690 8.19: at least two arcs,
            the first 0, 1 or 2, the second below 40 unless the first is 2, every arc a non-negative
            integer).
    """
    arcs: tuple[int, ...]
    if isinstance(oid, str):
        text = oid.strip().lstrip(".")
        if not re.fullmatch(r"\d+(\.\d+)+", text):
            raise ValueError(f"{oid!r} is not a dotted OBJECT IDENTIFIER (at least two numeric arcs)")
        arcs = tuple(int(a) for a in text.split("."))
    else:
        arcs = tuple(int(a) for a in oid)
        if len(arcs) < 2 or min(arcs) < 0:
            raise ValueError(f"{oid!r} is not an OBJECT IDENTIFIER (at least two non-negative arcs)")
    if arcs[0] > 2 or (arcs[0] < 2 and arcs[1] >= 40):
        raise ValueError(f"{oid!r} is not an OBJECT IDENTIFIER BER can encode (X.690 8.19.4)")
    return arcs


def to_python(oid: Sequence[int], value: Any) -> object:
    """One SNMP value as a Python object (rules in the module docstring)."""
    if value is None or value.tagSet in _MISSING_TAGS:
        return None
    if isinstance(value, univ.Null):
        return NULL
    if isinstance(value, rfc1902.IpAddress):
        return ".".join(str(b) for b in value.asNumbers())
    if isinstance(value, rfc1902.Opaque):
        return opaque_value(bytes(value))
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


class SnmpWalkError(LabProtocolError):
    """A walk that failed part way (an OID that does not increase, an error status, a pysnmp error).

    Attributes:
        rows: the ``[(oid, value), …]`` gathered before it stopped (as :meth:`SnmpClient.walk` returns).
        stopped_at: the OID last asked for (dotted), where the walk stopped.
    """

    def __init__(self, device: str, transport: str, address: str, detail: str) -> None:
        super().__init__(device, transport, address, detail)
        self.rows: list[tuple[str, object]] = []
        self.stopped_at = ""


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

    def _check(self, what: str, ei: Any, es: Any, eidx: Any, names: Sequence[str] = (),
               walk_error: bool = False) -> None:
        """Raise the lab error for an error indication or a non-zero errorStatus; ``names`` are the
        request's OIDs, so the error names the one at the (1-based) error index."""
        if ei:
            if isinstance(ei, errind.RequestTimedOut):
                raise self._timeout(what)
            cls: type[LabError] = LabAuthError if isinstance(ei, _AUTH_INDICATIONS) else LabProtocolError
            raise self._error(SnmpWalkError if walk_error and cls is LabProtocolError else cls, f"{what}: {ei}")
        if es and int(es):
            name = es.prettyPrint() if hasattr(es, "prettyPrint") else str(es)
            idx = int(eidx or 0)
            at = f" ({names[idx - 1]})" if 0 < idx <= len(names) else ""
            cls = LabAuthError if name == "authorizationError" else (
                SnmpWalkError if walk_error else LabProtocolError)
            raise self._error(cls, f"{what}: errorStatus {name} at varbind {idx}{at}")

    def _pysnmp_error(self, what: str, e: Exception, walk_error: bool = False) -> LabError:
        """A pysnmp/pyasn1 exception as a lab error naming the request (device, transport and
        address come with every lab error)."""
        return self._error(SnmpWalkError if walk_error else LabProtocolError,
                           f"{what}: {type(e).__name__}: {e}")

    def _oids(self, what: str, oids: Sequence[str]) -> list[str]:
        try:
            return [".".join(map(str, parse_oid(o))) for o in oids]
        except ValueError as e:
            raise self._error(LabProtocolError, f"{what}: {e}") from None

    # pysnmp plumbing ------------------------------------------------------------------------------

    def _credentials(self) -> tuple[tuple[str, ...], CommunityData | UsmUserData]:
        if self._auth is None:
            s = self.settings
            try:
                if s.version in ("1", "2c"):
                    community = self._resolve(s.community) if s.community else ""
                    self._auth = ((s.version, community),
                                  CommunityData(community, mpModel=0 if s.version == "1" else 1))
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

        In SNMPv1 a missing object fails the whole PDU with ``noSuchName`` at its index (RFC 1157
        4.1.2); as net-snmp's ``snmpget`` does, that object is taken as missing and the request is
        sent again without it.

        Returns:
            ``{oid: value}`` in request order; a missing object or instance maps to ``None``, an
            object holding NULL to :data:`NULL`.
        Raises:
            LabTimeout, LabAuthError, LabProtocolError: see the module docstring.
        """
        what = "GET " + " ".join(oid_str(o) for o in oids)
        names = self._oids(what, oids)
        what = "GET " + " ".join(names)
        eng, auth, target = await self._plumbing()
        self.transcript.sent(what)
        out: dict[str, object] = dict.fromkeys(names)
        ask = list(names)
        while ask:
            try:
                async with asyncio.timeout(self._guard_s()):
                    ei, es, eidx, vbs = await get_cmd(eng, auth, target, ContextData(),
                                                      *(_object_type(n) for n in ask),
                                                      lookupMib=False)
            except TimeoutError:
                raise self._timeout(what) from None
            except (PySnmpError, PyAsn1Error) as e:
                raise self._pysnmp_error(what, e) from None
            if (self.settings.version == "1" and not ei and es and int(es) == _NO_SUCH_NAME
                    and 0 < int(eidx) <= len(ask)):
                missing = ask.pop(int(eidx) - 1)
                self.transcript.event(f"noSuchName for {missing}: missing; asking again without it")
                continue
            self._check(what, ei, es, eidx, ask)
            out.update({oid_str(name): to_python(tuple(name), val) for name, val in vbs})
            break
        self.transcript.received("\n".join(f"{k} = {_show(v)}" for k, v in out.items()))
        return out

    async def _page(self, what: str, last: tuple[int, ...], bulk: bool,
                    max_repetitions: int) -> tuple[Any, Any, Any, Sequence[Any]]:
        """One GETNEXT (or GETBULK) after ``last``."""
        eng, auth, target = await self._plumbing()
        req = ObjectType(ObjectIdentity(".".join(map(str, last))))
        async with asyncio.timeout(self._guard_s()):
            if bulk:
                return await bulk_cmd(eng, auth, target, ContextData(), 0, max_repetitions, req,
                                      lookupMib=False, ignoreNonIncreasingOid=True)
            return await next_cmd(eng, auth, target, ContextData(), req, lookupMib=False,
                                  ignoreNonIncreasingOid=True)

    async def _walk(self, verb: str, oid: str, bulk: bool, max_repetitions: int) -> list[tuple[str, object]]:
        what = f"{verb} {oid_str(oid)}"
        root = self._oids(what, [oid])[0]
        what = f"{verb} {root}"
        root_t = parse_oid(root)
        await self._plumbing()
        self.transcript.sent(what)
        rows: list[tuple[str, object]] = []
        last = root_t
        v1 = self.settings.version == "1"
        bulk = bulk and not v1  # SNMPv1 has no GETBULK: walk with GETNEXT
        try:
            while True:
                try:
                    ei, es, eidx, vbs = await self._page(what, last, bulk, max_repetitions)
                except TimeoutError:
                    raise self._timeout(what) from None
                except (PySnmpError, PyAsn1Error) as e:
                    raise self._pysnmp_error(f"{what} at {'.'.join(map(str, last))}", e, True) from None
                if v1 and not ei and es and int(es) == _NO_SUCH_NAME:
                    break  # RFC 1157 4.1.3: no successor; the end of the agent's MIB view
                self._check(f"{what} at {'.'.join(map(str, last))}", ei, es, eidx,
                            [".".join(map(str, last))], walk_error=True)
                done = not vbs
                for name, val in vbs:
                    found = tuple(name)
                    if val is None or val.tagSet in _MISSING_TAGS:
                        done = True  # endOfMibView (a GETNEXT never answers the noSuch* exceptions)
                        break
                    if found <= last:
                        a, b = ".".join(map(str, last)), ".".join(map(str, found))
                        raise self._error(SnmpWalkError, f"{what}: OID not increasing: {a} >= {b} "
                                                         f"(after {len(rows)} rows)")
                    if found[: len(root_t)] != root_t:
                        done = True  # past the subtree
                        break
                    rows.append((oid_str(found), to_python(found, val)))
                    last = found
                if done:
                    break
        except LabError as e:
            if isinstance(e, SnmpWalkError):
                e.rows, e.stopped_at = rows, ".".join(map(str, last))
            self.transcript.received("\n".join([f"{len(rows)} rows before the error",
                                                 *(f"{k} = {_show(v)}" for k, v in rows)]))
            raise
        self.transcript.received("\n".join([f"{len(rows)} rows", *(f"{k} = {_show(v)}" for k, v in rows)]))
        return rows

    async def walk(self, oid: str) -> list[tuple[str, object]]:
        """GETNEXT walk of the subtree under ``oid`` (as net-snmp's ``snmpwalk``, module docstring).

        Returns:
            ``[(oid, value), …]`` in agent order, only OIDs under ``oid``; empty if none.
        Raises:
            LabTimeout, LabAuthError, LabProtocolError; :class:`SnmpWalkError` (a LabProtocolError,
            with ``rows`` and ``stopped_at``) for an OID that does not increase, an errorStatus or a
            pysnmp error part way.
        """
        return await self._walk("WALK", oid, False, 0)

    async def bulk_walk(self, oid: str, max_repetitions: int = 25) -> list[tuple[str, object]]:
        """GETBULK walk of the subtree under ``oid`` (v2c/v3), ``max_repetitions`` rows per PDU; in
        SNMPv1, which has no GETBULK, a GETNEXT walk.

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
