"""The duty catalogue: every customer-side duty of Genesys Cloud that the harness knows.

Source: Genesys, "Customer areas of responsibility"
(https://help.mypurecloud.com/articles/customer-areas-responsibility/) and the project's research
in docs/duties.md. IDs are stable: reports and history are keyed by them.

Each :class:`Duty` has an article ``area`` (Allure epic), a ``group`` (Allure feature), a ``title``
(Allure story) and its thresholds, each with unit and source. ``kind`` is ``automated``,
``hybrid`` (automated evidence plus a person's attestation) or ``attest`` (only a person can
confirm; the summary shows ATTEST until a check exists).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

PROJECT_CHOICE = "project choice"

SOURCES: dict[str, str] = {
    "G-RESP": "https://help.mypurecloud.com/articles/customer-areas-responsibility/",
    "G-PHREDUN": "https://help.mypurecloud.com/faqs/how-does-phone-redundancy-work/",
    "G-PHTRUNK": "https://help.mypurecloud.com/?p=132410",
    "G-CARRIER": "https://help.mypurecloud.com/articles/work-with-your-carrier-to-provision-a-sip-trunk/",
    "G-BYOC-CARRIER": "https://help.mypurecloud.com/?p=155096",
    "G-EXTTRUNK": "https://help.mypurecloud.com/?p=130654",
    "G-TLS": "https://help.mypurecloud.com/articles/tls-trunk-transport-protocol-specification/",
    "G-MAXCALLS": "https://help.mypurecloud.com/articles/configure-maximum-call-settings/",
    "G-UPD": "https://help.mypurecloud.com/articles/automatic-software-updates-for-a-byoc-premises-edge/",
    "G-UPD-SCHED": "https://ja.help.mypurecloud.com/articles/schedule-automatic-updates-edge-software/",
    "G-UPD-VOICE": "https://help.mypurecloud.com/articles/purecloud-voice-hardware-maintenance-schedule/",
    "G-CD": "https://help.mypurecloud.com/articles/continuous-delivery/",
    "G-NUMPLAN": "https://help.mypurecloud.com/articles/number-plan-information/",
    "G-E164": "https://help.mypurecloud.com/articles/e-164-overview/",
    "G-LIMITS": "https://zh-cn-help.mypurecloud.com/articles/view-telephony-resource-limits",
    "G-PHADDR": "https://help.mypurecloud.com/articles/phone-addresses/",
    "G-PREFIX": "https://help.mypurecloud.com/articles/use-the-prefix-blocking-feature-to-block-and-allow-outbound-dialing-prefixes/",
    "G-MOS": "https://help.mypurecloud.com/articles/mean-opinion-score-mos-overview/",
    "G-DSCP": "https://community.genesys.com/digestviewer29/viewthread?GroupId=19&MessageKey=d5578d75-0e05-4994-9dcf-ed8c1c531dd3",
    "G-ARCH-DEFAULTS": "https://help.mypurecloud.com/articles/set-default-action-settings/",
    "G-NAT": "https://help.mypurecloud.com/articles/client-ip-addresses-and-nats/",
    "G-LCD": "https://help.mypurecloud.com/articles/lcd-basic-information/",
    "G-FW-FAQ": "https://help.mypurecloud.com/faqs/category/firewall/",
    "G-CLIENTPORTS": "https://ko-help.mypurecloud.com/?p=231520",
    "G-SIPACL": "https://help.mypurecloud.com/articles/configure-sip-access-control",
    "G-POLYCCX": "https://rcworkbench.genesys.cloud/273604",
    "G-PCAP": "https://help.mypurecloud.com/articles/supported-languages-architect/selectlang-2/",
    "API-EDGE": "https://github.com/MyPureCloud/platform-client-sdk-python/blob/master/docs/Edge.md",
    "API-TF-SITE": "https://github.com/MyPureCloud/terraform-provider-genesyscloud/blob/main/docs/resources/telephony_providers_edges_site.md",
    "API-TF-PHONE": "https://github.com/MyPureCloud/terraform-provider-genesyscloud/blob/main/docs/resources/telephony_providers_edges_phone.md",
    "API-TF-DIDPOOL": "https://github.com/MyPureCloud/terraform-provider-genesyscloud/blob/main/docs/resources/telephony_providers_edges_did_pool.md",
    "API-TF-PHONEBASE": "https://github.com/MyPureCloud/terraform-provider-genesyscloud/blob/main/examples/resources/genesyscloud_telephony_providers_edges_phonebasesettings/resource.tf",
    "STD-G114": "http://www.itu.int/dms_pubrec/itu-t/rec/g/T-REC-G.114-199602-S!!SUM-HTM-E.htm",
    "STD-G107": "ITU-T G.107 (E-model)",
    "STD-RFC2132": "https://www.rfc-editor.org/rfc/rfc2132",
    "STD-RFC2131": "https://www.rfc-editor.org/rfc/rfc2131",
    "G-PORTS-OLD": "https://help.mypurecloud.com/articles/purecloud-ports-services/",
    "IND-ACBOOT": "https://help.genesys.com/cic/mergedProjects/wh_tr/mergedProjects/wh_tr_managed_phones/desktop/boot_and_provision_sequences_audiocodes.htm",
    "IND-POLYBOOT": "Polycom, Administrator's Guide SoundPoint IP / SoundStation IP (SIP 3.1), 'Boot Server': "
                    "Custom = a DHCP option 128-254 (the site-specific range of RFC 2132 section 2), or "
                    "Custom+Option 66",
    "STD-RFC4787": "RFC 4787",
    "STD-RFC3261": "RFC 3261",
    "STD-RFC4733": "RFC 4733",
    "STD-RFC1952": "RFC 1952 (gzip: CRC-32 and length trailer)",
    "STD-RFC5905": "RFC 5905 (NTPv4: stratum 1-15 synchronized, 16 unsynchronized)",
    "IND-QOS-RULES": "https://www.informit.com/articles/article.aspx?p=352991&seqNum=2",
    "IND-CISCO-BW": "https://www.cisco.com/c/en/us/support/docs/voice/voice-quality/7934-bwidth-consume.html",
    "STD-TIA1057": "ANSI/TIA-1057 (LLDP-MED): the Network Policy TLV (application type voice, VLAN ID, L2 "
                   "priority, DSCP)",
    "STD-RFC4594": "https://www.rfc-editor.org/rfc/rfc4594 (section 4.1: the Telephony service class is EF, DSCP 46)",
    "STD-8021Q": "IEEE 802.1Q, the informative annex mapping traffic types to priority code points (voice: 5)",
    "STD-8023AF": "IEEE 802.3af-2003, now IEEE 802.3 Clause 33: a Type 1 PSE gives at least 15.4 W per port",
    "IND-VMPIN": "https://carrier.webex.com/rules_voicemail_passcode/",
}


@dataclass(frozen=True)
class Threshold:
    """A limit a scenario checks: ``measured <op> value`` in ``unit``; ``source`` is a tag of
    :data:`SOURCES` or ``"project choice"``."""

    name: str
    value: float | str | tuple[str, ...]
    unit: str
    op: Literal["<=", ">=", "==", "in", "<"]
    source: str

    @property
    def number(self) -> float:
        """``value`` as a number (a count, a time, a rate …).

        Raises:
            TypeError: the threshold's value is not a number.
        """
        if isinstance(self.value, bool) or not isinstance(self.value, int | float):
            raise TypeError(f"threshold {self.name} is {self.value!r}, not a number")
        return float(self.value)

    @property
    def choices(self) -> tuple[str, ...]:
        """What an ``in`` threshold admits: its values, or its text split at commas
        (``"dscp, device cisco-phone"`` -> ``("dscp", "device cisco-phone")``)."""
        if isinstance(self.value, tuple):
            return self.value
        return tuple(v.strip() for v in str(self.value).split(",") if v.strip())


@dataclass(frozen=True)
class Duty:
    id: str
    title: str
    area: str  # article area (Allure epic)
    group: str  # article section within the area (Allure feature)
    section: str  # the article's wording of the duty
    kind: Literal["automated", "hybrid", "attest"] = "automated"
    thresholds: tuple[Threshold, ...] = field(default_factory=tuple)
    sources: tuple[str, ...] = ()

    def threshold(self, name: str) -> Threshold:
        for t in self.thresholds:
            if t.name == name:
                return t
        raise KeyError(f"duty {self.id} has no threshold {name!r}")


T = Threshold
CA, NETC = "Client access connections", "Network connectivity"

_DUTIES: tuple[Duty, ...] = (
    Duty("LAB-READY", "Lab readiness: every device answers on every declared transport", "Harness", "Lab",
         "Not a Genesys duty: the precondition of every other check (project choice)",
         sources=(PROJECT_CHOICE,)),
    Duty("NET-PROVISION", "Phones reach the on-prem Edges and pull their configuration", CA, NETC,
         "Connectivity between phones and on-premises Edges",
         thresholds=(T("failover_s", 15, "s", "<=", "G-PHREDUN"),
                     T("phone_trunk_port", 8060, "port", "==", "G-PHTRUNK")),
         sources=("G-PHREDUN", "G-PHTRUNK")),
    Duty("NET-DHCP-DNS", "DHCP, DNS and other third-party network services", CA, NETC,
         "Third-party network devices and services (DHCP, DNS)",
         thresholds=(T("dhcp_required_options", "1,6,15", "option", "in", "IND-ACBOOT"),
                     T("dhcp_recommended_options", "3,42,66", "option", "in", "IND-ACBOOT"),
                     T("dhcp_boot_options", "66,160", "option", "in", "IND-POLYBOOT"),
                     T("unresolved_names", 0, "names", "<=", "G-PORTS-OLD")),
         sources=("IND-ACBOOT", "IND-POLYBOOT", "STD-RFC2132", "STD-RFC2131", "G-PORTS-OLD")),
    Duty("NET-NTP", "Time source: Edge, phones and switches agree with the site NTP", CA, NETC,
         "Third-party network devices: time source",
         thresholds=(T("clock_offset_s", 1, "s", "<=", PROJECT_CHOICE),
                     T("ntp_servers", 1, "servers", ">=", PROJECT_CHOICE),
                     T("silent_servers", 0, "servers", "<=", PROJECT_CHOICE),
                     T("server_stratum", 15, "stratum", "<=", "STD-RFC5905"),
                     T("servers_not_on_both_lists", 0, "servers", "<=", PROJECT_CHOICE)),
         sources=(PROJECT_CHOICE, "STD-RFC5905")),
    Duty("NET-VOIP-HW", "Network hardware meets VoIP standards (voice VLAN, LLDP-MED, QoS trust, PoE)", CA, NETC,
         "Network hardware meets industry VoIP performance standards",
         thresholds=(T("lldp_med_dscp", 46, "DSCP", "==", "STD-RFC4594"),
                     T("lldp_med_cos", 5, "CoS", "==", "STD-8021Q"),
                     T("poe_per_port_w", 15.4, "W", ">=", "STD-8023AF"),
                     T("port_trust", "dscp, device cisco-phone", "", "in", PROJECT_CHOICE),
                     T("port_speed_mbps", 100, "Mb/s", ">=", PROJECT_CHOICE),
                     T("port_duplex", "full", "", "==", PROJECT_CHOICE),
                     T("input_errors_rise", 0, "errors", "<=", PROJECT_CHOICE)),
         sources=("STD-TIA1057", "STD-RFC4594", "STD-8021Q", "STD-8023AF")),
    Duty("NET-NAT", "NAT on the Edge WAN path is endpoint-independent", "Internet quality", "Public IP and NAT",
         "Publicly routable IP addresses; bandwidth and access",
         thresholds=(T("nat_mapping", "endpoint-independent", "", "==", "STD-RFC4787"),),
         sources=("G-NAT", "STD-RFC4787")),
    Duty("NET-BANDWIDTH", "Enough bandwidth for the voice load", CA, NETC, "Sufficient bandwidth and access",
         thresholds=(T("g711_20ms_bandwidth_kbps", 87.2, "kbit/s", ">=", "IND-CISCO-BW"),
                     T("loss_pct", 1, "%", "<=", "IND-QOS-RULES"),
                     T("wan_port_counted_pct", 95, "%", ">=", PROJECT_CHOICE)),
         sources=("IND-CISCO-BW", "IND-QOS-RULES", PROJECT_CHOICE)),
    Duty("ENV-EDGE", "Edge operating conditions", CA, "Environment", "Edge operating conditions per Genesys guidelines",
         kind="hybrid",
         thresholds=(T("cpu_pct", 80, "%", "<=", PROJECT_CHOICE), T("memory_used_pct", 90, "%", "<=", PROJECT_CHOICE),
                     T("disk_used_pct", 90, "%", "<=", PROJECT_CHOICE)),
         sources=("G-RESP", PROJECT_CHOICE)),
    Duty("ENV-PHONE", "Phone operating conditions", CA, "Environment",
         "Phone operating conditions per the manufacturer",
         kind="hybrid", sources=("G-RESP", "STD-8023AF")),
    Duty("INET-QUALITY", "Internet quality: no TLS interception, STUN, DNS", "Internet quality", "Internet quality",
         "Public IPs, name resolution, intrusion prevention and web filtering", kind="hybrid",
         thresholds=(T("tls_leaf_issuer", "a pinned CA", "", "in", PROJECT_CHOICE),
                     T("stun_srflx", "returned", "", "==", "G-NAT")),
         sources=("G-FW-FAQ", "G-LCD", "G-NAT")),
    Duty("INET-ACCESS", "Edges reach the internet (TCP 443, STUN 3478, media UDP 16384–65535)", "Integration data",
         "Internet access", "Internet access for Edges",
         thresholds=(T("https_port", 443, "port", "==", "G-LCD"), T("stun_port", 3478, "port", "==", "G-FW-FAQ"),
                     T("dns_port", 53, "port", "==", "G-LCD"), T("online_status", "ONLINE", "", "==", "API-EDGE"),
                     T("media_udp_source_ports", "16384-65535", "ports", "==", "G-CLIENTPORTS")),
         sources=("G-LCD", "G-FW-FAQ", "G-CLIENTPORTS", "API-EDGE")),
    Duty("QOS-MEDIA", "Voice QoS: DSCP marking, delay, jitter, loss, MOS", "Quality of service", "Quality of service",
         "Industry-standard QoS for voice and video",
         thresholds=(T("rtp_dscp", 46, "DSCP", "==", "G-DSCP"), T("sip_dscp", 24, "DSCP", "==", "G-DSCP"),
                     T("latency_ms", 150, "ms", "<=", "STD-G114"), T("jitter_ms", 30, "ms", "<=", "IND-QOS-RULES"),
                     T("loss_pct", 1, "%", "<=", "IND-QOS-RULES"), T("mos", 3.5, "MOS", ">=", "G-MOS"),
                     T("r_factor", 70, "R", ">=", PROJECT_CHOICE)),
         sources=("G-DSCP", "STD-G114", "IND-QOS-RULES", "G-MOS", "STD-G107")),
    Duty("PSTN-CONNECT", "PSTN access over SIP: trunk in service, OPTIONS answered, test calls", "Integration data",
         "PSTN access", "Connect to the PSTN through the customer's carrier",
         thresholds=(T("options_rtt_ms", 2000, "ms", "<=", PROJECT_CHOICE),
                     T("options_status", 200, "SIP status", "==", "G-CARRIER"),
                     T("sip_port", 5060, "port", "==", "G-CARRIER"),
                     T("call_status", 200, "SIP status", "==", "G-CARRIER"),
                     T("audio_packets", 5, "RTP packets", ">=", PROJECT_CHOICE)),
         sources=("G-CARRIER", "G-EXTTRUNK", "G-TLS")),
    Duty("PSTN-INTEROP", "Carrier interoperability checklist", "Integration data", "PSTN access",
         "Meet carrier interoperability requirements",
         thresholds=(T("dtmf", "RFC 4733 telephone-event", "", "==", "G-CARRIER"),
                     T("hold_address", "0.0.0.0", "", "==", "G-CARRIER"),
                     T("call_status", 200, "SIP status", "==", "G-CARRIER"),
                     T("codec", ("PCMU", "PCMA"), "", "in", "G-CARRIER"),
                     T("early_media_status", 183, "SIP status", "==", "G-CARRIER"),
                     T("hold_status", 200, "SIP status", "==", "STD-RFC3261"),
                     T("audio_packets", 5, "RTP packets", ">=", PROJECT_CHOICE),
                     T("carrier_503_final_ms", 4000, "ms", "<=", PROJECT_CHOICE),
                     T("record_route", "honoured", "", "==", "G-BYOC-CARRIER"),
                     T("fax_bit_exact_pct", 99, "%", ">=", PROJECT_CHOICE)),
         sources=("G-CARRIER", "G-BYOC-CARRIER", "STD-RFC3261", "STD-RFC4733")),
    Duty("PSTN-CAPACITY", "Trunk capacity: N calls hold, call N+1 refused with 503", "Integration data",
         "PSTN access", "Enough capacity; keep the carrier relationship", kind="hybrid",
         thresholds=(T("over_capacity_status", 503, "SIP status", "==", "G-MAXCALLS"),
                     T("call_status", 200, "SIP status", "==", "G-MAXCALLS"),
                     T("sustained_failed_calls", 0, "calls", "<=", PROJECT_CHOICE),
                     T("sustained_cps", 10, "calls/s", "==", PROJECT_CHOICE),
                     T("sustained_s", 5, "s", "==", PROJECT_CHOICE)),
         sources=("G-MAXCALLS", PROJECT_CHOICE)),
    Duty("PSTN-TDM", "PSTN over TDM gateways: span health", "Integration data", "PSTN access", "PSTN access via TDM",
         sources=(PROJECT_CHOICE, "G-CARRIER")),
    Duty("MAINT-EDGE-UPDATE", "Edge software updates inside the window, one Edge per site, drained",
         "Maintenance", "Edges", "Schedule and apply Edge software updates",
         thresholds=(T("window_length_h", 2, "h", ">=", "API-TF-SITE"), T("drain_min", 90, "min", "<=", "G-UPD-VOICE"),
                     T("window_recurrence", ("DAILY", "WEEKLY"), "", "in", "API-TF-SITE"),
                     T("weekly_window_days", 1, "days", ">=", "API-TF-SITE"),
                     T("edges_updating_per_site", 1, "Edge", "<=", "G-UPD"),
                     T("boot_max_s", 900, "s", "<=", PROJECT_CHOICE),
                     T("draining_call_status", 503, "", "==", PROJECT_CHOICE),
                     T("kept_call_audio_packets", 1, "packets", ">=", PROJECT_CHOICE),
                     T("staged_past_windows", 0, "windows", "<=", PROJECT_CHOICE)),
         sources=("G-UPD", "G-UPD-SCHED", "API-TF-SITE", "G-UPD-VOICE", PROJECT_CHOICE)),
    Duty("MAINT-VERSION-MATRIX", "Edge and phone versions are on the approved list", "Maintenance", "Edges",
         "Handle version and feature mismatches between Edge, phones, clients and Bridge",
         thresholds=(T("approved_firmware", "requirement profile", "", "in", PROJECT_CHOICE),
                     T("incompatible_pairs", 0, "Edge/phone pairs", "<=", PROJECT_CHOICE)),
         sources=("API-EDGE", "G-CD", PROJECT_CHOICE)),
    Duty("MAINT-EDGE-LOGS", "Edge logs can be collected, also when the Edge cannot reach the cloud", "Maintenance",
         "Edges", "Collect Edge logs when the Edge cannot reach the cloud", kind="hybrid",
         thresholds=(T("bundle_files", 1, "files", ">=", PROJECT_CHOICE),
                     T("log_file_bytes", "announced by the API (sizeBytes)", "bytes", "==", PROJECT_CHOICE),
                     T("log_archive_damage", "none", "", "==", "STD-RFC1952")),
         sources=("G-PCAP", "STD-RFC1952", PROJECT_CHOICE)),
    Duty("MAINT-PHONE-FIRMWARE", "Phone firmware updates applied and phones back in service", "Maintenance",
         "Phones", "Update phone firmware as the manufacturer requires",
         thresholds=(T("reregister_min", 10, "min", "<=", PROJECT_CHOICE),
                     T("wave_size", 10, "phones", "<=", PROJECT_CHOICE),
                     T("concurrency", 10, "phones", "<=", PROJECT_CHOICE),
                     T("away_max_s", 300, "s", "<=", PROJECT_CHOICE),
                     T("return_max_s", 600, "s", "<=", PROJECT_CHOICE)),
         sources=(PROJECT_CHOICE,)),
    Duty("CFG-TELEPHONY", "Sites, trunks and numbers within Genesys limits, E.164", "Configuration",
         "Telephony, stations, dial plan, IVR", "Telephony configuration",
         thresholds=(T("trunks", 500, "trunks", "<=", "G-LIMITS"), T("sites", 1000, "sites", "<=", "G-LIMITS"),
                     T("phone_lines", 50000, "lines", "<=", "G-LIMITS"),
                     T("base_settings", 750, "base settings", "<=", "G-LIMITS"),
                     T("extension_assignments", 25000, "extensions", "<=", "G-LIMITS"),
                     T("limit_use_warn_pct", 80, "%", "<", "G-LIMITS"), T("limit_use_pct", 90, "%", "<", "G-LIMITS"),
                     T("numbers_not_e164", 0, "numbers", "<=", "API-TF-SITE")),
         sources=("G-LIMITS", "API-TF-SITE", "API-TF-DIDPOOL", "API-TF-PHONE")),
    Duty("CFG-STATION", "Stations: MAC on the switch port equals the phone record", "Configuration",
         "Telephony, stations, dial plan, IVR", "Station hardware ID / MAC mapping, DHCP and VLAN settings",
         thresholds=(T("mac_match_pct", 100, "%", ">=", "API-TF-PHONEBASE"),), sources=("API-TF-PHONEBASE",)),
    Duty("CFG-DIALPLAN", "Dial plan normalises to E.164 and DIDs route as recorded", "Configuration",
         "Telephony, stations, dial plan, IVR", "Dial-plan integrity and DID routing records",
         thresholds=(T("e164_max_digits", 15, "digits", "<=", "G-E164"),
                     T("misclassified_dial_strings", 0, "dial strings", "<=", "G-NUMPLAN"),
                     T("unrouted_classifications", 0, "classifications", "<=", "G-NUMPLAN"),
                     T("non_e164_request_uris", 0, "INVITEs", "<=", "G-E164"),
                     T("classified_calls_astray", 0, "calls", "<=", "G-NUMPLAN"),
                     T("emergency_blocks", 0, "prefixes", "<=", "G-PREFIX")),
         sources=("G-NUMPLAN", "G-E164", "G-PREFIX")),
    Duty("CFG-IVR", "IVR: DTMF menus and timeouts", "Configuration", "Telephony, stations, dial plan, IVR",
         "IVR scheduling, routing, DTMF",
         thresholds=(T("no_entry_timeout_s", 5, "s", "==", "G-ARCH-DEFAULTS"),
                     T("inter_digit_timeout_s", 3, "s", "==", "G-ARCH-DEFAULTS")),
         sources=("G-ARCH-DEFAULTS",)),
    Duty("DATA-ACCURACY", "Site and phone data match the devices", "Data accuracy", "Sites, phones",
         "The data of sites, phone templates and phones is right", kind="hybrid",
         thresholds=(T("unmatched_macs", 0, "MACs", "<=", PROJECT_CHOICE),
                     T("unmatched_dids", 0, "DIDs", "<=", "API-TF-DIDPOOL"),
                     T("unmatched_trunks", 0, "trunks", "<=", PROJECT_CHOICE),
                     T("unmatched_edge_values", 0, "values", "<=", PROJECT_CHOICE),
                     T("duplicate_addresses", 0, "addresses", "<=", "G-PHADDR"),
                     T("locations_without_emergency_number", 0, "locations", "<=", "G-POLYCCX")),
         sources=("G-POLYCCX", "G-PHADDR", "API-TF-DIDPOOL")),
    Duty("SEC-CREDENTIALS", "Default credentials rejected; SNMP not on default communities", "Security",
         "Authentication, usage", "Credentials for third-party systems and phones are safe", kind="hybrid",
         thresholds=(T("default_credentials_rejected_pct", 100, "%", ">=", "G-POLYCCX"),), sources=("G-POLYCCX",)),
    Duty("SEC-EXPOSURE", "IVR/TUI and SIP not open to outside access", "Security", "Authentication, usage",
         "IVR/TUI open to outside access is secured",
         thresholds=(T("sip_answers_to_unlisted", 0, "responses", "<=", "G-SIPACL"),), sources=("G-SIPACL",)),
    Duty("SEC-TOLL-FRAUD", "Blocked prefixes never reach the carrier", "Security", "Authentication, usage",
         "PSTN service is not abused (toll fraud)",
         thresholds=(T("blocked_invites_at_carrier", 0, "INVITEs", "<=", "G-PREFIX"),
                     T("blocked_call_status", 400, "SIP status", ">=", "G-PREFIX"),
                     T("barred_prefixes_unlisted", 0, "prefixes", "<=", "G-PREFIX"),
                     T("blocked_prefixes_simulated_allowed", 0, "prefixes", "<=", "G-PREFIX")),
         sources=("G-PREFIX", "G-NUMPLAN")),
    Duty("CLOUD-ORG-CONFIG", "Cloud-only configuration (queues, scripts, WFM, QM, alerts)", "Configuration",
         "Genesys Cloud organisation", "Lives in the Genesys Cloud organisation, not in lab hardware",
         kind="attest", sources=("G-RESP",)),
)

CATALOGUE: dict[str, Duty] = {d.id: d for d in _DUTIES}


def duty(duty_id: str) -> Duty:
    """The catalogue entry for ``duty_id``. Raises ``KeyError`` naming the known IDs."""
    try:
        return CATALOGUE[duty_id]
    except KeyError:
        raise KeyError(f"unknown duty {duty_id!r}; known: {', '.join(CATALOGUE)}") from None
