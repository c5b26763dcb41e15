"""The Edge's own endpoints of the twin's API (software update, metrics, log jobs, diagnostics,
trunks) hold to the official SDK's contract: raw JSON through the SDK's models
(:func:`~tests.twin.cloud.sdk_contract.check_json`) and the SDK's own API methods reading the twin,
for GETs and for the POSTs that start something."""

from __future__ import annotations

import string
import time
from types import ModuleType
from typing import Any

import httpx
import pytest

from harness.inventory import LoadedLab
from harness.transports.cloud import CloudApi
from harness.twin.manager import TwinControl
from tests.conftest import wait_for
from tests.twin.cloud.sdk_contract import Endpoint, check_json, model_problems, sdk_session

EDGES = "/api/v2/telephony/providers/edges"


def tpe(sdk: ModuleType, client: Any) -> Any:
    return sdk.TelephonyProvidersEdgeApi(client)


GETS = [
    Endpoint(f"{EDGES}/{{edgeId}}/softwareupdate", "DomainEdgeSoftwareUpdateDto",
             lambda sdk, c, ids: tpe(sdk, c).get_telephony_providers_edge_softwareupdate(ids["edgeId"])),
    Endpoint(f"{EDGES}/{{edgeId}}/softwareversions", "DomainEdgeSoftwareVersionDtoEntityListing",
             lambda sdk, c, ids: tpe(sdk, c).get_telephony_providers_edge_softwareversions(ids["edgeId"])),
    Endpoint(f"{EDGES}/{{edgeId}}/metrics", "EdgeMetrics",
             lambda sdk, c, ids: tpe(sdk, c).get_telephony_providers_edge_metrics(ids["edgeId"])),
    Endpoint(f"{EDGES}/{{edgeId}}/trunks", "TrunkEntityListing",
             lambda sdk, c, ids: tpe(sdk, c).get_telephony_providers_edge_trunks(ids["edgeId"])),
    Endpoint(f"{EDGES}/{{edgeId}}/trunks", "TrunkEntityListing",
             lambda sdk, c, ids: tpe(sdk, c).get_telephony_providers_edge_trunks(ids["edgeId"], trunk_type="EXTERNAL"),
             params=(("trunkType", "EXTERNAL"),)),
    Endpoint(f"{EDGES}/trunks", "TrunkEntityListing",
             lambda sdk, c, ids: tpe(sdk, c).get_telephony_providers_edges_trunks(trunk_type="EXTERNAL"),
             params=(("trunkType", "EXTERNAL"),)),
    Endpoint(f"{EDGES}/trunks", "TrunkEntityListing",
             lambda sdk, c, ids: tpe(sdk, c).get_telephony_providers_edges_trunks(edge_id=ids["edgeId"]),
             params=(("edge.id", "{edgeId}"),)),
    Endpoint(f"{EDGES}/{{edgeId}}/logicalinterfaces", "LogicalInterfaceEntityListing",
             lambda sdk, c, ids: tpe(sdk, c).get_telephony_providers_edge_logicalinterfaces(ids["edgeId"])),
    Endpoint(f"{EDGES}/trunks/{{trunkId}}/metrics", "TrunkMetrics",
             lambda sdk, c, ids: tpe(sdk, c).get_telephony_providers_edges_trunk_metrics(ids["trunkId"])),
]
for _kind in ("nslookup", "ping", "route", "tracepath"):
    GETS.append(Endpoint(f"{EDGES}/{{edgeId}}/diagnostic/{_kind}", "EdgeNetworkDiagnosticResponse",
                         lambda sdk, c, ids, k=_kind: getattr(
                             tpe(sdk, c), f"get_telephony_providers_edge_diagnostic_{k}")(ids["edgeId"])))


@pytest.fixture
def ids(twin: TwinControl, api: CloudApi) -> dict[str, str]:
    org = twin.state("cloud")
    edge_id = org["edge_ids"]["edge1"]
    trunks = api.get_json(f"{EDGES}/{{edgeId}}/trunks", edgeId=edge_id)["entities"]
    for kind in ("nslookup", "ping", "route", "tracepath"):  # a GET reads what the last POST ran
        api.get_json(f"{EDGES}/{{edgeId}}", edgeId=edge_id)
        httpx.post(f"{loaded_url(api)}{EDGES}/{edge_id}/diagnostic/{kind}", json={"host": "localhost"},
                   headers={"Authorization": f"Bearer {api.token()}"}).raise_for_status()
    return {"edgeId": edge_id, "trunkId": trunks[0]["id"]}


def model(sdk: ModuleType, name: str, **fields: Any) -> Any:
    """An SDK model with ``fields`` set (the SDK's constructors take no arguments)."""
    m = getattr(sdk, name)()
    for k, v in fields.items():
        setattr(m, k, v)
    return m


def loaded_url(api: CloudApi) -> str:
    return api.api_url


@pytest.mark.parametrize("endpoint", GETS, ids=lambda e: e.id)
def test_twin_json_is_the_sdk_model(sdk: ModuleType, api: CloudApi, ids: dict[str, str], endpoint: Endpoint) -> None:
    names = [n for _, n, _, _ in string.Formatter().parse(endpoint.path) if n]
    check_json(sdk, api.get_json(endpoint.path, **{n: ids[n] for n in names}), endpoint.model)


@pytest.mark.timeout(120)  # the SDK has no request timeout of its own
@pytest.mark.parametrize("endpoint", GETS, ids=lambda e: e.id)
def test_the_sdk_reads_the_twin(sdk: ModuleType, loaded: LoadedLab, ids: dict[str, str], endpoint: Endpoint) -> None:
    cloud = loaded.lab.cloud
    assert cloud is not None
    client = sdk_session(sdk, cloud.api_url, cloud.client_id, loaded.resolve(cloud.client_secret))
    got = endpoint.call(sdk, client, ids)
    assert isinstance(got, getattr(sdk, endpoint.model))
    assert not model_problems(sdk, got, endpoint.model)


def test_edges_metrics_and_trunks_metrics_lists(sdk: ModuleType, api: CloudApi, ids: dict[str, str]) -> None:
    for m in api.get_json(f"{EDGES}/metrics", params={"edgeIds": ids["edgeId"]}):
        check_json(sdk, m, "EdgeMetrics")
    got = api.get_json(f"{EDGES}/trunks/metrics", params={"trunkIds": ids["trunkId"]})
    assert len(got) == 1
    check_json(sdk, got[0], "TrunkMetrics")


@pytest.mark.timeout(120)
def test_the_sdk_runs_a_log_job_and_fetches_its_file(sdk: ModuleType, loaded: LoadedLab, api: CloudApi,
                                                     ids: dict[str, str]) -> None:
    cloud = loaded.lab.cloud
    assert cloud is not None
    client = sdk_session(sdk, cloud.api_url, cloud.client_id, loaded.resolve(cloud.client_secret))
    t = tpe(sdk, client)
    job = t.post_telephony_providers_edge_logs_jobs(ids["edgeId"], model(
        sdk, "EdgeLogsJobRequest", path="/logs", query="*.tar.gz", recurse=False))
    assert isinstance(job, sdk.EdgeLogsJobResponse) and job.id
    full = t.get_telephony_providers_edge_logs_job(ids["edgeId"], job.id)
    check_json(sdk, api.get_json(f"{EDGES}/{{edgeId}}/logs/jobs/{{jobId}}", edgeId=ids["edgeId"], jobId=job.id),
               "EdgeLogsJob")
    assert [f.upload_status for f in full.files] == ["NOT_UPLOADED"]
    t.post_telephony_providers_edge_logs_job_upload(ids["edgeId"], job.id,
                                                    model(sdk, "EdgeLogsJobUploadRequest",
                                                                                file_ids=[full.files[0].id]))
    done = wait_for(lambda: (f := t.get_telephony_providers_edge_logs_job(ids["edgeId"], job.id).files[0])
                    .upload_status == "UPLOADED" and f)
    url = sdk.DownloadsApi(client).get_download(done.download_id, issue_redirect=False)
    assert isinstance(url, sdk.UrlResponse)
    data = httpx.get(url.url).content
    assert len(data) == int(done.size_bytes) and data[:2] == b"\x1f\x8b"


@pytest.mark.timeout(120)
def test_the_sdk_orders_an_update_and_runs_diagnostics(twin: TwinControl, sdk: ModuleType, loaded: LoadedLab,
                                                       ids: dict[str, str]) -> None:
    cloud = loaded.lab.cloud
    assert cloud is not None
    client = sdk_session(sdk, cloud.api_url, cloud.client_id, loaded.resolve(cloud.client_secret))
    t = tpe(sdk, client)
    d = t.post_telephony_providers_edge_diagnostic_ping(ids["edgeId"], model(sdk, "EdgeNetworkDiagnosticRequest",
                                                                                     host="localhost"))
    assert isinstance(d, sdk.EdgeNetworkDiagnostic) and d.id
    assert "4 received" in t.get_telephony_providers_edge_diagnostic_ping(ids["edgeId"]).diagnostics
    twin.fault("edge1", "update-stays-staged")
    versions = t.get_telephony_providers_edge_softwareversions(ids["edgeId"]).entities
    target = next(v for v in versions if v.edge_version == "2026.12.0")
    got = t.post_telephony_providers_edge_softwareupdate(ids["edgeId"], model(
        sdk, "DomainEdgeSoftwareUpdateDto", version=model(sdk, "DomainEdgeSoftwareVersionDto", id=target.id),
        call_draining_wait_time_seconds=5))
    assert isinstance(got, sdk.DomainEdgeSoftwareUpdateDto) and got.status == "IN_PROGRESS"
    wait_for(lambda: t.get_telephony_providers_edge(ids["edgeId"]).staged_version == "2026.12.0")
    time.sleep(0.3)
    assert t.get_telephony_providers_edge(ids["edgeId"]).software_version == "2026.11.1"
    t.delete_telephony_providers_edge_softwareupdate(ids["edgeId"])
    assert t.get_telephony_providers_edge_softwareupdate(ids["edgeId"]).status == "ABORTED"
