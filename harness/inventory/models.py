"""Typed lab inventory (pydantic v2). Unknown keys are rejected everywhere.

Shape of a lab file (see docs/inventory.md for every field)::

    lab: {name, site, emulated}
    cloud: {region | base_url, client_id, client_secret, site, proxy, timeout_s}   # the Genesys Cloud org
    network: {vantage: {voice_vlan, edge_wan, interface}, <one block per service>}   # network duties
    profile: path of the requirement profile, relative to the inventory file
    defaults: {<device fields>}           # every device inherits these
    groups: {<name>: {<device fields>}}   # devices list groups; later groups win
    devices: {<name>: {role, platform, host, groups, ssh, snmp, console, sip, facts}}

Credentials are references (``env:NAME`` or ``file:PATH``, see :mod:`harness.inventory.secrets`),
never literals.
"""

from __future__ import annotations

import datetime
import ipaddress
import re
import zoneinfo
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .names import Name
from .regions import REGION_DOMAINS, login_url, region_problem
from .secrets import REF_RE

_MAC_RE = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")


def _secret_ref(v: str) -> str:
    if not REF_RE.match(v):
        raise ValueError("must be a secret reference 'env:NAME' or 'file:PATH', not a literal")
    return v


def _mac(v: str) -> str:
    norm = v.strip().lower().replace("-", ":")
    if re.fullmatch(r"[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}", norm):  # Cisco dotted form
        digits = norm.replace(".", "")
        norm = ":".join(digits[i : i + 2] for i in range(0, 12, 2))
    if not _MAC_RE.match(norm):
        raise ValueError("must be a MAC address like 00:15:65:00:00:01")
    return norm


def _host(v: str) -> str:
    try:
        ipaddress.ip_address(v)
    except ValueError:
        if not re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?", v):
            raise ValueError("must be an IP address or a host name") from None
        if re.fullmatch(r"[0-9.]+", v):  # no host name is all digits (RFC 1123 2.1): a mistyped address
            raise ValueError("must be an IP address or a host name (an address has four numbers 0-255, like "
                             "192.0.2.10)") from None
    return v


SecretRef = Annotated[str, AfterValidator(_secret_ref)]
MacAddress = Annotated[str, AfterValidator(_mac)]
Host = Annotated[str, AfterValidator(_host)]


def _ipv4(v: str) -> str:
    try:
        ipaddress.IPv4Address(v)
    except ValueError:
        raise ValueError("must be an IPv4 address") from None
    return v

Port = Annotated[int, Field(ge=1, le=65535)]
VlanId = Annotated[int, Field(ge=1, le=4094)]
Seconds = Annotated[float, Field(gt=0, le=600)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _rrule(v: str) -> str:
    from dateutil.rrule import rrulestr

    try:
        rrulestr(v, dtstart=datetime.datetime(2026, 1, 1))
    except (ValueError, TypeError) as e:
        raise ValueError(f"not an RFC 5545 RRULE ({e})") from None
    return v


def _time_zone(v: str) -> str:
    try:
        zoneinfo.ZoneInfo(v)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError("not an IANA time zone like America/Indiana/Indianapolis") from None
    return v


def _clock(v: str) -> str:
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", v):
        raise ValueError("must be a 24-hour time HH:MM like 02:00")
    return v


ClockTime = Annotated[str, AfterValidator(_clock)]


class UpdateWindow(Strict):
    """The site's Edge software update window (Genesys ``Site.edge_auto_update_config``): an RFC 5545
    ``rrule`` (``FREQ=DAILY``, ``FREQ=WEEKLY;BYDAY=SA``), ``start`` and ``end`` as ``HH:MM`` local
    time in ``time_zone`` (an end before the start runs past midnight). Whether it meets the Genesys
    rules (DAILY or WEEKLY, at least 2 h) is a duty check (MAINT-EDGE-UPDATE), not an input error."""

    rrule: Annotated[str, AfterValidator(_rrule)] = "FREQ=DAILY"
    start: ClockTime = "02:00"
    end: ClockTime = "05:00"
    time_zone: Annotated[str, AfterValidator(_time_zone)] = "UTC"

    @model_validator(mode="after")
    def _has_length(self) -> UpdateWindow:
        if self.start == self.end:
            raise ValueError(f"start and end are both {self.start}: a window with no length (an end before "
                             "the start runs past midnight)")
        return self


class LabInfo(Strict):
    """The lab as a whole: a name for reports, the Genesys site it stands for, emulated or real,
    and the site's Edge update window."""

    name: Name
    site: str
    emulated: bool = False
    description: str = ""
    update_window: UpdateWindow | None = None


def _region(v: str) -> str:
    if (why := region_problem(v)) is not None:
        raise ValueError(why)
    return v


def _web_url(v: str, example: str) -> str:
    """``v`` as an ``http(s)://host[:port][/path]`` URL without a trailing ``/``; ValueError otherwise."""
    try:
        u = urlsplit(v)
        u.port  # noqa: B018  (raises ValueError for a port that is not a number or out of range)
    except ValueError as e:
        raise ValueError(f"not a URL ({e})") from None
    if u.scheme not in ("http", "https") or not u.hostname:
        raise ValueError(f"must be an http:// or https:// URL with a host, like {example}")
    if u.username is not None or u.password is not None:
        raise ValueError("must not carry credentials (secrets are references, never literals)")
    if u.query or u.fragment:
        raise ValueError("must not carry a query or a fragment")
    return v.rstrip("/")


def _base_url(v: str) -> str:
    return _web_url(v, "http://127.0.6.1:8443")


def _proxy(v: str) -> str:
    return _web_url(v, "http://proxy.example.net:3128")


def _client_id(v: str) -> str:
    if not v.strip() or not v.isprintable():
        raise ValueError("must be the OAuth client's id (or a secret reference 'env:NAME' or 'file:PATH')")
    return v


#: the name the lab's Genesys Cloud org goes by in faults, quarantine and reports (no device may take it)
CLOUD_NAME = "cloud"
INTERNET_NAME = "internet"  # the twin unit that emulates the internet side of the Edge's WAN


class CloudSettings(Strict):
    """The lab's Genesys Cloud org, reached through the Platform API (docs/cloud-api.md).

    ``region`` (``us-east-1``, ``eu-west-1``, ``ap-southeast-2`` …; :mod:`.regions` holds Genesys'
    list) gives the API host ``https://api.<domain>`` and the login host ``https://login.<domain>``;
    ``base_url`` names an API emulator instead (the lab twin's, or one a real lab runs): the login
    host is ``base_url`` with ``//api.`` replaced by ``//login.``, or ``base_url`` itself when its
    host has no ``api.``. Exactly one of the two.

    ``client_id`` (the OAuth client's id: not a secret, written as it is or as a reference) and
    ``client_secret`` (a reference) are the client credentials grant's. ``site``: the Genesys site
    this lab is (default: ``lab.site``); the Edges of the inventory are named as in the org.
    ``proxy``: an HTTP(S) proxy URL for the API and login hosts. ``timeout_s``: the deadline of one
    API call, retries and rate-limit waits included.
    """

    region: Annotated[str, AfterValidator(_region)] | None = None
    base_url: Annotated[str, AfterValidator(_base_url)] | None = None
    client_id: Annotated[str, AfterValidator(_client_id)]
    client_secret: SecretRef
    site: Annotated[str, StringConstraints(min_length=1)] | None = None
    proxy: Annotated[str, AfterValidator(_proxy)] | None = None
    timeout_s: Seconds = 10.0

    @model_validator(mode="after")
    def _one_host(self) -> CloudSettings:
        if (self.region is None) == (self.base_url is None):
            raise ValueError("give exactly one of region (the org's Genesys Cloud region, like us-east-1) and "
                             "base_url (an emulated API, like http://127.0.6.1:8443)")
        return self

    @property
    def api_url(self) -> str:
        """``https://api.mypurecloud.com``, or ``base_url``."""
        return self.base_url if self.base_url is not None else f"https://api.{REGION_DOMAINS[self.region or '']}"

    @property
    def login_url(self) -> str:
        """Where ``POST /oauth/token`` goes: ``https://login.mypurecloud.com``, or the emulator's host."""
        return login_url(self.api_url)

    @property
    def client_id_is_reference(self) -> bool:
        """``client_id`` is written as a secret reference (then errors name the reference, not the id)."""
        return REF_RE.match(self.client_id) is not None


class SshSettings(Strict):
    """SSH management access (paramiko). ``known_hosts`` is relative to the inventory file."""

    port: Port = 22
    username: str
    password: SecretRef | None = None
    key_file: SecretRef | None = None
    enable_secret: SecretRef | None = None
    known_hosts: str = "~/.ssh/known_hosts"
    trust_on_first_use: bool = False
    timeout_s: Seconds = 10.0


def _snmp_version(v: object) -> object:
    return str(v) if isinstance(v, int) and not isinstance(v, bool) else v  # `version: 1` as written


class SnmpSettings(Strict):
    """SNMP access. v1 and v2c need ``community``; v3 is authPriv and needs user, auth and priv keys."""

    version: Annotated[Literal["1", "2c", "3"], BeforeValidator(_snmp_version)] = "2c"
    port: Port = 161
    community: SecretRef | None = None
    user: str | None = None
    auth_protocol: Literal["SHA", "SHA256", "MD5"] = "SHA"
    auth_key: SecretRef | None = None
    priv_protocol: Literal["AES", "AES256", "DES"] = "AES"
    priv_key: SecretRef | None = None
    timeout_s: Seconds = 2.0
    retries: Annotated[int, Field(ge=0, le=5)] = 1


def _prompt_regex(v: str) -> str:
    try:
        compiled = re.compile(v)
    except re.error as e:
        raise ValueError(f"not a Python regular expression: {e}") from None
    if compiled.fullmatch(""):
        raise ValueError("matches an empty text; a prompt pattern must match the prompt itself (e.g. '[\\w.-]+# ?')")
    return v


class ConsoleSettings(Strict):
    """Serial console: a device path, ``socket://host:port`` or ``rfc2217://host:port``. ``prompt``
    is a regular expression for the device's shell prompt (matched at the end of what the device
    sent); none: the default of :mod:`harness.transports.serial`."""

    url: Annotated[str, StringConstraints(pattern=r"^(/dev/\S+|socket://\S+:\d+|rfc2217://\S+:\d+\S*)$")]
    baudrate: Annotated[int, Field(gt=0)] = 115200
    username: str | None = None
    password: SecretRef | None = None
    timeout_s: Seconds = 5.0
    prompt: Annotated[str, AfterValidator(_prompt_regex)] | None = None


class SipSettings(Strict):
    """SIP signalling. ``port`` is the device's own SIP port; phones name their ``registrar`` Edge."""

    port: Port = 5060
    transport: Literal["udp", "tcp", "tls"] = "udp"
    phone_port: Port | None = None  # Edge only: the phone trunk port (Genesys: 8060 UDP/TCP)
    registrar: Name | None = None  # phone only: the Edge it registers with
    username: str | None = None
    password: SecretRef | None = None
    timeout_s: Seconds = 2.0


class HttpSettings(Strict):
    """An HTTP(S) service of the device (a provisioning server; a PSTN simulator's call log, read
    with ``token`` as an RFC 6750 bearer token; a phone's web UI later)."""

    port: Port = 80
    scheme: Literal["http", "https"] = "http"
    username: str | None = None
    password: SecretRef | None = None
    token: SecretRef | None = None
    timeout_s: Seconds = 5.0


class SwitchPortRef(Strict):
    """Where a phone is cabled: switch device name and its interface name."""

    switch: Name
    port: Annotated[str, StringConstraints(min_length=2, max_length=64)]


E164 = Annotated[str, StringConstraints(pattern=r"^\+[1-9]\d{1,14}$")]
E164Prefix = Annotated[str, StringConstraints(pattern=r"^\+[1-9]\d{0,14}$")]
Extension = Annotated[str, StringConstraints(pattern=r"^\d{2,10}$")]
SipCode = Annotated[int, Field(ge=400, le=699)]


class StationClass(Strict):
    """Outbound policy of one station class: the prefix classes its stations may not dial."""

    blocked: list[Name] = []


class DialPlan(Strict):
    """How the Edge routes numbers (Genesys number plans and outbound routes, CFG-DIALPLAN).

    ``country``: ISO 3166 region used to read national numbers (``3175551234``, ``011 44 …``) into
    E.164 with phonenumbers. ``dids``: inbound DID (E.164) -> extension of the station it rings.
    ``caller_id``: site caller ID sent as ANI when the calling station has no DID.
    ``prefix_classes``: named lists of E.164 prefixes (``premium: ["+1900", "+1976"]``).
    ``station_classes``: per phone ``facts.station_class``, the prefix classes it may not dial
    (answered 403 by the Edge and never sent to the carrier, SEC-TOLL-FRAUD). A station class the
    plan does not list gets the ``default`` entry.
    """

    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] = "US"
    dids: dict[E164, Extension] = {}
    caller_id: E164 | None = None
    prefix_classes: dict[Name, list[E164Prefix]] = {}
    station_classes: dict[Name, StationClass] = {}


class Trunk(Strict):
    """The Edge's external SIP trunk (Genesys trunk settings).

    ``routes``: PSTN devices tried in order for outbound calls (sequential failover; a 503 moves on
    to the next). ``max_calls``: the trunk's *Max Calls* (0 = unlimited, Genesys Premises);
    ``max_calls_code``: the code the Edge answers beyond it (Genesys default 503, any 4xx–6xx).
    """

    routes: list[Name] = []
    max_calls: Annotated[int, Field(ge=0)] = 0
    max_calls_code: SipCode = 503


PROXY_DEFAULT_PORT = 80  # an Edge proxy without a port (the SDK's Edge.proxy: "port 80 is assumed")


def proxy_endpoint(v: str) -> tuple[str, int]:
    """An Edge's ``proxy`` setting (``host``, ``host:port``, ``[v6]:port`` or a bare IPv6 address) as
    ``(host, port)``, port :data:`PROXY_DEFAULT_PORT` when it names none. Raises ValueError."""
    v = v.strip()
    if "://" in v or "@" in v:
        raise ValueError("must be host or host:port, without a scheme or credentials (the Edge's proxy setting; "
                         "unlike cloud.proxy, which is a URL)")
    if v.startswith("[") and "]" in v:
        host, _, rest = v[1:].partition("]")
        port = rest.removeprefix(":") if rest.startswith(":") else ""
    elif v.count(":") == 1:
        host, _, port = v.partition(":")
    else:
        host, port = v, ""
    if port and not (port.isdigit() and 1 <= int(port) <= 65535):
        raise ValueError("must be host or host:port with a port 1-65535 (the Edge's proxy; port 80 when none)")
    return _host(host), int(port) if port else PROXY_DEFAULT_PORT


def _edge_proxy(v: str) -> str:
    proxy_endpoint(v)
    return v


class EdgeFacts(Strict):
    """What the inventory expects of an Edge. ``wan_addressing``: how its WAN port gets its IPv4
    address, ``dhcp`` or ``static`` (set on the Edge's LCD, G-LCD; NET-DHCP-DNS (b) judges it against
    the Edge's logical interfaces in Genesys Cloud; ``None``: reported, not judged). ``wan_address``:
    the static address the WAN port should hold (only with ``static``; ``None``: any address).
    ``proxy``: the HTTP proxy set for the Edge's WAN port, ``host`` or ``host:port`` (the API's
    ``Edge.proxy``: port 80 when none; INET-ACCESS probes what the API says, and names this when they
    differ; on the twin, the Edge's ``proxy`` and a proxy the emulated internet serves there)."""

    firmware: str | None = None
    serial: str | None = None
    model: str | None = None
    trunk: Trunk | None = None
    dial_plan: DialPlan | None = None
    wan_addressing: Literal["dhcp", "static"] | None = None
    wan_address: Annotated[str, AfterValidator(_ipv4)] | None = None
    proxy: Annotated[str, AfterValidator(_edge_proxy)] | None = None

    @field_validator("wan_address")
    @classmethod
    def _static_address(cls, v: str | None, info: ValidationInfo) -> str | None:
        # reported at wan_address's own line: wan_addressing is declared (and validated) before it
        if v is not None and info.data.get("wan_addressing") != "static":
            raise ValueError("wan_address names the WAN port's static address: set wan_addressing: static with it")
        return v


class SwitchFacts(Strict):
    voice_vlan: VlanId | None = None
    voice_vlan_name: str | None = None
    data_vlan: VlanId | None = None
    model: str | None = None
    firmware: str | None = None
    #: provisioning saves the running-config (``write memory``) after a change and after its restore
    write_memory: bool = False


class PhoneFacts(Strict):
    mac: MacAddress
    extension: Extension
    firmware: str | None = None
    model: str | None = None
    switch_port: SwitchPortRef | None = None
    station_class: str = "default"
    #: IEEE 802.3af/at/bt PoE class the phone requests (0-8); None: not checked
    poe_class: Annotated[int, Field(ge=0, le=8)] | None = None
    #: the provisioning server the phone fetches ``<mac>.cfg`` from (default: the inventory's only one)
    provisioning: Name | None = None
    #: a firmware rollout puts this phone back on its original firmware afterwards (docs/firmware.md)
    restore_firmware: bool = False


class PstnFacts(Strict):
    """The carrier side. ``dids``: numbers the carrier delivers to the Edge. ``max_calls``: channels
    bought from the carrier. ``test_numbers``: carrier numbers that answer (an echo line: audio and
    RFC 4733 events come back). ``unavailable_numbers``: numbers the carrier answers 503 (checklist
    item 9). ``call_log``: path on the simulator's host of its call log (CSV, one row per request
    received; format in docs/twin-sip.md), read over SSH.
    """

    dids: list[E164] = []
    max_calls: Annotated[int, Field(ge=0)] | None = None
    carrier: str | None = None
    test_numbers: list[E164] = []
    unavailable_numbers: list[E164] = []
    call_log: str = "/var/log/hil-pstn/calls.csv"


class ProvisioningFacts(Strict):
    """Where a provisioning server keeps things (URL paths): ``firmware_path`` for images,
    ``config_path`` for per-phone configuration files named ``<mac, 12 hex digits>.cfg``."""

    firmware_path: str = "/firmware/"
    config_path: str = "/phones/"


class _DeviceBase(Strict):
    platform: Name
    host: Host
    groups: list[Name] = []
    description: str = ""
    ssh: SshSettings | None = None
    snmp: SnmpSettings | None = None
    console: ConsoleSettings | None = None
    sip: SipSettings | None = None
    http: HttpSettings | None = None


class EdgeDevice(_DeviceBase):
    role: Literal["edge"]
    facts: EdgeFacts = EdgeFacts()


class SwitchDevice(_DeviceBase):
    role: Literal["switch"]
    facts: SwitchFacts = SwitchFacts()


class PhoneDevice(_DeviceBase):
    role: Literal["phone"]
    facts: PhoneFacts


class PstnDevice(_DeviceBase):
    role: Literal["pstn"]
    facts: PstnFacts = PstnFacts()


class ProvisioningDevice(_DeviceBase):
    """A provisioning server (HTTP): serves firmware images and phone configuration, as a
    customer's provisioning server does; phones fetch from it when told to check-sync."""

    role: Literal["provisioning"]
    facts: ProvisioningFacts = ProvisioningFacts()


AnyDevice = EdgeDevice | SwitchDevice | PhoneDevice | PstnDevice | ProvisioningDevice
Device = Annotated[AnyDevice, Field(discriminator="role")]
ROLES = ("edge", "switch", "phone", "pstn", "provisioning")


class TwinSettings(Strict):
    """Emulation settings read only by the lab twin (a real lab ignores them).

    ``snmp_response_ms``: time an emulated SNMP agent takes to answer, as an embedded agent on a
    LAN does (project choice; 0 answers at once). ``cli_show_ms``: time an emulated switch takes
    before it prints the output of a ``show`` command, as a switch CPU building a 48-port table
    does (project choice; 0 answers at once).
    """

    snmp_response_ms: Annotated[float, Field(ge=0, le=2000)] = 0.0
    cli_show_ms: Annotated[float, Field(ge=0, le=10000)] = 0.0
    #: sites and Edges the emulated org holds beyond the inventory's (a large org for the paging
    #: benchmark, bench/cloud_bench.py): extra sites, and extra Edges on the lab's own site
    cloud_synthetic_sites: Annotated[int, Field(ge=0, le=10000)] = 0
    cloud_synthetic_edges: Annotated[int, Field(ge=0, le=10000)] = 0
    #: phone records the emulated org holds beyond the inventory's phones (no device behind them)
    cloud_synthetic_phones: Annotated[int, Field(ge=0, le=100000)] = 0


class Vantage(Strict):
    """Where the harness probes the site's network from: one of its own addresses on each segment
    (a NIC or VLAN sub-interface of the harness host on a real lab; a loopback address on the twin,
    where the probe binds it as its source address).

    ``voice_vlan``: the harness's address on the phones' voice VLAN (DHCP, DNS and NTP as a phone
    sees them). ``edge_wan``: its address on the Edge's WAN segment (DNS, NAT, internet access as
    the Edge sees them). ``interface``: the host interface on the voice VLAN, for probes that need a
    raw socket there (a DHCP DISCOVER by broadcast); ``None`` where the probe goes relay-style.
    """

    voice_vlan: Host | None = None
    edge_wan: Host | None = None
    interface: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,15}$")] | None = None


DhcpOptionCode = Annotated[int, Field(ge=1, le=254)]


class DhcpSettings(Strict):
    """The voice VLAN's DHCP service (``network.dhcp``), as a phone booting there meets it. The probe
    (:mod:`harness.transports.dhcp`) asks for an OFFER and never takes a lease (no REQUEST).

    ``server``: the DHCP server (or the relay's target) the harness unicasts a relayed DISCOVER to,
    with ``giaddr`` = ``vantage.voice_vlan`` (RFC 2131 §4.1); on ``port`` (67). ``vendor_class``:
    option 60 the probe sends, as the site's phones do (``Polycom-VVX411``); ``client_mac``: the
    ``chaddr`` it sends (a locally administered MAC by default, so no real phone's lease is touched).
    ``timeout_s``: how long it waits for the OFFER (5 s, project choice: servers ping an address
    before offering it, and dnsmasq waits 3 s for that). What the OFFER should hold, where the site
    knows it: ``router`` (option 3), ``boot_server`` (option 66, and every custom boot-server code of
    ``boot_options``: Poly reads 160 or a code 128–254), ``ntp_servers`` (option 42). A value left
    unset is reported, not judged.
    """

    server: Host
    port: Port = 67
    vendor_class: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    client_mac: MacAddress = "02:68:69:6c:00:01"
    timeout_s: Seconds = 5.0
    router: Host | None = None
    boot_server: Annotated[str, StringConstraints(min_length=1, max_length=255)] | None = None
    boot_options: list[DhcpOptionCode] = [66]
    ntp_servers: list[Host] = []

    @model_validator(mode="after")
    def _boot_codes(self) -> DhcpSettings:
        bad = [c for c in self.boot_options if c != 66 and not 128 <= c <= 254]
        if bad:
            raise ValueError(f"boot_options {bad}: a boot-server option is 66 or a site-specific code 128-254 "
                             "(RFC 2132 §9.4, and §2 for codes 128-254; Poly uses 160)")
        return self


_DNS_LABEL = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


def _dns_name(v: str) -> str:
    labels = v.removesuffix(".").split(".")
    if not 0 < len(v) <= 253 or not all(_DNS_LABEL.match(x) for x in labels):
        raise ValueError("must be a DNS name like api.mypurecloud.com (RFC 1035 §2.3.1)")
    return v


DnsName = Annotated[str, AfterValidator(_dns_name)]


class DnsSettings(Strict):
    """The site's DNS (``network.dns``): the resolvers phones and Edges use and the names they must
    resolve.

    ``servers``: the resolvers (what DHCP option 6 should hand out), asked on ``port`` (53) over UDP
    and over TCP from each vantage point. ``domain``: the site's domain (DHCP option 15). ``names``:
    every Genesys name the site needs; empty means the defaults of the org's region (``cloud.region``:
    ``api.<domain>`` and ``login.<domain>``, :func:`harness.inventory.regions.genesys_names`).
    ``internal``: the site uses internal DNS only, so TCP 53 toward the outside is not required (DUTIES
    NET-DHCP-DNS (d)); the TCP checks then only report. ``timeout_s``: per query.
    """

    servers: Annotated[list[Host], Field(min_length=1)]
    port: Port = 53
    domain: DnsName | None = None
    names: list[DnsName] = []
    internal: bool = False
    timeout_s: Seconds = 2.0


def _ski(v: str) -> str:
    hexes = v.replace(":", "").strip().lower()
    if not re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", hexes):
        raise ValueError("must be a key identifier: 20 bytes (SHA-1, RFC 5280 4.2.1.2) or 32 bytes (SHA-256) in hex, "
                         "colons allowed")
    return hexes


class StunSettings(Strict):
    """The STUN server the NAT and internet duties probe from the Edge's WAN segment (NET-NAT,
    INET-ACCESS, INET-QUALITY). It must implement RFC 5780 (answer CHANGE-REQUEST and name its
    OTHER-ADDRESS) for the NAT behaviour discovery; a plain RFC 5389 server still gives the
    server-reflexive address and the port checks.

    ``server``: its primary address (or name); ``port``: its primary port (3478, the STUN port of
    RFC 5389 and Genesys' firewall list); ``timeout_s``: how long one request waits for its answer
    (a lost answer is retried once, RFC 5389 7.2.1's retransmission kept short).
    """

    server: Host
    port: Port = 3478
    timeout_s: Seconds = 0.5


def _sha256_hex(v: str) -> str:
    hexes = v.replace(":", "").strip().lower()
    if not re.fullmatch(r"[0-9a-f]{64}", hexes):
        raise ValueError("must be a SHA-256 hash in hex (64 digits, colons allowed)")
    return hexes


class IssuerPin(Strict):
    """One CA the Genesys API host's certificate may come from, by exactly one of: ``ski``, the
    subjectKeyIdentifier of the CA that signs the leaf (the leaf's authorityKeyIdentifier names it),
    or ``spki_sha256``, the SHA-256 of a root CA's SubjectPublicKeyInfo (the chain must validate to
    that root alone; what a CA that rotates its intermediates, like Amazon Trust Services, asks
    pinners to pin). ``name`` for the report, ``source`` where the value was taken from."""

    ski: Annotated[str, AfterValidator(_ski)] | None = None
    spki_sha256: Annotated[str, AfterValidator(_sha256_hex)] | None = None
    name: Annotated[str, StringConstraints(min_length=1)]
    source: Annotated[str, StringConstraints(min_length=1)]

    @model_validator(mode="after")
    def _one_key(self) -> IssuerPin:
        if (self.ski is None) == (self.spki_sha256 is None):
            raise ValueError("give exactly one of ski (the issuing CA's key identifier) and spki_sha256 (a root "
                             "CA's public key hash)")
        return self


class InternetSettings(Strict):
    """The internet as the Edge's WAN segment reaches it (INET-ACCESS, INET-QUALITY).

    ``api_host``: the Genesys API host to reach on TCP 443 (default: ``api.<domain>`` of
    ``cloud.region``; :mod:`.regions`). ``api_address``: connect to this address instead of
    resolving ``api_host`` (the name is still sent as SNI and checked in the certificate; the twin's
    emulated internet; a real lab leaves it out). ``dns_server``: a resolver on the internet side the
    WAN must reach on port 53. ``public_address``: the site's public IPv4 address, when known (the
    server-reflexive address STUN returns must be it). ``pinned_issuers``: the CAs that may issue the
    API host's certificate (a leaf from any other CA is an interception, even one the harness host
    trusts). ``ca_file``: a PEM bundle the harness trusts besides the system's store, relative to
    the inventory (a managed PC's corporate CAs; the twin writes its emulated CAs there).
    ``timeout_s``: the deadline of one connection or request.
    """

    api_host: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")] | None = (
        None)
    api_address: Host | None = None
    dns_server: Host | None = None
    public_address: Annotated[str, AfterValidator(_ipv4)] | None = None
    pinned_issuers: list[IssuerPin] = []
    ca_file: Annotated[str, StringConstraints(min_length=1)] | None = None
    timeout_s: Seconds = 2.0


class NtpSettings(Strict):
    """The site's NTP service as NET-NTP probes it (``network.ntp``): ``servers``, the addresses or
    names of the site's NTP servers (what its phones, switches and Edges are configured with; the
    Genesys site's ``ntpSettings.servers`` should list the same), asked on ``port`` (123, RFC 5905)
    from the harness's voice-VLAN vantage address, each within ``timeout_s``. Empty: the inventory
    names none, and the NTP checks use the site's list alone (or skip without one). The twin serves
    an SNTP server on each address listed."""

    servers: tuple[Host, ...] = ()
    port: Port = 123
    timeout_s: Seconds = 2.0
class MediaSettings(Strict):
    """The site's voice media over its WAN (``network.media``), for QOS-MEDIA and NET-BANDWIDTH.

    ``wan_voice_kbps``: the rate the site's WAN policy reserves for the voice class (the EF queue),
    kbit/s per direction on the link's layer 2; NET-BANDWIDTH offers ``bandwidth_calls`` concurrent
    calls through it and expects each to fit (G.711 at 20 ms: 87.2 kbit/s per direction on
    Ethernet, DUTIES.md §2.4). ``None``: not stated, so the headroom is not judged. On the twin the
    ``wan`` unit emulates that link on the Edge's carrier media (faults ``wan-loss``,
    ``wan-delay``, ``wan-jitter``, ``wan-shape``).

    ``wan_port``: the switch port toward the WAN router (``{switch: sw1, port: GigabitEthernet1/0/48}``):
    NET-BANDWIDTH reads its IF-MIB octet counters (RFC 2863 ``ifHCInOctets`` / ``ifHCOutOctets``)
    before and after the load and expects them to have counted it. ``None``: not compared.
    """

    wan_voice_kbps: Annotated[float, Field(gt=0, le=10_000_000)] | None = None
    bandwidth_calls: Annotated[int, Field(ge=1, le=1000)] = 4
    wan_port: SwitchPortRef | None = None


class NetworkSettings(Strict):
    """The site's network as the network duties probe it (``network:`` in the inventory): the
    harness's vantage points, then one block per service (each documented on its class)."""

    vantage: Vantage = Vantage()
    dhcp: DhcpSettings | None = None
    dns: DnsSettings | None = None
    stun: StunSettings | None = None
    internet: InternetSettings | None = None
    ntp: NtpSettings = NtpSettings()
    media: MediaSettings | None = None


class Lab(Strict):
    """A validated lab. ``devices`` are already merged with their defaults and groups."""

    lab: LabInfo
    cloud: CloudSettings | None = None
    network: NetworkSettings = NetworkSettings()
    twin: TwinSettings = TwinSettings()
    profile: str | None = None
    attestations: str | None = None
    defaults: dict[str, object] = {}
    groups: dict[Name, dict[str, object]] = {}
    devices: dict[Name, Device]

    @property
    def cloud_site(self) -> str:
        """The Genesys site this lab is: ``cloud.site``, else ``lab.site``."""
        return (self.cloud.site if self.cloud is not None else None) or self.lab.site

    @property
    def genesys_api_host(self) -> str | None:
        """The Genesys API host the internet duties reach: ``network.internet.api_host``, else
        ``api.<domain>`` of ``cloud.region``; ``None`` when neither names one."""
        net = self.network.internet
        if net is not None and net.api_host:
            return net.api_host
        if self.cloud is not None and self.cloud.region is not None:
            return f"api.{REGION_DOMAINS[self.cloud.region]}"
        return None

    def by_role(self, role: str) -> dict[str, AnyDevice]:
        """Devices of one role, in file order."""
        return {n: d for n, d in self.devices.items() if d.role == role}
