"""The twin's emulated Genesys Cloud org read through the harness (CloudOrg, CloudApi): the org the
inventory describes, rendered from the same state as the wire, and each fault of the org."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest

from harness.devices.drivers.cloud import CloudOrg, NotInOrg
from harness.devices.session import LabSession
from harness.errors import LabTimeout, LabUnreachable
from harness.inventory import LoadedLab
from harness.transports.cloud import ApiAuthError, ApiRateLimited, ApiStatusError, CloudApi
from harness.transports.cloud.permissions import ENDPOINTS
from harness.transports.transcript import Transcript
from harness.twin.cloud.router import ROUTES
from harness.twin.manager import TwinControl
from tests.conftest import wait_for

EDGES = "/api/v2/telephony/providers/edges"


@pytest.fixture
def org(twin: TwinControl, loaded: LoadedLab) -> Iterator[CloudOrg]:
    o = LabSession(loaded).cloud()
    yield o
    o.close()


def api_with(loaded: LoadedLab, **changes: object) -> CloudApi:
    """A CloudApi of the test lab's org with changed settings (a shorter deadline, another secret)."""
    assert loaded.lab.cloud is not None
    return CloudApi(loaded.lab.cloud.model_copy(update=changes), loaded.resolve, Transcript("cloud api test"))


def test_the_org_is_the_inventory(org: CloudOrg, loaded: LoadedLab) -> None:
    site = org.site()
    lab = loaded.lab
    assert site.name == lab.lab.site == org.site_name and site.media_model == "Premises"
    window = site.edge_auto_update_config
    assert window is not None and lab.lab.update_window is not None
    assert window.rrule == lab.lab.update_window.rrule and window.time_zone == lab.lab.update_window.time_zone
    assert (window.start.strftime("%H:%M"), window.end.strftime("%H:%M")) == ("02:00", "05:00")
    assert site.caller_id == "+13175550199" and site.ntp_settings and site.ntp_settings.servers
    assert [e.name for e in site.primary_edges] == ["edge1"]
    edges = org.edges()
    assert [e.name for e in edges] == ["edge1"] and edges[0].site and edges[0].site.id == site.id
    edge = org.edge("edge1")
    assert edge.software_version == "2026.11.1" and edge.online and edge.status_code == "ACTIVE"
    assert edge.call_draining_state == "NONE" and edge.conversation_count == 0 and edge.staged_version is None


def test_the_api_shows_the_edge_the_wire_shows(twin: TwinControl, org: CloudOrg) -> None:
    twin.fault("edge1", "firmware", "2026.12.0")
    assert org.edge("edge1").software_version == "2026.12.0"
    twin.fault("edge1", "wan-down")
    assert org.edge("edge1").online_status == "OFFLINE"
    twin.heal("edge1")
    assert org.edge("edge1").online and org.edge("edge1").software_version == "2026.11.1"
    twin.fault("edge1", "down")
    assert org.edge("edge1").online_status == "OFFLINE"
    twin.heal("edge1")
    assert wait_for(lambda: org.edge("edge1").online, 5.0)


def test_names_the_org_does_not_have_are_not_in_the_org(twin: TwinControl, loaded: LoadedLab, org: CloudOrg) -> None:
    with pytest.raises(NotInOrg) as missing:
        org.edge("edge9")
    assert "site 'Lab Site A (emulated)' has no Edge named 'edge9' (its Edges: edge1)" in str(missing.value)
    org.site_name = "Somewhere Else"
    with pytest.raises(NotInOrg, match="the org has no site named 'Somewhere Else'"):
        org.site()
    with pytest.raises(ApiStatusError) as e:
        org.api().get_json(EDGES + "/{edgeId}", edgeId="no-such-edge")
    assert (e.value.status, e.value.code) == (404, "not.found")
    assert "GET /api/v2/telephony/providers/edges/{edgeId} (edgeId=no-such-edge): HTTP 404 not.found" in str(e.value)


def test_an_expired_token_is_renewed(twin: TwinControl, org: CloudOrg) -> None:
    org.probe_api()
    mark = org.api().transcript.mark()
    twin.fault("cloud", "token-expired")
    assert org.edge("edge1").online
    text = org.api().transcript.render(mark)
    assert "HTTP 401: the token was refused" in text and text.count("> POST /oauth/token") == 1


def test_a_rate_limit_is_waited_out(twin: TwinControl, org: CloudOrg) -> None:
    twin.fault("cloud", "rate-limit", "1")
    mark = org.api().transcript.mark()
    started = time.monotonic()
    assert org.edge("edge1").online
    assert time.monotonic() - started >= 1.0
    assert "HTTP 429: waiting Retry-After 1 s" in org.api().transcript.render(mark)


def test_a_rate_limit_past_the_deadline_is_busy_until_its_retry_after_passes(twin: TwinControl,
                                                                             loaded: LoadedLab) -> None:
    twin.fault("cloud", "rate-limit", "2")
    api = api_with(loaded, timeout_s=0.5)
    api.token()
    with pytest.raises(ApiRateLimited, match=r"rate-limited by Genesys Cloud: Retry-After 2 s exceeds the call's "
                                             r"0\.5 s deadline$"):
        api.get_json(EDGES)
    mark = api.transcript.mark()
    started = time.monotonic()
    with pytest.raises(ApiRateLimited, match="so this call was not sent"):
        api.get_json(EDGES + "/sites")
    assert time.monotonic() - started < 0.1 and "> GET" not in api.transcript.render(mark)  # no request, no wait
    time.sleep(2.0)
    assert api.get_json(EDGES)["entities"]  # the first call after the Retry-After is sent and answered
    api.close()


def test_a_missing_permission_names_it_and_the_client(twin: TwinControl, org: CloudOrg) -> None:
    twin.fault("cloud", "missing-permission", "telephony:plugin:all")
    assert org.site().name == org.site_name  # Genesys publishes no permission for the sites listing
    with pytest.raises(ApiAuthError) as e:
        org.edges()
    assert e.value.permissions == ("telephony:plugin:all",) and e.value.status == 403
    assert "GET /api/v2/telephony/providers/edges: HTTP 403 missing.permissions" in str(e.value)
    assert str(e.value).endswith("OAuth client hil-twin-client lacks the permission telephony:plugin:all")


def test_each_route_the_harness_calls_asks_for_the_permission_genesys_publishes() -> None:
    def shape(path: str) -> str:
        return re.sub(r"\{[^}]+\}", "{}", path)

    table = {(e.method, shape(e.template)): e for e in ENDPOINTS.values()}
    checked = 0
    for r in ROUTES:
        entry = table.get((r.method, shape(r.path)))
        if entry is None:
            continue
        checked += 1
        published = entry.permissions[0] if len(entry.permissions) == 1 else None
        assert r.permission == published, f"twin route {r.method} {r.path}: {r.permission}, Genesys: {entry.needs()}"
    assert checked >= len(ENDPOINTS) - 2  # the diagnostics' {kind} is served as four literal paths


def test_a_wrong_secret_is_refused_at_login(twin: TwinControl, loaded: LoadedLab, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HIL_TEST_WRONG_GC_SECRET", "not-the-secret")
    api = api_with(loaded, client_secret="env:HIL_TEST_WRONG_GC_SECRET")
    with pytest.raises(ApiAuthError, match="POST /oauth/token: HTTP 401: the login host refused the credentials of "
                                           "OAuth client hil-twin-client \\(invalid_client"):
        api.token()


def test_an_api_that_is_down_is_unreachable_and_quarantined(twin: TwinControl, loaded: LoadedLab) -> None:
    lab = LabSession(loaded)
    org = lab.cloud()
    twin.fault("cloud", "api-down")
    with pytest.raises(LabUnreachable, match="POST /oauth/token: ConnectError") as e:
        org.probe_api()
    lab.quarantine(e.value.device, e.value)
    twin.heal("cloud")
    with pytest.raises(LabUnreachable, match="quarantined after earlier failure"):
        org.site()
    assert "cloud" in lab.quarantined() and lab.quarantine_evidence("cloud")
    lab.close()


def test_a_silent_api_costs_one_timeout(twin: TwinControl, loaded: LoadedLab) -> None:
    twin.fault("cloud", "api-silent")
    api = api_with(loaded, timeout_s=1.0)
    started = time.monotonic()
    # what is left of the deadline when the request goes out (under load a few ms less than 1 s)
    with pytest.raises(LabTimeout, match=r"POST /oauth/token: no answer within (1|0\.9\d*) s"):
        api.token()
    assert 1.0 <= time.monotonic() - started < 2.5


def test_the_org_is_a_twin_unit_with_faults_of_its_own(twin: TwinControl) -> None:
    cloud = twin.status()["devices"]["cloud"]
    assert cloud["role"] == "cloud" and cloud["up"] and cloud["services"] == ["api"]
    faults = {f["name"]: f for f in twin.faults()}
    for name in ("rate-limit", "token-expired", "api-silent", "api-down", "missing-permission"):
        assert faults[name]["roles"] == ["cloud"]
    with pytest.raises(Exception, match="applies to cloud, not to edge edge1"):
        twin.fault("edge1", "api-down")
    with pytest.raises(Exception, match="missing-permission needs a Genesys permission"):
        twin.fault("cloud", "missing-permission", "everything")
