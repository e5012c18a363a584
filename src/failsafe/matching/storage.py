"""The watchlist index's storage: entries, distinct names, tokens, postings and birth years,
with incremental writes. `WatchlistIndex` (index.py) adds screening on top.

Layout. Distinct normalised names (the sorted token tuple) are "name records"; an entry's
primary name, aliases and original-script name point at them, and many entries can share one.
Every distinct token gets a vocabulary id; each token has postings (the name records holding it)
and sits in a few blocking buckets (`blocking.bucket_keys`) that find its fuzzy neighbours in
the vocabulary. Names have the birth years of their owners, and years the names born in them.

Concurrency. Readers (the asyncio loop, or a thread doing lookups) take no lock. Writers
serialise on a lock and never mutate a structure a reader may hold: entry records are
immutable and replaced whole, posting sets and owner tuples are copied, changed, and then
swapped into their dict in one assignment (atomic under the GIL), the neighbour table's rows
are replaced rather than changed (`neighbours.extend`), and the per-token cache is swapped for
a fresh one. A query that runs during a change therefore sees each entry either
before or after it, never half-changed; a removed entry stops matching as soon as `remove`
returns, because every candidate is checked against the live entry table before it is scored.
Bulk `add_many` mutates in place and is meant for loading before serving. It pauses Python's
cyclic garbage collector while it runs (and restores it, whatever happens): the load allocates
millions of long-lived, acyclic containers, and every full collection on the way would traverse
the whole growing index again (about 40 % of a 100k-entry build's CPU time). Garbage cycles made
meanwhile wait for the collector's next run after the load.
"""

from __future__ import annotations

import gc
import math
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from failsafe.matching import neighbours
from failsafe.matching.blocking import TokenHits, bucket_keys, with_repeats
from failsafe.matching.normalize import PARTICLES, WEAK_TOKENS
from failsafe.matching.score import DEFAULT_PARAMS, Params, length_weight
from failsafe.matching.types import EntryRecord, entry_from_dict

STATS_MIN_NAMES = 1000  # below this the index is too small for frequency statistics
# A bulk load builds the neighbour table (`neighbours.py`) from this many vocabulary tokens:
# below it, resolving tokens one at a time costs little.
NEIGHBOUR_TABLE_MIN = 2000


@dataclass(frozen=True, slots=True)
class _NameRec:
    tokens: tuple[str, ...]
    vids: tuple[int, ...]
    # One token besides clan words (IBRAHIM KHAN): a one-token name for retrieval too.
    single: bool = False


_EMPTY: frozenset[int] = frozenset()


class IndexStorage:
    """The tables and their writes (`add`, `replace`, `upsert`, `remove`, `add_many`)."""

    def __init__(self, params: Params = DEFAULT_PARAMS) -> None:
        self.params = params
        self._lock = threading.Lock()
        self._entries: dict[str, EntryRecord] = {}
        self._entry_names: dict[str, tuple[int, ...]] = {}
        self._vocab: dict[str, int] = {}
        self._vtok: list[str] = []
        self._buckets: dict[str, list[str]] = {}
        # `neighbours.pool_pairs(self._buckets)`, kept as tokens are added (they never leave).
        self._pool_pairs = 0
        self._postings: dict[int, frozenset[int] | set[int]] = {}
        self._solo: dict[int, frozenset[int] | set[int]] = {}
        self._name_ids: dict[tuple[str, ...], int] = {}
        self._names: dict[int, _NameRec] = {}
        self._owners: dict[int, tuple[tuple[str, int], ...]] = {}
        # Birth years of a name's owners (0: an owner without one): a cheap first filter.
        self._years: dict[int, frozenset[int]] = {}
        # ... and the other way round: year -> names with an owner born that year (0: without
        # one). A query's candidates are intersected with its year's neighbourhood in C.
        self._by_year: dict[int, frozenset[int] | set[int]] = {}
        self._docs: dict[str, tuple[tuple[str, str], ...]] = {}
        self._next_name = 0
        self._cache: dict[str, TokenHits] = {}
        self._weights: dict[int, float] = {}
        # Name record -> its tokens' weights, as `_name_weights` gives them (dropped likewise).
        self._name_w: dict[int, tuple[float, ...]] = {}
        # Query year -> names with an owner born within a year of it or without a date of
        # birth (built on first use, dropped on any change like the token cache).
        self._windows: dict[int, frozenset[int]] = {}
        # Every vocabulary token's similar tokens (`neighbours.py`), once a bulk load built it;
        # kept current by `_vid` (the vocabulary never shrinks), None when there is none.
        self._neighbours: neighbours.Table | None = None
        self.neighbour_table_min = NEIGHBOUR_TABLE_MIN
        self._bulk = False

    # -- size ------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._entries

    def get(self, entry_id: str) -> EntryRecord | None:
        return self._entries.get(entry_id)

    @property
    def name_count(self) -> int:
        return len(self._names)

    # -- writes ----------------------------------------------------------------------------
    def add_many(self, entries: Iterable[EntryRecord | Mapping[str, Any]],
                 more: bool = False) -> int:
        """Bulk load (or replace) entries, records or DESIGN.md dicts; faster than `add` one by
        one. Dicts of inactive or expired entries remove that id. Returns the count indexed.
        `more`: another bulk load follows at once (a list read in batches); the neighbour
        table waits for the last one (dropped meanwhile: tokens are resolved as they come)."""
        n = 0
        with self._lock:
            # In bulk mode posting sets are mutated in place: load before serving queries.
            self._bulk = True
            # Re-enabled below only if it was on: a caller that turned it off keeps it off.
            collecting = gc.isenabled()
            gc.disable()
            try:
                for item in entries:
                    entry = _as_record(item)
                    if entry is None:
                        if isinstance(item, Mapping) and item.get("id") is not None:
                            self._remove_locked(str(item["id"]))
                        continue
                    self._remove_locked(entry.id)
                    self._add_locked(entry)
                    n += 1
            finally:
                self._bulk = False
                self._postings = {k: frozenset(v) for k, v in self._postings.items()}
                self._solo = {k: frozenset(v) for k, v in self._solo.items()}
                self._by_year = {k: frozenset(v) for k, v in self._by_year.items()}
                if more:
                    self._neighbours = None
                else:
                    self._update_neighbours()
                self._invalidate()
                if collecting:
                    gc.enable()
        return n

    def add(self, entry: EntryRecord) -> None:
        """Add an entry, replacing any entry with the same id."""
        with self._lock:
            self._remove_locked(entry.id)
            self._add_locked(entry)
            self._invalidate()

    replace = add

    def upsert(self, entry: EntryRecord | Mapping[str, Any]) -> bool:
        """Add or replace from a record or a DESIGN.md entry dict (`model_dump()` output).
        An inactive or expired entry is removed instead. True when the entry is now indexed."""
        record = _as_record(entry)
        if record is None:
            if isinstance(entry, Mapping) and entry.get("id") is not None:
                self.remove(str(entry["id"]))
            return False
        self.add(record)
        return True

    def remove(self, entry_id: str) -> bool:
        """Remove an entry (cancelled, expired); True when it was indexed."""
        with self._lock:
            found = self._remove_locked(entry_id)
            if found:
                self._invalidate()
            return found

    def _update_neighbours(self) -> None:
        """After a bulk load: the neighbour table covers the tokens it added. A few are added
        one at a time (`neighbours.extend`); many, or a first load, are one batch."""
        table, total = self._neighbours, len(self._vtok)
        done = len(table) if table is not None else 0
        if done == total:
            return
        # Past the budget there is no table, whether the list came in one load or in many
        # (the follower's batches): extended one token at a time, a 234,000-token list's
        # table held 9 million cells (+610 MB) and made its load 3.5x slower.
        within = self._pool_pairs <= neighbours.PAIR_BUDGET
        if table is not None and within and (total - done) * 4 <= total:
            for vid in range(done, total):
                neighbours.extend(table, vid, self._vtok, self._vocab, self._buckets, self.params)
            return
        self._neighbours = None
        if total < self.neighbour_table_min or not within:
            return
        self._neighbours = neighbours.build(self._vtok, self._vocab, self._buckets, self.params)

    def _invalidate(self) -> None:
        self._cache = {}
        self._weights = {}
        self._name_w = {}
        self._windows = {}

    def _window(self, qy: int, span: int = 1) -> frozenset[int]:
        """Names with an owner born within `span` years of `qy`, or without a date."""
        windows = self._windows  # first: a change after this point drops what we add
        key = qy * 64 + span
        got = windows.get(key)
        if got is None:
            by_year = self._by_year
            got = frozenset().union(*(
                by_year.get(y, _EMPTY) for y in (*range(qy - span, qy + span + 1), 0)))
            if len(windows) > 512:
                windows.clear()
            windows[key] = got
        return got

    def _vid(self, token: str) -> int:
        vid = self._vocab.get(token)
        if vid is not None:
            return vid
        vid = len(self._vtok)
        self._vtok.append(token)
        self._vocab[token] = vid
        for key in bucket_keys(token):
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = [token]
            else:
                # Appending is safe for readers: they copy a bucket before iterating it.
                bucket.append(token)
            if key[0] in neighbours.POOL_KINDS:
                self._pool_pairs += 2 * len(bucket) - 1  # n² - (n - 1)²
        table = self._neighbours
        if table is not None and not self._bulk:
            if len(table) == vid and self._pool_pairs <= neighbours.PAIR_BUDGET:
                neighbours.extend(table, vid, self._vtok, self._vocab, self._buckets,
                                  self.params)
            else:
                # Past the budget (entries added one by one), or out of step (never
                # expected): tokens are resolved as they come.
                self._neighbours = None
        return vid

    def _post(self, table: dict[int, frozenset[int] | set[int]], vid: int, nid: int) -> None:
        cur = table.get(vid)
        if self._bulk:
            if cur is None:
                table[vid] = {nid}
            elif isinstance(cur, frozenset):
                # Left frozen by an earlier bulk load or a single add: thaw it once.
                table[vid] = set(cur) | {nid}
            else:
                cur.add(nid)
        else:
            table[vid] = (cur or _EMPTY) | {nid}

    def _post_all(
        self, table: dict[int, frozenset[int] | set[int]], keys: Iterable[int], nid: int
    ) -> None:
        """`_post` for each of `keys`, in one call (the bulk case inlined)."""
        if not self._bulk:
            for key in keys:
                self._post(table, key, nid)
            return
        for key in keys:
            cur = table.get(key)
            if cur is None:
                table[key] = {nid}
            elif type(cur) is set:
                cur.add(nid)
            else:
                table[key] = set(cur) | {nid}

    def _unpost(self, table: dict[int, frozenset[int] | set[int]], vid: int, nid: int) -> None:
        cur = table.get(vid)
        if cur is None:
            return
        if self._bulk and isinstance(cur, set):
            cur.discard(nid)
        else:
            table[vid] = frozenset(cur - {nid})

    def _add_locked(self, entry: EntryRecord) -> None:
        eid = entry.id
        years = _entry_years(entry)  # one set for all the entry's names: it is immutable
        name_ids, owners_t, years_t = self._name_ids, self._owners, self._years
        nids: list[int] = []
        for variant_no, variant in enumerate(entry.names):
            key = with_repeats(variant)
            if len(key) > 1:
                key = tuple(sorted(key))
            nid = name_ids.get(key)
            if nid is None:
                # A new name (most of a list's): it has no owners nor years yet.
                nid = self._add_name_locked(key)
                owners_t[nid] = ((eid, variant_no),)
                if years:  # as `_set_years` from nothing: an empty set is not stored
                    self._post_all(self._by_year, years, nid)
                    years_t[nid] = years
                nids.append(nid)
                continue
            cur = owners_t.get(nid)
            owners_t[nid] = ((eid, variant_no),) if cur is None else (*cur, (eid, variant_no))
            old = years_t.get(nid)
            if old is None:
                self._set_years(nid, years)
            elif not years <= old:
                self._set_years(nid, old | years)
            nids.append(nid)
        for doc in entry.documents:
            self._docs[doc.number] = (
                *self._docs.get(doc.number, ()),
                (doc.issuing_state, eid),
            )
        self._entry_names[eid] = tuple(nids)
        self._entries[eid] = entry  # last: readers see the entry only once complete

    def _add_name_locked(self, key: tuple[str, ...]) -> int:
        """A new name record for `key` (sorted tokens, repeats kept) and its postings."""
        nid = self._next_name
        self._next_name += 1
        vocab = self._vocab
        vids = tuple([v if (v := vocab.get(t)) is not None else self._vid(t) for t in key])
        # Sorted: more than one distinct token iff the first and the last differ.
        multi = key[0] != key[-1]
        strong: set[str] | None = None
        if multi and not WEAK_TOKENS.isdisjoint(key):
            strong = {t for t in key if t not in WEAK_TOKENS}
        single = strong is not None and len(strong) == 1
        self._names[nid] = _NameRec(key, vids, single)
        if multi:
            self._post_all(self._postings, set(vids), nid)
        else:
            self._post_all(self._solo, vids[:1], nid)
        if single:
            assert strong is not None
            self._post(self._solo, vocab[next(iter(strong))], nid)
        self._name_ids[key] = nid
        return nid

    def _set_years(self, nid: int, years: frozenset[int]) -> None:
        old = self._years.get(nid, _EMPTY)
        if years == old:
            return
        self._post_all(self._by_year, years - old if old else years, nid)
        if old:
            for y in old - years:
                self._unpost(self._by_year, y, nid)
        self._years[nid] = years

    def _remove_locked(self, entry_id: str) -> bool:
        entry = self._entries.pop(entry_id, None)  # first: it stops matching right away
        if entry is None:
            return False
        for nid in self._entry_names.pop(entry_id, ()):
            owners = tuple(o for o in self._owners.get(nid, ()) if o[0] != entry_id)
            if owners:
                self._owners[nid] = owners
                self._set_years(nid, frozenset().union(*(
                    _entry_years(e)
                    for e in (self._entries.get(o[0]) for o in owners) if e is not None
                )))
                continue
            self._set_years(nid, _EMPTY)
            self._years.pop(nid, None)
            rec = self._names.pop(nid)
            self._owners.pop(nid, None)
            self._name_ids.pop(rec.tokens, None)
            table = self._postings if len(set(rec.tokens)) > 1 else self._solo
            for vid in set(rec.vids):
                self._unpost(table, vid, nid)
            if rec.single:
                for t, vid in zip(rec.tokens, rec.vids, strict=True):
                    if t not in WEAK_TOKENS:
                        self._unpost(self._solo, vid, nid)
        for doc in entry.documents:
            rest = tuple(x for x in self._docs.get(doc.number, ()) if x[1] != entry_id)
            if rest:
                self._docs[doc.number] = rest
            else:
                self._docs.pop(doc.number, None)
        return True

    # -- token resolution ------------------------------------------------------------------
    def _df(self, vid: int) -> int:
        return len(self._postings.get(vid, _EMPTY)) + len(self._solo.get(vid, _EMPTY))

    def _rarity(self, df: int) -> float:
        n = len(self._names)
        if n < STATS_MIN_NAMES or df <= 1:
            return 1.0
        # Full weight up to 1 name in 1000, then down logarithmically to 0.4.
        return max(0.4, min(1.0, math.log(n / df) / math.log(1000.0)))

    def _weight(self, vid: int) -> float:
        w = self._weights.get(vid)
        if w is None:
            tok = self._vtok[vid]
            w = length_weight(tok) * self._rarity(self._df(vid))
            if tok in PARTICLES:
                w *= self.params.particle_weight
            self._weights[vid] = w
        return w

    def _name_weights(self, nid: int, vids: tuple[int, ...]) -> tuple[float, ...]:
        """The weights of name record `nid`'s tokens (`vids`), kept until the next change."""
        got = self._name_w.get(nid)
        if got is None:
            got = self._name_w[nid] = tuple([self._weight(v) for v in vids])
        return got


def _entry_years(entry: EntryRecord) -> frozenset[int]:
    """Birth years of an entry's listed dates (every year of a span), or {0} without one."""
    dobs = entry.dobs
    if not dobs:
        return _NO_YEAR
    if len(dobs) == 1 and dobs[0].first == dobs[0].last:
        # The usual case, one dated year: one shared set per year (they are immutable).
        year = dobs[0].first
        got = _ONE_YEAR.get(year)
        if got is None:
            got = _ONE_YEAR[year] = frozenset((year,))
        return got
    return frozenset(y for bd in dobs for y in bd.years)


_NO_YEAR = frozenset({0})
_ONE_YEAR: dict[int, frozenset[int]] = {}


def _as_record(item: EntryRecord | Mapping[str, Any]) -> EntryRecord | None:
    return item if isinstance(item, EntryRecord) else entry_from_dict(item)


