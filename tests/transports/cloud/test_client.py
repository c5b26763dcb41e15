"""The Genesys Cloud API transport against scripted answers (httpx.MockTransport): OAuth and its cache,
401 renewal, 403 permissions, 429, retries for reads only, deadlines, paging, masking, typed answers."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.errors import LabBusy, LabProtocolError, LabTimeout, LabUnreachable
from harness.inventory.models import CloudSettings
from harness.inventory.secrets import resolve
from harness.transports.cloud import (
    ApiAuthError,
    ApiRateLimited,
    ApiStatusError,
    ApiUnavailable,
    CloudApi,
    CloudModel,
    ErrorBody,
    missing_permissions,
    retry_after_s,
)
from harness.transports.transcript import Transcript

SECRET = "s3cr3t-client-secret-for-tests"
EDGE = "/api/v2/telephony/providers/edges/{edgeId}"
EDGES = "/api/v2/telephony/providers/edges"


class Thing(CloudModel):
    id: str
    software_version: str


class Clock:
    """A monotonic clock that only ``sleep`` moves."""

    def __init__(self) -> None:
        self.now, self.slept = 1000.0, []

    def __call__(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.slept.append(s)
        self.now += s


Responder = Callable[[httpx.Request], httpx.Response]


def token_answer(token: str = "tok-1", expires_in: float = 86400) -> httpx.Response:
    return httpx.Response(200, json={"access_token": token, "token_type": "bearer", "expires_in": expires_in})


class Api:
    """A CloudApi whose HTTP is ``api_answer`` (and a token endpoint issuing tok-1, tok-2 …)."""

    def __init__(self, tmp_path: Path, api_answer: Responder, *, token: Responder | None = None,
                 timeout_s: float = 10.0, **settings: Any) -> None:
        (tmp_path / "secret").write_text(SECRET + "\n")
        self.requests: list[httpx.Request] = []
        self.tokens = 0
        self.clock = Clock()

        def handler(request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            if request.url.path == "/oauth/token":
                if token is not None:
                    return token(request)
                self.tokens += 1
                return token_answer(f"tok-{self.tokens}")
            return api_answer(request)

        base = {"base_url": "https://api.example.test", "client_id": "client-42",
                "client_secret": f"file:{tmp_path / 'secret'}", "timeout_s": timeout_s}
        self.settings = CloudSettings.model_validate({**base, **settings})
        self.transcript = Transcript("cloud api test")
        self.api = CloudApi(self.settings, resolve, self.transcript, http_transport=httpx.MockTransport(handler),
                            sleep=self.clock.sleep, clock=self.clock)

    def calls(self, path: str | None = None) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path != "/oauth/token" and (path is None or r.url.path == path)]


def thing(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"id": "e1", "softwareVersion": "2026.11.1", "unknownField": 1})


# -- settings ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("region", "api", "login"), [
    ("us-east-1", "https://api.mypurecloud.com", "https://login.mypurecloud.com"),
    ("eu-west-1", "https://api.mypurecloud.ie", "https://login.mypurecloud.ie"),
    ("ap-southeast-2", "https://api.mypurecloud.com.au", "https://login.mypurecloud.com.au"),
    ("us-west-2", "https://api.usw2.pure.cloud", "https://login.usw2.pure.cloud"),
])
def test_a_region_gives_the_api_and_login_hosts(region, api, login):
    s = CloudSettings(region=region, client_id="x", client_secret="env:X")
    assert (s.api_url, s.login_url) == (api, login)


def test_an_emulator_without_api_in_its_host_logs_in_at_itself():
    s = CloudSettings(base_url="http://127.0.6.1:8443/", client_id="x", client_secret="env:X")
    assert (s.api_url, s.login_url) == ("http://127.0.6.1:8443", "http://127.0.6.1:8443")
    s = CloudSettings(base_url="https://api.lab.example", client_id="x", client_secret="env:X")
    assert s.login_url == "https://login.lab.example"


# -- OAuth ---------------------------------------------------------------------------------------------

def test_client_credentials_token_is_requested_once_and_sent_as_bearer(tmp_path):
    a = Api(tmp_path, thing)
    for _ in range(3):
        got = a.api.get(EDGE, Thing, edgeId="e1")
    assert got == Thing(id="e1", software_version="2026.11.1")
    token_requests = [r for r in a.requests if r.url.path == "/oauth/token"]
    assert len(token_requests) == 1
    t = token_requests[0]
    assert t.method == "POST" and str(t.url) == "https://login.example.test/oauth/token"
    assert t.headers["Authorization"] == "Basic " + base64.b64encode(f"client-42:{SECRET}".encode()).decode()
    assert t.content == b"grant_type=client_credentials"
    assert all(r.headers["Authorization"] == "Bearer tok-1" for r in a.calls())


def test_the_token_is_renewed_before_it_expires(tmp_path):
    a = Api(tmp_path, thing, token=lambda r: token_answer(f"tok-{len(a.requests)}", expires_in=100))
    a.api.get(EDGE, Thing, edgeId="e1")
    a.clock.now += 89  # 100 s token, renewed a tenth of its life (10 s) before its end
    a.api.get(EDGE, Thing, edgeId="e1")
    a.clock.now += 2
    a.api.get(EDGE, Thing, edgeId="e1")
    assert len([r for r in a.requests if r.url.path == "/oauth/token"]) == 2


def test_a_401_renews_the_token_once_and_sends_the_call_again(tmp_path):
    def answer(r: httpx.Request) -> httpx.Response:
        if r.headers["Authorization"] == "Bearer tok-1":
            return httpx.Response(401, json={"message": "Invalid login credentials.", "code": "bad.credentials",
                                             "status": 401})
        return thing(r)

    a = Api(tmp_path, answer)
    assert a.api.get(EDGE, Thing, edgeId="e1").id == "e1"
    assert a.tokens == 2 and len(a.calls()) == 2
    assert "HTTP 401: the token was refused; requesting a new one" in a.transcript.render()


def test_a_401_after_a_renewal_is_credentials_refused_naming_the_client(tmp_path):
    a = Api(tmp_path, lambda r: httpx.Response(401, json={"message": "Invalid login credentials.",
                                                          "code": "bad.credentials", "status": 401}))
    with pytest.raises(ApiAuthError) as e:
        a.api.get(EDGE, Thing, edgeId="e1")
    msg = str(e.value)
    assert "GET /api/v2/telephony/providers/edges/{edgeId} (edgeId=e1): HTTP 401 bad.credentials" in msg
    assert "OAuth client client-42" in msg and "credentials refused" in msg
    assert e.value.status == 401 and a.tokens == 2 and e.value.device == "cloud" and e.value.transport == "api"


def test_the_login_host_refusing_the_client_names_it(tmp_path):
    refusal = {"error": "invalid_client", "description": "client not found", "error_description": "client not found"}
    a = Api(tmp_path, thing, token=lambda r: httpx.Response(401, json=refusal))
    with pytest.raises(ApiAuthError) as e:
        a.api.get(EDGE, Thing, edgeId="e1")
    assert "POST /oauth/token: HTTP 401: the login host refused the credentials of OAuth client client-42 " \
           "(invalid_client: client not found)" in str(e.value)
    assert SECRET not in str(e.value) and a.calls() == []


def test_a_client_id_given_as_a_reference_is_named_by_its_reference(tmp_path, monkeypatch):
    monkeypatch.setenv("HIL_TEST_GC_CLIENT", "the-real-client-id")
    a = Api(tmp_path, thing, token=lambda r: httpx.Response(400, json={"error": "invalid_client"}),
            client_id="env:HIL_TEST_GC_CLIENT")
    with pytest.raises(ApiAuthError) as e:
        a.api.token()
    assert "OAuth client env:HIL_TEST_GC_CLIENT (its id is a secret reference)" in str(e.value)
    sent = next(r for r in a.requests if r.url.path == "/oauth/token")
    assert base64.b64decode(sent.headers["Authorization"].split()[1]).decode() == f"the-real-client-id:{SECRET}"


# -- 403, errors --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    {"message": "Unable to perform the requested action. You are missing the following permission(s): "
                "[telephony:plugin:all]", "code": "missing.permissions", "status": 403, "messageParams": {}},
    {"message": "Unable to perform the requested action.", "code": "missing.permissions", "status": 403,
     "messageWithParams": "You are missing the following permission(s): {permissions}",
     "messageParams": {"permissions": "[telephony:plugin:all]"}},
])
def test_a_403_names_the_client_and_the_missing_permission(tmp_path, body):
    a = Api(tmp_path, lambda r: httpx.Response(403, json={**body, "contextId": "ctx-9"}))
    with pytest.raises(ApiAuthError) as e:
        a.api.get(EDGE, Thing, edgeId="e1")
    assert e.value.permissions == ("telephony:plugin:all",)
    assert "HTTP 403 missing.permissions" in str(e.value) and "(contextId ctx-9)" in str(e.value)
    assert str(e.value).endswith("OAuth client client-42 lacks the permission telephony:plugin:all")


def test_a_403_without_permissions_in_its_body_names_those_genesys_publishes_for_the_call(tmp_path):
    a = Api(tmp_path, lambda r: httpx.Response(403, json={"message": "Forbidden", "code": "forbidden", "status": 403}))
    with pytest.raises(ApiAuthError) as e:
        a.api.get(EDGE, Thing, edgeId="e1")
    assert e.value.permissions == ("telephony:plugin:all",)
    assert str(e.value).endswith("OAuth client client-42 is not allowed this call, which needs telephony:plugin:all "
                                 "(the permission Genesys publishes for it; the answer named none)")
    with pytest.raises(ApiAuthError) as e:
        a.api.get_json("/api/v2/locations")  # Genesys publishes no permission for it
    assert e.value.permissions == ()
    assert str(e.value).endswith("is not allowed this call (the answer names no permission, and Genesys publishes "
                                 "none for it)")


def test_missing_permissions_reads_lists_and_keeps_order():
    body = ErrorBody(message="x", message_params={"a": ["directory:user:view", "telephony:plugin:all"],
                                                  "b": "directory:user:view"})
    assert missing_permissions(body) == ("directory:user:view", "telephony:plugin:all")
    assert missing_permissions(ErrorBody(message="Forbidden")) == ()


def test_other_statuses_name_the_call_status_and_code(tmp_path):
    a = Api(tmp_path, lambda r: httpx.Response(404, json={"message": "Unable to find edge with id nope",
                                                          "code": "not.found", "status": 404}))
    with pytest.raises(ApiStatusError) as e:
        a.api.get(EDGE, Thing, edgeId="nope")
    assert (e.value.status, e.value.code, e.value.call) == (404, "not.found", "GET " + EDGE)
    assert str(e.value) == ("protocol error: cloud api api.example.test: GET /api/v2/telephony/providers/edges/"
                            "{edgeId} (edgeId=nope): HTTP 404 not.found: Unable to find edge with id nope")


def test_path_values_are_quoted_as_one_segment(tmp_path):
    a = Api(tmp_path, thing)
    a.api.get(EDGE, Thing, edgeId="a/b c")
    assert a.calls()[0].url.raw_path == b"/api/v2/telephony/providers/edges/a%2Fb%20c"


def test_an_answer_that_is_not_json_or_lacks_a_field_is_a_protocol_error(tmp_path):
    a = Api(tmp_path, lambda r: httpx.Response(200, text="<html>maintenance</html>"))
    with pytest.raises(LabProtocolError, match=r"GET .*\{edgeId\} \(edgeId=e1\): HTTP 200 answer is not JSON"):
        a.api.get(EDGE, Thing, edgeId="e1")
    b = Api(tmp_path, lambda r: httpx.Response(200, json={"id": "e1"}))
    with pytest.raises(LabProtocolError, match=r"not the Thing the harness reads \(softwareVersion: Field required\)"):
        b.api.get(EDGE, Thing, edgeId="e1")


# -- 429, retries, deadlines ----------------------------------------------------------------------------

def test_a_429_is_waited_out_as_retry_after_says(tmp_path):
    answers = iter([httpx.Response(429, headers={"Retry-After": "3"}, json={"code": "too.many.requests"})])
    a = Api(tmp_path, lambda r: next(answers, None) or thing(r))
    assert a.api.get(EDGE, Thing, edgeId="e1").id == "e1"
    assert a.clock.slept == [3.0] and len(a.calls()) == 2
    assert "HTTP 429: waiting Retry-After 3 s" in a.transcript.render()


def test_a_429_is_waited_out_for_a_post_too(tmp_path):
    answers = iter([httpx.Response(429, headers={"Retry-After": "1"})])
    a = Api(tmp_path, lambda r: next(answers, None) or thing(r))
    assert a.api.post(EDGES + "/{edgeId}/reboot", Thing, body={}, edgeId="e1").id == "e1"
    assert len(a.calls()) == 2


def test_a_retry_after_past_the_deadline_is_busy_naming_it(tmp_path):
    a = Api(tmp_path, lambda r: httpx.Response(429, headers={"Retry-After": "30"}), timeout_s=10)
    with pytest.raises(ApiRateLimited) as e:
        a.api.get(EDGE, Thing, edgeId="e1")
    assert isinstance(e.value, LabBusy) and not isinstance(e.value, LabTimeout | LabUnreachable)  # not quarantined
    assert str(e.value).startswith(f"lab busy: cloud api api.example.test: GET {EDGE}")
    assert "rate-limited by Genesys Cloud: Retry-After 30 s exceeds the call's 10 s deadline" in str(e.value)
    assert (e.value.retry_after_s, e.value.deadline_s, e.value.sent) == (30.0, 10.0, True)
    assert a.clock.slept == []


def test_calls_before_the_retry_after_has_passed_fail_fast_and_the_first_after_it_is_sent(tmp_path):
    answers = iter([httpx.Response(429, headers={"Retry-After": "30"})])
    a = Api(tmp_path, lambda r: next(answers, None) or thing(r), timeout_s=10)
    with pytest.raises(ApiRateLimited):
        a.api.get(EDGE, Thing, edgeId="e1")
    sent = len(a.requests)
    a.clock.now += 29.0
    for attempt in (lambda: a.api.get(EDGE, Thing, edgeId="e2"), lambda: a.api.send("POST", EDGES, body={}),
                    lambda: a.api.list(EDGES, Thing)):
        with pytest.raises(ApiRateLimited) as e:
            attempt()
        assert not e.value.sent and "Retry-After 30 s exceeds the call's 10 s deadline" in str(e.value)
        assert "given to GET /api/v2/telephony/providers/edges/{edgeId}; 1 s of it left, so this call was not sent" \
            in str(e.value)
    assert len(a.requests) == sent and a.clock.slept == [] and a.clock.now == 1029.0  # nothing sent, no time spent
    a.clock.now += 1.0
    assert a.api.get(EDGE, Thing, edgeId="e1").id == "e1"
    assert len(a.requests) == sent + 1


def test_a_token_request_waits_for_the_retry_after_too(tmp_path):
    answers = iter([httpx.Response(429, headers={"Retry-After": "60"})])
    a = Api(tmp_path, thing, token=lambda r: next(answers, None) or token_answer(), timeout_s=10)
    with pytest.raises(ApiRateLimited, match="POST /oauth/token: rate-limited by Genesys Cloud: Retry-After 60 s"):
        a.api.token()
    with pytest.raises(ApiRateLimited, match="not sent"):
        a.api.get(EDGE, Thing, edgeId="e1")
    assert len(a.requests) == 1
    a.clock.now += 60.0
    assert a.api.get(EDGE, Thing, edgeId="e1").id == "e1"


def test_retry_after_reads_seconds_and_http_dates():
    assert retry_after_s("7") == 7.0 and retry_after_s(None) == 1.0 and retry_after_s("soon") == 1.0
    when = datetime.now(UTC) + timedelta(seconds=20)
    assert 17 <= retry_after_s(format_datetime(when, usegmt=True)) <= 20


def test_a_get_is_retried_after_502_503_504_and_connection_errors(tmp_path):
    answers: list[Any] = [httpx.Response(503), httpx.ConnectError("refused")]

    def answer(r: httpx.Request) -> httpx.Response:
        if answers:
            a = answers.pop(0)
            if isinstance(a, Exception):
                raise a
            return a
        return thing(r)

    a = Api(tmp_path, answer)
    assert a.api.get(EDGE, Thing, edgeId="e1").id == "e1"
    assert len(a.calls()) == 3 and len(a.clock.slept) == 2


def test_a_get_gives_up_after_three_attempts(tmp_path):
    a = Api(tmp_path, lambda r: httpx.Response(503, json={"code": "service.unavailable", "status": 503}))
    with pytest.raises(ApiUnavailable, match=r"HTTP 503 service\.unavailable"):
        a.api.get(EDGE, Thing, edgeId="e1")
    assert len(a.calls()) == 3


def test_a_post_is_never_sent_twice(tmp_path):
    a = Api(tmp_path, lambda r: httpx.Response(503))
    with pytest.raises(ApiUnavailable):
        a.api.post(EDGES + "/{edgeId}/reboot", Thing, body={}, edgeId="e1")
    assert len(a.calls()) == 1

    def drop(r: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError("connection dropped")

    b = Api(tmp_path, drop)
    with pytest.raises(LabUnreachable, match=r"POST .*/reboot"):
        b.api.post(EDGES + "/{edgeId}/reboot", Thing, body={}, edgeId="e1")
    assert len(b.calls()) == 1


def test_a_silent_api_costs_one_timeout_and_is_not_retried(tmp_path):
    def silent(r: httpx.Request) -> httpx.Response:
        assert r.extensions["timeout"]["read"] == pytest.approx(4.0)
        raise httpx.ReadTimeout("silent")

    a = Api(tmp_path, silent, timeout_s=4)
    with pytest.raises(LabTimeout, match=r"GET .*\(edgeId=e1\): no answer within 4 s"):
        a.api.get(EDGE, Thing, edgeId="e1")
    assert len(a.calls()) == 1


def test_no_back_off_runs_past_the_deadline(tmp_path):
    a = Api(tmp_path, lambda r: httpx.Response(502), timeout_s=0.5)
    with pytest.raises(ApiUnavailable):
        a.api.get(EDGE, Thing, edgeId="e1")
    # 502, wait 0.2 s, 502; the next back-off (0.4 s) would end past the 0.5 s deadline: no third attempt
    assert len(a.calls()) == 2 and a.clock.slept == [0.2]


# -- paging ------------------------------------------------------------------------------------------------------

def paged(total: int, form: str) -> Responder:
    """A listing of ``total`` things, paged by ``pageCount``, ``nextUri`` or ``cursor``."""

    def answer(r: httpx.Request) -> httpx.Response:
        q = dict(r.url.params)
        size = int(q.get("pageSize", 25))
        number = int(q.get("cursor", q.get("pageNumber", 1)))
        things = [{"id": f"e{i}", "softwareVersion": "1"} for i in range((number - 1) * size,
                                                                         min(number * size, total))]
        page: dict[str, Any] = {"entities": things}
        more = number * size < total
        if form == "pageCount":
            page |= {"pageNumber": number, "pageSize": size, "pageCount": -(-total // size), "total": total}
        elif form == "nextUri" and more:
            page["nextUri"] = f"https://api.example.test{r.url.path}?pageSize={size}&pageNumber={number + 1}&x=1"
        elif form == "cursor" and more:
            page["cursor"] = str(number + 1)
        return httpx.Response(200, json=page)

    return answer


@pytest.mark.parametrize("form", ["pageCount", "nextUri", "cursor"])
def test_every_page_is_read_once_in_each_paging_form(tmp_path, form):
    a = Api(tmp_path, paged(250, form))
    got = a.api.list(EDGES, Thing, params={"site.id": "s1"})
    assert [t.id for t in got] == [f"e{i}" for i in range(250)]
    assert len(a.calls()) == 3
    first = a.calls()[0].url.params
    assert (first["site.id"], first["pageSize"], first["pageNumber"]) == ("s1", "100", "1")


def test_an_empty_listing_is_one_call(tmp_path):
    a = Api(tmp_path, paged(0, "pageCount"))
    assert a.api.list(EDGES, Thing) == [] and len(a.calls()) == 1


def test_a_listing_that_loops_is_a_protocol_error(tmp_path):
    a = Api(tmp_path, lambda r: httpx.Response(200, json={"entities": [], "nextUri": "/api/v2/x?pageNumber=2"}))
    with pytest.raises(LabProtocolError, match="the listing loops"):
        a.api.list(EDGES, Thing)


def test_a_next_uri_is_kept_on_the_api_host(tmp_path):
    a = Api(tmp_path, lambda r: httpx.Response(200, json={"entities": [], "nextUri": "https://evil.example/x"}))
    with pytest.raises(LabProtocolError, match=r"leaves the API host api\.example\.test"):
        a.api.list(EDGES, Thing)
    assert len(a.calls()) == 1


# -- transcripts ---------------------------------------------------------------------------------------------

def test_transcripts_hold_calls_and_answers_but_no_secret_token_or_header(tmp_path):
    a = Api(tmp_path, lambda r: httpx.Response(200, json={"id": "e1", "softwareVersion": "v", "echo": str(r.headers)}))
    a.api.get(EDGE, Thing, edgeId="e1")
    text = a.transcript.render()
    assert "> GET /api/v2/telephony/providers/edges/e1" in text and "< HTTP 200 OK" in text
    assert "> POST /oauth/token" in text and "token for OAuth client client-42, expires in 86400 s" in text
    assert SECRET not in text and "tok-1" not in text and "Basic " not in text
    assert json.dumps("tok-1") not in text


def test_a_proxy_carries_the_api_and_login_calls(tmp_path):
    (tmp_path / "secret").write_text(SECRET)
    settings = CloudSettings(region="us-east-1", client_id="c", client_secret=f"file:{tmp_path / 'secret'}",
                             proxy="http://proxy.example.net:3128")
    api = CloudApi(settings, resolve, Transcript("cloud api proxy"))
    try:
        routes = {str(k.pattern) for k in api._http._mounts}  # httpx routes every scheme through the proxy
        assert routes == {"all://"}
        assert api.address == "api.mypurecloud.com" and api.login_url == "https://login.mypurecloud.com"
    finally:
        api.close()
