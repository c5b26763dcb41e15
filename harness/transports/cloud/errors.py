"""Genesys Cloud API failures as lab errors (:mod:`harness.errors`), each naming the call
(``GET /api/v2/telephony/providers/edges/{edgeId}``), the status and Genesys' ``code``.

=====================================  ======================================================  =====================
answer                                 error                                                    quarantines the API
=====================================  ======================================================  =====================
401 after a renewed token, token        :class:`ApiAuthError` (``LabAuthError``): the OAuth      no
endpoint 400/401                        client's id (or its reference) and Genesys' reason
403                                     :class:`ApiAuthError`: the client, and the permissions    no
                                        it lacks (``code: missing.permissions``)
429 with a Retry-After past the         :class:`ApiRateLimited` (``LabBusy``) naming the          no: later calls fail
call's deadline                         Retry-After and the deadline                             fast until it passes
502/503/504 (after the retries of a     :class:`ApiUnavailable` (``LabUnreachable``)              yes
GET)
any other 4xx/5xx                       :class:`ApiStatusError` (``LabProtocolError``)            no
=====================================  ======================================================  =====================
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from ...errors import LabAuthError, LabBusy, LabProtocolError, LabUnreachable, who
from .models import ErrorBody

#: a Genesys permission: ``domain:entity:action`` (``telephony:plugin:all``, ``directory:user:view``)
PERMISSION_RE = re.compile(r"\b[a-zA-Z]+:[a-zA-Z*]+:[a-zA-Z*]+\b")


class ApiStatusError(LabProtocolError):
    """The API answered ``status`` (with Genesys' ``code``) to ``call`` (``GET /api/v2/…/{edgeId}``)."""

    def __init__(self, device: str, transport: str, address: str, detail: str, *, call: str = "", status: int = 0,
                 code: str = "") -> None:
        super().__init__(device, transport, address, detail)
        self.call, self.status, self.code = call, status, code


class ApiAuthError(LabAuthError):
    """The API refused the OAuth client: credentials refused (401, token endpoint 400/401) or a
    permission missing (403; ``permissions`` lists them when Genesys named them)."""

    def __init__(self, device: str, transport: str, address: str, detail: str, *, call: str = "", status: int = 0,
                 client: str = "", permissions: tuple[str, ...] = ()) -> None:
        super().__init__(device, transport, address, detail)
        self.call, self.status, self.client, self.permissions = call, status, client, permissions


class ApiUnavailable(LabUnreachable):
    """The API answered 502, 503 or 504 (after the retries a GET gets)."""

    def __init__(self, device: str, transport: str, address: str, detail: str, *, call: str = "",
                 status: int = 0) -> None:
        super().__init__(device, transport, address, detail)
        self.call, self.status = call, status


class ApiRateLimited(LabBusy):
    """Genesys Cloud refused ``call`` with 429 and a ``Retry-After`` of ``retry_after_s`` that ends past
    the call's deadline (``deadline_s``): the API is busy for this client, not dead. Every call made
    before the Retry-After has passed raises it too, without being sent (``sent`` false)."""

    def __init__(self, device: str, transport: str, address: str, detail: str, *, call: str = "",
                 retry_after_s: float = 0.0, deadline_s: float = 0.0, sent: bool = True) -> None:
        super().__init__(device, transport, address, detail)
        self.call, self.retry_after_s, self.deadline_s, self.sent = call, retry_after_s, deadline_s, sent
        self.args = (f"{self.kind}: {who(device, transport, address)}: {detail}",)


def error_body(data: Any) -> ErrorBody:
    """Genesys' error body out of a decoded JSON answer (an empty one when it is not one)."""
    try:
        return ErrorBody.model_validate(data) if isinstance(data, dict) else ErrorBody()
    except ValidationError:
        return ErrorBody()


def missing_permissions(body: ErrorBody) -> tuple[str, ...]:
    """The permissions a 403 names, in order, without repeats: from ``messageParams`` (any value,
    a string or a list) and else from ``message`` (``… missing the following permission(s):
    [telephony:plugin:all]``)."""
    found: list[str] = []
    for v in body.message_params.values():
        for text in v if isinstance(v, list) else [v]:
            found += PERMISSION_RE.findall(str(text))
    if not found:
        found = PERMISSION_RE.findall(body.message)
    return tuple(dict.fromkeys(found))


def token_refusal(data: Any) -> str:
    """The reason of a refused token request (``invalid_client: client not found``), from the OAuth
    error body (``error``, ``error_description``/``description``) or Genesys' own."""
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        why = data.get("error_description") or data.get("description") or ""
        return f"{data['error']}: {why}" if why else str(data["error"])
    body = error_body(data)
    return ": ".join(p for p in (body.code, body.message) if p) or "no reason given"
