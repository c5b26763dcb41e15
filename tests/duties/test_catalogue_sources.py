"""Every threshold source the catalogue names is one a partner can cite: a standard, a Genesys page
on a Genesys host, a vendor's own host, or a document named by its title; never a manual mirror, a
staging or development host, or a bare IP address (the developers' guide)."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

import pytest

from harness.duties.catalogue import CATALOGUE, PROJECT_CHOICE, SOURCES

MIRRORS = ("manualslib.", "manualshelf.", "manualsdump.", "manualarchiveguide.", "manualsbrain.", "manualmachine.",
           "manualsonline.", "documents.pub", "vdocument.", "easymanua.ls")
STAGING = ("kinsta.app", "dev-genesys.", "staging", "localhost")


@pytest.mark.parametrize("tag", sorted(SOURCES))
def test_a_source_is_no_mirror_staging_host_or_bare_ip(tag: str) -> None:
    for url in re.findall(r"https?://\S+", SOURCES[tag]):
        host = urlsplit(url).hostname or ""
        with pytest.raises(ValueError):
            ipaddress.ip_address(host)  # a name, not an address
        assert not any(m in host for m in MIRRORS), (tag, url)
        assert not any(s in host for s in STAGING), (tag, url)


def test_every_threshold_names_a_known_source_or_project_choice() -> None:
    unknown = [(d.id, t.name, t.source) for d in CATALOGUE.values() for t in d.thresholds
               if t.source != PROJECT_CHOICE and t.source not in SOURCES]
    assert not unknown
