"""Country codes, partial dates (the one date grammar) and dates of birth as pydantic types."""

from __future__ import annotations

import re

import iso3166
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter, ValidationError

from failsafe.kit.codes import (
    COUNTRY_CODES,
    ICAO_SPECIAL,
    ISO_ALPHA3,
    PARTIAL_DATE_PATTERN,
    BirthDate,
    CircaYear,
    CountryCode,
    OptionalPartialDate,
    PartialDate,
    birth_date_json,
    is_country_code,
    normalize_partial_date,
    parse_partial_date,
    settle_dates_of_birth,
    subject_dates,
)


class M(BaseModel):
    country: CountryCode | None = None
    born: PartialDate | None = None


def test_iso_list_is_complete_and_icao_adds_its_specials() -> None:
    # iso3166's table: the 249 assigned codes and XKX (Kosovo, user-assigned, widely used).
    assert frozenset(iso3166.countries_by_alpha3) == ISO_ALPHA3
    assert len(ISO_ALPHA3) == 250
    assert {"FRA", "DEU", "RUS", "PSE", "SSD", "XKX"} <= ISO_ALPHA3
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
        "ANT",  # historical, still on old records: accepted
        "NTZ",
    } <= ICAO_SPECIAL
    assert not ISO_ALPHA3 & ICAO_SPECIAL


@pytest.mark.parametrize("code", ["FRA", "D", "UTO", "XXA", "RKS", "XKX", "ANT", "NTZ"])
def test_valid_codes(code: str) -> None:
    assert is_country_code(code)
    assert M(country=code.lower() + " ").country == code  # normalised on input


@pytest.mark.parametrize("code", ["ZZZ", "FR", "fra1", "", "GERMANY", "QQQ"])
def test_invalid_codes(code: str) -> None:
    assert not is_country_code(code.upper())
    with pytest.raises(ValidationError) as info:
        M(country=code)
    assert info.value.errors()[0]["loc"] == ("country",)


@pytest.mark.parametrize(
    ("value", "parts", "written"),
    [
        ("1974", (1974, None, None), "1974"),
        ("1974-08", (1974, 8, None), "1974-08"),
        ("1974-08-12", (1974, 8, 12), "1974-08-12"),
        ("2000-02-29", (2000, 2, 29), "2000-02-29"),
        # Unpadded parts, as some senders write them, read and are written padded.
        ("1974-8", (1974, 8, None), "1974-08"),
        ("1969-7-16", (1969, 7, 16), "1969-07-16"),
        ("1969-07-6", (1969, 7, 6), "1969-07-06"),
        ("1969-7-06", (1969, 7, 6), "1969-07-06"),
        # A 00 part is "unknown": it and what follows it are dropped.
        ("1966-00-00", (1966, None, None), "1966"),
        ("1966-00", (1966, None, None), "1966"),
        ("1966-08-00", (1966, 8, None), "1966-08"),
        ("1966-00-15", (1966, None, None), "1966"),
        (" 1974-08-12 ", (1974, 8, 12), "1974-08-12"),
    ],
)
def test_partial_dates(
    value: str, parts: tuple[int, int | None, int | None], written: str
) -> None:
    assert parse_partial_date(value.strip()) == parts
    assert normalize_partial_date(value) == written
    assert M(born=value).born == written


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("74", "date_format"),
        ("1974-13", "date_value"),
        ("1974-8-32", "date_value"),
        ("2001-02-29", "date_value"),
        ("1974-04-31", "date_value"),
        ("0000", "date_value"),
        ("1974/08", "date_format"),
        ("1974-08-12T00:00", "date_format"),
        ("12.08.1974", "date_format"),
        ("1974-008", "date_format"),
        ("1974-08-012", "date_format"),
        ("1974-", "date_format"),
        ("19740812", "date_format"),
        ("", "date_format"),
        ("١٩٧٤", "date_format"),  # Arabic-Indic digits: \d would take them, the grammar must not
        ("1974-08-12\n1", "date_format"),
    ],
)
def test_invalid_partial_dates(value: str, kind: str) -> None:
    with pytest.raises(ValueError):
        parse_partial_date(value)
    with pytest.raises(ValueError):
        parse_partial_date(value + "\n")  # a trailing newline is not part of the grammar
    with pytest.raises(ValidationError) as info:
        M(born=value)
    assert info.value.errors()[0]["type"] == kind  # what an event's rejection reason names


def test_a_partial_date_must_be_text() -> None:
    with pytest.raises(ValidationError) as info:
        M(born=19740812)  # type: ignore[arg-type]
    assert info.value.errors()[0]["type"] == "string_type"


def test_json_schema_documents_the_formats() -> None:
    props = M.model_json_schema()["properties"]
    assert "1974-08" in str(props["born"])
    # The schema lists exactly the codes the server accepts (a pattern was looser than the check).
    country = props["country"]
    country = country.get("anyOf", [country])[0]
    assert set(country["enum"]) == COUNTRY_CODES
    pattern = re.compile(PARTIAL_DATE_PATTERN)
    # The pattern OpenAPI shows accepts what the validator accepts.
    for text in ("1974", "1974-8", "1969-7-16", "1966-00-00", "1974-08-12"):
        assert pattern.match(text)
    for text in ("74", "1974/08", "1974-008"):
        assert not pattern.match(text)


class Subject(BaseModel):
    dates_of_birth: list[BirthDate] = []


@pytest.mark.parametrize(
    ("item", "stored"),
    [
        ("1970-3-1", "1970-03-01"),
        ({"circa": 1970}, {"circa": 1970}),
        ({"circa": "1970"}, {"circa": 1970}),  # a year written as text (CSV) is a year
        ({"from": 1968, "to": 1972}, {"from": 1968, "to": 1972}),
        ({"from": 1970, "to": 1970}, {"from": 1970, "to": 1970}),
        ({"from": 1940, "to": 1970}, {"from": 1940, "to": 1970}),  # 30 years: the widest
    ],
)
def test_birth_dates(item: object, stored: object) -> None:
    parsed = Subject.model_validate({"dates_of_birth": [item]})
    assert [birth_date_json(d) for d in parsed.dates_of_birth] == [stored]
    assert parsed.model_dump(mode="json")["dates_of_birth"] == [stored]


@pytest.mark.parametrize(
    ("item", "loc", "kind"),
    [
        ("1970-13", (0, "date"), "date_value"),
        ("about 1970", (0, "date"), "date_format"),
        ({"circa": 1700}, (0, "circa", "circa"), "greater_than_equal"),
        ({"circa": 2200}, (0, "circa", "circa"), "less_than_equal"),
        ({"circa": 1970.5}, (0, "circa", "circa"), "int_from_float"),
        ({"circa": 1970, "to": 1972}, (0, "circa", "to"), "extra_forbidden"),
        ({"from": 1972, "to": 1968}, (0, "range"), "value_error"),
        ({"from": 1930, "to": 1970}, (0, "range"), "value_error"),  # 40 years
        ({"from": 1968}, (0, "range", "to"), "missing"),
        ({"when": 1970}, (0,), "birth_date"),
        (1970, (0,), "birth_date"),
        (None, (0,), "birth_date"),
    ],
)
def test_bad_birth_dates(item: object, loc: tuple[object, ...], kind: str) -> None:
    with pytest.raises(ValidationError) as info:
        Subject.model_validate({"dates_of_birth": [item]})
    error = info.value.errors()[0]
    assert (error["loc"][1:], error["type"]) == (loc, kind)
    if kind == "birth_date":  # the message says which forms are accepted
        assert '"circa"' in error["msg"] and "YYYY-MM-DD" in error["msg"]


def test_settle_puts_the_shorthand_first_without_repeats() -> None:
    circa = CircaYear(circa=1970)
    assert settle_dates_of_birth("1969", ["1968", circa, "1969", circa]) == (
        "1969",
        ["1969", "1968", circa],
    )
    # Without a shorthand, it is the first item written as a date; or None.
    assert settle_dates_of_birth(None, [circa, "1971"]) == ("1971", [circa, "1971"])
    assert settle_dates_of_birth(None, [circa]) == (None, [circa])
    assert settle_dates_of_birth(None, []) == (None, [])
    with pytest.raises(ValueError, match="at most 10"):
        settle_dates_of_birth("1960", [str(1970 + i) for i in range(10)])


def test_subject_dates_validates_raw_json() -> None:
    assert subject_dates(
        {"surname": "X", "date_of_birth": "1969-7-6", "dates_of_birth": [{"circa": 1970}]}
    ) == {"date_of_birth": "1969-07-06", "dates_of_birth": ["1969-07-06", {"circa": 1970}]}
    assert subject_dates({"surname": "X"}) == {"date_of_birth": None, "dates_of_birth": []}
    for bad in ({"date_of_birth": "1969-13"}, {"dates_of_birth": ["1969", {"circa": 1}]},
                {"dates_of_birth": "1969"}, {"dates_of_birth": ["1969"] * 11}):
        with pytest.raises(ValueError):
            subject_dates(bad)


@settings(max_examples=2000, derandomize=True, database=None)
@given(
    st.one_of(
        st.text(max_size=14),
        st.from_regex(r"[\s\x1c-\x1f\u00a0\u2028]{0,2}[0-9]{4}(-[0-9]{1,2}){0,2}\s{0,2}"),
    )
)
def test_a_value_outside_the_documented_pattern_is_refused(text: str) -> None:
    """OpenAPI clients (and schemathesis) rely on it: what the pattern refuses, the server does."""
    adapter = TypeAdapter(OptionalPartialDate)
    pattern = adapter.json_schema()["anyOf"][0]["pattern"]
    if re.fullmatch(pattern.removeprefix("^").removesuffix("$"), text) is None:
        with pytest.raises(ValidationError):
            adapter.validate_python(text)
