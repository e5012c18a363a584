"""Screening: a query's candidates from the blocking index, bounded by date of birth, then
scored, adjusted and explained. The tables and their writes are `storage.IndexStorage`; token
resolution is `blocking.py`; explanations are `explain.py`.

A query token is resolved once to its similar vocabulary tokens and the union of their postings
(cached per token string until the next write); a multi-token query's candidates are the names
that share at least two of its tokens (pairwise intersections of those sets), so neither the
list nor the vocabulary is ever scanned. Readers take no lock (see storage.py's concurrency
note): a removed entry stops matching once `remove` returns, because every candidate is checked
against the live entry table.

`screen` is one long function on purpose: it is the hot loop (about 50 µs a query), and its
locals are bound once per query.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from failsafe.matching.blocking import (
    MAX_QUERY_TOKENS,
    TokenHits,
    query_tokens,
    similar_tokens,
    with_repeats,
)
from failsafe.matching.dob import CLOSE, EXACT, DobComparison, best_birth_date
from failsafe.matching.explain import Candidate, DocumentEvidence, NameEvidence, explain
from failsafe.matching.explain import token_features as token_features
from failsafe.matching.normalize import PARTICLES, WEAK_TOKENS, DateParts
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
)
from failsafe.matching.storage import STATS_MIN_NAMES, IndexStorage
from failsafe.matching.types import EntryRecord, Match, Query, query_from_event

_COMMON_SHARE = 0.001  # a token in more than 1 name in 1000 is "common"
_TOKEN_CACHE_MAX = 200_000
# ... and at most about this many set elements in the cached tokens' posting unions and cuts:
# a common token's union holds thousands of names, so a count of tokens alone does not bound
# the memory. At 100k entries the scale benchmark's traffic holds ~6.7 million (~550 MB with
# the sets' tables); at 1M, 63 million. Past this the cache becomes the older generation
# (`_hits`): the two hold at most twice this, ~1.3 GB.
_TOKEN_CACHE_ELEMENTS = 8_000_000
# Posting sets at least this big are cut to a query year's window (kept with the cached token)
# before they are intersected. 256 -> 32 made the candidate step 1.6-2x faster on the scale
# benchmark's traffic (a 3-token name: three pairwise intersections of ~60-400 names, against
# ~10 % of that once cut), for ~50 MB more of cached cuts after its passes (docs/matching.md).
_SPLIT_MIN = 32
# Commonness of a name (see `_commonness`): the expected bearers of its tokens in a population
# of this size, each token's share being at least _DEFAULT_SHARE (a name outside the
# population table and rare in the list).
_REFERENCE_POPULATION = 1e9
_DEFAULT_SHARE = 3e-7
_THIRD_TOKEN_SHARE = 0.2
_EMPTY: frozenset[int] = frozenset()
_DOB_MEMO_MAX = 500_000  # date comparisons kept across queries (query date, entry)
_BOUND_MARGIN = 1e-9
# Per query date: entry id -> (record, comparison, bound); name record -> its owners' best bound.
_DateMemo = tuple[dict[str, tuple[EntryRecord, DobComparison, float]], dict[int, float]]


class WatchlistIndex(IndexStorage):
    """The watchlist as the matcher sees it. `add`, `replace` and `remove` are incremental."""

    def __init__(self, params: Params = DEFAULT_PARAMS) -> None:
        super().__init__(params)
        # State kept with the token cache it was built for (replaced with the cache on any
        # write, see `screen` and `_hits`):
        # - query date -> (entry id -> (the entry record compared, its `best_birth_date`,
        #   the bound `dob_factor` gives it); name record -> the best of its owners' bounds),
        #   and how many are kept: the same traveller dates recur, and a comparison with one
        #   is the same until the entry changes (`_ceiling`);
        self._dob_memo: tuple[dict[str, TokenHits] | None, dict[DateParts | None, _DateMemo],
                              list[int]] = (None, {}, [0])
        # - the set elements its tokens hold (postings' unions and their birth-year cuts):
        #   `_TOKEN_CACHE_ELEMENTS`; and its older generation (`_hits`).
        self._cache_held: list[Any] = [None, 0, {}]

    def _hits(self, token: str, cache: dict[str, TokenHits]) -> TokenHits:
        hit = cache.get(token)
        if hit is not None:
            return hit
        held = self._cache_held
        if held[0] is not cache:
            held = self._cache_held = [cache, 0, {}]
        # A token of the older generation is moved back, with its cuts (see below).
        hit = held[2].pop(token, None)
        if hit is None:
            exact = self._vocab.get(token)
            # A list token's similar tokens are in the neighbour table (the same as
            # `similar_tokens` gives, computed when the list was loaded).
            table = self._neighbours
            if exact is not None and table is not None and exact < len(table):
                sims = table[exact]
            else:
                sims = similar_tokens(token, self._vocab, self._buckets, self.params)
            postings, solo_t = self._postings, self._solo
            hit = TokenHits(
                sims,
                _EMPTY.union(*[p for v in sims if (p := postings.get(v))]),
                _EMPTY.union(*[p for v in sims if (p := solo_t.get(v))]),
                self._df(exact) if exact is not None else 0,
            )
        size = _elements(hit)
        held[1] += size
        if len(cache) >= _TOKEN_CACHE_MAX or held[1] > _TOKEN_CACHE_ELEMENTS:
            # Past the budget the cache becomes the older generation and starts afresh: the
            # tokens asked for again are moved back, the rest go at the next turn. The tokens
            # in use stay (common ones recur within any few hundred events), and the memory
            # held is at most two budgets. (Emptying it all made a big list's warm passes
            # as slow as cold ones: docs/matching.md, speed round 4.)
            held[2] = dict(cache)
            cache.clear()
            held[1] = size
        cache[token] = hit
        return hit

    # -- queries ---------------------------------------------------------------------------
    def candidates(self, tokens: tuple[str, ...]) -> set[int]:
        """Name records sharing at least two tokens with `tokens` (one for one-token names)."""
        cache = self._cache
        toks = query_tokens(tokens)
        hits = [self._hits(t, cache) for t in toks]
        return self._candidates(toks, hits)

    def _candidates(
        self, toks: tuple[str, ...], hits: list[TokenHits], window: tuple[int, ...] = ()
    ) -> set[int]:
        """Names sharing two tokens with the query (one-token names: one). With a `window` of
        birth years, big posting sets are cut to names with an owner born in it first."""
        out: set[int] = set()
        for h in hits:
            if h.solo:
                out |= h.solo
        if len(hits) < 2:
            return out
        if len(hits) == 2:
            # Most names (the loop below, unrolled): the smaller set, cut, against the other.
            small, large = hits
            if len(small.multi) > len(large.multi):
                small, large = large, small
            cut = self._in_years(small, window) if window else small.multi
            if cut:
                out |= cut & large.multi
            return out
        if window:
            # Every pair's intersection iterates its smaller set, and the largest set is
            # never the smaller one: cut the others to the window, not the largest (the
            # caller's final year filter gives the same candidates either way).
            ordered = sorted(hits, key=_multi_size)
            multis = [self._in_years(h, window) for h in ordered[:-1]]
            multis.append(ordered[-1].multi)
        else:
            multis = [h.multi for h in hits]
        # (A set intersection iterates the smaller set whatever the order.)
        for a in range(len(multis)):
            sa = multis[a]
            if not sa:
                continue
            for b in range(a + 1, len(multis)):
                out |= sa & multis[b]
        return out

    def _in_years(self, h: TokenHits, window: tuple[int, ...]) -> frozenset[int]:
        if len(h.multi) < _SPLIT_MIN:
            return h.multi  # small: the caller's final year filter is cheaper
        by = h.by_year
        if by is None:
            by = h.by_year = {}
        got = by.get(window[0])
        if got is None:
            # One intersection with the window's names, in C; kept with the cached token
            # (and counted in its cache's budget, `_TOKEN_CACHE_ELEMENTS`).
            got = by[window[0]] = h.multi & self._window(window[0])
            held = self._cache_held
            if held[0] is self._cache:
                held[1] += len(got)
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
        name_w = self._name_w
        n_names = len(names)
        best: dict[str, Candidate] = {}
        # An entry's date comparison is computed once per query date and entry record, and
        # kept across queries (`_dob_memo`).
        qdob = query.dob
        memo = self._dob_memo
        if memo[0] is not cache:
            # The token cache is replaced on every write: drop the comparisons with it, so
            # the memo holds no replaced or removed entry for long.
            memo = self._dob_memo = (cache, {}, [0])
        date_memo = memo[1].get(qdob)
        if date_memo is None:
            date_memo = memo[1][qdob] = ({}, {})
        dob_memo, ceilings = date_memo
        qy = query.dob[0] if query.dob else 0
        # Owners born more than dob_far_years from the query's year score at most dob_floor:
        # skip them when that is too low.
        year_filter = bool(qy) and params.dob_floor < threshold
        window = (qy,) if year_filter else ()
        # `max_far_expected(threshold) > 0`: a far date can still let a rare name alert.
        far_can_alert = params.dob_far >= threshold

        for qv in query.names:
            toks = query_tokens(qv.tokens)
            if not toks:
                continue
            hits = [cache.get(t) or self._hits(t, cache) for t in toks]
            full = with_repeats(qv)
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
            if full is not qv.tokens and len(full) <= MAX_QUERY_TOKENS:
                # Score with the repeated tokens too: LASZLO LASZLO is a two-token name.
                by_tok = dict(zip(toks, hits, strict=True))
                toks = full
                hits = [by_tok[t] for t in full]
            qshare = [self._token_share(t, h) for t, h in zip(toks, hits, strict=True)]
            wq = [
                h.weight if h.weight is not None else self._query_weight(t, h)
                for t, h in zip(toks, hits, strict=True)
            ]
            # Without a clan word on either side and with as many tokens on both, leftovers
            # are on both sides or on neither: no token is joined (`_join_split`), and the
            # name score is at most the best token similarity (see the bound below).
            no_join = WEAK_TOKENS.isdisjoint(toks)
            nq = len(toks)
            common = [
                n_names >= STATS_MIN_NAMES and h.df > _COMMON_SHARE * n_names for h in hits
            ]
            sims = [h.sims for h in hits]
            for nid in cands:
                # Cheap bound first: a name score is at most 1, and the date of birth only
                # lowers it, so owners whose date of birth contradicts can't reach threshold.
                ceiling = ceilings.get(nid)
                if ceiling is None:
                    ceiling = self._ceiling(nid, qdob, date_memo, memo)
                if ceiling < threshold or (ceiling <= params.dob_far and nid != exact_nid):
                    continue
                rec = names.get(nid)
                own = owners.get(nid)
                if rec is None or not own:
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
                if (no_join and pairs and len(cv) == nq
                        and max(pairs)[0] * ceiling < threshold - _BOUND_MARGIN
                        and WEAK_TOKENS.isdisjoint(rec.tokens)):
                    # The name score is a weighted mean of the paired similarities over a
                    # denominator at least their weight: at most the best one. (The margin
                    # covers the rounding of that mean.)
                    continue
                ns = score_token_lists(
                    toks, rec.tokens, pairs, wq,
                    name_w.get(nid) or self._name_weights(nid, cv), common, params,
                    threshold / ceiling, merge=False, q_surname=qv.surname,
                )
                if ns.raw * ceiling < threshold:
                    continue  # the adjustments below only ever lower a score
                for entry_id, variant_no in own:
                    entry = entries.get(entry_id)
                    if entry is None:
                        continue
                    got = dob_memo.get(entry_id)
                    score, method, how_common = self._adjust(
                        query, entry, ns, qshare,
                        got[1] if got is not None and got[0] is entry else None)
                    prev = best.get(entry_id)
                    if prev is None or score > prev.score:
                        best[entry_id] = Candidate(score, method, NameEvidence(
                            qv, toks, variant_no, rec.tokens, ns, how_common))

        for doc in query.documents:
            for state, entry_id in self._docs.get(doc.number, ()):
                if state and doc.issuing_state and state != doc.issuing_state:
                    continue
                entry = entries.get(entry_id)
                if entry is None:
                    continue
                doc_ev = 1.0 if state and doc.issuing_state else 0.9
                prev = best.get(entry_id)
                name_part = prev.score if prev else 0.0
                score = doc_ev * (0.85 + 0.15 * name_part)
                name_ev = prev.evidence if prev else None
                if isinstance(name_ev, DocumentEvidence):
                    # The same number listed twice for this entry: keep the name found.
                    name_ev = name_ev.name
                best[entry_id] = Candidate(max(score, name_part), "document",
                                           DocumentEvidence(name_ev, doc, state))

        found = [(c.score, entry_id, c) for entry_id, c in best.items() if c.score >= threshold]
        if len(found) > 1:
            found.sort(key=_best_first)
        if limit is not None:
            found = found[:limit]
        out: list[Match] = []
        for score, entry_id, cand in found:
            entry = entries.get(entry_id)
            explanation = explain(query, entry, cand) if entry is not None else []
            out.append(Match(entry_id, round(score, 4), cand.method, explanation))
        return out

    def _ceiling(self, nid: int, qdob: DateParts | None, date_memo: _DateMemo,
                 memo: tuple[Any, dict[DateParts | None, _DateMemo], list[int]]) -> float:
        """The most the date of birth lets name record `nid` score against a query born
        `qdob`: the best factor its owners would give a rare name (`dob_factor`), kept in the
        query date's memo with each owner's comparison (for `_adjust`). A write replaces the
        memo with the token cache; a query running during the write may read a bound from
        before it, as it reads the rest of the index (storage.py's concurrency note)."""
        by_entry, ceilings = date_memo
        size = memo[2]
        if size[0] >= _DOB_MEMO_MAX:
            # Emptied in place: the caller holds this date's dicts.
            by_entry.clear()
            ceilings.clear()
            memo[1].clear()
            memo[1][qdob] = date_memo
            size[0] = 0
        entries, params = self._entries, self.params
        ceiling = 0.0
        for entry_id, _v in self._owners.get(nid, ()):
            entry = entries.get(entry_id)
            if entry is None:
                continue
            got = by_entry.get(entry_id)
            if got is None or got[0] is not entry:
                # (The same record object: a replaced entry is compared again.)
                cmp = best_birth_date(qdob, entry.dobs)
                got = by_entry[entry_id] = (entry, cmp, dob_factor(cmp, 0.0, params))
                size[0] += 1
            if got[2] > ceiling:
                ceiling = got[2]
        ceilings[nid] = ceiling
        size[0] += 1
        return ceiling

    def _query_weight(self, token: str, hit: TokenHits) -> float:
        """A query token's weight (length, rarity in the list, particle), kept with the hit
        (per token string, dropped on any change like the rarity it depends on)."""
        w = hit.weight = (
            length_weight(token) * self._rarity(hit.df)
            * (self.params.particle_weight if token in PARTICLES else 1.0)
        )
        return w

    def _adjust(
        self, query: Query, entry: EntryRecord, ns: NameScore,
        qshare: list[tuple[float, float]], dob: DobComparison | None = None,
    ) -> tuple[float, str, float | None]:
        """The name score adjusted by the date of birth, sex and nationality; the method; and
        the name's commonness when the date made it count (not for an exact date)."""
        params = self.params
        if dob is None:
            dob = best_birth_date(query.dob, entry.dobs)
        # A confirmed date of birth is evidence too: two common tokens plus the same date of
        # birth may alert, two common tokens alone may not.
        name_score = cap_by_evidence(ns.raw, ns.evidence + dob_evidence(dob, params),
                                     ns.single_ok, params)
        common = _commonness(ns, qshare, params) if dob.agreement != EXACT else None
        score = name_score * dob_factor(dob, common or 0.0, params)
        if query.sex and entry.sex and query.sex != entry.sex:
            score *= params.sex_mismatch
        if query.nationality and entry.nationalities and (
            query.nationality not in entry.nationalities
        ):
            score *= params.nationality_mismatch
        method = "name_dob" if dob.agreement in (EXACT, CLOSE) else "name"
        return score, method, common

    def _token_share(self, token: str, hit: TokenHits) -> tuple[float, float]:
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
            if n < STATS_MIN_NAMES:
                got = (share, share)
            else:
                got = (max(share, (hit.df - 1) / n),
                       max(share, (len(hit.multi) + len(hit.solo) - 1) / n))
        hit.share = got  # the hit is per token string and dropped on any change
        return got


def _elements(hit: TokenHits) -> int:
    """The set elements a cached token holds (`_TOKEN_CACHE_ELEMENTS`)."""
    cuts = hit.by_year
    return len(hit.multi) + len(hit.solo) + (sum(map(len, cuts.values())) if cuts else 0)


def _best_first(m: tuple[float, str, Candidate]) -> tuple[float, str]:
    return -m[0], m[1]


def _multi_size(h: TokenHits) -> int:
    return len(h.multi)


def _commonness(ns: NameScore, qshare: list[tuple[float, float]], params: Params) -> float:
    """How common the matched name is (0 rare .. 1 common): the expected number of people
    in a reference population whose name holds the paired tokens (the query's tokens that
    found a partner, particles aside; for a fuzzy pairing, any token like it), taken as
    independent."""
    shares = sorted(qshare[i][0 if s >= 1.0 else 1] for i, _j, s in ns.pairs
                    if s >= params.token_cutoff and qshare[i][0] < 1.0)
    expected = _REFERENCE_POPULATION
    # The two rarest fully: the tokens of a long name are not independent (THI, VAN in
    # Vietnamese names), and two rare tokens already make a name rare. A third paired token
    # (a middle name or initial: CRAIG A GOLDMAN) makes it rarer still, but at most fivefold
    # (_THIRD_TOKEN_SHARE), whatever its own share says: 0.1 bought 5 more real-world hits
    # for 7 more false positives on the synthetic pools' long names (docs/matching.md).
    for share in shares[:2]:
        expected *= share
    if len(shares) > 2:
        expected *= max(shares[2], _THIRD_TOKEN_SHARE)
    return name_commonness(expected)
