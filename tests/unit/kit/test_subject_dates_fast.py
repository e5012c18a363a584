"""`subject_dates`' hand-written path for the common shapes gives exactly the watchlist schema's
verdict: the same normalised fields for what the schema accepts, and for what it rejects the
hand path steps aside so that the schema raises its own error."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from failsafe.kit.codes import (
    _SUBJECT_DATES,
    MAX_DATES_OF_BIRTH,
    _plain_subject_dates,
    birth_date_json,
    subject_dates,
)


def _schema(subject: dict[str, Any]) -> dict[str, Any] | None:
    """The schema's answer (None: rejected), as `subject_dates` gave it before the hand path."""
    try:
        parsed = _SUBJECT_DATES.validate_python(
            {k: subject[k] for k in ("date_of_birth", "dates_of_birth")
             if subject.get(k) is not None}
        )
    except ValidationError:
        return None
    return {
        "date_of_birth": parsed.date_of_birth,
        "dates_of_birth": [birth_date_json(item) for item in parsed.dates_of_birth],
    }


_DIGITS = st.text("0123456789", min_size=1, max_size=5)
# Date-like text: the grammar's own shapes with out-of-range, zero, unpadded and over-long
# parts, surrounding blanks (allowed ones and others), other separators and digit scripts.
_DATE_TEXT = st.one_of(
    st.builds(lambda y, m, d, sep, pre, post: pre + y + sep + m + sep + d + post,
              _DIGITS, _DIGITS, _DIGITS, st.sampled_from(["-", "/", ""]),
              st.sampled_from(["", " ", "\t", "\n", "\u00a0"]),
              st.sampled_from(["", " ", "\r\n", "T00:00", "\n\n"])),
    st.builds(lambda y, m: y + "-" + m, _DIGITS, _DIGITS),
    st.sampled_from(["", " ", "0000", "0000-00", "0000-00-00", " 0000-00-00 ", "1969",
                     "1969-7-16", "1969-07-16", "1969-00-00", "1969-07-00", "1969-02-30",
                     "2000-02-29", "1900-02-29", "0000-01-01", "1969-13", "١٩٦٩", "1969-07-16\n",
                     "1969-7", "1970-01-01", "9999-12-31"]),
    st.text(max_size=12),
)
_ITEM = st.one_of(
    _DATE_TEXT,
    st.builds(lambda y: {"circa": y}, st.integers(1800, 2150)),
    st.builds(lambda a, b: {"from": a, "to": b}, st.integers(1840, 2110), st.integers(1840, 2110)),
    st.sampled_from([None, 1969, 1969.0, True, b"1969", ["1969"], {}]),
)
_MANY = st.one_of(
    st.none(),
    st.lists(_DATE_TEXT, max_size=MAX_DATES_OF_BIRTH + 2),
    # Few distinct valid dates, some written two ways: repeats and the length limit.
    st.lists(st.sampled_from(["1969", "1969-07", "1969-7", "1970", "1969-07-16", "1969-7-16",
                              "1971", "1972", "1973", "1974", "1975", "1976", "1977", "1978"]),
             max_size=MAX_DATES_OF_BIRTH + 2),
    st.lists(_ITEM, max_size=4),
    st.lists(_DATE_TEXT, max_size=3).map(tuple),
    st.sampled_from(["1969", 1969, {"circa": 1970}]),
)
_FIRST = st.one_of(_DATE_TEXT, st.sampled_from(
    [None, "1969", "1969-7", 1969, b"1969", ["1969"], {"circa": 1970}]))


@settings(max_examples=600, deadline=None)
@given(_FIRST, _MANY, st.booleans(), st.booleans())
def test_hand_path_gives_the_schemas_verdict(
    first: Any, many: Any, has_first: bool, has_many: bool
) -> None:
    subject: dict[str, Any] = {"surname": "PETROV"}
    if has_first:
        subject["date_of_birth"] = first
    if has_many:
        subject["dates_of_birth"] = many
    expected = _schema(subject)
    fast = _plain_subject_dates(subject)
    if fast is not None:
        assert fast == expected
    if expected is None:
        with pytest.raises(ValueError):
            subject_dates(subject)
    else:
        assert subject_dates(subject) == expected


@pytest.mark.parametrize(("subject", "expected"), [
    ({}, {"date_of_birth": None, "dates_of_birth": []}),
    ({"date_of_birth": None}, {"date_of_birth": None, "dates_of_birth": []}),
    ({"date_of_birth": " 0000-00-00 "}, {"date_of_birth": None, "dates_of_birth": []}),
    ({"date_of_birth": "1969-7-6"},
     {"date_of_birth": "1969-07-06", "dates_of_birth": ["1969-07-06"]}),
    ({"date_of_birth": "1969-00-00", "dates_of_birth": ["1969", "1970-2"]},
     {"date_of_birth": "1969", "dates_of_birth": ["1969", "1970-02"]}),
    ({"date_of_birth": "", "dates_of_birth": ["1971"]},
     {"date_of_birth": "1971", "dates_of_birth": ["1971"]}),
])
def test_the_common_shapes_take_the_hand_path(
    subject: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert _plain_subject_dates(subject) == expected == _schema(subject)


@pytest.mark.parametrize("subject", [
    {"date_of_birth": "1969-02-30"},
    {"date_of_birth": "1969/07/16"},
    {"dates_of_birth": [""]},
    {"dates_of_birth": ["0000"]},
    {"dates_of_birth": [str(1950 + i) for i in range(MAX_DATES_OF_BIRTH + 1)]},
    {"date_of_birth": "1940", "dates_of_birth": [str(1950 + i) for i in range(MAX_DATES_OF_BIRTH)]},
])
def test_what_the_schema_rejects_is_left_to_the_schema(subject: dict[str, Any]) -> None:
    assert _plain_subject_dates(subject) is None
    with pytest.raises(ValidationError):
        subject_dates(subject)
