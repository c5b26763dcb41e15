"""The org's prefix blocking as the harness reads it (Genesys Cloud's Prefix Blocking feature, G-PREFIX):
``GET /api/v2/telephony/prefixes?type=Block`` (``PrefixListing`` of ``PrefixListingItem``) and the API's
own call simulation, ``GET /api/v2/telephony/prefixes/simulate/call?number=`` (``CallSimulationResult``:
``allowed``, ``level`` ∈ NGN, BlockPrefixSupport, AllowPrefix, BlockPrefix, HighCost, ``matchedPrefix``).
"""

from __future__ import annotations

from ...transports.cloud import CloudModel

PREFIXES = "/api/v2/telephony/prefixes"
SIMULATE_CALL = "/api/v2/telephony/prefixes/simulate/call"


class Prefix(CloudModel):
    """One prefix of the org's Allow or Block List: ``country_code`` (E.164 country code, digits) and
    ``number`` (the digits after it; empty for a whole country)."""

    country_code: str = ""
    number: str = ""
    type: str | None = None

    @property
    def e164(self) -> str:
        """The prefix in E.164 form: ``+`` country code and number (``+1900``)."""
        return "+" + self.country_code.lstrip("+") + self.number


class CallSimulation(CloudModel):
    """What the org would do with an outbound call to a number: ``allowed``, the ``level`` that decided
    and the ``matched_prefix`` (absent when no prefix matched)."""

    allowed: bool
    level: str | None = None
    matched_prefix: str | None = None


def covers(prefix: str, e164: str) -> bool:
    """``e164`` starts with ``prefix``, both compared as digits (``+1900`` and ``1900`` alike)."""
    p = prefix.lstrip("+")
    return bool(p) and e164.lstrip("+").startswith(p)
