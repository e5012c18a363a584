"""The one table of country codes: ISO 3166-1 alpha-3 (from the `iso3166` package) with ICAO
Doc 9303's additions on top. Used by the MRZ reader (`mrz.py`) and by the API's `CountryCode`
(`failsafe.kit.codes`), so a code the API accepts is never flagged as unknown in an MRZ and
the other way round.

Disputed codes, decided once here:
- `XKX` (Kosovo): a user-assigned ISO code, not an official one, but used by the EU and many
  registers and in `iso3166`'s table: accepted. ICAO's own codes for Kosovo documents are `RKS`
  and UNMIK's `UNK`, accepted too.
- `ANT` (Netherlands Antilles, dissolved 2010) and `NTZ` (Neutral Zone, deleted 1993): no longer
  assigned, but Doc 9303 listed them and old documents and records still carry them: accepted,
  as a watchlist must be able to hold what a notice says.

Invariant: `COUNTRY_CODES` is upper case, and `ISO_ALPHA3` and `ICAO_SPECIAL` do not overlap.
"""

from __future__ import annotations

import iso3166

ISO_ALPHA3: frozenset[str] = frozenset(iso3166.countries_by_alpha3)
"""ISO 3166-1 alpha-3 as the `iso3166` package has it (the 249 assigned codes and XKX)."""

_ICAO = """
    D XXA XXB XXC XXX UTO EUE UNO UNA UNK GBD GBN GBO GBP GBS XOM XPO XES XMP XCC XCE XCO XEC
    XDC XBA XIM RKS ANT NTZ
"""
ICAO_SPECIAL: frozenset[str] = frozenset(_ICAO.split()) - ISO_ALPHA3
"""Codes ICAO Doc 9303 (part 3) adds for travel documents: Germany's one-letter D, the British
nationality classes, stateless persons and refugees (XXA-XXC, XXX), organisations issuing
documents (UNO, UNA, EUE, XOM, XPO...), the specimen state Utopia, Kosovo (UNK, RKS), and the
historical ANT and NTZ."""

COUNTRY_CODES: frozenset[str] = ISO_ALPHA3 | ICAO_SPECIAL


def is_country_code(code: str) -> bool:
    """True for an ISO 3166-1 alpha-3 code or one of ICAO's additions (upper case)."""
    return code in COUNTRY_CODES
