"""The entry adapter's shortcuts give what the general code gives: the name display of a
name mapping (`_display_of`, inlined `display_name`) and the birth dates shared between
entries listing the same text dates, and the nationalities."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from failsafe.matching.dob import birth_dates_from
from failsafe.matching.normalize import display_name, normalize_country
from failsafe.matching.types import _birth_dates, _display_of, _nationalities, _str

_TEXT = st.one_of(
    st.sampled_from(["", " ", "IVAN", " Ivan ", "PETROV SMITH", "\tX", "Мария", 5, None, ["X"]]),
    st.text(max_size=6),
)
_PART = st.fixed_dictionaries(
    {}, optional={"surname": _TEXT, "given_names": _TEXT, "full_name": _TEXT})


@settings(max_examples=400, deadline=None)
@given(_PART)
def test_display_of_a_name_mapping_is_display_name(part: dict[str, Any]) -> None:
    assert _display_of(part) == display_name(
        _str(part.get("surname")) or None,
        _str(part.get("given_names")) or None,
        _str(part.get("full_name")) or None,
    )


def test_a_blank_surname_still_hides_the_full_name() -> None:
    # As display_name: given parts, even blank, win over full_name.
    assert _display_of({"surname": " ", "full_name": "IVAN PETROV"}) == ""
    assert _display_of({"surname": 5, "full_name": " IVAN PETROV "}) == "IVAN PETROV"


_ITEM = st.sampled_from(["1970", "1970-03", "1970-03-14", "1971-01-01", "", "bad", "1970-3",
                         {"circa": 1980}, {"from": 1960, "to": 1963}, 5, None])


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([None, "1970", "1970-03-14", "bad", 1970, {"circa": 1970}]),
       st.none() | st.lists(_ITEM, max_size=4) | st.sampled_from(["1970", 5]))
def test_shared_birth_dates_are_birth_dates_from(single: Any, many: Any) -> None:
    assert _birth_dates(single, many) == birth_dates_from(single, many)
    assert _birth_dates(single, many) == birth_dates_from(single, many)  # and from the cache


@settings(max_examples=200, deadline=None)
@given(st.one_of(
    st.lists(st.sampled_from(["FRA", " kor ", "", "D<<", 5, None, "PRK"]), max_size=4),
    st.sampled_from([None, "FRA", "", 5, {"FRA": 1}]),
))
def test_shared_nationalities_are_the_normalised_codes(nats: Any) -> None:
    listed = [nats] if isinstance(nats, str) else nats if isinstance(nats, list) else []
    assert _nationalities(nats) == frozenset(normalize_country(n) for n in listed if n)
