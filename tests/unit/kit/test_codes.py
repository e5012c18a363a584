"""Country codes and partial dates as pydantic types."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from failsafe.kit.codes import (
    COUNTRY_CODES,
    ICAO_SPECIAL,
    ISO_ALPHA3,
    CountryCode,
    PartialDate,
    is_country_code,
    parse_partial_date,
)


class M(BaseModel):
    country: CountryCode | None = None
    born: PartialDate | None = None


def test_iso_list_is_complete_and_icao_adds_its_specials() -> None:
    assert len(ISO_ALPHA3) == 249
    assert {"FRA", "DEU", "RUS", "PSE", "SSD", "XKX"} & ISO_ALPHA3 == {
        "FRA",
        "DEU",
        "RUS",
        "PSE",
        "SSD",
    }
    assert {
        "D",
        "XXA",
        "XXB",
        "XXC",
        "XXX",
        "UTO",
        "EUE",
        "UNO",
        "UNA",
        "UNK",
        "GBD",
        "GBN",
        "GBO",
        "GBP",
        "GBS",
        "XOM",
        "XPO",
        "XES",
        "XMP",
        "XCC",
        "RKS",
    } <= ICAO_SPECIAL
    assert not ISO_ALPHA3 & ICAO_SPECIAL


@pytest.mark.parametrize("code", ["FRA", "D", "UTO", "XXA", "RKS"])
def test_valid_codes(code: str) -> None:
    assert is_country_code(code)
    assert M(country=code.lower() + " ").country == code  # normalised on input


@pytest.mark.parametrize("code", ["ZZZ", "FR", "fra1", "", "GERMANY", "XKX"])
def test_invalid_codes(code: str) -> None:
    assert not is_country_code(code.upper())
    with pytest.raises(ValidationError) as info:
        M(country=code)
    assert info.value.errors()[0]["loc"] == ("country",)


@pytest.mark.parametrize(
    ("value", "parts"),
    [
        ("1974", (1974, None, None)),
        ("1974-08", (1974, 8, None)),
        ("1974-08-12", (1974, 8, 12)),
        ("2000-02-29", (2000, 2, 29)),
    ],
)
def test_partial_dates(value: str, parts: tuple[int, int | None, int | None]) -> None:
    assert parse_partial_date(value) == parts
    assert M(born=value).born == value


@pytest.mark.parametrize(
    "value",
    [
        "74",
        "1974-8",
        "1974-13",
        "1974-00",
        "2001-02-29",
        "1974-04-31",
        "0000",
        "1974/08",
        "1974-08-12T00:00",
        "12.08.1974",
    ],
)
def test_invalid_partial_dates(value: str) -> None:
    with pytest.raises(ValueError):
        parse_partial_date(value)
    with pytest.raises(ValidationError):
        M(born=value)


def test_json_schema_documents_the_formats() -> None:
    props = M.model_json_schema()["properties"]
    assert "1974-08" in str(props["born"])
    # The schema lists exactly the codes the server accepts (a pattern was looser than the check).
    country = props["country"]
    country = country.get("anyOf", [country])[0]
    assert set(country["enum"]) == COUNTRY_CODES
