"""Paging on a large emulated org (``twin: cloud_synthetic_sites / cloud_synthetic_edges``): the
harness reads every site and every Edge of the site, one call per page, and the twin writes the
listing fields the real API writes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from harness.devices.drivers.cloud import CloudOrg
from harness.devices.facts.cloud_edges import EDGE, EDGES, Edge
from harness.devices.facts.cloud_sites import SITES, Site
from harness.devices.session import LabSession
from harness.inventory import LoadedLab, load
from harness.twin import manager
from tests.conftest import REPO, make_test_lab, other_net

pytestmark = pytest.mark.twin  # starts a lab of its own

NET = other_net(1)
SITES_EXTRA, EDGES_EXTRA = 120, 250


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LoadedLab, manager.TwinControl]]:
    text = (REPO / "lab_inventory.yaml").read_text().replace("127.0.", f"{NET}.")
    text = text.replace("\nprofile:", f"\ntwin: {{cloud_synthetic_sites: {SITES_EXTRA}, "
                                      f"cloud_synthetic_edges: {EDGES_EXTRA}}}\n\nprofile:", 1)
    path = make_test_lab(tmp_path_factory.mktemp("big-org"), text)
    manager.up(path)
    try:
        yield load(path), manager.TwinControl(path)
    finally:
        manager.down(path)


@pytest.fixture
def org(big: tuple[LoadedLab, manager.TwinControl]) -> Iterator[CloudOrg]:
    o = LabSession(big[0]).cloud()
    yield o
    o.close()


def api_calls(twin: manager.TwinControl, path: str) -> list[str]:
    return [p for m, p, status in twin.state("cloud")["requests"] if p.split("?")[0] == path]


def test_every_site_and_edge_is_read_one_call_per_page(big, org: CloudOrg) -> None:
    loaded, twin = big
    before_sites, before_edges = len(api_calls(twin, SITES)), len(api_calls(twin, EDGES))
    sites = org.api().list(SITES, Site)
    assert len(sites) == SITES_EXTRA + 1 and len({s.id for s in sites}) == SITES_EXTRA + 1
    assert loaded.lab.lab.site in {s.name for s in sites}
    assert len(api_calls(twin, SITES)) - before_sites == 2  # 121 sites at 100 a page
    edges = org.edges()
    assert len(edges) == EDGES_EXTRA + 1 and "edge1" in {e.name for e in edges} and all(e.online for e in edges)
    assert len(api_calls(twin, EDGES)) - before_edges == 3  # 251 Edges at 100 a page
    one = org.api().get(EDGE, Edge, edgeId=edges[-1].id)
    assert one == edges[-1]


def test_listings_carry_the_fields_the_api_writes(big, org: CloudOrg) -> None:
    loaded, _ = big
    assert loaded.lab.cloud is not None
    token = org.api().token()
    r = httpx.get(f"{loaded.lab.cloud.api_url}{EDGES}", params={"pageSize": 100, "pageNumber": 2},
                  headers={"Authorization": f"Bearer {token}"})
    page = r.json()
    assert (page["pageSize"], page["pageNumber"], page["total"], page["pageCount"]) == (100, 2, 251, 3)
    assert len(page["entities"]) == 100
    assert page["nextUri"] == f"{EDGES}?pageSize=100&pageNumber=3"
    assert page["previousUri"] == f"{EDGES}?pageSize=100&pageNumber=1"
    assert page["selfUri"] == f"{EDGES}?pageSize=100&pageNumber=2" and page["lastUri"].endswith("pageNumber=3")
    last = httpx.get(f"{loaded.lab.cloud.api_url}{page['lastUri']}", headers={"Authorization": f"Bearer {token}"})
    assert len(last.json()["entities"]) == 51 and "nextUri" not in last.json()
    too_big = httpx.get(f"{loaded.lab.cloud.api_url}{EDGES}", params={"pageSize": 501},
                        headers={"Authorization": f"Bearer {token}"})
    assert too_big.status_code == 400 and too_big.json()["code"] == "bad.request"


def test_a_synthetic_org_is_only_a_twin_setting(tmp_path: Path) -> None:
    text = (REPO / "lab_inventory.yaml").read_text().replace("\nprofile:", "\ntwin: {cloud_synthetic_edges: 10001}"
                                                                           "\n\nprofile:", 1)
    with pytest.raises(Exception, match="cloud_synthetic_edges"):
        load(make_test_lab(tmp_path, text))
