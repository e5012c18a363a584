"""In-memory watchlist index: candidate retrieval by document and by name, then scoring.

Layout. Distinct normalised names (the sorted token tuple) are "name records"; an entry's
primary name, aliases and original-script name point at them, and many entries can share one.
Every distinct token gets a vocabulary id; each token has postings (the name records holding it)
and sits in a few blocking buckets (first three letters, last three, metaphone key, consonant
skeleton) that find its fuzzy neighbours in the vocabulary. A query token is resolved once to
its similar vocabulary tokens and the union of their postings (cached per token string); a
multi-token query's candidates are the names that share at least two of its tokens (pairwise
intersections of those sets), so neither the list nor the vocabulary is ever scanned.

Concurrency. Readers (the asyncio loop, or a thread doing lookups) take no lock. Writers
serialise on a lock and never mutate a structure a reader may hold: entry records are
immutable and replaced whole, posting sets and owner tuples are copied, changed, and then
swapped into their dict in one assignment (atomic under the GIL), and the per-token cache is
swapped for a fresh one. A query that runs during a change therefore sees each entry either
before or after it, never half-changed; a removed entry stops matching as soon as `remove`
returns, because every candidate is checked against the live entry table before it is scored.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import jellyfish
from rapidfuzz import process
from rapidfuzz.distance import OSA, JaroWinkler, Levenshtein

from failsafe.matching.dob import (
    CLOSE,
    EXACT,
    UNKNOWN,
    DobComparison,
    best_birth_date,
)
from failsafe.matching.normalize import (
    PARTICLES,
    WEAK_TOKENS,
    format_partial_date,
    given_name_group,
    name_tokens_with_repeats,
    skeleton,
    variant_key,
    vowel_variant,
)
from failsafe.matching.score import (
    DEFAULT_PARAMS,
    DEFAULT_THRESHOLD,
    NameScore,
    Params,
    cap_by_evidence,
    dob_evidence,
    dob_factor,
    length_weight,
    name_commonness,
    population_share,
    score_token_lists,
    token_similarity,
)
from failsafe.matching.types import (
    EntryRecord,
    Match,
    NameVariant,
    Query,
    entry_from_dict,
    query_from_event,
)

_COMMON_SHARE = 0.001  # a token in more than 1 name in 1000 is "common"
_STATS_MIN_NAMES = 1000  # below this the index is too small for frequency statistics
_TOKEN_CACHE_MAX = 200_000
_MAX_QUERY_TOKENS = 8
_SPLIT_MIN = 256  # posting sets at least this big are split by birth year for queries
# Commonness of a name (see `_commonness`): the expected bearers of its tokens in a population
# of this size, each token's share being at least _DEFAULT_SHARE (a name outside the
# population table and rare in the list).
_REFERENCE_POPULATION = 1e9
_DEFAULT_SHARE = 3e-7


class _TokenHits:
    """What one query token string resolves to (cached per token string)."""

    __slots__ = ("by_year", "df", "multi", "share", "sims", "solo")

    def __init__(self, sims: dict[int, float], multi: frozenset[int], solo: frozenset[int],
                 df: int) -> None:
        self.sims = sims  # vocabulary id -> similarity to the query token
        self.multi = multi  # multi-token name records holding a similar token
        self.solo = solo  # one-token name records holding a similar token
        self.df = df  # name records holding the token itself
        self.share: tuple[float, float] | None = None  # `_token_share`, built on first use
        # Big `multi` sets cut to a query year's window (the year +-1, or no date of birth),
        # by query year, built on first use.
        self.by_year: dict[int, frozenset[int]] | None = None


@dataclass(frozen=True, slots=True)
class _NameRec:
    tokens: tuple[str, ...]
    vids: tuple[int, ...]
    # One token besides clan words (IBRAHIM KHAN): a one-token name for retrieval too.
    single: bool = False


_EMPTY: frozenset[int] = frozenset()
_jw = JaroWinkler.normalized_similarity
_lev = Levenshtein.normalized_similarity
_osa = OSA.distance


class WatchlistIndex:
    """The watchlist as the matcher sees it. `add`, `replace` and `remove` are incremental."""

    def __init__(self, params: Params = DEFAULT_PARAMS) -> None:
        self.params = params
        self._lock = threading.Lock()
        self._entries: dict[str, EntryRecord] = {}
        self._entry_names: dict[str, tuple[int, ...]] = {}
        self._vocab: dict[str, int] = {}
        self._vtok: list[str] = []
        self._buckets: dict[str, list[str]] = {}
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
        self._cache: dict[str, _TokenHits] = {}
        self._weights: dict[int, float] = {}
        # Query year -> names with an owner born within a year of it or without a date of
        # birth (built on first use, dropped on any change like the token cache).
        self._windows: dict[int, frozenset[int]] = {}
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
    def add_many(self, entries: Iterable[EntryRecord | Mapping[str, Any]]) -> int:
        """Bulk load (or replace) entries, records or DESIGN.md dicts; faster than `add` one by
        one. Dicts of inactive or expired entries remove that id. Returns the count indexed."""
        n = 0
        with self._lock:
            # In bulk mode posting sets are mutated in place: load before serving queries.
            self._bulk = True
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
                self._invalidate()
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

    def _invalidate(self) -> None:
        self._cache = {}
        self._weights = {}
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
        for key in _bucket_keys(token):
            bucket = self._buckets.get(key)
            if bucket is None:
                self._buckets[key] = [token]
            else:
                # Appending is safe for readers: they copy a bucket before iterating it.
                bucket.append(token)
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

    def _unpost(self, table: dict[int, frozenset[int] | set[int]], vid: int, nid: int) -> None:
        cur = table.get(vid)
        if cur is None:
            return
        if self._bulk and isinstance(cur, set):
            cur.discard(nid)
        else:
            table[vid] = frozenset(cur - {nid})

    def _add_locked(self, entry: EntryRecord) -> None:
        nids: list[int] = []
        for variant_no, variant in enumerate(entry.names):
            key = tuple(sorted(_with_repeats(variant)))
            nid = self._name_ids.get(key)
            if nid is None:
                nid = self._next_name
                self._next_name += 1
                vids = tuple(self._vid(t) for t in key)
                strong = {t for t in key if t not in WEAK_TOKENS}
                single = len(set(key)) > 1 and len(strong) == 1
                self._names[nid] = _NameRec(key, vids, single)
                table = self._postings if len(set(key)) > 1 else self._solo
                for vid in set(vids):
                    self._post(table, vid, nid)
                if single:
                    self._post(self._solo, self._vocab[next(iter(strong))], nid)
                self._name_ids[key] = nid
            self._owners[nid] = (*self._owners.get(nid, ()), (entry.id, variant_no))
            self._set_years(nid, self._years.get(nid, _EMPTY) | _entry_years(entry))
            nids.append(nid)
        for doc in entry.documents:
            self._docs[doc.number] = (
                *self._docs.get(doc.number, ()),
                (doc.issuing_state, entry.id),
            )
        self._entry_names[entry.id] = tuple(nids)
        self._entries[entry.id] = entry  # last: readers see the entry only once complete

    def _set_years(self, nid: int, years: frozenset[int]) -> None:
        old = self._years.get(nid, _EMPTY)
        if years == old:
            return
        for y in years - old:
            self._post(self._by_year, y, nid)
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
        if n < _STATS_MIN_NAMES or df <= 1:
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

    def _hits(self, token: str, cache: dict[str, _TokenHits]) -> _TokenHits:
        hit = cache.get(token)
        if hit is not None:
            return hit
        params = self.params
        vocab = self._vocab
        sims: dict[int, float] = {}
        exact = vocab.get(token)
        if exact is not None:
            sims[exact] = 1.0
        if len(token) == 1:
            # An initial: every token starting with the letter is a weak partner.
            for tok in list(self._buckets.get("f" + token.upper(), ())):
                vid = vocab[tok]
                sims.setdefault(vid, params.initial_sim)
        else:
            initial = vocab.get(token[0].upper())
            if initial is not None:
                sims[initial] = params.initial_sim
            buckets = self._buckets
            pool: set[str] = set()
            direct: set[str] = set()  # romanisation variants: no prefilter
            edits: set[str] = set()  # one-edit neighbours of short tokens
            for key in _bucket_keys(token):
                kind = key[0]
                if kind == "r":
                    direct.update(buckets.get(key, ()))
                elif kind == "d":
                    edits.update(buckets.get(key, ()))
                elif kind == "k" or kind == "l":
                    # Same consonant skeleton. Skeleton-compared (lower-case) tokens are
                    # scored directly, as is everything for a lower-case query token; other
                    # upper-case tokens go through the prefilter.
                    skel = key[1:]
                    direct.update(buckets.get("l" + skel, ()))
                    (pool if kind == "k" else direct).update(buckets.get("k" + skel, ()))
                elif kind != "f":
                    pool.update(buckets.get(key, ()))
            if edits:
                # Deletion keys collect neighbours at up to two edits: keep one (in C).
                direct.update(c for c, _d, _i in process.extract(
                    token, list(edits), scorer=OSA.distance, score_cutoff=1, limit=None))
            pool.discard(token)
            direct.discard(token)
            pool -= direct
            for tok in direct:
                s = token_similarity(token, tok, params)
                if s > 0.0:
                    sims[vocab[tok]] = s
            if pool:
                # Cheap C prefilter. The scorer's 0.7 JW + 0.3 Levenshtein >= 0.8 practically
                # needs JW >= 0.78. Romanisation variants are all in `direct`, so for a pool
                # token `token_similarity` reduces to the mix above the cutoff and to the
                # one-edit rule below it: computed here with C calls only (same result).
                mix, sharpen, weak = params.edit_mix, params.sharpen, params.weak_sim
                variant, typo = params.variant_sim, params.typo_sim
                n = len(token)
                for tok, jw, _i in process.extract(
                    token, list(pool), scorer=_jw, score_cutoff=0.78, limit=None,
                ):
                    raw = (1.0 - mix) * jw + mix * _lev(token, tok) if mix else jw
                    m = len(tok)
                    if raw >= (params.short_cutoff if n <= 3 or m <= 3 else params.token_cutoff):
                        s = 1.0 - (1.0 - raw) * sharpen
                    elif (weak and -1 <= n - m <= 1 and min(n, m) >= 3 and max(n, m) >= 4
                          and _osa(token, tok) <= 1):
                        s = weak
                    else:
                        s = 0.0
                    if (s < typo and n >= 5 and m >= 5 and tok[0] == token[0]
                            and tok[-1] == token[-1] and _osa(token, tok) == 1):
                        s = typo
                    elif (s < variant and m >= 5 and n >= 5 and tok[0] == token[0]
                            and tok[-1] == token[-1] and vowel_variant(token, tok)):
                        s = variant
                    if s > 0.0:
                        sims[vocab[tok]] = s
        postings, solo_t = self._postings, self._solo
        hit = _TokenHits(
            sims,
            _EMPTY.union(*[p for v in sims if (p := postings.get(v))]),
            _EMPTY.union(*[p for v in sims if (p := solo_t.get(v))]),
            self._df(exact) if exact is not None else 0,
        )
        if len(cache) >= _TOKEN_CACHE_MAX:
            cache.clear()
        cache[token] = hit
        return hit

    # -- queries ---------------------------------------------------------------------------
    def candidates(self, tokens: tuple[str, ...]) -> set[int]:
        """Name records sharing at least two tokens with `tokens` (one for one-token names)."""
        cache = self._cache
        toks = _query_tokens(tokens)
        hits = [self._hits(t, cache) for t in toks]
        return self._candidates(toks, hits)

    def _candidates(
        self, toks: tuple[str, ...], hits: list[_TokenHits], window: tuple[int, ...] = ()
    ) -> set[int]:
        """Names sharing two tokens with the query (one-token names: one). With a `window` of
        birth years, big posting sets are cut to names with an owner born in it first."""
        out: set[int] = set()
        for h in hits:
            out |= h.solo
        if len(hits) < 2:
            return out
        multis = [self._in_years(h, window) for h in hits] if window else [h.multi for h in hits]
        multis.sort(key=len)
        for a in range(len(multis)):
            sa = multis[a]
            if not sa:
                continue
            for b in range(a + 1, len(multis)):
                out |= sa & multis[b]
        return out

    def _in_years(self, h: _TokenHits, window: tuple[int, ...]) -> frozenset[int]:
        if len(h.multi) < _SPLIT_MIN:
            return h.multi  # small: the caller's final year filter is cheaper
        by = h.by_year
        if by is None:
            by = h.by_year = {}
        got = by.get(window[0])
        if got is None:
            # One intersection with the window's names, in C; kept with the cached token.
            got = by[window[0]] = h.multi & self._window(window[0])
        return got

    def screen(
        self,
        query: Query | Mapping[str, Any],
        threshold: float = DEFAULT_THRESHOLD,
        limit: int | None = 10,
    ) -> list[Match]:
        """Matches for `query` (a Query, or an event dict: run `apply_mrz` on it first) at or
        above `threshold`, best first, at most `limit`."""
        if not isinstance(query, Query):
            query = query_from_event(query)
        params = self.params
        entries = self._entries
        names = self._names
        owners = self._owners
        cache = self._cache
        n_names = len(names)
        best: dict[str, tuple[float, str, Any]] = {}
        dob_ceiling: dict[str, float] = {}
        dob_cmp: dict[str, DobComparison] = {}  # computed once per entry and query
        qy = query.dob[0] if query.dob else 0
        # Owners born more than dob_far_years from the query's year score at most dob_floor:
        # skip them when that is too low.
        year_filter = bool(qy) and params.dob_floor < threshold
        window = (qy,) if year_filter else ()
        # `max_far_expected(threshold) > 0`: a far date can still let a rare name alert.
        far_can_alert = params.dob_far >= threshold

        for qv in query.names:
            toks = _query_tokens(qv.tokens)
            if not toks:
                continue
            hits = [self._hits(t, cache) for t in toks]
            full = _with_repeats(qv)
            # With a far date (a year or more apart, not a close kind), only the exact full
            # name can alert, and only a rare one (`dob_factor`): it is one lookup.
            exact_nid = self._name_ids.get(tuple(sorted(full))) if far_can_alert else None
            cands = self._candidates(toks, hits, window)
            if year_filter:
                # Names with an owner born within a year of the query's, or without a date of
                # birth; further apart (up to dob_far_years) the date only lets a name alert
                # that pairs exactly (`_exact_candidates`).
                if cands:
                    cands &= self._window(qy)
                if exact_nid is not None and exact_nid in self._window(
                        qy, params.dob_far_years):
                    cands.add(exact_nid)
            if not cands:
                continue  # most queries: the token shares below are not needed
            if full is not qv.tokens and len(full) <= _MAX_QUERY_TOKENS:
                # Score with the repeated tokens too: LASZLO LASZLO is a two-token name.
                by_tok = dict(zip(toks, hits, strict=True))
                toks = full
                hits = [by_tok[t] for t in full]
            qshare = [self._token_share(t, h) for t, h in zip(toks, hits, strict=True)]
            wq = [
                length_weight(t) * self._rarity(h.df)
                * (params.particle_weight if t in PARTICLES else 1.0)
                for t, h in zip(toks, hits, strict=True)
            ]
            common = [
                n_names >= _STATS_MIN_NAMES and h.df > _COMMON_SHARE * n_names for h in hits
            ]
            sims = [h.sims for h in hits]
            for nid in cands:
                rec = names.get(nid)
                own = owners.get(nid)
                if rec is None or not own:
                    continue
                # Cheap bound first: a name score is at most 1, and the date of birth only
                # lowers it, so owners whose date of birth contradicts can't reach threshold.
                ceiling = 0.0
                for entry_id, _v in own:
                    f = dob_ceiling.get(entry_id)
                    if f is None:
                        entry = entries.get(entry_id)
                        # The bound: the factor a rare name would get.
                        if entry is None:
                            f = 0.0
                        else:
                            cmp = dob_cmp[entry_id] = best_birth_date(query.dob, entry.dobs)
                            f = dob_factor(cmp, 0.0, params)
                        dob_ceiling[entry_id] = f
                    if f > ceiling:
                        ceiling = f
                if ceiling < threshold or (ceiling <= params.dob_far and nid != exact_nid):
                    continue
                cv = rec.vids
                pairs = [
                    (s, i, j)
                    for j, v in enumerate(cv)
                    for i, row in enumerate(sims)
                    if (s := row.get(v, 0.0)) > 0.0
                ]
                if len(pairs) < 2 and len(cv) > 1 and not rec.single:
                    continue  # shares fewer than two tokens: never a match
                weights = self._weights
                ns = score_token_lists(
                    toks, rec.tokens, pairs, wq,
                    [weights.get(v) or self._weight(v) for v in cv], common, params,
                    threshold / ceiling, merge=False,
                )
                if ns.raw * ceiling < threshold:
                    continue  # the adjustments below only ever lower a score
                for entry_id, variant_no in own:
                    entry = entries.get(entry_id)
                    if entry is None:
                        continue
                    score, method, _ = self._adjust(query, entry, ns, qshare,
                                                    dob_cmp.get(entry_id))
                    prev = best.get(entry_id)
                    if prev is None or score > prev[0]:
                        best[entry_id] = (score, method, (qv, toks, variant_no, rec.tokens, ns))

        for doc in query.documents:
            for state, entry_id in self._docs.get(doc.number, ()):
                if state and doc.issuing_state and state != doc.issuing_state:
                    continue
                entry = entries.get(entry_id)
                if entry is None:
                    continue
                doc_ev = 1.0 if state and doc.issuing_state else 0.9
                prev = best.get(entry_id)
                name_part = prev[0] if prev else 0.0
                score = doc_ev * (0.85 + 0.15 * name_part)
                detail_prev = prev[2] if prev else None
                best[entry_id] = (max(score, name_part), "document",
                                  (detail_prev, doc, state, entry))

        matches = [
            (score, entry_id, method, detail)
            for entry_id, (score, method, detail) in best.items()
            if score >= threshold
        ]
        matches.sort(key=lambda m: (-m[0], m[1]))
        if limit is not None:
            matches = matches[:limit]
        return [
            Match(entry_id, round(score, 4), method, self._explain(query, entry_id, method, d))
            for score, entry_id, method, d in matches
        ]

    def _adjust(
        self, query: Query, entry: EntryRecord, ns: NameScore,
        qshare: list[tuple[float, float]], dob: DobComparison | None = None,
    ) -> tuple[float, str, DobComparison]:
        params = self.params
        if dob is None:
            dob = best_birth_date(query.dob, entry.dobs)
        # A confirmed date of birth is evidence too: two common tokens plus the same date of
        # birth may alert, two common tokens alone may not.
        name_score = cap_by_evidence(ns.raw, ns.evidence + dob_evidence(dob, params),
                                     ns.single_ok, params)
        common = _commonness(ns, qshare, params) if dob.agreement != EXACT else 0.0
        score = name_score * dob_factor(dob, common, params)
        if query.sex and entry.sex and query.sex != entry.sex:
            score *= params.sex_mismatch
        if query.nationality and entry.nationalities and (
            query.nationality not in entry.nationalities
        ):
            score *= params.nationality_mismatch
        method = "name_dob" if dob.agreement in (EXACT, CLOSE) else "name"
        return score, method, dob

    def _token_share(self, token: str, hit: _TokenHits) -> tuple[float, float]:
        """How likely a random person's name holds `token` itself, and a token like it: the
        larger of its population share (`_population_names`) and its share of the list's
        names, the latter for the token itself and for all its similar tokens (a crowded
        neighbourhood makes a fuzzy match less telling). Names other than the one matched
        count: a token seen once says nothing of how common it is."""
        got = hit.share
        if got is not None:
            return got
        if token in PARTICLES:
            got = (1.0, 1.0)
        else:
            share = max(population_share(token), _DEFAULT_SHARE)
            n = len(self._names)
            if n < _STATS_MIN_NAMES:
                got = (share, share)
            else:
                got = (max(share, (hit.df - 1) / n),
                       max(share, (len(hit.multi) + len(hit.solo) - 1) / n))
        hit.share = got  # the hit is per token string and dropped on any change
        return got

    def _explain(self, query: Query, entry_id: str, method: str, d: Any) -> list[dict[str, Any]]:
        entry = self._entries.get(entry_id)
        if entry is None:
            return []
        out: list[dict[str, Any]] = []
        name_detail = d
        if method == "document":
            name_detail, doc, state, _entry = d
            cand = next((x for x in entry.documents if x.number == doc.number), None)
            out.append({
                "feature": "document_number", "score": 1.0 if state and doc.issuing_state else 0.9,
                "query": f"{doc.display} ({doc.issuing_state or '?'})",
                "candidate": f"{cand.display if cand else doc.number} ({state or '?'})",
            })
        if name_detail is not None:
            qv, toks, variant_no, ctoks, ns = name_detail
            cv: NameVariant = entry.names[variant_no]
            out.append({"feature": "name", "score": round(ns.score, 4),
                        "query": qv.display, "candidate": cv.display})
            out.extend(token_features(toks, ctoks, ns))
        dob = best_birth_date(query.dob, entry.dobs)
        listed: str | None
        if dob.candidate is not None:
            listed = dob.candidate.text
        else:
            listed = ", ".join(bd.text for bd in entry.dobs) or None
        out.append({"feature": "date_of_birth",
                    "score": None if dob.agreement == UNKNOWN else dob.score,
                    "query": format_partial_date(query.dob), "candidate": listed,
                    "agreement": dob.agreement,
                    "detail": dob.detail if len(entry.dobs) < 2 or dob.candidate is None
                    else f"{dob.detail}; best of {len(entry.dobs)} listed dates"})
        if query.sex and entry.sex:
            out.append({"feature": "sex", "score": 1.0 if query.sex == entry.sex else 0.0,
                        "query": query.sex, "candidate": entry.sex})
        if query.nationality and entry.nationalities:
            ok = query.nationality in entry.nationalities
            out.append({"feature": "nationality", "score": 1.0 if ok else 0.0,
                        "query": query.nationality,
                        "candidate": ",".join(sorted(entry.nationalities))})
        return out


def token_features(
    q: tuple[str, ...], c: tuple[str, ...], ns: NameScore
) -> list[dict[str, Any]]:
    """One `name_token` feature per token pairing, and one per token left without a partner."""
    out: list[dict[str, Any]] = []
    used_q: set[int] = set()
    used_c: set[int] = set()
    for i, j, s in ns.pairs:
        used_q.add(i)
        used_c.add(j)
        out.append({"feature": "name_token", "score": round(s, 4), "query": q[i],
                    "candidate": c[j]})
    for i, t in enumerate(q):
        if i not in used_q:
            out.append({"feature": "name_token", "score": 0.0, "query": t, "candidate": None})
    for j, t in enumerate(c):
        if j not in used_c:
            out.append({"feature": "name_token", "score": 0.0, "query": None, "candidate": t})
    return out


def _commonness(ns: NameScore, qshare: list[tuple[float, float]], params: Params) -> float:
    """How common the matched name is (0 rare .. 1 common): the expected number of people
    in a reference population whose name holds the paired tokens (the query's tokens that
    found a partner, particles aside; for a fuzzy pairing, any token like it), taken as
    independent."""
    shares = sorted(qshare[i][0 if s >= 1.0 else 1] for i, _j, s in ns.pairs
                    if s >= params.token_cutoff and qshare[i][0] < 1.0)
    expected = _REFERENCE_POPULATION
    # The two rarest only: the tokens of a long name are not independent (THI, VAN in
    # Vietnamese names), and two rare tokens already make a name rare.
    for share in shares[:2]:
        expected *= share
    return name_commonness(expected)


def _entry_years(entry: EntryRecord) -> frozenset[int]:
    """Birth years of an entry's listed dates (every year of a span), or {0} without one."""
    if not entry.dobs:
        return _NO_YEAR
    return frozenset(y for bd in entry.dobs for y in bd.years)


_NO_YEAR = frozenset({0})


def _as_record(item: EntryRecord | Mapping[str, Any]) -> EntryRecord | None:
    return item if isinstance(item, EntryRecord) else entry_from_dict(item)


def _with_repeats(v: NameVariant) -> tuple[str, ...]:
    """The variant's tokens with repeated ones kept (`name_tokens_with_repeats`), or its own
    tokens (the same object) when nothing repeats or they come from another reading."""
    full = name_tokens_with_repeats(v.display)
    if len(full) > len(v.tokens) and tuple(dict.fromkeys(full)) == v.tokens:
        return full
    return v.tokens


def _query_tokens(tokens: tuple[str, ...]) -> tuple[str, ...]:
    # Very long names: keep the longest tokens (the most identifying), in their order.
    uniq = tuple(dict.fromkeys(tokens))
    if len(uniq) <= _MAX_QUERY_TOKENS:
        return uniq
    keep = set(sorted(uniq, key=len, reverse=True)[:_MAX_QUERY_TOKENS])
    return tuple(t for t in uniq if t in keep)


def _bucket_keys(token: str) -> tuple[str, ...]:
    if len(token) == 1:
        return ("1" + token.upper(),)
    up = token.upper()
    if token.islower():
        # Skeleton-compared tokens (vowel-less scripts) sit apart from the others' skeleton
        # bucket: the resolver scores them without the JW prefilter.
        return ("f" + up[0], "l" + skeleton(token))
    keys = ["f" + up[0], "k" + skeleton(token)]
    keys.append("p" + token[:3])
    if len(token) >= 4:
        keys.append("s" + token[-3:])
    keys.append("m" + jellyfish.metaphone(token))
    if len(token) >= 4:
        keys.append("a" + token[:2] + token[-1])  # survives one edit inside the token
        keys.append("g" + "".join(sorted(token)))  # survives transpositions
    keys.append("r" + variant_key(token))  # romanisation variants (FEHER / PHEHER)
    group = given_name_group(token)
    if group >= 0:
        keys.append(f"r#{group}")  # one given name in another language (VIKTAR / VICTOR)
    if 3 <= len(token) <= 5:
        # Short tokens: their one-letter deletions, so a single edit shares a key (RADU /
        # RAU, KAUL / KRUL, SAHA / SAAH). Not between two tokens of three letters: the
        # scorer accepts no edit there (TAN, VAN, LAN are different names).
        keys.append("d" + token)
        if len(token) > 3:
            keys.extend({"d" + token[:i] + token[i + 1:] for i in range(len(token))})
    return tuple(keys)
