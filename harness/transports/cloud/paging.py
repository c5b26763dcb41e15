"""Paging of Genesys Cloud listings, done once for every listing the harness reads.

A listing answers one :class:`~.models.Page` at a time and says how to reach the next in one of
three forms, tried in this order:

1. ``nextUri`` (``/api/v2/…?pageSize=100&pageNumber=2``, or a cursor URI): followed as it is, on the
   API host (an absolute one must name the API's own scheme and host);
2. ``cursor``: the same request again with ``cursor=<value>``;
3. ``pageNumber`` below ``pageCount``: the same request with ``pageNumber + 1``.

No form left: that was the last page. A next page the harness has already asked for (a server that
loops) or more than :data:`MAX_PAGES` pages is a protocol error, said by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .models import Page

PAGE_SIZE = 100  # project choice: the largest page most Genesys telephony listings serve
MAX_PAGES = 10_000  # project choice: a million entities at 100 a page; beyond that the server loops


@dataclass(frozen=True)
class NextPage:
    """How to ask for the next page: a ``uri`` (path and query, on the API host) or new ``params``."""

    uri: str | None = None
    params: dict[str, Any] | None = None

    def key(self) -> str:
        """What identifies the request (to tell a loop)."""
        return self.uri if self.uri is not None else repr(sorted((self.params or {}).items()))


def first_params(params: dict[str, Any] | None, page_size: int = PAGE_SIZE) -> dict[str, Any]:
    """The query of the first page: ``params`` with ``pageSize`` and ``pageNumber=1``."""
    return {**(params or {}), "pageSize": page_size, "pageNumber": 1}


def next_page(page: Page, params: dict[str, Any], api_url: str) -> NextPage | None:
    """The request of the page after ``page`` (asked with ``params`` of ``api_url``), ``None`` after
    the last.

    Raises ValueError for a ``nextUri`` that leaves the API (another scheme or host) or is no path."""
    if page.next_uri:
        u, api = urlsplit(page.next_uri), urlsplit(api_url)
        if (u.scheme or u.netloc) and (u.scheme, u.netloc) != (api.scheme, api.netloc):
            raise ValueError(f"nextUri {page.next_uri!r} leaves the API host {api.netloc}")
        uri = u.path + (f"?{u.query}" if u.query else "")
        if not uri.startswith("/"):
            raise ValueError(f"nextUri {page.next_uri!r} is not a path of the API")
        if api.path and uri.startswith(api.path + "/"):  # an API under a path prefix may write it
            uri = uri[len(api.path):]
        return NextPage(uri=uri)
    if page.cursor:
        return NextPage(params={**params, "cursor": page.cursor})
    number = page.page_number or params.get("pageNumber") or 1
    if page.page_count is not None and int(number) < page.page_count and page.entities:
        return NextPage(params={**params, "pageNumber": int(number) + 1})
    return None
