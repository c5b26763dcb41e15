"""The Edge's faults, each read where its effect lives (docs/twin-edge-sip.md, docs/edge-logs.md,
docs/edge-update.md): the SIP trunk (:mod:`.sip`, :mod:`.routing`), the media relay
(:mod:`.media_relay`), the CLI (:mod:`.cli`), log bundles (:mod:`.logs`) and software updates
(:mod:`.software`). ``firmware``, ``options-silent``, ``never-returns`` and ``slow-boot`` are shared
with other roles (:mod:`harness.twin.core.shared_faults`).
"""

from __future__ import annotations

import time

from ..core.faults import declare, declare_value, whole_number
from ..core.twin import Twin, Undo

MAX_VOLUME_KB = 65536  # project choice: 64 MiB, the largest log bundle the twin will write


def _e164_prefix(name: str, value: str) -> str:
    if not value or not value.startswith("+") or not value[1:].isdigit():
        raise ValueError(f"fault {name} needs an E.164 prefix such as +1900, got {value!r}")
    return value


def _kib(name: str, value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= MAX_VOLUME_KB:
        raise ValueError(f"fault {name} needs a whole number of KiB 1-{MAX_VOLUME_KB}, got {value!r}")
    return int(value)


# --- the SIP trunk and its media (sip.py, routing.py, media_relay.py) ----------------------------------

CODEC_REJECT = declare("codec-reject", ("edge",), "the Edge answers 488 to G.711 offers on the trunk port and offers "
                       "the carrier only G.729 (PT 18)")
NO_TELEPHONE_EVENT = declare("no-telephone-event", ("edge",), "telephone-event is stripped from every SDP the Edge "
                             "sends and the media relay drops RFC 4733 packets")
DTMF_PT = declare_value("dtmf-pt", ("edge",), "the media relay forwards RFC 4733 packets (both ways) with payload "
                        "type N; SDP unchanged", "N", whole_number(0, 127))
DROP_RECORD_ROUTE = declare("drop-record-route", ("edge",), "the Edge ignores the carrier's Record-Route: 2xx without "
                            "it, in-dialog requests straight to the carrier's Contact")
ONE_WAY_AUDIO = declare("one-way-audio", ("edge",), "the media relay drops every packet from the phone leg toward the "
                        "trunk leg")
MEDIA_TRANSCODE = declare("media-transcode", ("edge",), "the media relay takes G.711 audio through the other law and "
                          "back (speech passes, fax pass-through breaks)")
MAX_CALLS = declare_value("max-calls", ("edge",), "the trunk enforces N concurrent calls instead of the inventory's "
                          "max_calls (0: unlimited)", "N", whole_number(0, 100000))
ALLOW_PREFIX = declare_value("allow-prefix", ("edge",), "numbers starting with PREFIX (E.164, +1900) are not blocked: "
                             "toll fraud leaks to the carrier", "PREFIX", _e164_prefix)
RURI_NATIONAL = declare("ruri-national", ("edge",), "outbound INVITEs to the carrier carry the national number "
                        "(3175559000) in the Request-URI instead of E.164 (+13175559000)")
NO_EARLY_MEDIA = declare("no-early-media", ("edge",), "18x relayed as 180 without SDP and no media relayed before the "
                         "200, both directions")
REINVITE_REJECT = declare("reinvite-reject", ("edge",), "every re-INVITE is answered 488 (no hold, no resume)")
STRIP_CALLER_ID = declare("strip-caller-id", ("edge",), 'outbound INVITEs carry From "Anonymous" '
                          "<sip:anonymous@anonymous.invalid> and no P-Asserted-Identity")
SWALLOW_503 = declare("swallow-503", ("edge",), "after a carrier 503 the Edge sends the phone nothing (no retry, no "
                      "final answer)")
TRANSPORT_MISMATCH = declare("transport-mismatch", ("edge",), "toward the carrier the Edge uses TCP where the trunk "
                             "says UDP and UDP where it says TCP")


# --- the org's configuration on the Edge (state.py's receive_org_outbound, routing.py) ------------------------

async def _catch_up(twin: Twin, device: str) -> Undo:
    """The Edge takes the configuration the org pushed while it ran stale, once the fault is healed."""

    async def undo() -> None:
        st = twin.states[device]
        st.org_outbound = st.org_outbound_pushed  # type: ignore[attr-defined]

    return undo


CONFIG_STALE = declare("config-stale", ("edge",), "the Edge keeps the configuration it had when the fault was set "
                       "(number plans, outbound routes, the org's Block List) and ignores every later change the "
                       "org pushes (cached configuration: the Edge lost the cloud or did not pick the change up); "
                       "on heal it takes the org's current one", _catch_up)


# --- the WAN and the logs (logs.py, harness/twin/cloud/resources/edges.py) ---------------------------------

WAN_DOWN = declare("wan-down", ("edge",), "the Edge's WAN is down: Genesys Cloud sees it OFFLINE (no software "
                   "update, log job or diagnostic), its cloud-link.log records it; its LAN side goes on")
WAN_NO_ADDRESS = declare("wan-no-address", ("edge",), "the Edge's WAN port holds no IPv4 address (its DHCP got no "
                         "lease): its logical interface in Genesys Cloud lists none")


def _addressing(name: str, value: str) -> str:
    if value not in ("dhcp", "static"):
        raise ValueError(f"fault {name} needs dhcp or static, got {value!r}")
    return value


WAN_ADDRESSING = declare_value("wan-addressing", ("edge",), "the Edge's WAN port is set to MODE (dhcp or static) on "
                               "its LCD, whatever the inventory says", "MODE", _addressing)
LOG_CORRUPT = declare("log-corrupt", ("edge",), "each new log bundle is damaged on the Edge's disk after it was "
                      "hashed: the archive a log job delivers no longer reads whole (gzip CRC-32)")
LOG_VOLUME = declare_value("log-volume", ("edge",), "the Edge has KB KiB of logs: its next bundles are about that "
                           "size", "KB", _kib)


# --- software updates (software.py; never-returns and slow-boot also bend the reboot) --------------------------

INSTALL_FAILS = declare("install-fails", ("edge",), "a software install fails after its reboot: the Edge rolls "
                        "back and comes back on its previous version, its update FAILED in Genesys Cloud")


# --- the Edge as Genesys Cloud sees it (software.py's API update, harness/twin/cloud/resources/edge_*.py) ------

EDGE_OFFLINE = declare("edge-offline", ("edge",), "the Edge's connection to Genesys Cloud is lost while its LAN side "
                       "works: the API shows it OFFLINE, refuses software updates, log jobs and diagnostics (its SIP "
                       "trunk and registrar go on)")
STAGED_AGO_S = 8 * 24 * 3600  # the staged update's age under update-stays-staged: past any daily or weekly window


async def _stays_staged(twin: Twin, device: str) -> Undo | None:
    """An Edge found with an update staged 8 days ago and never installed (unless one is in progress)."""
    st = twin.states[device]
    if getattr(st, "software_status", None) == "idle":
        version = "2026.12.0" if st.firmware != "2026.12.0" else "2026.10.2"  # type: ignore[attr-defined]
        st.staged_version, st.software_status = version, "staged"  # type: ignore[attr-defined]
        st.update_version, st.update_started_at = version, time.time() - STAGED_AGO_S  # type: ignore[attr-defined]
        st.update_executed_at = st.update_ended_at = None  # type: ignore[attr-defined]
    return None


UPDATE_STAYS_STAGED = declare("update-stays-staged", ("edge",), "an update staged 8 days ago and never installed "
                              "(stagedVersion 2026.12.0, or 2026.10.2 on an Edge running 2026.12.0); an update "
                              "started through the API meanwhile downloads and stages and never installs either "
                              "(no drain, no reboot)", _stays_staged)
UPDATE_FAILS = declare("update-fails", ("edge",), "a software update started through the API fails while the Edge "
                       "downloads it (status FAILED, the Edge stays on its version, no drain, no reboot)")
EDGE_HOT = declare_value("edge-hot", ("edge",), "the Edge's CPU is busy: its API metrics show PCT % processor time",
                         "PCT", whole_number(0, 100))
