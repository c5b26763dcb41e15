"""The Genesys Cloud Platform API as a transport (httpx): OAuth client credentials, deadlines,
rate limits, retries for reads, paging, masked transcripts, lab errors (docs/cloud-api.md).

:class:`CloudApi` is the session; :class:`CloudModel` the base of typed answers (the resource
models live with the facts they are, ``harness/devices/facts/cloud_*.py``); :mod:`.errors` the
failures.
"""

from .client import ApiCall, CloudApi, retry_after_s
from .errors import ApiAuthError, ApiRateLimited, ApiStatusError, ApiUnavailable, missing_permissions
from .models import CloudModel, ErrorBody, Page, TokenAnswer
from .paging import PAGE_SIZE

__all__ = ["PAGE_SIZE", "ApiAuthError", "ApiCall", "ApiRateLimited", "ApiStatusError", "ApiUnavailable", "CloudApi",
           "CloudModel", "ErrorBody", "Page", "TokenAnswer", "missing_permissions", "retry_after_s"]
