"""A stateless loose-routing SIP proxy over UDP (RFC 3261 §16.11, §16.12), for Record-Route tests.

It stands between the harness and a device as a carrier's SBC would: it adds ``Record-Route`` to
every dialog-creating INVITE, pops its own ``Route`` entry, forwards requests by the next ``Route``
or the Request-URI and responses by the next ``Via``. Every request it sees is kept in
:attr:`LooseProxy.seen`, so a test can tell whether the far end's in-dialog requests (a BYE from
the device) came back through the recorded route, as RFC 3261 §12.2 requires.

Runs on one thread; :meth:`LooseProxy.close` stops it. Datagrams that do not parse are dropped.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass

from sipmessage import Request

from .message import SipParseError, encode, parse_message, tag_of, uri_target

RECV_POLL_S = 0.1  # how often the thread looks at the closed flag (project choice)


@dataclass(frozen=True)
class SeenRequest:
    """A request the proxy forwarded: ``method``, Request-URI, its ``Route`` values as received,
    ``in_dialog`` (the To header has a tag), the ``source`` ``ip:port`` it came from."""

    method: str
    uri: str
    routes: tuple[str, ...]
    in_dialog: bool
    source: str


class LooseProxy:
    """The proxy on ``host`` (an ephemeral UDP port). ``uri`` is its Record-Route URI (``;lr``)."""

    def __init__(self, host: str) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.sock.settimeout(RECV_POLL_S)
        self.host, self.port = self.sock.getsockname()[:2]
        self.uri = f"sip:{self.host}:{self.port};lr"
        self.seen: list[SeenRequest] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name=f"sip proxy {self.host}:{self.port}", daemon=True)
        self._thread.start()

    def requests(self) -> list[SeenRequest]:
        """A copy of what was seen so far."""
        with self._lock:
            return list(self.seen)

    def _run(self) -> None:
        while self.sock.fileno() != -1:
            try:
                data, src = self.sock.recvfrom(65535)
                msg = parse_message(data)
            except (TimeoutError, OSError, SipParseError):
                continue
            try:
                if isinstance(msg, Request):
                    self._request(msg, f"{src[0]}:{src[1]}")
                else:
                    vias = msg.headers.getlist("Via")
                    msg.headers.setlist("Via", vias[1:])
                    nxt = msg.via[0]
                    self.sock.sendto(encode(msg), (nxt.host, nxt.port or 5060))
            except (OSError, ValueError, IndexError):
                continue  # nowhere to send it: a proxy drops what it cannot route

    def _request(self, req: Request, source: str) -> None:
        routes = list(req.headers.getlist("Route"))
        with self._lock:
            self.seen.append(SeenRequest(req.method, str(req.uri), tuple(routes), bool(tag_of(req.headers.get("To"))),
                                         source))
        if routes and f"{self.host}:{self.port}" in routes[0]:
            routes = routes[1:]
            req.headers.remove("Route")
            if routes:
                req.headers.setlist("Route", routes)
        if req.method == "INVITE" and not tag_of(req.headers.get("To")):
            req.headers.add("Record-Route", f"<{self.uri}>")
        branch = "z9hG4bKproxy" + (req.via[0].parameters.get("branch") or "")[7:]
        req.headers.setlist("Via", [f"SIP/2.0/UDP {self.host}:{self.port};branch={branch}",
                                    *req.headers.getlist("Via")])
        req.headers.set("Max-Forwards", str((req.max_forwards or 70) - 1))
        hop = uri_target(routes[0].split(">")[0] if routes else str(req.uri), "udp")
        self.sock.sendto(encode(req), (hop.host, hop.port))

    def close(self) -> None:
        self.sock.close()
        self._thread.join(1.0)

    def __enter__(self) -> LooseProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
