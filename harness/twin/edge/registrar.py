"""The twin Edge's registrar for its phones (RFC 3261 §10.3, no digest authentication), on the
Edge's phone-trunk :class:`~harness.transports.sip.stack.SipStack` (see :mod:`.sip`).

Behaviour (unchanged from the walking skeleton, docs/twin-sip.md):

* It accepts the extensions (or ``sip.username``) of the phones whose ``sip.registrar`` names this
  Edge; any other user gets 404.
* A REGISTER with a Contact gets 200 with ``Contact: <…>;expires=N`` and ``Expires: N`` and sets
  ``EdgeState.registrations[ext] = (contact ip, contact port, expiry as epoch seconds)``.
* Bindings shorter than :data:`MIN_EXPIRES_S` get 423 with ``Min-Expires``; longer than
  :data:`MAX_EXPIRES_S` are cut to it. ``Expires: 0`` (header or Contact parameter) or
  ``Contact: *`` removes the binding; a REGISTER without Contact is a query (200 with the binding).
* Expired bindings are purged on the next REGISTER and never used for routing
  (:meth:`Registrar.lookup`). Bindings survive the Edge going ``down``: they expire on their own.
"""

from __future__ import annotations

import time

from ...inventory.models import PhoneDevice
from ...transports.sip.message import new_tag
from ...transports.sip.stack import ServerTransaction
from ..core.twin import Twin
from .state import EdgeState

MIN_EXPIRES_S = 60  # shorter bindings get 423 (RFC 3261 §10.3 step 7)
MAX_EXPIRES_S = 3600  # longer bindings are shortened to this


class Registrar:
    """Registrar of one Edge; ``register(txn)`` answers a REGISTER, ``lookup(ext)`` routes to it."""

    def __init__(self, twin: Twin, device: str) -> None:
        st = twin.states[device]
        assert isinstance(st, EdgeState)
        self.st = st
        self.extensions = {(d.sip.username if d.sip and d.sip.username else d.facts.extension)
                           for d in twin.lab.devices.values()
                           if isinstance(d, PhoneDevice) and d.sip and d.sip.registrar == device}

    def _purge(self, now: float) -> None:
        for ext, (_, _, until) in list(self.st.registrations.items()):
            if until <= now:
                del self.st.registrations[ext]

    def lookup(self, ext: str) -> tuple[str, int] | None:
        """``(ip, port)`` of the phone registered as ``ext``, ``None`` when none is (or it expired)."""
        b = self.st.registrations.get(ext)
        if b is None or b[2] <= time.time():
            return None
        return b[0], b[1]

    def register(self, txn: ServerTransaction) -> None:
        """Answer a REGISTER (rules in the module docstring). Raises ValueError for a header that
        does not parse (the caller answers 400)."""
        req, st = txn.req, self.st
        now = time.time()
        self._purge(now)
        tag = new_tag()
        user = req.to_address.uri.user
        if not user or user not in self.extensions:
            txn.reply(404, to_tag=tag)
            return
        raw_contact = (req.headers.get("Contact") or "").strip()
        if raw_contact == "*":
            st.registrations.pop(user, None)
            txn.reply(200, to_tag=tag)
            return
        contacts = req.contact
        if not contacts:  # a query: the current binding
            extra = []
            if user in st.registrations:
                ip, port, until = st.registrations[user]
                extra.append(("Contact", f"<sip:{user}@{ip}:{port}>;expires={max(0, int(until - now))}"))
            txn.reply(200, to_tag=tag, extra=extra)
            return
        c = contacts[0]
        asked = c.parameters.get("expires")
        if asked is not None:
            expires = int(asked)
        else:
            expires = req.expires if req.expires is not None else MAX_EXPIRES_S
        if expires == 0:
            st.registrations.pop(user, None)
            txn.reply(200, to_tag=tag)
            return
        if expires < MIN_EXPIRES_S:
            txn.reply(423, "Interval Too Brief", to_tag=tag, extra=[("Min-Expires", str(MIN_EXPIRES_S))])
            return
        expires = min(expires, MAX_EXPIRES_S)
        st.registrations[user] = (c.uri.host, c.uri.port or 5060, now + expires)
        txn.reply(200, to_tag=tag, extra=[("Contact", f"<{c.uri}>;expires={expires}"), ("Expires", str(expires))])
