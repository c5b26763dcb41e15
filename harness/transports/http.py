"""HTTP(S) sessions to lab devices (httpx): a provisioning server's images and phone configs.

Every request has the settings' ``timeout_s`` deadline (connect, read and write each); failures
raise :class:`~harness.errors.LabError` subclasses naming device, ``http`` and ``host:port``:
a refused or unroutable connection is LabUnreachable, a deadline LabTimeout, a 401/403 on the
configured credentials LabAuthError. Other status codes are returned, not raised: a 404 for an
image is a finding for the scenario, not a broken lab.

Downloads stream: :meth:`HttpSession.digest` hashes a body of any size with SHA-256 in chunks and
never holds it in memory. Credentials (HTTP Basic, or an RFC 6750 bearer ``token``) are resolved at
connect time and never logged; the transcript records request lines and status lines only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from ..errors import LabAuthError, LabTimeout, LabUnreachable
from ..inventory.models import HttpSettings
from .transcript import Transcript

CHUNK_BYTES = 1 << 16  # project choice: read size while hashing a download


@dataclass(frozen=True)
class Digest:
    """A streamed GET: ``status`` code, ``size_bytes`` read, hex ``sha256`` of the body (of whatever
    came, also for an error status), the ``content_type`` header."""

    url: str
    status: int
    size_bytes: int
    sha256: str
    content_type: str


class HttpSession:
    """Requests to one device's HTTP service ``scheme://host:port``."""

    def __init__(self, device: str, host: str, settings: HttpSettings, resolve: Callable[[str | None], str | None],
                 transcript: Transcript) -> None:
        self.device, self.settings, self.transcript = device, settings, transcript
        self.address = f"{host}:{settings.port}"
        self.base_url = f"{settings.scheme}://{host}:{settings.port}"
        auth = None
        if settings.username:
            auth = httpx.BasicAuth(settings.username, resolve(settings.password) or "")
        headers = {"User-Agent": "hil/0.1"}
        if settings.token:
            headers["Authorization"] = f"Bearer {resolve(settings.token) or ''}"
        self.client = httpx.Client(base_url=self.base_url, auth=auth, timeout=settings.timeout_s,
                                   follow_redirects=False, headers=headers)

    def url(self, path: str) -> str:
        """Absolute URL of ``path`` (a path or a full URL) on this service."""
        return path if "://" in path else self.base_url + (path if path.startswith("/") else "/" + path)

    def _fail(self, e: httpx.HTTPError, what: str) -> Exception:
        self.transcript.event(f"{what}: {type(e).__name__}: {e}")
        if isinstance(e, httpx.TimeoutException):
            return LabTimeout(self.device, "http", self.address,
                              f"{what}: no answer within {self.settings.timeout_s:g} s")
        return LabUnreachable(self.device, "http", self.address, f"{what}: {e}")

    def _status(self, r: httpx.Response, what: str) -> None:
        self.transcript.received(f"HTTP {r.status_code} {r.reason_phrase} ({what})")
        if r.status_code in (401, 403) and (self.settings.username or self.settings.token):
            whom = "the configured user" if self.settings.username else f"the bearer token {self.settings.token}"
            raise LabAuthError(self.device, "http", self.address, f"{what}: HTTP {r.status_code} for {whom}")

    def get(self, path: str) -> httpx.Response:
        """GET ``path``; the response with its body read. Raises LabError (see the module docstring)."""
        what = f"GET {self.url(path)}"
        self.transcript.sent(what)
        try:
            r = self.client.get(self.url(path))
        except httpx.HTTPError as e:
            raise self._fail(e, what) from None
        self._status(r, what)
        return r

    def put(self, path: str, body: bytes, content_type: str = "text/plain") -> int:
        """PUT ``body`` at ``path``; the status code. Raises LabError."""
        what = f"PUT {self.url(path)} ({len(body)} bytes)"
        self.transcript.sent(what)
        try:
            r = self.client.put(self.url(path), content=body, headers={"Content-Type": content_type})
        except httpx.HTTPError as e:
            raise self._fail(e, what) from None
        self._status(r, what)
        return r.status_code

    def digest(self, path: str) -> Digest:
        """Stream a GET of ``path`` through SHA-256. Raises LabError."""
        url = self.url(path)
        what = f"GET {url}"
        self.transcript.sent(what + " (streamed)")
        h, size = hashlib.sha256(), 0
        try:
            with self.client.stream("GET", url) as r:
                self._status(r, what)
                for chunk in r.iter_bytes(CHUNK_BYTES):
                    h.update(chunk)
                    size += len(chunk)
                ctype = r.headers.get("content-type", "")
                status = r.status_code
        except httpx.HTTPError as e:
            raise self._fail(e, what) from None
        self.transcript.event(f"{size} bytes, sha256 {h.hexdigest()}")
        return Digest(url, status, size, h.hexdigest(), ctype)

    def close(self) -> None:
        self.client.close()
