"""Genesys Cloud regions: the region name an org lives in -> the domain of its API and login hosts.

Source: the region list of the official Python SDK, ``PureCloudPlatformClientV2.PureCloudRegionHosts``
(purecloudplatformclientv2 269.0.0), which mirrors the "Platform API" regions page of the Genesys
Cloud Developer Center. An org in region ``eu-west-1`` is reached at ``https://api.mypurecloud.ie``
and logs in at ``https://login.mypurecloud.ie`` (the API host with ``api.`` replaced by ``login.``,
as the SDK does). A region Genesys opens later is added here, one line.
"""

from __future__ import annotations

import difflib

#: region -> domain (``https://api.<domain>``, ``https://login.<domain>``)
REGION_DOMAINS: dict[str, str] = {
    "us-east-1": "mypurecloud.com",
    "us-east-2": "use2.us-gov-pure.cloud",
    "us-west-2": "usw2.pure.cloud",
    "ca-central-1": "cac1.pure.cloud",
    "sa-east-1": "sae1.pure.cloud",
    "mx-central-1": "mxc1.pure.cloud",
    "eu-west-1": "mypurecloud.ie",
    "eu-west-2": "euw2.pure.cloud",
    "eu-central-1": "mypurecloud.de",
    "eu-central-2": "euc2.pure.cloud",
    "eusc-de-east-1": "edee1.eusc-pure.cloud",
    "me-central-1": "mec1.pure.cloud",
    "ap-south-1": "aps1.pure.cloud",
    "ap-southeast-1": "apse1.pure.cloud",
    "ap-southeast-2": "mypurecloud.com.au",
    "ap-northeast-1": "mypurecloud.jp",
    "ap-northeast-2": "apne2.pure.cloud",
    "ap-northeast-3": "apne3.pure.cloud",
}


def region_problem(region: str) -> str | None:
    """Why ``region`` is not a Genesys Cloud region (naming the closest one), or ``None``."""
    if region in REGION_DOMAINS:
        return None
    close = difflib.get_close_matches(region.lower(), REGION_DOMAINS, n=1)
    hint = f"did you mean {close[0]}? " if close else ""
    return f"{region!r} is not a Genesys Cloud region; {hint}(regions: {', '.join(sorted(REGION_DOMAINS))})"


def login_url(api_url: str) -> str:
    """The login host of an API base URL: ``//api.`` becomes ``//login.`` (as the SDK does); a host
    without ``api.`` (an emulator on an IP address) logs in at itself."""
    return api_url.replace("//api.", "//login.", 1)


def genesys_names(region: str) -> list[str]:
    """The Genesys Cloud host names an org in ``region`` is reached at: its API and login hosts
    (``api.<domain>``, ``login.<domain>``, as the SDK's region list gives them). KeyError for a name
    that is not a region (the inventory has already refused one)."""
    domain = REGION_DOMAINS[region]
    return [f"api.{domain}", f"login.{domain}"]
