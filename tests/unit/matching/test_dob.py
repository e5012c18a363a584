"""Dates of birth as graded evidence (issue 10): listed dates (several, partial, approximate)
against the traveller's one date, with an agreement and a detail for the explanation."""

from __future__ import annotations

import pytest

from failsafe.matching.dob import (
    CLOSE,
    EXACT,
    FAR,
    UNKNOWN,
    BirthDate,
    best_birth_date,
    birth_date,
    birth_date_from,
    birth_dates_from,
    compare_birth_date,
)
from failsafe.matching.normalize import parse_partial_date


def cmp(q: str, c: object) -> tuple[str, str]:
    listed = birth_date_from(c)
    got = compare_birth_date(parse_partial_date(q), listed)
    return got.agreement, got.detail


def test_unpadded_and_placeholder_dates() -> None:
    assert parse_partial_date("1969-7-16") == (1969, 7, 16)
    assert cmp("1969-6-16", "1969-06-16") == (EXACT, "same date")
    # YYYY-01-01 and YYYY-00-00 are year precision on both sides.
    assert cmp("1966-08-28", "1966-01-01")[0] == EXACT
    assert cmp("1966-01-01", "1966-08-28")[0] == EXACT
    assert cmp("1966-08-28", "1966-00-00")[0] == EXACT
    assert cmp("1967-08-28", "1966-01-01") == (CLOSE, "year differs by 1")


@pytest.mark.parametrize(("q", "c", "detail"), [
    ("1986", "1985", "year differs by 1"),
    ("1969-07-16", "1969-06-16", "month differs by 1"),
    ("1969-06-17", "1969-06-16", "day differs by 1"),
    ("1969-06-26", "1969-06-16", "one digit of the day differs"),
    ("1969-04-03", "1969-03-04", "day and month swapped"),
    ("1966-03-06", "1966-06", "day and month swapped"),  # against a listed month
    ("1996-03-04", "1969-03-04", "year digits transposed"),
    ("1968-03-04", "1969-03-04", "year differs by 1"),
    ("1964-03-04", "1969-03-04", "one digit of the year differs"),
])
def test_small_disagreements_are_close(q: str, c: str, detail: str) -> None:
    assert cmp(q, c) == (CLOSE, detail)


def test_precision_differences_agree_at_the_shared_precision() -> None:
    agreement, detail = cmp("1977-01-24", "1977")
    assert agreement == EXACT
    assert "listed 1977, traveller 1977-01-24" in detail
    assert cmp("1977-03-24", "1977-03")[0] == EXACT


def test_large_disagreements_are_far_with_how_far() -> None:
    agreement, detail = cmp("1973-01-24", "1977")
    assert agreement == FAR
    assert detail == "year differs by 4 (listed 1977, traveller 1973-01-24)"
    got = compare_birth_date((1981, 3, 2), birth_date((1974, 8, 12)))
    assert (got.agreement, got.years, got.precise) == (FAR, 7, True)
    # A typed digit needs the month to go on: against a year-only date it is just far.
    assert cmp("1964-03-04", "1969")[0] == FAR


def test_unknown_when_a_side_is_missing() -> None:
    assert compare_birth_date(None, birth_date((1970, 1, 2))).agreement == UNKNOWN
    assert best_birth_date((1970, 1, 2), ()).agreement == UNKNOWN
    # The explanation says which side has none.
    assert best_birth_date((1970, 1, 2), ()).detail == "no date of birth listed"
    listed = (BirthDate(1970, 1970),)
    assert best_birth_date(None, listed).agreement == UNKNOWN
    assert best_birth_date(None, listed).detail == "the traveller gave no date of birth"


def test_same_day_and_month_with_another_year_is_close() -> None:
    # A wrong or estimated year: a stranger shares the day and month one time in 365.
    assert cmp("1978-11-25", "1984-11-25") == (
        CLOSE, "same day and month, year differs by 6 (listed 1984-11-25, traveller 1978-11-25)")
    got = compare_birth_date((1974, 11, 25), birth_date((1984, 11, 25)))
    assert (got.agreement, got.years, got.precise) == (CLOSE, 10, True)
    # More than ten years apart, only the month known, or a year placeholder: far.
    assert cmp("1973-11-25", "1984-11-25")[0] == FAR
    assert cmp("1978-11-25", "1984-11")[0] == FAR
    assert cmp("1978-01-01", "1984-01-01")[0] == FAR
    assert cmp("1978-11-24", "1984-11-25")[0] == FAR


def test_circa_and_year_ranges() -> None:
    assert birth_date_from({"circa": 1970}) == BirthDate(1968, 1972, text="circa 1970")
    assert birth_date_from({"from": 1968, "to": 1972}) == BirthDate(1968, 1972, text="1968-1972")
    assert cmp("1971-05-05", {"circa": 1970}) == (EXACT, "within circa 1970")
    assert cmp("1973-05-05", {"from": 1968, "to": 1972})[0] == CLOSE
    assert cmp("1976-05-05", {"circa": 1970})[0] == FAR


def test_unusable_items_are_ignored_and_the_union_kept() -> None:
    got = birth_dates_from("1970-03-14", ["1971", {"circa": "x"}, {"from": 1968, "to": 1969},
                                          42, None, "garbage", {"circa": 1970}, "1970-03-14"])
    assert [bd.text for bd in got] == ["1970-03-14", "1971", "1968-1969", "circa 1970"]
    assert birth_dates_from(None, None) == ()
    assert len(birth_dates_from(None, [str(1900 + i) for i in range(30)])) == 10


def test_the_best_agreeing_date_counts() -> None:
    listed = birth_dates_from("1960-01-02", ["1975-05-06", {"circa": 1990}])
    got = best_birth_date((1975, 5, 6), listed)
    assert (got.agreement, got.candidate and got.candidate.text) == (EXACT, "1975-05-06")
    got = best_birth_date((1989, 7, 7), listed)
    assert (got.agreement, got.candidate and got.candidate.text) == (EXACT, "circa 1990")
    got = best_birth_date((1976, 5, 6), listed)
    assert (got.agreement, got.detail) == (CLOSE, "year differs by 1")
