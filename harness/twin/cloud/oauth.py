"""The org's token endpoint: ``POST /oauth/token`` (the login host is the API's own, an emulator's
address has no ``api.``), OAuth 2.0 client credentials as Genesys serves them.

``Authorization: Basic base64(client_id:client_secret)`` and the form ``grant_type=client_credentials``
answer ``{"access_token", "token_type": "bearer", "expires_in": 86400}``. The only client is the
inventory's ``cloud.client_id`` with ``cloud.client_secret`` (references resolved by the twin). A
wrong or missing client is ``401 {"error": "invalid_client", …}``, another grant ``400
unsupported_grant_type`` (RFC 6749 §5.2).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import time
from urllib.parse import parse_qs

from .router import ApiError, ApiRequest, Json, route
from .state import Token

TOKEN_LIFE_S = 86400  # Genesys' default life of a client-credentials token (24 h)
TOKENS_KEPT = 10_000  # project choice: the org forgets expired tokens beyond this many


def _oauth_error(status: int, error: str, description: str) -> ApiError:
    return ApiError(status, error, description,
                    raw={"error": error, "description": description, "error_description": description})


def _client(req: ApiRequest) -> tuple[str, str]:
    scheme, _, value = req.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        raise _oauth_error(401, "invalid_client", "client credentials are required (HTTP Basic)")
    try:
        client_id, sep, secret = base64.b64decode(value, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise _oauth_error(401, "invalid_client", "malformed client credentials") from None
    if not sep:
        raise _oauth_error(401, "invalid_client", "malformed client credentials")
    return client_id, secret


@route("POST", "/oauth/token", permission=None, auth=False)
async def token(req: ApiRequest) -> Json:
    form = parse_qs(req.body.decode("utf-8", "replace"))
    if form.get("grant_type") != ["client_credentials"]:
        raise _oauth_error(400, "unsupported_grant_type", "only grant_type=client_credentials is served")
    client_id, secret = _client(req)
    cloud = req.twin.lab.cloud
    assert cloud is not None
    want_id = req.twin.secret(cloud.client_id) if cloud.client_id_is_reference else cloud.client_id
    want_secret = req.twin.secret(cloud.client_secret) or ""
    if not (hmac.compare_digest(client_id.encode(), (want_id or "").encode())
            and hmac.compare_digest(secret.encode(), want_secret.encode())):
        raise _oauth_error(401, "invalid_client", "client not found or secret wrong")
    now = time.time()
    tokens = req.state.tokens
    if len(tokens) >= TOKENS_KEPT:
        for k in [k for k, t in tokens.items() if t.expires_at <= now]:
            del tokens[k]
    value = secrets.token_urlsafe(32)
    tokens[value] = Token(client_id, now + TOKEN_LIFE_S)
    return {"access_token": value, "token_type": "bearer", "expires_in": TOKEN_LIFE_S}
