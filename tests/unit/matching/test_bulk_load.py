"""Bulk loading (`add_many`): the cyclic garbage collector is paused for the load only, and
restored as it was, also when the load fails half-way."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from failsafe.matching import WatchlistIndex


def _entries(seen: list[bool], fail_at: int | None = None) -> Iterator[dict[str, Any]]:
    for i in range(3):
        seen.append(gc.isenabled())
        if i == fail_at:
            raise RuntimeError("source broke")
        yield {"id": f"e{i}", "subject": {"surname": f"PETROV{i}", "given_names": "IVAN"}}


def test_collector_is_paused_during_the_load_and_restored_after() -> None:
    assert gc.isenabled()
    seen: list[bool] = []
    ix = WatchlistIndex()
    assert ix.add_many(_entries(seen)) == 3
    assert seen == [False, False, False]
    assert gc.isenabled()
    assert len(ix) == 3


def test_collector_is_restored_when_the_load_fails() -> None:
    seen: list[bool] = []
    ix = WatchlistIndex()
    with pytest.raises(RuntimeError):
        ix.add_many(_entries(seen, fail_at=1))
    assert seen == [False, False]
    assert gc.isenabled()
    assert "e0" in ix  # what was loaded before the failure stays, as before


def test_a_caller_that_disabled_the_collector_keeps_it_disabled() -> None:
    gc.disable()
    try:
        WatchlistIndex().add_many(_entries([]))
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_blank_lines_are_skipped_and_later_line_numbers_kept() -> None:
    # `load_watchlist` skips empty and whitespace-only lines (any ASCII whitespace, as
    # `bytes.strip` reads it) without counting them; a bad line after them keeps its number.
    from failsafe.screening import load_watchlist

    good = b'{"id": "e1", "subject": {"surname": "PETROV", "given_names": "IVAN"}}\n'
    lines = [b"", b"\n", b" \t\r\n", b"\x0b\x0c\n", good, b"{broken\n", b"\xa0\n"]
    errors: list[str] = []
    ix = WatchlistIndex()
    stats = load_watchlist(ix, lines, "wl", err=errors.append)
    assert (stats.lines, stats.ok, stats.bad) == (3, 1, 2)
    assert errors == ["wl:6: invalid JSON", "wl:7: invalid JSON"]
    assert len(ix) == 1
