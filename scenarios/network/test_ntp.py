"""NET-NTP: the site has a time source that answers, and its switches and phones keep its time.

The site's NTP servers are the Genesys site's list (``Site.ntpSettings.servers`` through the Platform
API, what its Edges are told; labs with ``cloud:``) and the inventory's ``network.ntp.servers`` (what
the site's network gives its phones and switches). Checks:

* **the lists**: the site names at least one server, and names the same servers as the inventory
  (a server on one list only is a finding: Edges and phones would follow different clocks);
* **the servers** (core): each answers an NTP client request from the harness's voice-VLAN vantage
  address (ntplib); each answering server is synchronized (stratum 1-15, RFC 5905); the servers agree
  with one another within the clock threshold; the harness clock's offset against each is recorded;
* **true time** (the servers' own error): each answering server's offset against the harness's
  clock ≤ ``clock_offset_s``, where the harness's clock stands for true time: on an emulated lab by
  construction (the twin's devices keep the host's time), on a real one only when an NTP daemon
  disciplines it within :data:`MAX_UNCERTAINTY_S` (the kernel's ``adjtimex``,
  :mod:`harness.transports.hostclock`), else the check is skipped saying so. It is the root of the
  device-clock findings: a device clock that is off the reference only by the reference's own error
  is reported as its consequence (``inputs_used``, :mod:`harness.evidence.findings`), one finding
  with its consequences rather than one per device (each still FAIL);
* **the device clocks**: against the first server that answers synchronized (the reference; else the
  first that answers at all; where the harness's clock stands for true time and that server is off
  it, the first synchronized server within the limit of it), each switch's clock by ``show clock``
  and by SNMP (CISCO-NTP-MIB cntpSysClock on Cisco IOS, HOST-RESOURCES-MIB hrSystemDate elsewhere), each phone's by SNMP
  hrSystemDate: offset ≤ ``clock_offset_s`` (1 s, project choice, from the requirement profile).
  Each reading carries its own uncertainty (half the request's round trip plus the value's
  resolution), shown in the detail.
* **the Edge**: the Genesys Platform API gives no Edge clock (its Edge model has no time of day) and
  a real Edge gives its customer no CLI or SNMP, so an Edge's offset is not measured here: the site's
  server list (above) is what the Edges take their time from; the Edge's own clock is left to
  attestation.

**A silent server is a finding while another answers.** The NTP servers are the customer's service:
on a real site, a server that does not answer a request the harness sends from the voice VLAN while
another server of the site does is exactly what this duty exists to catch (the phones there would not
get time from it either), so the server check FAILs naming the silent servers (a refused port, or a
server name that does not resolve, counts the same: the site names a time source its network does not
serve). When *no* server answers, the harness cannot tell dead servers from its own path to the
segment being gone (a harness host off the VLAN, a lab that died), so the check is BROKEN, naming every
server and what it gave, as DHCP and DNS are when their server is silent. A vantage address the host
does not have is a broken lab too (BROKEN). The device-clock checks rely on the reference: when no
server answers there is nothing to judge a device against, so they are BROKEN ("no NTP server of the
site answered").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from harness.checks.clocks import (
    device_offset_s,
    effective_stratum,
    explained_by_reference,
    not_on_both,
    ntp_server_input,
    servers_to_ask,
    sharpest,
    spread_s,
)
from harness.devices.driver import Driver
from harness.devices.drivers.phone import Phone
from harness.devices.drivers.switch import Switch
from harness.devices.facts.clocks import ClockReading
from harness.devices.session import LabSession
from harness.duties.profile import Profile
from harness.errors import LabError, LabTimeout, LabUnreachable
from harness.evidence.check import check, observe
from harness.inventory.models import CLOUD_NAME
from harness.transports.hostclock import host_clock
from harness.transports.ntp import UNSYNCHRONIZED_STRATUM, NtpReading, NtpSourceError, query

DUTY = "NET-NTP"
READS = 3  # project choice: a device's clock is read at most this often for one sharp reading
SHARP_S = 0.15  # project choice: a reading this sharp (± s; hrSystemDate's own resolution is 0.1 s) is kept
MAX_UNCERTAINTY_S = 0.5  # project choice: half the 1 s limit; a vaguer reading cannot be judged against it


@dataclass(frozen=True)
class NtpSurvey:
    """What the site's NTP servers answered: ``site`` (the Genesys site's list, ``None`` without
    ``cloud:``), ``inventory`` (``network.ntp.servers``), per server asked its reading or the lab
    error that stood for its answer, and ``site_error`` when the site could not be read (the servers
    the inventory names are still asked; the site's checks are BROKEN with it)."""

    site: tuple[str, ...] | None
    inventory: tuple[str, ...]
    answers: dict[str, NtpReading | LabError]
    site_error: LabError | None = None
    true_time_limit_s: float | None = None  # when the harness's clock stands for true time: clock_offset_s

    @property
    def answering(self) -> dict[str, NtpReading]:
        return {s: r for s, r in self.answers.items() if isinstance(r, NtpReading)}

    def reference(self) -> NtpReading:
        """The first server that answered synchronized (stratum 1-15), else the first that answered (the
        devices are still judged against the site's time; the stratum check carries that finding).
        When the harness's clock stands for true time and that first server is off it by more than the
        limit while another synchronized server is within it, that other one is the reference: devices
        that follow the right server are not failed for a wrong one (the true-time check names it).

        Raises:
            LabUnreachable: none answered (the device checks have nothing to judge against: BROKEN).
        """
        answering = list(self.answering.values())
        synced = [r for r in answering if effective_stratum(r) < UNSYNCHRONIZED_STRATUM]
        limit = self.true_time_limit_s
        if synced and limit is not None and abs(synced[0].offset_s) > limit:
            right = [r for r in synced if abs(r.offset_s) <= limit]
            if right:
                return right[0]
        if synced:
            return synced[0]
        if answering:
            return answering[0]
        why = "; ".join(f"{s}: {e.detail if isinstance(e, LabError) else e}" for s, e in self.answers.items())
        raise LabUnreachable("site NTP servers", "ntp", ", ".join(self.answers) or "none",
                             f"no NTP server of the site answered, so no clock can be judged ({why or 'none named'})")


@pytest.fixture(scope="module")
def ntp_survey(lab: LabSession, profile: Profile) -> NtpSurvey:
    """Ask every server once (module scope: the device checks share the reference)."""
    network = lab.lab.network
    site: tuple[str, ...] | None = None
    site_error: LabError | None = None
    if lab.lab.cloud is not None:
        try:
            s = lab.cloud().site()
            site = s.ntp_settings.servers if s.ntp_settings is not None else ()
        except LabError as e:
            site_error = e
    answers: dict[str, NtpReading | LabError] = {}
    for server in servers_to_ask(site, network.ntp.servers):
        try:
            answers[server] = query(server, network.ntp.port, network.ntp.timeout_s,
                                    source=network.vantage.voice_vlan, device=f"ntp server {server}")
        except NtpSourceError:
            raise  # the harness is not on the voice VLAN: a broken lab, not a silent server
        except LabError as e:  # no answer, a refused port, a name that does not resolve: the site's finding
            answers[server] = e
    limit = float(profile.threshold(DUTY, "clock_offset_s").number) if _host_is_true_time(lab) else None
    return NtpSurvey(site, network.ntp.servers, answers, site_error, limit)


def _site_servers(survey: NtpSurvey) -> tuple[str, ...]:
    if survey.site_error is not None:
        raise survey.site_error
    if survey.site is None:
        pytest.skip("the lab has no cloud: the Genesys site's NTP server list cannot be read")
    return survey.site


@pytest.mark.duty(DUTY)
def test_site_names_ntp_servers(ntp_survey: NtpSurvey, lab: LabSession, profile: Profile) -> None:
    site = _site_servers(ntp_survey)
    check(len(site), profile.threshold(DUTY, "ntp_servers"), duty=DUTY,
          device=f"{CLOUD_NAME} site {lab.lab.cloud_site}", what="NTP servers in the site's ntpSettings",
          detail=", ".join(site) or "the list is empty")


@pytest.mark.duty(DUTY)
def test_site_and_inventory_name_the_same_ntp_servers(ntp_survey: NtpSurvey, lab: LabSession,
                                                      profile: Profile) -> None:
    site = _site_servers(ntp_survey)
    if not ntp_survey.inventory:
        pytest.skip("the inventory names no NTP servers (network.ntp.servers): nothing to compare the site's with")
    site_only, inventory_only = not_on_both(site, ntp_survey.inventory)
    found = [f"{s} on the site only" for s in site_only] + [f"{s} in the inventory only" for s in inventory_only]
    check(len(found), profile.threshold(DUTY, "servers_not_on_both_lists"), duty=DUTY,
          device=f"{CLOUD_NAME} site {lab.lab.cloud_site}",
          what="NTP servers on one list only (site ntpSettings vs inventory network.ntp.servers)",
          detail="; ".join(found) if found else f"both name {', '.join(site)}")


@pytest.mark.duty(DUTY)
@pytest.mark.core("the site's NTP servers answering")
def test_every_ntp_server_answers(ntp_survey: NtpSurvey, lab: LabSession, profile: Profile) -> None:
    if not ntp_survey.answers:
        pytest.skip("neither the site nor the inventory names an NTP server")
    for server, r in ntp_survey.answering.items():
        observe(round(r.offset_s, 4), duty=DUTY, device=f"ntp server {server}",
                what="offset of the server's clock against the harness's (s)",
                detail=f"stratum {r.stratum}, reference {r.ref_id}, delay {r.delay_s * 1000:.1f} ms")
    silent = {s: e for s, e in ntp_survey.answers.items() if isinstance(e, LabError)}
    source = lab.lab.network.vantage.voice_vlan or "the harness's default address"
    if silent and len(silent) == len(ntp_survey.answers):
        first = next(iter(silent.values()))
        raise type(first)("ntp servers", "ntp", ", ".join(silent),
                          f"no NTP server of the site answered a request from {source} (a dead path from the "
                          "harness cannot be told from dead servers): "
                          + "; ".join(f"{s}: {e.detail}" for s, e in silent.items()))
    check(len(silent), profile.threshold(DUTY, "silent_servers"), duty=DUTY,
          device="ntp servers " + ", ".join(ntp_survey.answers),
          what=f"NTP servers that did not answer a request from {source}",
          detail="; ".join(f"{s}: {e.detail}" for s, e in silent.items()) if silent
          else f"all {len(ntp_survey.answers)} answered")


@pytest.mark.duty(DUTY)
def test_ntp_servers_are_synchronized_and_agree(ntp_survey: NtpSurvey, profile: Profile) -> None:
    ntp_survey.reference()  # none answered: BROKEN here, the answering check carries the finding
    answering = ntp_survey.answering
    worst = max(answering, key=lambda s: effective_stratum(answering[s]))
    check(effective_stratum(answering[worst]), profile.threshold(DUTY, "server_stratum"), duty=DUTY,
          device=f"ntp server {worst}", what="stratum of the least synchronized server (16: unsynchronized)",
          detail=", ".join(f"{s} stratum {r.stratum} leap {r.leap}" for s, r in answering.items()))
    spread = spread_s(answering.values())
    check(round(spread, 3), profile.threshold(DUTY, "clock_offset_s"), duty=DUTY,
          device="ntp servers " + ", ".join(answering), what="how far apart the servers' clocks are",
          detail=", ".join(f"{s} {r.offset_s:+.3f} s against the harness" for s, r in answering.items()))


def _host_is_true_time(lab: LabSession) -> bool:
    """The harness's clock stands for true time (:func:`_true_time` would not skip)."""
    if lab.lab.lab.emulated:
        return True
    clock = host_clock()
    return clock.synchronized and clock.max_error_s is not None and clock.max_error_s <= MAX_UNCERTAINTY_S


def _true_time(lab: LabSession) -> str:
    """What stands for true time: the harness's clock on an emulated lab (the twin keeps the host's
    time), else on a real lab only while an NTP daemon disciplines it within :data:`MAX_UNCERTAINTY_S`.

    Raises:
        pytest.skip.Exception: the harness's clock cannot stand for true time here.
    """
    if lab.lab.lab.emulated:
        return "the harness's clock, which the emulated lab's devices keep"
    clock = host_clock()
    if not _host_is_true_time(lab):
        pytest.skip(f"the harness's own clock is {clock.describe()}: it cannot stand for true time within "
                    f"{MAX_UNCERTAINTY_S:g} s, so the servers' own error is not judged")
    return f"the harness's NTP-disciplined clock ({clock.describe()})"


@pytest.mark.duty(DUTY)
def test_ntp_servers_keep_true_time(ntp_survey: NtpSurvey, lab: LabSession, profile: Profile) -> None:
    ntp_survey.reference()  # none answered: BROKEN here, the answering check carries the finding
    truth = _true_time(lab)
    answering = ntp_survey.answering
    limit = profile.threshold(DUTY, "clock_offset_s")
    worst = max(answering, key=lambda s: abs(answering[s].offset_s))
    off = [s for s, r in answering.items() if abs(r.offset_s) > limit.number]
    check(round(abs(answering[worst].offset_s), 3), limit, duty=DUTY, device="ntp servers " + ", ".join(answering),
          what="how far the servers' clocks are from true time",
          detail=", ".join(f"{s} {r.offset_s:+.3f} s" for s, r in answering.items()) + f" against {truth}",
          inputs_checked=[ntp_server_input(s) for s in off])


def _judge(driver: Driver, read: Callable[[], ClockReading], survey: NtpSurvey, profile: Profile) -> None:
    """Read the device's clock until a reading is sharp enough (at most :data:`READS`), then judge the
    sharpest: a clock whose reading is vaguer than :data:`MAX_UNCERTAINTY_S` cannot be judged against a
    1 s limit (a loaded harness or a slow device), which is a timing failure (BROKEN), not a finding."""
    ref = survey.reference()
    readings = [read()]
    while readings[-1].uncertainty_s > SHARP_S and len(readings) < READS:
        readings.append(read())
    reading = sharpest(readings)
    if reading.uncertainty_s > MAX_UNCERTAINTY_S:
        raise LabTimeout(driver.name, reading.source.split()[0], driver.device.host,
                         f"{len(readings)} reads of the clock ({reading.source}) each took too long to time "
                         f"it: ± {reading.uncertainty_s:.3f} s at best, more than {MAX_UNCERTAINTY_S:g} s")
    offset = device_offset_s(reading, ref)
    limit = profile.threshold(DUTY, "clock_offset_s")
    # off the reference only by the reference's own error: a consequence of it, when it is found off true time
    used = [ntp_server_input(ref.server)] if explained_by_reference(offset, ref, limit.number) else []
    check(round(abs(offset), 3), limit, duty=DUTY, device=driver.name,
          what=f"clock offset against the site's NTP ({reading.source})",
          detail=f"{'ahead of' if offset >= 0 else 'behind'} {ref.server} by {abs(offset):.3f} s "
                 f"(± {reading.uncertainty_s:.3f} s, sharpest of {len(readings)} reads)", inputs_used=used)


@pytest.mark.duty(DUTY)
def test_switch_clock_by_cli(switch: Switch, ntp_survey: NtpSurvey, profile: Profile) -> None:
    if switch.device.ssh is None or switch.SHOW_CLOCK is None:
        pytest.skip("the switch's clock is not read over the CLI here (no ssh, or a platform whose show clock "
                    "the harness does not parse)")
    _judge(switch, switch.cli_clock, ntp_survey, profile)


@pytest.mark.duty(DUTY)
def test_switch_clock_by_snmp(switch: Switch, ntp_survey: NtpSurvey, profile: Profile) -> None:
    if switch.device.snmp is None:
        pytest.skip("the inventory declares no snmp for this switch")
    _judge(switch, switch.snmp_clock, ntp_survey, profile)


@pytest.mark.duty(DUTY)
def test_phone_clock_by_snmp(phone: Phone, ntp_survey: NtpSurvey, profile: Profile) -> None:
    if phone.device.snmp is None:
        pytest.skip("the inventory declares no snmp for this phone")
    _judge(phone, phone.snmp_clock, ntp_survey, profile)
