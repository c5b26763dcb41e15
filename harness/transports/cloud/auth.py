"""OAuth client credentials for the Genesys Cloud Platform API: the token request and its cache.

``POST <login host>/oauth/token`` with ``Authorization: Basic base64(client_id:client_secret)`` and the
form body ``grant_type=client_credentials`` answers ``{"access_token", "token_type", "expires_in"}``;
the token goes into ``Authorization: Bearer …`` on every call. Client-credentials tokens have no
refresh token: a new one is requested :data:`RENEW_MARGIN_S` seconds (or a tenth of its life, when
that is shorter) before ``expires_in`` runs out, and at once when the API answers 401.
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import TokenAnswer

TOKEN_PATH = "/oauth/token"
RENEW_MARGIN_S = 300.0  # project choice: renew 5 min before the end (Genesys' default life is 86,400 s)
RENEW_FRACTION = 0.1  # project choice: a short-lived token is renewed after 90 % of its life


@dataclass(frozen=True)
class CachedToken:
    """A bearer token and when (monotonic clock, seconds) to renew it."""

    value: str
    renew_at: float

    def fresh(self, now: float) -> bool:
        return now < self.renew_at

    @classmethod
    def issued(cls, answer: TokenAnswer, now: float) -> CachedToken:
        """The cache entry for ``answer`` received at ``now``: renewed ``min(RENEW_MARGIN_S,
        RENEW_FRACTION × expires_in)`` before it expires."""
        margin = min(RENEW_MARGIN_S, RENEW_FRACTION * answer.expires_in)
        return cls(answer.access_token, now + answer.expires_in - margin)


TOKEN_FORM = {"grant_type": "client_credentials"}
