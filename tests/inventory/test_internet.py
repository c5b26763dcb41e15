"""The inventory's ``network.stun`` and ``network.internet``: the shipped lab's values, the API host
from a real lab's region, and every mistake a ``FILE:LINE: network.…: problem`` line."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import InventoryError
from harness.inventory import load
from harness.twin.internet.ca import PUBLIC_ROOT_SPKI_SHA256
from tests.conftest import REPO, TEST_NET, make_test_lab
from tests.inventory.test_loader import edit, line_at

SHIPPED = (REPO / "lab_inventory.yaml").read_text()
CA_LINE = "    ca_file: .hil/internet-cas.pem       # extra CAs the harness host trusts (the twin writes its two)"


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(InventoryError) as e:
        load(make_test_lab(tmp_path, text))
    return [str(p) for p in e.value.problems]


def test_the_shipped_lab_pins_the_twins_public_root(loaded):
    net = loaded.lab.network
    assert net.stun is not None and net.stun.server == f"{TEST_NET}.9.70" and net.stun.port == 3478
    assert net.internet is not None and loaded.lab.genesys_api_host == "api.mypurecloud.com"
    assert [p.spki_sha256 for p in net.internet.pinned_issuers] == [PUBLIC_ROOT_SPKI_SHA256]


def test_a_real_lab_takes_the_api_host_from_its_region(tmp_path):
    text = edit("  base_url: http://127.0.6.1:8443      # the twin's emulated API (token endpoint on the same host)\n",
                "  region: eu-west-1\n")
    text = edit("    api_host: api.mypurecloud.com        # the API host of us-east-1 (harness/inventory/regions.py)\n",
                "", text)
    text = edit("  emulated: true\n", "  emulated: false\n", text)
    text = edit(CA_LINE + "\n", "", text)
    assert load(make_test_lab(tmp_path, text)).lab.genesys_api_host == "api.mypurecloud.ie"


def test_the_twin_writes_its_cas_only_inside_the_labs_folder(tmp_path):
    text = edit(CA_LINE, "    ca_file: /nonexistent/x.pem")
    found = problems(tmp_path, text)
    line = line_at(text, "    ca_file: /nonexistent/x.pem", "ca_file:")
    assert any(f":{line}: network.internet.ca_file: CA bundle /nonexistent/x.pem: the twin writes" in p
               for p in found), (found, line)


@pytest.mark.parametrize(("old", "new", "where", "says"), [
    ("    public_address: 127.0.9.200", "    public_address: pub.example", "public_address:",
     "network.internet.public_address: must be an IPv4 address"),
    ("      - spki_sha256: 546bbcd6", "      - spki_sha256: 546b", "spki_sha256:",
     "network.internet.pinned_issuers.0.spki_sha256: must be a SHA-256 hash"),
    ("    server: 127.0.9.70", "    server: 127.0.9.70\n    port: 0", "port: 0", "network.stun.port:"),
    ("    server: 127.0.9.70", "    server: 127.0.9.700", "server:",
     "network.stun.server: must be an IP address or a host name (an address has four numbers"),
])
def test_mistakes_name_file_line_and_key(tmp_path, old, new, where, says):
    text = edit(old, new)
    lab = tmp_path / "lab_inventory.yaml"
    found = problems(tmp_path, text)
    line = line_at(text, new.strip().splitlines()[-1], where)
    assert any(p.startswith(f"{lab}:{line}: {says}") for p in found), (found, line)
