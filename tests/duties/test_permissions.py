"""The Genesys Cloud permissions table (``harness/transports/cloud/permissions.py``) against the code:
every API call the harness makes has an entry, and no entry is for a call it no longer makes; which
duty makes which call is read from the code (``DutyRoute.endpoints``)."""

from __future__ import annotations

import pytest

from harness.duties.map import DRIVERS_PACKAGE, DutyRoute, SourceMap, duty_map
from harness.duties.permissions import UnknownCall, duty_calls, permissions_text
from harness.transports.cloud.permissions import ENDPOINTS, needed, permissions_for


@pytest.fixture(scope="module")
def src() -> SourceMap:
    return SourceMap()


@pytest.fixture(scope="module")
def routes(src: SourceMap) -> list[DutyRoute]:
    return duty_map(src)


def driver_calls(src: SourceMap) -> set[str]:
    found: set[str] = set()
    for path in sorted((src.harness_dir / "devices" / "drivers").glob("*.py")):
        mod = src.module(f"{DRIVERS_PACKAGE}.{path.stem}")
        assert mod is not None
        found |= src.api_calls(mod, mod.tree)
    return found


def test_the_table_lists_exactly_the_calls_the_code_makes(src, routes):
    made = driver_calls(src) | {c for r in routes for c in r.endpoints}
    assert made - set(ENDPOINTS) == set(), "add these calls to harness/transports/cloud/permissions.py"
    assert set(ENDPOINTS) - made == set(), "the harness no longer makes these calls: drop them from the table"


def test_calls_are_read_from_the_driver_methods_each_duty_uses(routes):
    by_duty = {r.duty.id: set(r.endpoints) for r in routes}
    assert {"GET /api/v2/telephony/providers/edges/sites", "GET /api/v2/telephony/providers/edges/{edgeId}"} \
        <= by_duty["LAB-READY"]
    update = by_duty["MAINT-EDGE-UPDATE"]  # the update procedure's calls through the Edge's org side
    assert {"POST /api/v2/telephony/providers/edges/{edgeId}/softwareupdate",
            "GET /api/v2/telephony/providers/edges/{edgeId}/softwareversions"} <= update
    assert "POST /api/v2/telephony/providers/edges/{edgeId}/logs/jobs" in by_duty["MAINT-EDGE-LOGS"]
    assert "POST /api/v2/telephony/providers/edges/{edgeId}/logs/jobs" not in update
    # OrgTelephony.total(LINES) hands the scenario module's template to a read
    assert "GET /api/v2/telephony/providers/edges/lines" in by_duty["CFG-TELEPHONY"]
    assert "GET /api/v2/telephony/providers/edges/sites" in by_duty["NET-NTP"]  # lab.cloud().site()
    assert by_duty["NET-VOIP-HW"] == set()  # no API call: the switch over SNMP and its CLI

    # the trunk_probe fixture reads the trunk's live calls in a helper of its module (_calls_up), for every
    # trunk duty: the Edge's trunks and their metrics
    for duty in ("SEC-TOLL-FRAUD", "PSTN-CONNECT"):
        assert {"GET /api/v2/telephony/providers/edges/{edgeId}/trunks",
                "GET /api/v2/telephony/providers/edges/trunks/{trunkId}/metrics"} <= by_duty[duty], duty


def test_what_a_set_of_calls_needs():
    required, either, unpublished = needed(["GET /api/v2/telephony/providers/edges",
                                            "GET /api/v2/telephony/providers/edges/extensions",
                                            "GET /api/v2/locations"])
    assert required == ["telephony:extensionPool:view", "telephony:plugin:all"] and either == []
    assert [e.call for e in unpublished] == ["GET /api/v2/locations"]
    entry = permissions_for("get", "/api/v2/telephony/providers/edges/{edgeId}")
    assert entry is not None and entry.needs() == "telephony:plugin:all"
    assert entry.source.startswith("https://developer.genesys.cloud/")
    assert permissions_for("GET", "/api/v2/users") is None


def test_a_call_the_table_lacks_is_an_error_naming_it(routes):
    r = next(r for r in routes if r.duty.id == "LAB-READY")
    stale = DutyRoute(r.duty, r.scenarios, r.procedures, r.drivers, endpoints=("GET /api/v2/users/me",))
    with pytest.raises(UnknownCall, match=r"LAB-READY calls GET /api/v2/users/me, which .* does not list"):
        duty_calls([stale])


def test_the_text_names_each_permission_with_its_duties_and_the_unpublished_calls(routes):
    text = permissions_text(duty_calls([r for r in routes if r.duty.id in ("CFG-TELEPHONY", "LAB-READY")]))
    assert "  telephony:extensionPool:view  CFG-TELEPHONY\n" in text
    assert "telephony:plugin:all          LAB-READY, CFG-TELEPHONY" in text
    assert "GET /api/v2/organizations/limits/namespaces/{namespaceName}  CFG-TELEPHONY" in text
    assert permissions_text([]) == "none of the selected duties calls the Genesys Cloud API"
