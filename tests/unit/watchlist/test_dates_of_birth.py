"""Several and approximate dates of birth on a watchlist subject: the schema (the shorthand and
the list kept consistent), the CSV cell syntax, and what a merge patch of either field means."""

from __future__ import annotations

import io
from typing import Any

import pytest
from pydantic import ValidationError

from failsafe.kit.codes import PARTIAL_DATE_PATTERN
from failsafe.watchlist.documents import merge_patch, patch_dates_of_birth
from failsafe.watchlist.importer import iter_csv, to_item
from failsafe.watchlist.schemas import ENTRY_EXAMPLE, Entry, EntryIn, RejectedLine


def entry(**subject: Any) -> dict[str, Any]:
    base = {
        k: v
        for k, v in ENTRY_EXAMPLE["subject"].items()
        if k not in ("date_of_birth", "dates_of_birth")
    }
    return {**ENTRY_EXAMPLE, "subject": {**base, **subject}}


def stored_subject(**subject: Any) -> dict[str, Any]:
    out: dict[str, Any] = EntryIn.model_validate(entry(**subject)).contract_fields()["subject"]
    return out


def dates(subject: dict[str, Any]) -> tuple[Any, Any]:
    return subject["date_of_birth"], subject["dates_of_birth"]


def test_the_shorthand_alone_is_a_list_of_one() -> None:
    assert dates(stored_subject(date_of_birth="1970-3")) == ("1970-03", ["1970-03"])


def test_no_date_is_stored_as_null_and_an_empty_list() -> None:
    assert dates(stored_subject()) == (None, [])
    assert dates(stored_subject(date_of_birth="")) == (None, [])  # blank: not known
    assert dates(stored_subject(date_of_birth=" ", dates_of_birth=["1970"])) == ("1970", ["1970"])


def test_several_and_approximate_dates_with_the_shorthand_first_and_no_repeats() -> None:
    subject = stored_subject(
        date_of_birth="1970-03-14",
        dates_of_birth=[
            {"circa": 1971},
            "1970-3-14",
            {"from": 1968, "to": 1972},
            "1969-00-00",
            {"circa": 1971},
        ],
    )
    assert dates(subject) == (
        "1970-03-14",
        ["1970-03-14", {"circa": 1971}, {"from": 1968, "to": 1972}, "1969"],
    )


def test_without_the_shorthand_it_is_the_first_date_written_as_a_date() -> None:
    assert dates(stored_subject(dates_of_birth=[{"circa": 1971}, "1972", "1973"])) == (
        "1972",
        [{"circa": 1971}, "1972", "1973"],
    )
    assert dates(stored_subject(dates_of_birth=[{"from": 1968, "to": 1972}])) == (
        None,
        [{"from": 1968, "to": 1972}],
    )


def test_what_is_stored_reads_back_the_same() -> None:
    # Idempotent: the stored document validates to itself (re-imports are `unchanged`).
    parsed = EntryIn.model_validate(entry(date_of_birth="1970", dates_of_birth=[{"circa": 1980}]))
    again = EntryIn.model_validate(parsed.contract_fields())
    assert again.contract_fields() == parsed.contract_fields()
    served = Entry.model_validate(
        {
            **parsed.contract_fields(),
            "id": "e1",
            "status": "active",
            "version": 1,
            "revision": 1,
            "created_at": "2026-11-30T00:00:00Z",
            "updated_at": "2026-11-30T00:00:00Z",
        }
    )
    assert served.model_dump(mode="json")["subject"]["dates_of_birth"] == ["1970", {"circa": 1980}]


@pytest.mark.parametrize(
    ("subject", "loc"),
    [
        ({"dates_of_birth": ["1970-02-30"]}, ("subject", "dates_of_birth", 0, "date")),
        (
            {"dates_of_birth": ["1970", {"circa": 1492}]},
            ("subject", "dates_of_birth", 1, "circa", "circa"),
        ),
        (
            {"dates_of_birth": [{"from": 1990, "to": 1950}]},
            ("subject", "dates_of_birth", 0, "range"),
        ),
        ({"dates_of_birth": [{"around": 1970}]}, ("subject", "dates_of_birth", 0)),
        ({"dates_of_birth": "1970"}, ("subject", "dates_of_birth")),
        ({"dates_of_birth": [str(1950 + i) for i in range(11)]}, ("subject", "dates_of_birth")),
        # Ten in the list plus a different shorthand is eleven.
        (
            {"date_of_birth": "1949", "dates_of_birth": [str(1950 + i) for i in range(10)]},
            ("subject",),
        ),
        ({"date_of_birth": "14/03/1970"}, ("subject", "date_of_birth")),
    ],
)
def test_bad_dates_are_field_level_errors(subject: dict[str, Any], loc: tuple[Any, ...]) -> None:
    with pytest.raises(ValidationError) as info:
        EntryIn.model_validate(entry(**subject))
    assert loc in [e["loc"] for e in info.value.errors()]


def test_openapi_documents_the_list_and_its_forms() -> None:
    schema = EntryIn.model_json_schema()
    prop = schema["$defs"]["Subject"]["properties"]["dates_of_birth"]
    assert prop["maxItems"] == 10
    forms = prop["items"]["oneOf"]
    assert forms[0]["pattern"] == PARTIAL_DATE_PATTERN
    assert {f.get("$ref") for f in forms[1:]} == {"#/$defs/CircaYear", "#/$defs/YearRange"}
    assert set(schema["$defs"]["YearRange"]["properties"]) == {"from", "to"}
    example = schema["examples"][0]["subject"]
    assert {"circa": 1971} in example["dates_of_birth"]


CSV_HEADER = (
    "id,notice_type,notice_reference,surname,requested_action,date_of_birth,dates_of_birth\n"
)


def test_csv_dates_of_birth_cell() -> None:
    text = CSV_HEADER + (
        "e1,red,R/1,DOE,inform_only,1970-3-14, ~1971 ; 1968..1972;1969-00-00\n"
        "e2,red,R/2,DOE,inform_only,,~19x1\n"
        "e3,red,R/3,DOE,inform_only,,1972..1968\n"
        "e4,red,R/4,DOE,inform_only,,1970;1970-13\n"
    )
    records = list(iter_csv(io.StringIO(text)))
    items = [to_item(line, rec) for line, rec in records if isinstance(rec, dict)]
    first = items[0]
    assert not isinstance(first, RejectedLine)
    assert dates(first.data.contract_fields()["subject"]) == (
        "1970-03-14",
        ["1970-03-14", {"circa": 1971}, {"from": 1968, "to": 1972}, "1969"],
    )
    rejected = [(i.line, i.reason.split(":")[0]) for i in items if isinstance(i, RejectedLine)]
    assert rejected == [
        (3, "subject.dates_of_birth.0.circa.circa"),
        (4, "subject.dates_of_birth.0.range"),
        (5, "subject.dates_of_birth.1.date"),
    ]


def patched(current: dict[str, Any], patch: dict[str, Any]) -> tuple[Any, Any]:
    """The dates a PATCH leaves, as the service computes them (merge, then validate)."""
    stored = EntryIn.model_validate(entry(**current)).contract_fields()
    merged = merge_patch(stored, {"subject": patch})
    patch_dates_of_birth(stored, {"subject": patch}, merged)
    return dates(EntryIn.model_validate(merged).contract_fields()["subject"])


TWO = {"date_of_birth": "1970", "dates_of_birth": ["1970", {"circa": 1975}]}


@pytest.mark.parametrize(
    ("patch", "result"),
    [
        # A new shorthand replaces the old one's item, the others stay.
        ({"date_of_birth": "1971-5-2"}, ("1971-05-02", ["1971-05-02", {"circa": 1975}])),
        # null removes it; the shorthand is then read off the rest (none is a date here).
        ({"date_of_birth": None}, (None, [{"circa": 1975}])),
        # A new list replaces the old one, shorthand included.
        ({"dates_of_birth": [{"circa": 1980}, "1981"]}, ("1981", [{"circa": 1980}, "1981"])),
        ({"dates_of_birth": None}, (None, [])),
        # Both changed: both taken, the shorthand first.
        ({"date_of_birth": "1960", "dates_of_birth": ["1961"]}, ("1960", ["1960", "1961"])),
        # Read-modify-write: the list sent back unchanged, the shorthand changed.
        (
            {"date_of_birth": "1971", "dates_of_birth": ["1970", {"circa": 1975}]},
            ("1971", ["1971", {"circa": 1975}]),
        ),
        # ...and the shorthand sent back unchanged, the list changed.
        ({"date_of_birth": "1970", "dates_of_birth": [{"circa": 1976}]}, (None, [{"circa": 1976}])),
        # Neither changes: nothing does.
        ({"sex": "F"}, ("1970", ["1970", {"circa": 1975}])),
    ],
)
def test_a_patch_of_either_field_means_what_it_says(
    patch: dict[str, Any], result: tuple[Any, Any]
) -> None:
    assert patched(TWO, patch) == result


def test_a_patch_of_an_entry_stored_before_the_list_existed() -> None:
    # A document without `dates_of_birth` (as before the migration) patches the same way.
    stored = EntryIn.model_validate(entry(date_of_birth="1970")).contract_fields()
    del stored["subject"]["dates_of_birth"]
    patch = {"subject": {"date_of_birth": "1971"}}
    merged = merge_patch(stored, patch)
    patch_dates_of_birth(stored, patch, merged)
    assert dates(EntryIn.model_validate(merged).contract_fields()["subject"]) == ("1971", ["1971"])
