"""``nslookup`` output (BIND 9's, as an Edge's network diagnostic prints it) read into what it says
about one name. Pure parsing, no I/O."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

_NAME = re.compile(r"^Name:\s*(\S+)\s*$")
_ADDRESS = re.compile(r"^Address(?:es)?:\s*(\S+)\s*$")
_SERVER = re.compile(r"^Server:\s*(\S+)\s*$")


@dataclass(frozen=True)
class Nslookup:
    """``server`` the resolver named (``None`` when it names none); ``addresses`` the name resolved
    to (IPv4 and IPv6, in order); ``failure`` what the output says went wrong (``"NXDOMAIN"``,
    ``"SERVFAIL"``, ``"timed out"``), ``None`` when the name resolved."""

    server: str | None
    addresses: tuple[str, ...]
    failure: str | None

    def outcome(self) -> str:
        """``"127.0.6.1"``, ``"NXDOMAIN"``: one line for a report."""
        return ", ".join(self.addresses) if self.addresses else (self.failure or "no address")


def parse_nslookup(text: str) -> Nslookup:
    """Read ``nslookup NAME`` output. The resolver's own ``Address: a.b.c.d#53`` line, which comes
    before any ``Name:`` line, is not an answer."""
    server: str | None = None
    addresses: list[str] = []
    failure: str | None = None
    answering = False
    for line in text.splitlines():
        line = line.strip()
        if m := _SERVER.match(line):
            server = m.group(1)
        elif _NAME.match(line):
            answering = True
        elif (m := _ADDRESS.match(line)) and answering:
            try:
                addresses.append(str(ipaddress.ip_address(m.group(1))))
            except ValueError:
                continue
        elif "server can't find" in line:
            failure = line.rsplit(":", 1)[-1].strip() or "not found"
        elif "timed out" in line or "no servers could be reached" in line:
            failure = "timed out"
    return Nslookup(server, tuple(addresses), None if addresses else failure or "no address")
