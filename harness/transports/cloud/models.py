"""The base of every typed Genesys Cloud answer, and the shapes the transport itself reads (the OAuth
token, a page of a listing, an error body).

Answers are pydantic models holding only the fields the harness uses, in snake_case with the API's
camelCase as aliases (``software_version`` <- ``softwareVersion``), ignoring every other field
(``extra="ignore"``: the API adds fields all the time). A field the harness needs and the answer
lacks makes :class:`~harness.errors.LabProtocolError` (see :meth:`CloudApi.get`).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class CloudModel(BaseModel):
    """Base of the API's answers as the harness reads them: camelCase aliases, unknown fields ignored,
    frozen."""

    model_config = ConfigDict(extra="ignore", frozen=True, alias_generator=to_camel, populate_by_name=True)


class TokenAnswer(CloudModel):
    """``POST /oauth/token``'s answer: ``access_token`` (bearer), ``expires_in`` (seconds; Genesys gives
    client-credentials tokens 86,400 s by default, no refresh token). The token endpoint writes
    snake_case keys, so no aliases here."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    access_token: str = Field(min_length=1)
    token_type: str = "bearer"
    expires_in: float = Field(gt=0)


class Page(CloudModel):
    """One page of a listing (``…EntityListing``): ``entities`` and how to reach the next page, in
    either form the API uses: ``nextUri`` (set on every page but the last), ``pageNumber`` of
    ``pageCount``, or a ``cursor``. ``total``: the entities of the whole listing, when given."""

    entities: list[Any] = []
    page_size: int | None = None
    page_number: int | None = None
    page_count: int | None = None
    total: int | None = None
    next_uri: str | None = None
    cursor: str | None = None


class ErrorBody(CloudModel):
    """Genesys' error body (the SDK's ``ErrorBody``): ``message``, ``code`` (``missing.permissions``,
    ``not.found``, ``bad.credentials`` …), ``status``, ``messageParams``, ``messageWithParams``,
    ``contextId`` (quote it to Genesys support)."""

    message: str = ""
    code: str = ""
    status: int | None = None
    message_params: dict[str, Any] = {}
    message_with_params: str = ""
    context_id: str = ""
