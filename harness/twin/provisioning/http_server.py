"""The twin's provisioning server: HTTP on ``host:http.port`` for devices of role ``provisioning``.

As a customer's provisioning server does, it serves:

* ``GET <firmware_path><platform>-<version>.bin``: a firmware image for any platform and version.
  The twin holds every release: the bytes are :func:`.images.firmware_image` (deterministic, so a
  profile can name their SHA-256; ``hil lab image-sha PLATFORM VERSION`` prints it).
* ``GET <firmware_path>``: an index (text, one image name per line of those served so far).
* ``GET|PUT <config_path><mac>.cfg``: per-phone configuration files; PUT stores (HTTP Basic auth
  with the inventory's ``http.username``/``password`` when set), GET returns 404 until one exists.

Faults (:mod:`.faults`): ``image-404`` (every image GET answers 404 Not Found), ``bad-checksum``
(images are served with one byte changed, as a corrupted upload would be). Everything else answers
404/405. The server is ``http.server.ThreadingHTTPServer`` on a thread of its own; ``Server: hil-twin
provisioning server``.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ...inventory.models import ProvisioningDevice
from ..core.twin import Service, Twin
from .faults import BAD_CHECKSUM, IMAGE_404
from .images import firmware_image
from .state import ProvisioningState

MAX_UPLOAD_BYTES = 1 << 16  # a phone configuration file is small
REQUESTS_KEPT = 1000
_NAME = re.compile(r"^([A-Za-z0-9_.-]+)-([A-Za-z0-9_.+-]+)\.bin$")


class _Handler(BaseHTTPRequestHandler):
    server_version = "hil-twin provisioning server"
    sys_version = ""
    service: ProvisioningService  # set on the subclass per service

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(self, code: int, body: bytes = b"", ctype: str = "text/plain") -> None:
        st = self.service.state
        st.requests.append((self.command, self.path, code))
        del st.requests[:-REQUESTS_KEPT]
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self) -> None:
        svc, path = self.service, self.path.split("?", 1)[0]
        fw, cfg = svc.dev.facts.firmware_path, svc.dev.facts.config_path
        if path == fw:
            self._send(200, "".join(f"{n}\n" for n in sorted(svc.served)).encode())
        elif path.startswith(fw) and (m := _NAME.match(path[len(fw):])):
            if IMAGE_404.on(svc.state):
                self._send(404, b"not found\n")
                return
            data = firmware_image(m[1], m[2])
            if BAD_CHECKSUM.on(svc.state):
                data = data[:-1] + bytes([data[-1] ^ 0xFF])
            svc.served.add(path[len(fw):])
            self._send(200, data, "application/octet-stream")
        elif path.startswith(cfg) and path[len(cfg):] in svc.state.files:
            self._send(200, svc.state.files[path[len(cfg):]])
        else:
            self._send(404, b"not found\n")

    do_HEAD = do_GET

    def do_PUT(self) -> None:
        svc, path = self.service, self.path.split("?", 1)[0]
        cfg = svc.dev.facts.config_path
        name = path[len(cfg):] if path.startswith(cfg) else ""
        if not re.fullmatch(r"[0-9a-f]{12}\.cfg", name):
            self._send(405, b"only phone configuration files can be uploaded\n")
            return
        if not svc.authorized(self.headers.get("Authorization", "")):
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="provisioning"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        try:
            n = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            n = -1
        if not 0 <= n <= MAX_UPLOAD_BYTES:
            self._send(413 if n > MAX_UPLOAD_BYTES else 400, b"bad Content-Length\n")
            return
        created = name not in svc.state.files
        svc.state.files[name] = self.rfile.read(n)
        self._send(201 if created else 204)


class _Server(ThreadingHTTPServer):
    # socketserver's default backlog of 5 drops the SYNs of a wave of phones fetching at once (each
    # then waits the 1 s SYN retransmission); a provisioning server takes hundreds of phones.
    request_queue_size = 256


class ProvisioningService:
    """HTTP server of one provisioning device."""

    name = "http"

    def __init__(self, twin: Twin, device: str) -> None:
        dev = twin.lab.devices[device]
        assert isinstance(dev, ProvisioningDevice) and dev.http is not None
        self.twin, self.device, self.dev, self.settings = twin, device, dev, dev.http
        st = twin.states[device]
        assert isinstance(st, ProvisioningState)
        self.state = st
        self.served: set[str] = set()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def authorized(self, header: str) -> bool:
        if not self.settings.username:
            return True
        password = (self.twin.loaded.resolve(self.settings.password) if self.settings.password else "") or ""
        want = base64.b64encode(f"{self.settings.username}:{password}".encode()).decode()
        return hmac.compare_digest(header.encode(), f"Basic {want}".encode())

    async def start(self) -> None:
        if self._httpd is not None:
            return
        handler = type("Handler", (_Handler,), {"service": self})
        self._httpd = await asyncio.to_thread(_Server, (self.dev.host, self.settings.port), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.2},
                                        name=f"http {self.device}", daemon=True)
        self._thread.start()

    async def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            await asyncio.to_thread(httpd.shutdown)
            httpd.server_close()


def provisioning_services(twin: Twin, device: str) -> list[Service]:
    """``http`` for a provisioning server with ``http`` in the inventory; nothing otherwise."""
    dev = twin.lab.devices[device]
    if isinstance(dev, ProvisioningDevice) and dev.http is not None:
        return [ProvisioningService(twin, device)]
    return []
