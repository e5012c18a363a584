"""The entry contract's validation, and the pure helpers of the watchlist service."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from failsafe.actor import Actor
from failsafe.watchlist.documents import changed_fields, merge_patch
from failsafe.watchlist.policy import can_see
from failsafe.watchlist.schemas import ENTRY_EXAMPLE, EntryIn
from failsafe.watchlist.search import query_tokens, search_text


def entry(**changes: Any) -> dict[str, Any]:
    return merge_patch(ENTRY_EXAMPLE, changes)  # type: ignore[no-any-return]


def locs(data: dict[str, Any]) -> list[tuple[Any, ...]]:
    with pytest.raises(ValidationError) as info:
        EntryIn.model_validate(data)
    return [e["loc"] for e in info.value.errors()]


def test_the_design_example_is_valid() -> None:
    parsed = EntryIn.model_validate(ENTRY_EXAMPLE)
    assert parsed.subject.aliases[1].full_name == "VANYA PETROV"
    assert (
        parsed.contract_fields()
        == EntryIn.model_validate(parsed.contract_fields()).contract_fields()
    )


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"notice": {"type": "pink"}}, ("notice", "type")),
        ({"notice": {"reference": "has space"}}, ("notice", "reference")),
        ({"notice": {"expires_at": "2020-01-01T00:00:00"}}, ("notice", "expires_at")),  # naive
        ({"notice": {"expires_at": "2026-10-01T00:00:00+00:00"}}, ("notice",)),  # before issue
        ({"case": {"requested_action": "arrest"}}, ("case", "requested_action")),
        ({"case": {"category": "Not Snake"}}, ("case", "category")),
        ({"subject": {"sex": "Q"}}, ("subject", "sex")),
        ({"subject": {"date_of_birth": "1970-02-30"}}, ("subject", "date_of_birth")),
        ({"subject": {"nationalities": ["RUS"] * 11}}, ("subject", "nationalities")),
        (
            {"subject": {"documents": [{"type": "P", "number": "1", "issuing_state": "RUS"}] * 21}},
            ("subject", "documents"),
        ),
        ({"subject": {"given_names": "G" * 201}}, ("subject", "given_names")),
        ({"subject": {"name_original": "N" * 401}}, ("subject", "name_original")),
        ({"subject": {"aliases": [{}]}}, ("subject", "aliases", 0)),
        ({"distribution": {"mode": "secret"}}, ("distribution", "mode")),
        ({"distribution": {"deny": ["FRA"]}}, ()),  # the owner cannot be denied
        ({"id": "has space"}, ("id",)),
        ({"extra": 1}, ("extra",)),
    ],
)
def test_field_level_errors(change: dict[str, Any], loc: tuple[Any, ...]) -> None:
    assert loc in locs(entry(**change))


def test_a_name_is_required() -> None:
    data = entry()
    data["subject"] = {"date_of_birth": "1970"}
    assert ("subject",) in locs(data)
    data["subject"] = {"full_name": "VANYA"}
    assert EntryIn.model_validate(data).subject.full_name == "VANYA"


def test_merge_patch_and_changed_fields() -> None:
    old = {"a": {"x": 1, "y": 2}, "b": [1], "c": 3}
    new = merge_patch(old, {"a": {"y": None, "z": 4}, "b": [2], "d": {"e": 1}})
    assert new == {"a": {"x": 1, "z": 4}, "b": [2], "c": 3, "d": {"e": 1}}
    assert old == {"a": {"x": 1, "y": 2}, "b": [1], "c": 3}  # not mutated
    assert changed_fields(old, new) == ["a.y", "a.z", "b", "d"]


def test_visibility_rule() -> None:
    fra, deu, ita = (Actor("p", "bureau", b) for b in ("FRA", "DEU", "ITA"))
    admin = Actor("a", "admin", None)
    # owner FRA, restricted to ITA
    assert can_see(fra, "FRA", "restricted", " ITA ", "")
    assert can_see(ita, "FRA", "restricted", " ITA ", "")
    assert not can_see(deu, "FRA", "restricted", " ITA ", "")
    assert can_see(admin, "FRA", "restricted", "", "")
    # mode all with a deny list
    assert not can_see(deu, "FRA", "all", "", " DEU ")
    assert can_see(ita, "FRA", "all", "", " DEU ")
    assert not can_see(Actor("x", "bureau", None), "FRA", "all", "", "")


def test_search_text_and_query_tokens() -> None:
    text = search_text(
        {
            "surname": "Müller",
            "given_names": "Hans-Peter",
            "name_original": "Иван",
            "aliases": [{"full_name": "O'Brien"}],
        }
    )
    assert text.startswith(" ") and text.endswith(" ")
    assert set(text.split()) == {"MULLER", "HANS", "PETER", "IVAN", "OBRIEN"}
    assert query_tokens("mueller  MULLER hans") == ["MULLER", "HANS"]
    assert query_tokens("!!!") == []
