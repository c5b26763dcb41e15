"""A DHCP probe that asks for an OFFER and never takes a lease (no REQUEST is ever sent).

Two ways to ask, both returning the server's OFFER as a :class:`DhcpOffer` (or ``None`` when no
OFFER came within the timeout):

* :func:`discover_relayed`: the harness acts as a relay agent (RFC 2131 §4.1): it binds UDP 67 on
  its own voice-VLAN address, puts that address in ``giaddr`` and unicasts the DISCOVER to the
  server, which answers the relay at ``giaddr:67``. Needs root (port 67), no raw socket, and works
  on loopback: this is how the twin and the real-peer tests are probed.
* :func:`discover_broadcast`: a client's DISCOVER broadcast on a host interface of the voice VLAN
  (Ethernet broadcast, source 0.0.0.0, the broadcast flag set so the OFFER comes back broadcast).
  Needs a raw socket (root) on that interface.

scapy builds and parses the BOOTP/DHCP packets; options are read by their **code** from the raw
option bytes (RFC 2132 §2), never by scapy's name: scapy calls code 160 ``v4-captive-portal``
(IANA's code for RFC 8910), while Poly phones read 160 as their boot server.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scapy.layers.dhcp import BOOTP
    from scapy.packet import Packet

# scapy is imported in the functions that build, send or parse a packet, not here: its import costs
# about 0.3 s of CPU (it loads its protocol tables), and every `pytest scenarios` process imports this
# module when it collects the NET-DHCP-DNS scenario and its checks, whatever duties it then runs.

BOOTPS_PORT = 67  # RFC 2131 §4.1: servers and relays listen on 67, clients on 68
BOOTPC_PORT = 68
#: option 55 the probe sends: the options a VoIP phone asks for (mask, router, DNS, domain, NTP,
#: vendor-specific, TFTP/boot server, Poly's boot server 160)
PARAMETER_REQUEST = (1, 3, 6, 15, 42, 43, 66, 150, 160)
#: what each option the probe judges is (RFC 2132; 160 as Poly phones read it)
OPTION_NAMES = {1: "subnet mask", 3: "router", 6: "DNS servers", 15: "domain name", 42: "NTP servers",
                43: "vendor-specific information", 54: "server identifier", 60: "vendor class", 66: "TFTP/boot server",
                150: "TFTP server address", 160: "boot server (Poly)"}
_IP_LIST_CODES = frozenset({1, 3, 6, 42, 54, 150})  # options whose value is one or more IPv4 addresses
_OFFER = 2  # option 53 message types (RFC 2132 §9.6)
_DISCOVER = 1
_lock = threading.Lock()  # one relay socket on giaddr:67 at a time in this process


class DhcpProbeError(Exception):
    """The probe could not ask at all (port 67 of the vantage address is taken, no such interface)."""


def option_name(code: int) -> str:
    """``"6 (DNS servers)"``: the code with what it is, for messages."""
    name = OPTION_NAMES.get(code)
    return f"{code} ({name})" if name else str(code)


def parse_options(raw: bytes) -> dict[int, bytes]:
    """The options of a DHCP message by code, from the bytes after the magic cookie (RFC 2132 §2:
    code, length, value; 0 is padding, 255 ends). A code given twice is concatenated (RFC 3396).
    Raises ValueError for an option that runs past the end."""
    out: dict[int, bytes] = {}
    i = 0
    while i < len(raw):
        code = raw[i]
        if code == 0:
            i += 1
            continue
        if code == 255:
            break
        if i + 1 >= len(raw) or i + 2 + raw[i + 1] > len(raw):
            raise ValueError(f"DHCP option {code} runs past the end of the message")
        n = raw[i + 1]
        out[code] = out.get(code, b"") + raw[i + 2:i + 2 + n]
        i += 2 + n
    return out


@dataclass(frozen=True)
class DhcpOffer:
    """One OFFER: who sent it (``server``: option 54, else the source address), the address offered
    (``your_address``, yiaddr), the relay it went through (``relay``, giaddr), the options by code
    (raw bytes) and how long it took (``elapsed_ms``)."""

    server: str
    your_address: str
    relay: str
    options: dict[int, bytes] = field(default_factory=dict)
    elapsed_ms: float = 0.0

    @property
    def codes(self) -> list[int]:
        """The option codes present, in order (53 and 255 included as sent)."""
        return sorted(self.options)

    def addresses(self, code: int) -> list[str]:
        """Option ``code`` read as IPv4 addresses (1, 3, 6, 42, 54, 150); ``[]`` when absent.
        Raises ValueError when its length is not a multiple of 4."""
        raw = self.options.get(code, b"")
        if len(raw) % 4:
            raise ValueError(f"DHCP option {option_name(code)} has {len(raw)} bytes, not a list of IPv4 addresses")
        return [str(ipaddress.IPv4Address(raw[i:i + 4])) for i in range(0, len(raw), 4)]

    def text(self, code: int) -> str | None:
        """Option ``code`` as text (15, 66, 160 as a URL or host name); ``None`` when absent. A
        custom boot-server option given as an IPv4 address (4 bytes that are not printable text) is
        returned in dotted form."""
        raw = self.options.get(code)
        if raw is None:
            return None
        raw = raw.rstrip(b"\0")
        if len(raw) == 4 and not all(32 <= b < 127 for b in raw):
            return str(ipaddress.IPv4Address(raw))
        return raw.decode("utf-8", "replace")

    def value(self, code: int) -> str | None:
        """Option ``code`` for a report: addresses joined by commas, text, or hex; ``None`` when absent."""
        if code not in self.options:
            return None
        if code in _IP_LIST_CODES:
            try:
                return ", ".join(self.addresses(code))
            except ValueError:
                return self.options[code].hex()
        if code == 43:
            return self.options[code].hex()
        return self.text(code)

    def vendor_suboptions(self) -> dict[int, bytes]:
        """Option 43 read as sub-options (code, length, value, as most phone vendors encode it);
        ``{}`` when absent. Raises ValueError when it is not in that form."""
        raw = self.options.get(43)
        return parse_options(raw) if raw else {}


def _discover_options(vendor_class: str | None, request: tuple[int, ...]) -> list[object]:
    opts: list[object] = [("message-type", "discover"), ("param_req_list", list(request))]
    if vendor_class:
        opts.append(("vendor_class_id", vendor_class.encode()))
    opts.append("end")
    return opts


def build_discover(*, client_mac: str, xid: int, giaddr: str = "0.0.0.0", vendor_class: str | None = None,
                   request: tuple[int, ...] = PARAMETER_REQUEST, broadcast: bool = False) -> BOOTP:
    """The DISCOVER (BOOTP layer): ``giaddr`` set and ``hops`` 1 when relayed, the broadcast flag
    when ``broadcast``."""
    from scapy.layers.dhcp import BOOTP, DHCP  # where it is used: see the note at the imports

    chaddr = bytes.fromhex(client_mac.replace(":", "")) + b"\0" * 10
    relayed = giaddr != "0.0.0.0"
    pkt: BOOTP = BOOTP(op=1, htype=1, hlen=6, hops=1 if relayed else 0, xid=xid, giaddr=giaddr, chaddr=chaddr,
                       flags=0x8000 if broadcast else 0) / DHCP(options=_discover_options(vendor_class, request))
    return pkt


def parse_offer(data: bytes, source: str, xid: int, elapsed_ms: float) -> DhcpOffer | None:
    """``data`` (a BOOTP message) as an OFFER answering ``xid``; ``None`` when it is something else
    (another transaction, a NAK, garbage)."""
    from scapy.layers.dhcp import BOOTP, DHCP  # where it is used: see the note at the imports

    try:
        msg = BOOTP(data)
    except Exception:  # scapy raises many kinds on garbage; anything unparsable is not our OFFER
        return None
    if msg.op != 2 or msg.xid != xid or DHCP not in msg:
        return None
    try:
        opts = parse_options(bytes(msg[DHCP]))
    except ValueError:
        return None
    if opts.get(53) != bytes([_OFFER]):
        return None
    server = str(ipaddress.IPv4Address(opts[54][:4])) if len(opts.get(54, b"")) >= 4 else source
    return DhcpOffer(server=server, your_address=str(msg.yiaddr), relay=str(msg.giaddr), options=opts,
                     elapsed_ms=elapsed_ms)


def _xid() -> int:
    return int.from_bytes(os.urandom(4), "big")


def discover_relayed(server: str, *, giaddr: str, client_mac: str, port: int = BOOTPS_PORT,
                     vendor_class: str | None = None, timeout_s: float = 2.0,
                     request: tuple[int, ...] = PARAMETER_REQUEST) -> DhcpOffer | None:
    """Relay a DISCOVER to ``server:port`` from ``giaddr:67`` and wait ``timeout_s`` for its OFFER.

    Returns the OFFER, or ``None`` when none came in time. Raises :class:`DhcpProbeError` when
    ``giaddr:67`` cannot be bound (not root, the address is not this host's, another relay holds it).
    """
    xid = _xid()
    pkt = bytes(build_discover(client_mac=client_mac, xid=xid, giaddr=giaddr, vendor_class=vendor_class,
                               request=request))
    with _lock, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a server bound to 0.0.0.0:67 may share the port
        try:
            sock.bind((giaddr, BOOTPS_PORT))
        except OSError as e:
            raise DhcpProbeError(f"cannot act as DHCP relay on {giaddr}:{BOOTPS_PORT}: {e.strerror or e}") from e
        t0 = time.monotonic()
        deadline = t0 + timeout_s
        sock.sendto(pkt, (server, port))
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                data, addr = sock.recvfrom(65535)
            except TimeoutError:
                break
            except ConnectionRefusedError:  # an ICMP port unreachable from the server: keep waiting out the timeout
                continue
            offer = parse_offer(data, addr[0], xid, (time.monotonic() - t0) * 1000)
            if offer is not None:
                return offer
    return None


def discover_broadcast(interface: str, *, client_mac: str, vendor_class: str | None = None,
                       timeout_s: float = 2.0, request: tuple[int, ...] = PARAMETER_REQUEST) -> DhcpOffer | None:
    """Broadcast a DISCOVER on ``interface`` (as a phone booting there) and wait for its OFFER.

    The answer is caught by a sniffer on the interface that keeps the first BOOTP reply of this
    transaction (no BPF filter: the machine may have no libpcap), so an OFFER sent to the
    broadcast address or to the offered address both count.

    Returns the OFFER, or ``None`` when none came in time. Raises :class:`DhcpProbeError` when the
    interface cannot be opened (no such interface, not root)."""
    # where they are used: see the note at the imports
    from scapy.layers.dhcp import BOOTP
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether
    from scapy.sendrecv import AsyncSniffer, sendp

    xid = _xid()
    frame = (Ether(src=client_mac, dst="ff:ff:ff:ff:ff:ff") / IP(src="0.0.0.0", dst="255.255.255.255")
             / UDP(sport=BOOTPC_PORT, dport=BOOTPS_PORT)
             / build_discover(client_mac=client_mac, xid=xid, vendor_class=vendor_class, request=request,
                              broadcast=True))

    def ours(p: Packet) -> bool:
        return BOOTP in p and p[BOOTP].op == 2 and p[BOOTP].xid == xid

    listening = threading.Event()
    sniffer = AsyncSniffer(iface=interface, lfilter=ours, count=1, store=True, started_callback=listening.set)
    t0 = time.monotonic()
    try:
        sniffer.start()
        if not listening.wait(timeout_s):
            raise DhcpProbeError(f"cannot listen on {interface} for a DHCP OFFER")
        sendp(frame, iface=interface, verbose=False)
        sniffer.join(timeout=max(0.0, timeout_s - (time.monotonic() - t0)))
        if sniffer.running:
            sniffer.stop()
    except OSError as e:
        raise DhcpProbeError(f"cannot broadcast a DHCP DISCOVER on {interface}: {e.strerror or e}") from e
    for answer in sniffer.results or []:
        offer = parse_offer(bytes(answer[BOOTP]), str(answer[IP].src) if IP in answer else "", xid,
                            (time.monotonic() - t0) * 1000)
        if offer is not None:
            return offer
    return None
