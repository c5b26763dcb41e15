"""The twin's prefix blocking endpoints hold to the official SDK's contract: ``GET
/api/v2/telephony/prefixes`` (``PrefixListing``) and ``GET /api/v2/telephony/prefixes/simulate/call``
(``CallSimulationResult``), raw JSON through the SDK's models and the SDK's own ``TelephonyApi``
reading the twin; and the Block List is the prefix classes the shipped inventory bars for every
station (``premium``: +1900, +1976), with the faults that bend it."""

from __future__ import annotations

from types import ModuleType

import pytest

from harness.devices.facts.cloud_prefixes import Prefix
from harness.inventory import LoadedLab
from harness.transports.cloud import CloudApi
from harness.twin.manager import TwinControl
from tests.twin.cloud.sdk_contract import check_json, model_problems, sdk_session

PREFIXES = "/api/v2/telephony/prefixes"
SIMULATE = f"{PREFIXES}/simulate/call"


def test_the_block_list_is_the_sdk_model_and_the_inventory_s(twin: TwinControl, sdk: ModuleType,
                                                             api: CloudApi) -> None:
    data = api.get_json(PREFIXES, params={"type": "Block"})
    check_json(sdk, data, "PrefixListing")
    assert [(p["countryCode"], p["number"]) for p in data["entities"]] == [("1", "900"), ("1", "976")]
    assert api.get_json(PREFIXES, params={"type": "Allow"})["entities"] == []


def test_the_block_list_pages_by_cursor(twin: TwinControl, api: CloudApi) -> None:
    first = api.get_json(PREFIXES, params={"type": "Block", "pageSize": 1})
    assert len(first["entities"]) == 1 and "nextUri" in first
    assert [p.number for p in api.list(PREFIXES, Prefix, params={"type": "Block"}, page_size=1)] == ["900", "976"]


@pytest.mark.parametrize(("number", "allowed", "matched"), [
    ("+19002345678", False, "+1900"), ("19762345678", False, "+1976"), ("+13175559000", True, None),
    ("911", True, None)])
def test_the_call_simulation_is_the_sdk_model(twin: TwinControl, sdk: ModuleType, api: CloudApi, number: str,
                                              allowed: bool, matched: str | None) -> None:
    data = api.get_json(SIMULATE, params={"number": number})
    check_json(sdk, data, "CallSimulationResult")
    assert (data["allowed"], data.get("matchedPrefix")) == (allowed, matched), data


def test_faults_bend_the_block_list(twin: TwinControl, api: CloudApi) -> None:
    twin.fault("cloud", "prefix-block-missing", "+1900")
    twin.fault("cloud", "emergency-blocked")
    data = api.get_json(PREFIXES, params={"type": "Block"})
    assert [(p["countryCode"], p["number"]) for p in data["entities"]] == [("1", "976"), ("1", "911")]
    assert api.get_json(SIMULATE, params={"number": "+19002345678"}) == {"allowed": True}
    assert api.get_json(SIMULATE, params={"number": "911"})["allowed"] is False


@pytest.mark.timeout(120)  # the SDK has no request timeout of its own
def test_the_sdk_reads_the_twin(twin: TwinControl, sdk: ModuleType, loaded: LoadedLab) -> None:
    cloud = loaded.lab.cloud
    assert cloud is not None
    client = sdk_session(sdk, cloud.api_url, cloud.client_id, loaded.resolve(cloud.client_secret))
    tel = sdk.TelephonyApi(client)
    got = tel.get_telephony_prefixes("Block")
    assert isinstance(got, sdk.PrefixListing) and not model_problems(sdk, got, "PrefixListing")
    assert [p.number for p in got.entities] == ["900", "976"]
    sim = tel.get_telephony_prefixes_simulate_call("+19762345678")
    assert isinstance(sim, sdk.CallSimulationResult) and not model_problems(sdk, sim, "CallSimulationResult")
    assert (sim.allowed, sim.level, sim.matched_prefix) == (False, "BlockPrefix", "+1976")
