"""The org's telephony configuration endpoints of the twin's API (phones, lines, phone and trunk base
settings, number plans, outbound routes, DID pools, DIDs, extensions, locations, limits) hold to the
official SDK's contract: raw JSON through the SDK's models
(:func:`~tests.twin.cloud.sdk_contract.check_json`) and the SDK's own API methods reading the twin.

One :class:`~tests.twin.cloud.sdk_contract.Endpoint` line per endpoint; ``{names}`` are filled from
the org's ids (``siteId``; ``phoneId``: ``phone1``; ``didPoolId``: the pool starting at
``+13175550100``; ``locationId``: the site's location; ``namespace``: the telephony limits')."""

from __future__ import annotations

import string
from types import ModuleType
from typing import Any

import pytest

from harness.inventory import LoadedLab
from harness.transports.cloud import CloudApi
from harness.twin.cloud.state import entity_id
from harness.twin.cloud.telephony import LIMITS_NAMESPACE
from harness.twin.manager import TwinControl
from tests.twin.cloud.sdk_contract import Endpoint, check_json, model_problems, sdk_session

EDGES = "/api/v2/telephony/providers/edges"


def tpe(sdk: ModuleType, client: Any) -> Any:
    return sdk.TelephonyProvidersEdgeApi(client)


ENDPOINTS = [
    Endpoint(f"{EDGES}/phones", "PhoneEntityListing",
             lambda sdk, c, ids: tpe(sdk, c).get_telephony_providers_edges_phones(site_id=ids["siteId"]),
             params=(("site.id", "{siteId}"),)),
    Endpoint(f"{EDGES}/phones", "PhoneEntityListing",
             lambda sdk, c, ids: tpe(sdk, c).get_telephony_providers_edges_phones(
                 site_id=ids["siteId"], expand=["properties", "status"]),
             params=(("site.id", "{siteId}"), ("expand", "properties,status"))),
    Endpoint(f"{EDGES}/phones", "PhoneEntityListing",
             lambda sdk, c, ids: tpe(sdk, c).get_telephony_providers_edges_phones(phone_hardware_id="0004f2000001"),
             params=(("phone_hardwareId", "0004f2000001"),)),
    Endpoint(f"{EDGES}/phones/{{phoneId}}", "Phone",
             lambda sdk, c, ids: tpe(sdk, c).get_telephony_providers_edges_phone(ids["phoneId"])),
    Endpoint(f"{EDGES}/lines", "LineEntityListing",
             lambda sdk, c, ids: tpe(sdk, c).get_telephony_providers_edges_lines()),
    Endpoint(f"{EDGES}/phonebasesettings", "PhoneBaseEntityListing",
             lambda sdk, c, ids: tpe(sdk, c).get_telephony_providers_edges_phonebasesettings()),
    Endpoint(f"{EDGES}/phonebasesettings/{{phoneBaseSettingsId}}", "PhoneBase",
             lambda sdk, c, ids: tpe(sdk, c).get_telephony_providers_edges_phonebasesetting(
                 ids["phoneBaseSettingsId"])),
    Endpoint(f"{EDGES}/trunkbasesettings", "TrunkBaseEntityListing",
             lambda sdk, c, ids: tpe(sdk, c).get_telephony_providers_edges_trunkbasesettings()),
    Endpoint(f"{EDGES}/trunkbasesettings/{{trunkBaseSettingsId}}", "TrunkBase",
             lambda sdk, c, ids: tpe(sdk, c).get_telephony_providers_edges_trunkbasesetting(
                 ids["trunkBaseSettingsId"])),
    Endpoint(f"{EDGES}/sites/{{siteId}}/outboundroutes", "OutboundRouteBaseEntityListing",
             lambda sdk, c, ids: tpe(sdk, c).get_telephony_providers_edges_site_outboundroutes(ids["siteId"])),
    Endpoint(f"{EDGES}/didpools", "DIDPoolEntityListing",
             lambda sdk, c, ids: tpe(sdk, c).get_telephony_providers_edges_didpools()),
    Endpoint(f"{EDGES}/didpools/{{didPoolId}}", "DIDPool",
             lambda sdk, c, ids: tpe(sdk, c).get_telephony_providers_edges_didpool(ids["didPoolId"])),
    Endpoint(f"{EDGES}/dids", "DIDEntityListing",
             lambda sdk, c, ids: tpe(sdk, c).get_telephony_providers_edges_dids()),
    Endpoint(f"{EDGES}/extensions", "ExtensionEntityListing",
             lambda sdk, c, ids: tpe(sdk, c).get_telephony_providers_edges_extensions()),
    Endpoint("/api/v2/locations", "LocationEntityListing",
             lambda sdk, c, ids: sdk.LocationsApi(c).get_locations()),
    Endpoint("/api/v2/locations/{locationId}", "LocationDefinition",
             lambda sdk, c, ids: sdk.LocationsApi(c).get_location(ids["locationId"])),
    Endpoint("/api/v2/organizations/limits/namespaces/{namespace}", "LimitsEntityListing",
             lambda sdk, c, ids: sdk.OrganizationApi(c).get_organizations_limits_namespace(ids["namespace"])),
]


@pytest.fixture(scope="module")
def ids(twin_process: TwinControl, loaded: LoadedLab) -> dict[str, str]:
    org = twin_process.state("cloud")
    lab = loaded.lab.lab.name
    return {"siteId": org["site"]["id"], "phoneId": entity_id(lab, "phone", "phone1"),
            "locationId": org["site"]["location_id"],
            "phoneBaseSettingsId": entity_id(lab, "phonebasesettings", "VVX 450"),
            "trunkBaseSettingsId": entity_id(lab, "trunkbasesettings", "edge1"),
            "didPoolId": entity_id(lab, "didpool", "+13175550100"), "namespace": LIMITS_NAMESPACE}


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.id)
def test_twin_json_is_the_sdk_model(twin: TwinControl, sdk: ModuleType, api: CloudApi, ids: dict[str, str],
                                    endpoint: Endpoint) -> None:
    names = [n for _, n, _, _ in string.Formatter().parse(endpoint.path) if n]
    data = api.get_json(endpoint.path, params={k: v.format_map(ids) for k, v in endpoint.params},
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


@pytest.mark.timeout(120)
def test_number_plans_are_a_list_of_the_sdk_model(twin: TwinControl, sdk: ModuleType, loaded: LoadedLab,
                                                  api: CloudApi, ids: dict[str, str]) -> None:
    path = f"{EDGES}/sites/{{siteId}}/numberplans"
    plans = api.get_json(path, siteId=ids["siteId"])
    assert isinstance(plans, list) and {p["classification"] for p in plans} >= {"Extension", "National"}
    for p in plans:
        check_json(sdk, p, "NumberPlan")
    cloud = loaded.lab.cloud
    assert cloud is not None
    client = sdk_session(sdk, cloud.api_url, cloud.client_id, loaded.resolve(cloud.client_secret))
    got = tpe(sdk, client).get_telephony_providers_edges_site_numberplans(ids["siteId"])
    assert got and all(isinstance(p, sdk.NumberPlan) and not model_problems(sdk, p, "NumberPlan") for p in got)
