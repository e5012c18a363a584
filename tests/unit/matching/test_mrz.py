"""MRZ parsing and validation with the ICAO Doc 9303 specimens."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import BaseModel

from failsafe.kit.codes import CountryCode
from failsafe.matching import MRZError, apply_mrz, check_digit, parse_mrz
from failsafe.matching.countries import is_country_code


class M(BaseModel):
    country: CountryCode

TD3 = ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
       "L898902C36UTO7408122F1204159ZE184226B<<<<<10"]
TD1 = ["I<UTOD231458907<<<<<<<<<<<<<<<",
       "7408122F1204159UTO<<<<<<<<<<<6",
       "ERIKSSON<<ANNA<MARIA<<<<<<<<<<"]
TD2 = ["I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<",
       "D231458907UTO7408122F1204159<<<<<<<6"]
TODAY = date(2026, 11, 27)


def test_check_digit_731() -> None:
    assert check_digit("L898902C3") == 6
    assert check_digit("740812") == 2
    assert check_digit("120415") == 9
    assert check_digit("L898902C?") is None


@pytest.mark.parametrize(("lines", "fmt", "number"),
                         [(TD3, "TD3", "L898902C3"), (TD1, "TD1", "D23145890"),
                          (TD2, "TD2", "D23145890")])
def test_icao_specimens(lines: list[str], fmt: str, number: str) -> None:
    m = parse_mrz(lines, TODAY)
    assert m.format == fmt
    assert m.valid, (m.checks, m.problems)
    assert (m.surname, m.given_names) == ("ERIKSSON", "ANNA MARIA")
    assert m.document_number == number
    assert m.issuing_state == "UTO" and m.nationality == "UTO"
    assert m.date_of_birth == "1974-08-12"
    assert m.expiry_date == "2012-04-15"
    assert m.sex == "F"


def test_bad_check_digits_are_reported_not_raised() -> None:
    bad = [TD3[0], TD3[1][:9] + "7" + TD3[1][10:]]
    m = parse_mrz(bad, TODAY)
    assert m.checks["document_number"] is False
    assert m.checks["composite"] is False
    assert not m.valid


def _td1_line1(number: str) -> str:
    # A 12-character number: 9 in place, '<', the rest and its check digit in the optional field.
    digit = str(check_digit(number))
    line = f"I<UTO{number[:9]}<{number[9:]}{digit}"
    return line + "<" * (30 - len(line))


def _composite(l1: str, l2: str) -> str:
    return str(check_digit(l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29]))


def test_td1_long_document_number_overflows_into_optional_field() -> None:
    l1 = _td1_line1("D23145890734")
    l2 = "7408122F1204159UTO<<<<<<<<<<<"
    l2 = l2[:29] + _composite(l1, l2)
    m = parse_mrz([l1, l2, TD1[2]], TODAY)
    assert m.document_number == "D23145890734"
    assert m.checks["document_number"] and m.checks["composite"]


def test_two_digit_years() -> None:
    l2 = "L898902C36UTO2001012F3001012<<<<<<<<<<<<<<00"
    m = parse_mrz([TD3[0], l2], TODAY)
    assert m.date_of_birth == "2020-01-01"  # not in the future: 2020
    assert m.expiry_date == "2030-01-01"  # expiry looks forward
    l2 = "L898902C36UTO3001012F3001012<<<<<<<<<<<<<<00"
    assert parse_mrz([TD3[0], l2], TODAY).date_of_birth == "1930-01-01"


def test_unknown_country_code_flagged_icao_codes_accepted() -> None:
    assert parse_mrz(["P<D<<MUSTERMANN<<ERIKA" + "<" * 22, TD3[1]], TODAY).problems == []
    m = parse_mrz(["P<QQQERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", TD3[1]], TODAY)
    assert "unknown_country_code:issuing_state" in m.problems


@pytest.mark.parametrize("code", ["XKX", "ANT", "NTZ", "RKS", "UNK", "D", "FRA"])
def test_disputed_country_codes_read_as_the_api_reads_them(code: str) -> None:
    # One table (failsafe.matching.countries): the MRZ reader and the API's CountryCode agree.
    line1 = f"P<{code:<<3}ERIKSSON<<ANNA<MARIA".ljust(44, "<")
    assert parse_mrz([line1, TD3[1]], TODAY).problems == []
    assert is_country_code(code)
    assert M(country=code).country == code


def test_wrong_shape_raises() -> None:
    with pytest.raises(MRZError):
        parse_mrz(["P<UTO", "123"])


def test_apply_mrz_fills_gaps_and_flags_disagreements() -> None:
    event = {"event_id": "e", "traveller": {"surname": "ERIKSON", "date_of_birth": "1974-08-12"},
             "mrz": TD3}
    out, flags = apply_mrz(event, TODAY)
    assert out["traveller"]["given_names"] == "ANNA MARIA"
    assert out["traveller"]["surname"] == "ERIKSON"  # sender's value kept
    assert out["document"]["number"] == "L898902C3"
    assert out["document"]["issuing_state"] == "UTO"
    assert flags == ["mrz_mismatch:surname"]
    assert event["traveller"] == {"surname": "ERIKSON", "date_of_birth": "1974-08-12"}


def test_apply_mrz_never_raises() -> None:
    assert apply_mrz({"event_id": "e", "mrz": ["garbage"]})[1] == ["mrz_unreadable"]
    assert apply_mrz({"event_id": "e", "mrz": [1, 2]})[1] == ["mrz_unreadable"]
    assert apply_mrz({"event_id": "e"}) == ({"event_id": "e"}, [])
