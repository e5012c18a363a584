"""The one place ingest meets the matching engine: the `Screener` protocol the follower and the
pipeline use, typed with the matcher's own public types (`Query`, `Match`), the factory of the
live index, and `screen_event` (MRZ, query, threshold) returning a typed `Screened`.

Nothing else in ingest names matching's types, so a change of the matcher's API is a change here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from failsafe.matching import Match, Query, WatchlistIndex, apply_mrz, query_from_event

# An entry's contract JSON as the follower hands it over (failsafe.ingest.follower.entry_document).
EntryDocument = Mapping[str, Any]


class Screener(Protocol):
    """What the follower and the pipeline need of the matching engine."""

    def add_many(self, entries: Iterable[EntryDocument], more: bool = False) -> int: ...
    def upsert(self, entry: EntryDocument) -> bool: ...
    def remove(self, entry_id: str) -> bool: ...
    def screen(self, query: Query, threshold: float, limit: int | None) -> list[Match]: ...


def new_screener() -> Screener:
    """A fresh, empty matching index."""
    return WatchlistIndex()


@dataclass(frozen=True, slots=True)
class Screened:
    """One event screened: its contract JSON with the MRZ applied, the data-quality flags the MRZ
    raised, and the matches at or above the threshold, best first."""

    event: dict[str, Any]
    quality_flags: list[str]
    matches: list[Match]


def screen_event(screener: Screener, event: dict[str, Any], threshold: float) -> Screened:
    event, flags = apply_mrz(event)
    matches = screener.screen(query_from_event(event), threshold=threshold, limit=None)
    return Screened(event, flags, [m for m in matches if m.score >= threshold])
