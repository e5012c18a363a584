"""Reading import files: JSONL lines, CSV rows, the streaming NDJSON reader."""

from __future__ import annotations

import io
import time

import orjson
import pytest

from failsafe.watchlist.importer import (
    MAX_LINE_BYTES,
    NdjsonReader,
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


def _read(*chunks: bytes) -> list[tuple[int, str]]:
    reader = NdjsonReader()
    out = [r for chunk in chunks for r in reader.feed(chunk)] + reader.close()
    return [
        (r.line, r.reason if isinstance(r, RejectedLine) else r.data.subject.surname or "")
        for r in out
    ]


def _line(surname: str) -> bytes:
    entry = {
        "notice": {"type": "red", "reference": f"R/{surname}"},
        "owner_bureau": "FRA",
        "subject": {"surname": surname},
        "case": {"requested_action": "inform_only"},
    }
    return orjson.dumps(entry)


def test_ndjson_reader_keeps_line_numbers_across_any_chunking() -> None:
    big = b"y" * (MAX_LINE_BYTES + 10)
    data = (
        _line("A") + b"\n\n  \r\n" + _line("B") + b"\n{oops\n" + big + b"\n[1]\n" + _line("C")
    )
    expected = [
        (1, "A"),
        (4, "B"),
        (5, "not valid JSON"),
        (6, f"line longer than {MAX_LINE_BYTES} bytes"),
        (7, "not a JSON object"),
        (8, "C"),
    ]
    assert _read(data) == expected
    for size in (1, 7, 100, 4096, 100_000):
        chunks = [data[i : i + size] for i in range(0, len(data), size)]
        assert _read(*chunks) == expected, size


def test_ndjson_reader_blank_lines_cost_next_to_nothing() -> None:
    # 8 MiB of newlines: one scan per chunk, no Python work per blank line.
    blank = b"\n" * (8 * 1024 * 1024)
    reader = NdjsonReader()
    started = time.perf_counter()
    for i in range(0, len(blank), 256 * 1024):
        assert reader.feed(blank[i : i + 256 * 1024]) == []
    records = reader.feed(_line("Z") + b"\n")
    elapsed = time.perf_counter() - started
    assert [(r.line, isinstance(r, RejectedLine)) for r in records] == [(len(blank) + 1, False)]
    assert elapsed < 2.0, elapsed  # ~0.1 s here; a Python loop per line takes 3 s and more
