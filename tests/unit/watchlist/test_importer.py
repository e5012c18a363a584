"""Reading import files: JSONL lines, CSV rows, the streaming line splitter."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import pytest

from failsafe.watchlist.importer import (
    MAX_LINE_BYTES,
    aiter_lines,
    iter_csv,
    iter_jsonl,
    to_item,
)
from failsafe.watchlist.schemas import RejectedLine


def test_jsonl_records_keep_physical_line_numbers() -> None:
    lines = [b'{"a": 1}\n', b"\n", b"{oops\n", b"[1]\n", b"x" * (MAX_LINE_BYTES + 1)]
    assert list(iter_jsonl(lines)) == [
        (1, {"a": 1}),
        (3, "not valid JSON"),
        (4, "not a JSON object"),
        (5, f"line longer than {MAX_LINE_BYTES} bytes"),
    ]


def test_csv_rows_become_entries() -> None:
    text = (
        "id,notice_type,notice_reference,owner_bureau,surname,given_names,aliases,documents,"
        "requested_action,nationalities,distribution_mode,distribution_allow,date_of_birth\n"
        'e1,red,R/1,FRA,DOE,JOHN,"DOE, J; JOHNNY D",P:123:FRA:2030-01,inform_only,FRA;DEU,'
        "restricted,ITA;ESP,1970\n"
        "e2,red,R/2,FRA,DOE,,,P:1,inform_only,,,,\n"
    )
    records = list(iter_csv(io.StringIO(text)))
    line, first = records[0]
    assert line == 2 and isinstance(first, dict)
    item = to_item(line, first)
    assert not isinstance(item, RejectedLine)
    assert item.data.subject.aliases[0].surname == "DOE"
    assert item.data.subject.aliases[1].full_name == "JOHNNY D"
    assert item.data.subject.documents[0].expiry_date == "2030-01"
    assert item.data.distribution.allow == ["ITA", "ESP"]
    assert item.data.subject.given_names == "JOHN" and item.data.subject.full_name is None
    assert records[1] == (3, "documents: expected TYPE:NUMBER:STATE[:EXPIRY]")


def test_csv_with_unknown_columns_is_refused_whole() -> None:
    with pytest.raises(ValueError, match="unknown CSV columns: colour"):
        list(iter_csv(io.StringIO("id,colour\n1,blue\n")))


def test_invalid_record_reports_the_field_not_the_value() -> None:
    rejected = to_item(
        7,
        {
            "id": "x1",
            "notice": {"type": "red", "reference": "R"},
            "subject": {"surname": "SECRETNAME", "sex": "Q"},
            "case": {"requested_action": "inform_only"},
        },
    )
    assert isinstance(rejected, RejectedLine)
    assert (rejected.line, rejected.id) == (7, "x1")
    assert rejected.reason.startswith("subject.sex:")
    assert "SECRETNAME" not in rejected.model_dump_json()


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_stream_split_into_lines_with_overlong_lines_skipped() -> None:
    big = b"y" * (MAX_LINE_BYTES + 10)
    got = [
        line
        async for line in aiter_lines(
            _chunks(b'{"a":', b'1}\n{"b"', b":2}\n", big[:100_000], big[100_000:], b"\nlast")
        )
    ]
    assert got == [b'{"a":1}', b'{"b":2}', None, b"last"]
