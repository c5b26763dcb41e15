"""The Genesys Cloud Platform API session: OAuth, deadlines, rate limits, retries, paging, transcripts.

One :class:`CloudApi` per run talks to one org (the inventory's ``cloud:``), over httpx only (the
official SDK has no request timeout, imports in seconds and watches the home folder: it serves the
tests as the contract, never the run; docs/cloud-api.md).

* **Calls are named by their template**: ``api.get("/api/v2/telephony/providers/edges/{edgeId}",
  Edge, edgeId=…)``; every error says ``GET /api/v2/telephony/providers/edges/{edgeId}`` and the
  values (``edgeId=…``), the status and Genesys' ``code``.
* **Deadline**: a call (its retries and rate-limit waits included) ends within the inventory's
  ``cloud.timeout_s``; each HTTP exchange gets what is left as its httpx timeout (connect, read and
  write each), and nothing starts past the deadline: :class:`~harness.errors.LabTimeout`.
* **429** is waited out as ``Retry-After`` says (seconds or an HTTP date; 1 s when absent) and the
  call sent again, whatever its method: a 429 is a refusal before the API acted. A Retry-After
  that ends past the deadline is :class:`~.errors.ApiRateLimited` (``LabBusy``: the API is busy for
  this client, not dead, so nothing is quarantined): that call, and every call made before the
  Retry-After has passed, raise it at once without a request (no timeout spent); the first call
  after it is sent normally. Genesys' own Retry-After values are seconds to a minute.
* **Retries** (tenacity) for idempotent reads only: a GET is sent again after a connection error or
  502/503/504, up to :data:`MAX_ATTEMPTS` times within the deadline, with exponential back-off. A
  POST is never sent twice after a failure that may have reached the API.
* **403** names the permissions the answer names, else those Genesys publishes for the call
  (:mod:`.permissions`).
* **401** renews the token once and sends the call again; a 401 with the new token is
  :class:`~.errors.ApiAuthError` (credentials refused). Errors in general: :mod:`.errors`.
* **Paging** (:meth:`CloudApi.pages`): :mod:`.paging`.
* **Transcripts**: request lines (method, path, query), status lines with size and time, and the
  first :data:`BODY_CHARS` characters of JSON answers. Headers are never written: the
  ``Authorization`` header, the token (registered with the secret mask) and the client secret
  (resolved through the inventory, so masked) never reach a transcript.
* **Typed answers**: a :class:`~.models.CloudModel` subclass per answer; a JSON body that does not
  parse, or lacks a field the model needs, is :class:`~harness.errors.LabProtocolError`.
"""

from __future__ import annotations

import email.utils
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote, urlencode, urlsplit

import httpx
from pydantic import BaseModel, ValidationError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    retry_if_result,
    retry_never,
    stop_after_attempt,
    wait_exponential,
)
from tenacity.stop import stop_base

from ...errors import LabError, LabProtocolError, LabTimeout, LabUnreachable
from ...inventory.models import CLOUD_NAME, CloudSettings
from ...inventory.secrets import MASK
from ..base import TransportSession
from ..transcript import Transcript
from .auth import TOKEN_FORM, TOKEN_PATH, CachedToken
from .errors import (
    ApiAuthError,
    ApiRateLimited,
    ApiStatusError,
    ApiUnavailable,
    error_body,
    missing_permissions,
    token_refusal,
)
from .models import Page, TokenAnswer
from .paging import MAX_PAGES, PAGE_SIZE, first_params, next_page
from .permissions import permissions_for

M = TypeVar("M", bound=BaseModel)

MAX_ATTEMPTS = 3  # project choice: a GET is sent at most 3 times (connection errors, 502/503/504)
RETRY_STATUSES = frozenset({502, 503, 504})
DEFAULT_RETRY_AFTER_S = 1.0  # project choice: a 429 without Retry-After (Genesys always sends one)
BODY_CHARS = 4000  # project choice: the part of each JSON answer a transcript keeps
USER_AGENT = "hil/0.1"


@dataclass(frozen=True)
class ApiCall:
    """One call as errors and transcripts name it: ``method``, the path ``template``
    (``/api/v2/telephony/providers/edges/{edgeId}``) and the values of its ``{names}``."""

    method: str
    template: str
    values: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """``GET /api/v2/telephony/providers/edges/{edgeId}``."""
        return f"{self.method} {self.template}"

    @property
    def path(self) -> str:
        """The template with its values filled in (each quoted as one path segment).

        Raises KeyError naming a ``{name}`` no value was given for."""
        return self.template.format_map({k: quote(v, safe="") for k, v in self.values.items()})

    def __str__(self) -> str:
        given = ", ".join(f"{k}={v}" for k, v in self.values.items())
        return f"{self.name} ({given})" if given else self.name


class CloudApi(TransportSession):
    """The API of one Genesys Cloud org (``settings``: the inventory's ``cloud:``).

    ``resolve`` turns a secret reference into its value (the inventory's, which registers it for
    masking). ``device`` names the org in lab errors (:data:`~harness.inventory.models.CLOUD_NAME`),
    ``transport`` is ``api`` and ``address`` the API host (``api.mypurecloud.com``,
    ``127.0.6.1:8443``). ``http_transport``, ``sleep`` and ``clock`` are for the harness's own tests.
    """

    transport = "api"

    def __init__(self, settings: CloudSettings, resolve: Callable[[str], str], transcript: Transcript, *,
                 device: str = CLOUD_NAME, http_transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings, self.device, self.transcript = settings, device, transcript
        self.api_url, self.login_url = settings.api_url, settings.login_url
        self.address = urlsplit(self.api_url).netloc
        self.client = (f"OAuth client {settings.client_id} (its id is a secret reference)"
                       if settings.client_id_is_reference else f"OAuth client {settings.client_id}")
        self._resolve, self._sleep, self._clock = resolve, sleep, clock
        self._http = httpx.Client(timeout=settings.timeout_s, proxy=settings.proxy, transport=http_transport,
                                  follow_redirects=False, headers={"User-Agent": USER_AGENT,
                                                                   "Accept": "application/json"})
        self._token: CachedToken | None = None
        self._token_lock = threading.Lock()
        self._quiet: tuple[float, float, str] | None = None  # (clock when a 429's Retry-After ends, its s, the call)

    # -- what callers use ----------------------------------------------------------------------

    def get(self, template: str, model: type[M], *, params: dict[str, Any] | None = None, **values: str) -> M:
        """``GET template`` (``{names}`` filled from ``values``) read as ``model``.

        Raises:
            LabTimeout: the deadline passed with no answer.
            ApiRateLimited: a 429's Retry-After ends past the deadline, or an earlier one has not
                passed yet (then nothing is sent).
            LabUnreachable: connection refused or dropped; :class:`~.errors.ApiUnavailable` for 502/503/504.
            ApiAuthError: 401 with a renewed token, 403 (naming the missing permissions).
            ApiStatusError: any other error status (404 …).
            LabProtocolError: the answer is not JSON or lacks a field ``model`` needs.
        """
        call = ApiCall("GET", template, values)
        return self._model(call, self._json(call, self._call(call, params=params)), model)

    def get_json(self, template: str, *, params: dict[str, Any] | None = None, **values: str) -> Any:
        """``GET template``'s decoded JSON. Raises as :meth:`get`."""
        call = ApiCall("GET", template, values)
        return self._json(call, self._call(call, params=params))

    def post(self, template: str, model: type[M], *, body: Any = None, **values: str) -> M:
        """``POST template`` with the JSON ``body``, its answer read as ``model``; never sent twice
        after a failure that may have reached the API. Raises as :meth:`get`."""
        call = ApiCall("POST", template, values)
        return self._model(call, self._json(call, self._call(call, body=body)), model)

    def send(self, method: str, template: str, *, body: Any = None, **values: str) -> Any:
        """``method template`` (``POST``, ``DELETE`` …) with the JSON ``body``; the decoded JSON answer,
        ``None`` for an empty one (a 202/204). Only a GET is ever sent twice. Raises as :meth:`get`."""
        call = ApiCall(method, template, values)
        r = self._call(call, body=body)
        return self._json(call, r) if r.content.strip() else None

    def pages(self, template: str, model: type[M], *, params: dict[str, Any] | None = None,
              page_size: int = PAGE_SIZE, **values: str) -> Iterator[M]:
        """Every entity of a listing, page after page (:mod:`.paging`), each read as ``model``; each
        page is one call with its own deadline. Raises as :meth:`get`, and LabProtocolError for a
        listing that loops or runs past :data:`~.paging.MAX_PAGES` pages."""
        call = ApiCall("GET", template, values)
        query = first_params(params, page_size)
        uri: str | None = None
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            data = self._json(call, self._call(call, params=None if uri else query, uri=uri))
            page = self._model(call, data, Page)
            for entity in page.entities:
                yield self._model(call, entity, model)
            try:
                nxt = next_page(page, query, self.api_url)
            except ValueError as e:
                raise self._error(LabProtocolError, f"{call}: {e}") from None
            if nxt is None:
                return
            if nxt.key() in seen:
                raise self._error(LabProtocolError, f"{call}: the listing loops (next page {nxt.key()} again)")
            seen.add(nxt.key())
            uri, query = nxt.uri, nxt.params if nxt.params is not None else query
        raise self._error(LabProtocolError, f"{call}: more than {MAX_PAGES} pages")

    def list(self, template: str, model: type[M], *, params: dict[str, Any] | None = None,
             page_size: int = PAGE_SIZE, **values: str) -> list[M]:
        """:meth:`pages` as a list."""
        return list(self.pages(template, model, params=params, page_size=page_size, **values))

    def token(self) -> str:
        """A bearer token (the cached one while fresh). Raises as :meth:`get`."""
        return self._bearer(self._clock() + self.settings.timeout_s)

    def close(self) -> None:
        self._http.close()

    # -- one call ----------------------------------------------------------------------------

    def _call(self, call: ApiCall, *, params: dict[str, Any] | None = None, body: Any = None,
              uri: str | None = None) -> httpx.Response:
        """Send ``call`` (or the page ``uri``) with a bearer token until it is answered 2xx or fails:
        429 waited out, one renewal on 401, GET retried (see the module docstring)."""
        try:
            path = uri or call.path
        except KeyError as e:
            raise ValueError(f"{call.name}: no value for {e}") from None
        deadline = self._clock() + self.settings.timeout_s
        renewed = False
        while True:
            token = self._bearer(deadline)
            r = self._send(call, "GET" if uri else call.method, self.api_url + path, deadline, params=params,
                           body=body, headers={"Authorization": f"Bearer {token}"})
            if r.status_code == 429:
                self._wait_out(call, r, deadline)
                continue
            if r.status_code == 401 and not renewed:
                self.transcript.event("HTTP 401: the token was refused; requesting a new one")
                with self._token_lock:
                    if self._token is not None and self._token.value == token:
                        self._token = None
                renewed = True
                continue
            if r.status_code >= 400:
                raise self._status_error(call, r)
            return r

    def _bearer(self, deadline: float) -> str:
        with self._token_lock:
            if self._token is not None and self._token.fresh(self._clock()):
                return self._token.value
            self._token = self._request_token(deadline)
            return self._token.value

    def _request_token(self, deadline: float) -> CachedToken:
        """``POST <login>/oauth/token`` (client credentials); 429 waited out, never retried otherwise."""
        call = ApiCall("POST", TOKEN_PATH)
        client_id = (self._resolve(self.settings.client_id) if self.settings.client_id_is_reference
                     else self.settings.client_id)
        secret = self._resolve(self.settings.client_secret)
        while True:
            r = self._send(call, "POST", self.login_url + TOKEN_PATH, deadline, form=TOKEN_FORM,
                           auth=httpx.BasicAuth(client_id, secret), token_call=True)
            if r.status_code != 429:
                break
            self._wait_out(call, r, deadline)
        if r.status_code in (400, 401, 403):
            why = token_refusal(self._loads(r))
            raise self._error(ApiAuthError, f"{call}: HTTP {r.status_code}: the login host refused the credentials of "
                                            f"{self.client} ({why})", call=call.name, status=r.status_code,
                              client=self.client)
        if r.status_code >= 400:
            raise self._status_error(call, r)
        answer = self._model(call, self._json(call, r), TokenAnswer)
        MASK.add(answer.access_token)
        self.transcript.event(f"token for {self.client}, expires in {answer.expires_in:g} s")
        return CachedToken.issued(answer, self._clock())

    def _send(self, call: ApiCall, method: str, url: str, deadline: float, *, params: dict[str, Any] | None = None,
              body: Any = None, form: dict[str, str] | None = None, headers: dict[str, str] | None = None,
              auth: httpx.Auth | None = None, token_call: bool = False) -> httpx.Response:
        """One HTTP exchange, sent again (GET only) after a connection error or 502/503/504 while
        attempts and the deadline last. Returns the last response; raises LabTimeout or LabUnreachable
        when no response came."""
        self._refuse_while_rate_limited(call)
        idempotent = method == "GET"
        retry = (retry_if_exception_type(LabUnreachable) | retry_if_result(lambda r: r.status_code in RETRY_STATUSES)
                 if idempotent else retry_never)

        clock = self._clock

        class PastDeadline(stop_base):
            def __call__(self, state: RetryCallState) -> bool:  # the back-off would end past the deadline
                return clock() + state.upcoming_sleep >= deadline

        def last(state: RetryCallState) -> httpx.Response:
            assert state.outcome is not None
            result: httpx.Response = state.outcome.result()  # raises the last attempt's error
            return result

        retrying = Retrying(stop=stop_after_attempt(MAX_ATTEMPTS) | PastDeadline(),
                            wait=wait_exponential(multiplier=0.2, max=2.0), retry=retry, sleep=self._sleep,
                            retry_error_callback=last, reraise=True)
        response: httpx.Response = retrying(self._exchange, call, method, url, deadline, params=params, body=body,
                                            form=form, headers=headers, auth=auth, token_call=token_call)
        return response

    def _exchange(self, call: ApiCall, method: str, url: str, deadline: float, *, params: dict[str, Any] | None,
                  body: Any, form: dict[str, str] | None, headers: dict[str, str] | None, auth: httpx.Auth | None,
                  token_call: bool) -> httpx.Response:
        left = deadline - self._clock()
        if left <= 0:
            raise self._error(LabTimeout, f"{call}: no answer within the call's deadline of "
                                          f"{self.settings.timeout_s:g} s")
        shown = urlsplit(url)
        query = f"?{urlencode(params, doseq=True)}" if params else ""
        self.transcript.sent(f"{method} {shown.path}{query or ('?' + shown.query if shown.query else '')}"
                             + (f"\n{json.dumps(body)}" if body is not None else ""))
        started = time.perf_counter()
        try:
            r = self._http.request(method, url, params=params, json=body, data=form, headers=headers, auth=auth,
                                   timeout=httpx.Timeout(left))
        except httpx.TimeoutException as e:
            raise self._error(LabTimeout, f"{call}: no answer within {left:.3g} s (of the call's deadline of "
                                          f"{self.settings.timeout_s:g} s): {type(e).__name__}") from None
        except httpx.HTTPError as e:
            raise self._error(LabUnreachable, f"{call}: {type(e).__name__}: {e}") from None
        ms = (time.perf_counter() - started) * 1000
        text = "" if token_call and r.status_code < 400 else r.text
        shown_body = f"\n{text[:BODY_CHARS]}{' …' if len(text) > BODY_CHARS else ''}" if text else ""
        self.transcript.received(f"HTTP {r.status_code} {r.reason_phrase} ({len(r.content)} bytes, {ms:.0f} ms)"
                                 + shown_body)
        return r

    def _wait_out(self, call: ApiCall, r: httpx.Response, deadline: float) -> None:
        """Sleep the 429's Retry-After, or raise ApiRateLimited when it ends past ``deadline`` (and
        refuse every call until it has passed: :meth:`_refuse_while_rate_limited`)."""
        after = retry_after_s(r.headers.get("Retry-After"))
        now = self._clock()
        if now + after > deadline:
            self._quiet = (now + after, after, call.name)
            raise self._error(ApiRateLimited, f"{call}: rate-limited by Genesys Cloud: Retry-After {after:g} s exceeds "
                                              f"the call's {self.settings.timeout_s:g} s deadline",
                              call=call.name, retry_after_s=after, deadline_s=self.settings.timeout_s)
        self.transcript.event(f"HTTP 429: waiting Retry-After {after:g} s")
        self._sleep(after)

    def _refuse_while_rate_limited(self, call: ApiCall) -> None:
        """Raise ApiRateLimited, sending nothing, while the Retry-After of a 429 that ended an
        earlier call has not passed (the API would refuse this call too)."""
        quiet = self._quiet
        if quiet is None:
            return
        until, after, refused = quiet
        left = until - self._clock()
        if left <= 0:
            self._quiet = None
            return
        raise self._error(ApiRateLimited, f"{call}: rate-limited by Genesys Cloud: Retry-After {after:g} s exceeds the "
                                          f"call's {self.settings.timeout_s:g} s deadline (given to {refused}; "
                                          f"{left:.3g} s of it left, so this call was not sent)",
                          call=call.name, retry_after_s=after, deadline_s=self.settings.timeout_s, sent=False)

    # -- answers --------------------------------------------------------------------------------

    def _status_error(self, call: ApiCall, r: httpx.Response) -> LabError:
        body = error_body(self._loads(r))
        said = ": ".join(p for p in (body.code, body.message) if p)
        detail = f"{call}: HTTP {r.status_code}" + (f" {said}" if said else "")
        if body.context_id:
            detail += f" (contextId {body.context_id})"
        if r.status_code == 401:
            return self._error(ApiAuthError, f"{detail}: the API refuses {self.client} even with a token renewed "
                                             "just now (credentials refused)", call=call.name, status=401,
                               client=self.client)
        if r.status_code == 403:
            perms = missing_permissions(body)
            entry = permissions_for(call.method, call.template)
            if perms:
                lacks = f"{self.client} lacks the permission{'s' if len(perms) > 1 else ''} {', '.join(perms)}"
            elif entry is not None and entry.published:
                perms = entry.permissions
                lacks = (f"{self.client} is not allowed this call, which needs {entry.needs()} (the permission"
                         f"{'s' if len(perms) > 1 else ''} Genesys publishes for it; the answer named none)")
            else:
                lacks = (f"{self.client} is not allowed this call (the answer names no permission, and Genesys "
                         "publishes none for it)")
            return self._error(ApiAuthError, f"{detail}: {lacks}", call=call.name, status=403, client=self.client,
                               permissions=perms)
        if r.status_code in RETRY_STATUSES:
            return self._error(ApiUnavailable, detail, call=call.name, status=r.status_code)
        return self._error(ApiStatusError, detail, call=call.name, status=r.status_code, code=body.code)

    @staticmethod
    def _loads(r: httpx.Response) -> Any:
        try:
            return r.json()
        except ValueError:
            return None

    def _json(self, call: ApiCall, r: httpx.Response) -> Any:
        try:
            return r.json()
        except ValueError:
            raise self._error(LabProtocolError, f"{call}: HTTP {r.status_code} answer is not JSON: "
                                                f"{r.text[:200]!r}") from None

    def _model(self, call: ApiCall, data: Any, model: type[M]) -> M:
        try:
            return model.model_validate(data)
        except ValidationError as e:
            wrong = "; ".join(f"{'.'.join(str(p) for p in err['loc']) or 'the body'}: {err['msg']}"
                              for err in e.errors()[:5])
            raise self._error(LabProtocolError, f"{call}: the answer is not the {model.__name__} the harness reads "
                                                f"({wrong})") from None

    def _error(self, cls: type[LabError], detail: str, **extra: Any) -> Any:
        """A lab error of type ``cls`` naming this org, recorded in the transcript (masked); ``extra``
        goes to the :mod:`.errors` classes' keyword fields."""
        detail = MASK(detail)
        self.transcript.event(f"{cls.kind}: {detail}")
        return cls(self.device, self.transport, self.address, detail, **extra)


def retry_after_s(value: str | None) -> float:
    """A ``Retry-After`` header as seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3);
    :data:`DEFAULT_RETRY_AFTER_S` when absent or unreadable, never below 0."""
    if not value:
        return DEFAULT_RETRY_AFTER_S
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER_S
    return max(0.0, when.timestamp() - time.time())
