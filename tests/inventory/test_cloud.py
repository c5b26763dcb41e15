"""The inventory's ``cloud:`` section: the shipped lab's org is the twin's, and every mistake is a
``FILE:LINE: cloud.KEY: problem`` line."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import InventoryError
from harness.inventory import load
from tests.conftest import REPO, make_test_lab
from tests.inventory.test_loader import edit, line_at

SHIPPED = (REPO / "lab_inventory.yaml").read_text()
CLOUD = """cloud:
  base_url: http://127.0.6.1:8443      # the twin's emulated API (token endpoint on the same host)
  client_id: hil-twin-client           # the OAuth client (client credentials grant)
  client_secret: file:twin_secrets/cloud_client_secret
  timeout_s: 5
"""


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(InventoryError) as e:
        load(make_test_lab(tmp_path, text))
    return [str(p) for p in e.value.problems]


def test_the_shipped_lab_reaches_the_twins_org(loaded):
    cloud = loaded.lab.cloud
    assert cloud is not None and cloud.region is None
    assert cloud.api_url == cloud.login_url == cloud.base_url and cloud.base_url.endswith(".6.1:8443")
    assert cloud.client_id == "hil-twin-client" and cloud.client_secret.startswith("file:twin_secrets/")
    assert loaded.lab.cloud_site == loaded.lab.lab.site and cloud.timeout_s == 5


def test_a_real_lab_names_its_region(tmp_path):
    text = edit(CLOUD, "cloud:\n  region: eu-west-1\n  client_id: env:HOME\n  client_secret: env:HOME\n"
                       "  site: Dublin HQ\n  proxy: http://proxy.example.net:3128\n")
    text = edit("emulated: true", "emulated: false", text)
    text = edit("    ca_file: .hil/internet-cas.pem", "    # no ca_file on a real lab", text)
    lab = load(make_test_lab(tmp_path, text)).lab
    assert lab.cloud is not None and lab.cloud.api_url == "https://api.mypurecloud.ie"
    assert lab.cloud.login_url == "https://login.mypurecloud.ie" and lab.cloud_site == "Dublin HQ"
    assert lab.cloud.client_id_is_reference


@pytest.mark.parametrize(("old", "new", "anchor", "message"), [
    ("  base_url: http://127.0.6.1:8443", "  region: us-east-9", "region:",
     "cloud.region: 'us-east-9' is not a Genesys Cloud region; did you mean us-east-2?"),
    ("  base_url: http://127.0.6.1:8443", "  base_url: ftp://127.0.6.1", "base_url:",
     "cloud.base_url: must be an http:// or https:// URL with a host"),
    ("  base_url: http://127.0.6.1:8443", "  base_url: http://user:pw@127.0.6.1:8443", "base_url:",
     "cloud.base_url: must not carry credentials"),
    ("  base_url: http://127.0.6.1:8443", "  base_url: https://127.0.6.1:8443", "base_url:",
     "cloud.base_url: https://"),
    ("  base_url: http://127.0.6.1:8443", "  base_url: http://192.0.2.7:8443", "base_url:",
     "the twin serves the emulated API over http on loopback"),
    ("  base_url: http://127.0.6.1:8443", "  region: us-east-1", "region:",
     "cloud.region: an emulated lab's org is the twin's: give base_url"),
    ("  base_url: http://127.0.6.1:8443", "  base_url: http://127.0.6.1:8443\n  region: us-east-1", "cloud:",
     "cloud: give exactly one of region"),
    ("  client_secret: file:twin_secrets/cloud_client_secret", "  client_secret: hunter2hunter2", "client_secret:",
     "cloud.client_secret: must be a secret reference"),
    ("  client_secret: file:twin_secrets/cloud_client_secret", "  client_secret: file:twin_secrets/nope",
     "client_secret:", "cloud.client_secret: secret file"),
    ("  timeout_s: 5\n\n# The site", "  timeout_s: 5\n  proxy: socks://x\n\n# The site", "proxy:",
     "cloud.proxy: must be an http:// or https://"),
    ("  timeout_s: 5\n\n# The site", "  timeout_s: 5\n  tenant: x\n\n# The site", "tenant:",
     "cloud.tenant: unknown key"),
])
def test_cloud_mistakes_name_file_line_and_key(tmp_path, old, new, anchor, message):
    text = edit(old, new, SHIPPED)
    found = problems(tmp_path, text)
    line = line_at(text, "cloud:\n  ", anchor)  # the first line of the cloud: block holding the key
    assert any(message in p and f"lab_inventory.yaml:{line}:" in p for p in found), (line, found)


def test_no_device_takes_the_orgs_name(tmp_path):
    text = edit("  prov1:\n", "  cloud:\n", SHIPPED)
    found = problems(tmp_path, text)
    assert any("devices.cloud: the name cloud is the Genesys Cloud org's" in p for p in found), found
