"""Country codes (ISO 3166-1 alpha-3 plus ICAO Doc 9303's specials) and partial dates, as reusable
pydantic annotated types: `CountryCode`, `PartialDate`."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, WithJsonSchema


def _codes(text: str) -> frozenset[str]:
    return frozenset(text.split())


# ISO 3166-1 alpha-3, every officially assigned code (249).
ISO_ALPHA3: frozenset[str] = _codes(
    """
    ABW AFG AGO AIA ALA ALB AND ARE ARG ARM ASM ATA ATF ATG AUS AUT AZE BDI BEL BEN BES BFA BGD
    BGR BHR BHS BIH BLM BLR BLZ BMU BOL BRA BRB BRN BTN BVT BWA CAF CAN CCK CHE CHL CHN CIV CMR
    COD COG COK COL COM CPV CRI CUB CUW CXR CYM CYP CZE DEU DJI DMA DNK DOM DZA ECU EGY ERI ESH
    ESP EST ETH FIN FJI FLK FRA FRO FSM GAB GBR GEO GGY GHA GIB GIN GLP GMB GNB GNQ GRC GRD GRL
    GTM GUF GUM GUY HKG HMD HND HRV HTI HUN IDN IMN IND IOT IRL IRN IRQ ISL ISR ITA JAM JEY JOR
    JPN KAZ KEN KGZ KHM KIR KNA KOR KWT LAO LBN LBR LBY LCA LIE LKA LSO LTU LUX LVA MAC MAF MAR
    MCO MDA MDG MDV MEX MHL MKD MLI MLT MMR MNE MNG MNP MOZ MRT MSR MTQ MUS MWI MYS MYT NAM NCL
    NER NFK NGA NIC NIU NLD NOR NPL NRU NZL OMN PAK PAN PCN PER PHL PLW PNG POL PRI PRK PRT PRY
    PSE PYF QAT REU ROU RUS RWA SAU SDN SEN SGP SGS SHN SJM SLB SLE SLV SMR SOM SPM SRB SSD STP
    SUR SVK SVN SWE SWZ SXM SYC SYR TCA TCD TGO THA TJK TKL TKM TLS TON TTO TUN TUR TUV TWN TZA
    UGA UKR UMI URY USA UZB VAT VCT VEN VGB VIR VNM VUT WLF WSM YEM ZAF ZMB ZWE
    """
)

# Codes ICAO Doc 9303 (part 3) adds for travel documents: Germany's one-letter D, the British
# nationality classes, stateless persons and refugees, organisations issuing documents, the
# specimen state Utopia, Kosovo (UNMIK's UNK and its own RKS), and historical codes still found
# on older documents (ANT Netherlands Antilles, NTZ Neutral Zone).
ICAO_SPECIAL: frozenset[str] = _codes(
    """
    D XXA XXB XXC XXX UTO EUE UNO UNA UNK GBD GBN GBO GBP GBS XOM XPO XES XMP XCC XCE XCO XEC
    XDC XBA XIM RKS ANT NTZ
    """
)

COUNTRY_CODES: frozenset[str] = ISO_ALPHA3 | ICAO_SPECIAL


def is_country_code(value: str) -> bool:
    """True for an ISO 3166-1 alpha-3 code or one of ICAO's special codes (upper case)."""
    return value in COUNTRY_CODES


def _normalize_code(value: Any) -> Any:
    # Senders disagree on case and surrounding blanks; the code itself is what counts.
    return value.strip().upper() if isinstance(value, str) else value


def _check_country(value: str) -> str:
    if not is_country_code(value):
        raise ValueError("not an ISO 3166-1 alpha-3 or ICAO country code")
    return value


CountryCode = Annotated[
    str,
    BeforeValidator(_normalize_code),
    AfterValidator(_check_country),
    WithJsonSchema(
        {
            "type": "string",
            # The exact list the server accepts: a pattern would be looser than the check.
            "enum": sorted(COUNTRY_CODES),
            "description": "ISO 3166-1 alpha-3 or an ICAO Doc 9303 special code (D, XXA, UTO...)",
            "examples": ["FRA", "D", "XXA"],
        }
    ),
]
"""An ISO/ICAO alpha-3 country code, upper-cased on input."""


_PARTIAL_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def parse_partial_date(value: str) -> tuple[int, int | None, int | None]:
    """`1974` → (1974, None, None), `1974-08` → (1974, 8, None), `1974-08-12` → (1974, 8, 12).

    Raises ValueError unless the value is a real calendar year, month or day."""
    m = _PARTIAL_DATE.match(value)
    if m is None:
        raise ValueError("expected YYYY, YYYY-MM or YYYY-MM-DD")
    year = int(m.group(1))
    month = int(m.group(2)) if m.group(2) else None
    day = int(m.group(3)) if m.group(3) else None
    if year < 1:
        raise ValueError("year out of range")
    if month is not None and not 1 <= month <= 12:
        raise ValueError("month out of range")
    if day is not None:
        assert month is not None
        try:
            date(year, month, day)
        except ValueError:
            raise ValueError("not a calendar date") from None
    return year, month, day


def _check_partial_date(value: str) -> str:
    parse_partial_date(value)
    return value


PartialDate = Annotated[
    str,
    BeforeValidator(lambda v: v.strip() if isinstance(v, str) else v),
    AfterValidator(_check_partial_date),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^\d{4}(-\d{2}(-\d{2})?)?$",
            "description": "a date that may be partial: year, year-month or a full date",
            "examples": ["1974", "1974-08", "1974-08-12"],
        }
    ),
]
"""A possibly partial calendar date: `1974`, `1974-08` or `1974-08-12` (validated, kept as text)."""
