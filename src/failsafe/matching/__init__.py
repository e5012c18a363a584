"""The matching engine: pure Python, no I/O, no web, database or Kafka imports.

    index = WatchlistIndex()
    index.add_many(entry dicts or EntryRecords)      # bulk load before serving
    index.upsert(entry_dict) / index.remove(entry_id)  # incremental, safe while queries run
    event, flags = apply_mrz(event_dict)             # fill gaps from the MRZ, flag disagreements
    matches = index.screen(event, threshold=DEFAULT_THRESHOLD, limit=10)
"""

from failsafe.matching.index import WatchlistIndex
from failsafe.matching.mrz import MRZ, MRZError, apply_mrz, check_digit, parse_mrz
from failsafe.matching.normalize import name_tokens, normalize_document_number
from failsafe.matching.score import DEFAULT_PARAMS, DEFAULT_THRESHOLD, Params, compare_names
from failsafe.matching.types import (
    EntryRecord,
    Match,
    Query,
    entry_from_dict,
    query_from_event,
)

__all__ = [
    "DEFAULT_PARAMS",
    "DEFAULT_THRESHOLD",
    "MRZ",
    "EntryRecord",
    "MRZError",
    "Match",
    "Params",
    "Query",
    "WatchlistIndex",
    "apply_mrz",
    "check_digit",
    "compare_names",
    "entry_from_dict",
    "name_tokens",
    "normalize_document_number",
    "parse_mrz",
    "query_from_event",
]
