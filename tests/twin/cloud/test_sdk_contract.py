"""The twin's emulated API holds to the official SDK's contract: every endpoint's JSON deserializes
through the SDK's own model with no key the model lacks and no enum value it does not allow, and the
SDK itself, logged in against the twin's token endpoint, reads every endpoint.

One :class:`~tests.twin.cloud.sdk_contract.Endpoint` line per endpoint: ``{names}`` in the path are
filled from the org's ids (``siteId``, ``siteName``, ``edgeId``: the lab's site and ``edge1``)."""

from __future__ import annotations

import string
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from harness.inventory import LoadedLab
from harness.transports.cloud import CloudApi
from harness.twin.manager import TwinControl
from tests.twin.cloud.sdk_contract import Endpoint, check_json, model_problems, sdk_session

EDGES = "/api/v2/telephony/providers/edges"


def tpe(sdk: ModuleType, client: Any) -> Any:
    return sdk.TelephonyProvidersEdgeApi(client)


ENDPOINTS = [
    Endpoint(f"{EDGES}/sites", "SiteEntityListing",
             lambda sdk, c, ids: tpe(sdk, c).get_telephony_providers_edges_sites(name=ids["siteName"]),
             params=(("name", "{siteName}"),)),
    Endpoint(f"{EDGES}/sites", "SiteEntityListing",
             lambda sdk, c, ids: tpe(sdk, c).get_telephony_providers_edges_sites(page_size=1, page_number=1)),
    Endpoint(f"{EDGES}/sites/{{siteId}}", "Site",
             lambda sdk, c, ids: tpe(sdk, c).get_telephony_providers_edges_site(ids["siteId"])),
    Endpoint(EDGES, "EdgeEntityListing",
             lambda sdk, c, ids: tpe(sdk, c).get_telephony_providers_edges(site_id=ids["siteId"]),
             params=(("site.id", "{siteId}"),)),
    Endpoint(f"{EDGES}/{{edgeId}}", "Edge",
             lambda sdk, c, ids: tpe(sdk, c).get_telephony_providers_edge(ids["edgeId"])),
]


@pytest.fixture(scope="module")
def ids(twin_process: TwinControl) -> dict[str, str]:
    org = twin_process.state("cloud")
    return {"siteId": org["site"]["id"], "siteName": org["site"]["name"], "edgeId": org["edge_ids"]["edge1"]}


def _fill(text: str, ids: dict[str, str]) -> str:
    return text.format_map(ids)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.id)
def test_twin_json_is_the_sdk_model(twin: TwinControl, sdk: ModuleType, api: CloudApi, ids: dict[str, str],
                                    endpoint: Endpoint) -> None:
    names = [n for _, n, _, _ in string.Formatter().parse(endpoint.path) if n]
    data = api.get_json(endpoint.path, params={k: _fill(v, ids) for k, v in endpoint.params},
                        **{n: ids[n] for n in names})
    check_json(sdk, data, endpoint.model)


@pytest.mark.timeout(120)  # the SDK has no request timeout of its own
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.id)
def test_the_sdk_reads_the_twin(twin: TwinControl, sdk: ModuleType, loaded: LoadedLab, ids: dict[str, str],
                                endpoint: Endpoint) -> None:
    cloud = loaded.lab.cloud
    assert cloud is not None
    client = sdk_session(sdk, cloud.api_url, cloud.client_id, loaded.resolve(cloud.client_secret))
    got = endpoint.call(sdk, client, ids)
    assert isinstance(got, getattr(sdk, endpoint.model))
    assert not model_problems(sdk, got, endpoint.model)
    if endpoint.model.endswith("EntityListing"):
        assert got.entities, f"{endpoint.id}: the listing is empty"
    else:
        assert got.id in ids.values()


def test_error_bodies_are_the_sdk_error_body(twin: TwinControl, sdk: ModuleType, loaded: LoadedLab,
                                             api: CloudApi) -> None:
    cloud = loaded.lab.cloud
    assert cloud is not None
    token = api.token()
    answers = [httpx.get(f"{cloud.api_url}{EDGES}/no-such-edge", headers={"Authorization": f"Bearer {token}"}),
               httpx.get(f"{cloud.api_url}{EDGES}/sites")]
    twin.fault("cloud", "missing-permission", "telephony:plugin:all")
    answers.append(httpx.get(f"{cloud.api_url}{EDGES}", headers={"Authorization": f"Bearer {token}"}))
    assert [r.status_code for r in answers] == [404, 401, 403]
    for r in answers:
        body = check_json(sdk, r.json(), "ErrorBody")
        assert body.status == r.status_code and body.code and body.message and body.context_id
    assert answers[2].json()["code"] == "missing.permissions"
    assert "telephony:plugin:all" in answers[2].json()["message"]


def test_the_sdk_logs_in_at_the_twin_without_watching_home(sdk: ModuleType, tmp_path: Path) -> None:
    cfg = sdk.Configuration()
    assert cfg.live_reload_config is False and cfg._observer is None


@pytest.mark.parametrize(("data", "problem"), [
    ({"id": "e", "softwareVerson": "1"}, "Edge.softwareVerson: Edge has no such field"),
    ({"id": "e", "onlineStatus": "MAYBE"}, "Edge.onlineStatus: a value the SDK's allowed_values do not hold"),
    ({"id": "e", "conversationCount": "3"}, "Edge.conversationCount: '3' is not a int"),
    ({"id": "e", "site": {"id": "s", "ntpSettings": {"servers": "pool"}}},
     "Edge.site.ntpSettings.servers: 'pool' is not a list"),
    ({"id": "e", "dateCreated": "yesterday"}, "Edge.dateCreated: 'yesterday' is not a datetime"),
])
def test_the_contract_check_is_strict(sdk: ModuleType, data: dict[str, Any], problem: str) -> None:
    with pytest.raises(AssertionError) as e:
        check_json(sdk, data, "Edge")
    assert problem in str(e.value)
