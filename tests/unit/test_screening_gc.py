"""`failsafe screen` turns Python's cyclic garbage collector off once its watchlist is loaded
(`screening.settle_loaded`): screening must then make no reference cycles, or a long stream would
leak what only the collector could free. Guard: good and hostile lines screened with the
collector off leave no cyclic garbage behind (`gc.collect()` finds nothing)."""

from __future__ import annotations

import gc
import io

import orjson

from failsafe.matching import WatchlistIndex
from failsafe.screening import load_watchlist, screen_lines

WATCHLIST = [
    {"id": "w1", "subject": {"surname": "PETROV", "given_names": "IVAN",
                             "date_of_birth": "1970-03-04", "nationalities": ["RUS"]},
     "documents": [{"type": "passport", "number": "P1234567", "issuing_state": "RUS"}]},
    {"id": "w2", "subject": {"full_name": "HAJI IBRAHIM KHAN"}},
    {"id": "w3", "subject": {"surname": "KOWALSKA", "given_names": "ANNA",
                             "dates_of_birth": ["1969-6", {"circa": 1970}]}},
    {"id": "w4", "subject": {"full_name": "محمد علي حسن", "date_of_birth": "1975"}},
]


def _event(n: int, traveller: object, **extra: object) -> bytes:
    return orjson.dumps({
        "schema": "failsafe.event/v1", "kind": "border_crossing", "event_id": f"e{n}",
        "occurred_at": "2026-11-30T10:00:00Z", "source": "test", "country": "DEU",
        "traveller": traveller, **extra})


GOOD = [
    _event(1, {"surname": "PETROV", "given_names": "IVAN", "date_of_birth": "1970-03-04"}),
    _event(2, {"surname": "PETROFF", "given_names": "IVAN", "date_of_birth": "1971-03-04"}),
    _event(3, {"full_name": "IBRAHIM"}),
    _event(4, {"surname": "KOWALSKA", "given_names": "ANNA", "date_of_birth": "1969-7-16"}),
    _event(5, {"full_name": "محمد علي حسن"}),
    _event(6, {"surname": "SMITH", "given_names": "JOHN", "date_of_birth": "1980",
               "document": {"type": "passport", "number": "P1234567",
                            "issuing_state": "RUS"}}),
    _event(7, {"full_name": "金正恩", "nationality": "PRK"}),
]
BAD = [
    b"not json",
    b"[" * 5000 + b"]" * 5000,
    b"{}",
    _event(8, {"surname": ["PETROV"], "given_names": "IVAN"}),
    _event(9, {"full_name": "IVAN\u0000PETROV"}),
    _event(10, {"surname": "PETROV", "date_of_birth": "X"}).replace(b'"X"', b"1" + b"0" * 30),
    _event(11, {"surname": "X" * 5000}),
    _event(12, "not a mapping"),
    _event(13, {"surname": "PETROV"}, kind="unknown"),
]


def test_screening_leaves_no_cyclic_garbage_with_the_collector_off() -> None:
    index = WatchlistIndex()
    load_watchlist(index, [orjson.dumps(e) for e in WATCHLIST], "wl")
    out = io.BytesIO()
    errors: list[str] = []
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        # Twice: the first pass fills the caches, the second runs on them.
        for _ in range(2):
            stats = screen_lines(index, (GOOD + BAD) * 20, out.write, 0.8, 10, "events",
                                 errors.append)
            assert stats.ok == len(GOOD) * 20 and stats.bad == len(BAD) * 20
        found = gc.collect()
    finally:
        if was_enabled:
            gc.enable()
    assert found == 0
    assert len(errors) == len(BAD) * 40  # each bad line reported
    assert b'"w1"' in out.getvalue()  # the good lines did screen (and one matched)
