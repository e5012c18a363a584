"""The neighbour table: every vocabulary token's similar tokens, computed for the whole list at
once when it is loaded (`IndexStorage.add_many`), so that resolving a query token that is also
a list token (nine in ten of a traffic's distinct tokens) is a lookup, not a
`blocking.similar_tokens` call. That call was the first pass's largest cost (docs/matching.md,
speed round 5).

Invariant (guarded by tests/unit/matching/test_neighbours.py): `table[v]` equals
`similar_tokens(vtok[v], ...)` on the same vocabulary: the same partners, the same
similarities. The batch gets there in C and numpy rather than one Python call per token:
- tokens sharing a prefilter bucket (`blocking.bucket_keys`: prefix, suffix, metaphone,
  consonant skeleton, first-two-plus-last letter, sorted letters): one rapidfuzz `cdist` per
  bucket of eight or more (row blocks bound its memory), one `cpdist` over the pairs of the
  small ones, kept at Jaro-Winkler >= 0.78 as the resolver's prefilter keeps them;
- the partners the resolver takes without the prefilter: romanisation variants and given-name
  equivalents (the "r" buckets), one-edit neighbours of short tokens (the "d" buckets, kept at
  OSA distance <= 1) and skeleton-compared tokens (lower case, from vowel-less scripts);
- each pair's similarity is `score.token_similarity`, vectorised for two upper-case tokens (the
  same arithmetic in the same order) and called for pairs with a lower-case token.

Work grows with the square of the bucket sizes (5.3 million pairs at 100k entries, ~2 s);
past `PAIR_BUDGET` the table is not built and tokens are resolved one at a time as before.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from rapidfuzz import process
from rapidfuzz.distance import OSA, JaroWinkler, Levenshtein

from failsafe.matching.blocking import similar_tokens
from failsafe.matching.score import Params, token_similarity

Table = list[dict[int, float]]
_Ints = npt.NDArray[np.int32]
_Floats = npt.NDArray[np.float64]

# Bucket kinds whose tokens go through the Jaro-Winkler prefilter (`similar_tokens`' pool).
POOL_KINDS = frozenset("psmagk")
_JW_CUT = 0.78  # the prefilter's cutoff in `similar_tokens`
_MATRIX_MIN = 8  # buckets this big get a cdist matrix; smaller ones go into one cpdist
_MATRIX_CELLS = 1 << 22  # a cdist call computes at most this many cells (32 MB)
_CHUNK = 1 << 18  # pairs scored at a time (a dozen temporary arrays of this length)
# At most this many ordered pairs in the prefilter buckets (Σ size²): 8x the 100k benchmark
# list's 5.3 million, ~15 s. Past it the build would cost more than the first pass saves.
PAIR_BUDGET = 40_000_000

_jw = JaroWinkler.normalized_similarity


def pool_pairs(buckets: dict[str, list[str]]) -> int:
    """Ordered pairs (Σ size²) in the prefilter buckets: the batch's work, known up front."""
    return sum(len(b) * len(b) for key, b in buckets.items() if key[0] in POOL_KINDS)


def build(vtok: list[str], vocab: dict[str, int], buckets: dict[str, list[str]],
          params: Params) -> Table:
    """`table[v]` = `similar_tokens(vtok[v], vocab, buckets, params)`, for every token."""
    n = len(vtok)
    table: Table = [{v: 1.0} for v in range(n)]
    initial = params.initial_sim
    for v, tok in enumerate(vtok):
        if len(tok) == 1:
            # An initial's partners are its bucket of tokens with that letter: the resolver's.
            table[v] = similar_tokens(tok, vocab, buckets, params)
        else:
            iv = vocab.get(tok[0].upper())
            if iv is not None:
                table[v][iv] = initial
    strings = np.array(vtok, dtype=object)
    pairs = _candidate_pairs(strings, vocab, buckets)
    codes = _Codes(vtok, vocab, buckets)
    all_i, all_j, all_jw, all_lev, all_osa = pairs
    for start in range(0, len(all_i), _CHUNK):
        part = slice(start, start + _CHUNK)
        i, j, jw, lev, osa = all_i[part], all_j[part], all_jw[part], all_lev[part], all_osa[part]
        _fill(strings, i, j, lev, osa, params.edit_mix)
        mixed = codes.lower[i] | codes.lower[j]
        sims = _similarities(codes, i, j, jw, lev, osa, params)
        sims[mixed] = [token_similarity(vtok[a], vtok[b], params)
                       for a, b in zip(i[mixed].tolist(), j[mixed].tolist(), strict=True)]
        keep = sims > 0.0
        i, j, sims = i[keep], j[keep], sims[keep]
        # Pairs come sorted by (i, j): one dict update per token.
        cuts = (np.flatnonzero(np.diff(i)) + 1).tolist()
        il, jl, sl = i.tolist(), j.tolist(), sims.tolist()
        for a, b in zip([0, *cuts], [*cuts, len(il)], strict=True):
            if a < b:
                table[il[a]].update(zip(jl[a:b], sl[a:b], strict=True))
    return table


def extend(table: Table, vid: int, vtok: list[str], vocab: dict[str, int],
           buckets: dict[str, list[str]], params: Params) -> None:
    """Add token `vid` (the next one: `len(table) == vid`, already in `vocab` and `buckets`):
    its own row, and itself in the rows of its partners below `vid`. Rows are replaced, never
    changed in place: a reader may hold one."""
    token = vtok[vid]
    row = similar_tokens(token, vocab, buckets, params)
    initial = params.initial_sim
    if len(token) == 1:
        # An initial: in the row of each token whose initial `similar_tokens` takes it for.
        for v in row:
            if v < vid and vtok[v][0].upper() == token:
                table[v] = {**table[v], vid: initial}
    else:
        for v in row:
            if v < vid and len(vtok[v]) > 1:
                s = token_similarity(vtok[v], token, params)
                if s > 0.0:
                    table[v] = {**table[v], vid: s}
        # ... and in the rows of the initials that take it (their "f" bucket).
        first = token.upper()[0]
        for letter in {first, first.lower()}:
            lv = vocab.get(letter)
            if lv is not None and lv < vid and letter.upper() == first:
                table[lv] = {**table[lv], vid: initial}
    table.append(row)


_Pairs = tuple[_Ints, _Ints, _Floats, _Floats, _Ints]  # i, j, JW, Levenshtein, OSA


def _candidate_pairs(strings: npt.NDArray[np.object_], vocab: dict[str, int],
                     buckets: dict[str, list[str]]) -> _Pairs:
    """Every ordered pair (i, j) of different tokens that `similar_tokens(vtok[i])` scores,
    besides initials, once each and sorted, with their Jaro-Winkler similarity, and their
    normalised Levenshtein similarity and OSA distance (capped at 3) where a bucket's matrix
    gave them (NaN and -1 where not: `_fill`)."""
    parts: list[_Pairs] = []
    small: list[list[int]] = []
    edits: list[list[int]] = []
    direct: list[list[int]] = []
    for key, bucket in buckets.items():
        kind = key[0]
        if kind == "l":
            # Skeleton-compared tokens: with each other and with the upper-case tokens of
            # their skeleton (k x k is a prefilter bucket), both ways.
            ls = [vocab[t] for t in bucket]
            ks = [vocab[t] for t in buckets.get("k" + key[1:], ())]
            pairs = [(a, b) for a in ls for b in ls if a != b]
            pairs += [(a, b) for a in ls for b in ks] + [(b, a) for a in ls for b in ks]
            if pairs:
                ia, ja = zip(*pairs, strict=True)
                parts.append(_unscored(np.array(ia, dtype=np.int32),
                                       np.array(ja, dtype=np.int32)))
        elif len(bucket) < 2:
            continue
        elif kind == "r":
            direct.append([vocab[t] for t in bucket])
        elif kind == "d":
            edits.append([vocab[t] for t in bucket])
        elif kind in POOL_KINDS:
            if len(bucket) < _MATRIX_MIN:
                small.append([vocab[t] for t in bucket])
            else:
                parts.append(_matrix_pairs(bucket, vocab))
    i, j = _pairs_within(small)
    jw = _cpdist(strings, i, j, _jw, score_cutoff=_JW_CUT, dtype=np.float64)
    keep = jw >= _JW_CUT
    parts.append(_unscored(i[keep], j[keep], jw[keep]))
    i, j = _pairs_within(edits)
    osa = _cpdist(strings, i, j, OSA.distance, score_cutoff=1, dtype=np.int32)
    keep = osa <= 1
    parts.append(_unscored(i[keep], j[keep], osa=osa[keep]))
    parts.append(_unscored(*_pairs_within(direct)))
    i, j, jw, lev, osa = _concat(parts)
    del parts
    # Once each (a pair often shares several buckets), sorted by (i, j).
    pair_key = i.astype(np.int64) * len(strings) + j
    order = np.argsort(pair_key, kind="stable")
    first = np.ones(len(order), dtype=bool)
    first[1:] = pair_key[order][1:] != pair_key[order][:-1]
    order = order[first]
    i, j, jw, lev, osa = i[order], j[order], jw[order], lev[order], osa[order]
    todo = np.flatnonzero(np.isnan(jw))
    jw[todo] = _cpdist(strings, i[todo], j[todo], _jw, dtype=np.float64)
    return i, j, jw, lev, osa


def _unscored(i: _Ints, j: _Ints, jw: _Floats | None = None,
              osa: _Ints | None = None) -> _Pairs:
    n = len(i)
    return (i, j, np.full(n, np.nan) if jw is None else jw, np.full(n, np.nan),
            np.full(n, -1, dtype=np.int32) if osa is None else osa)


def _matrix_pairs(bucket: list[str], vocab: dict[str, int]) -> _Pairs:
    """The pairs of one big prefilter bucket at Jaro-Winkler >= 0.78, a block of rows at a
    time (the choices are a copy: rapidfuzz may fill a symmetric matrix from one half)."""
    vids = np.fromiter((vocab[t] for t in bucket), dtype=np.int32, count=len(bucket))
    choices = list(bucket)
    step = max(1, _MATRIX_CELLS // len(bucket))
    out: list[_Pairs] = []
    for start in range(0, len(bucket), step):
        rows = bucket[start:start + step]
        m = process.cdist(rows, choices, scorer=_jw, score_cutoff=_JW_CUT, dtype=np.float64)
        diagonal = np.arange(len(rows))
        m[diagonal, diagonal + start] = 0.0  # not a token with itself
        a, c = np.nonzero(m)
        if not len(a):
            continue
        # In C, the whole block costs less than a call per surviving pair.
        lev = process.cdist(rows, choices, scorer=Levenshtein.normalized_similarity,
                            dtype=np.float64)
        osa = process.cdist(rows, choices, scorer=OSA.distance, score_cutoff=2,
                            dtype=np.int32)
        out.append((vids[a + start], vids[c], m[a, c], lev[a, c], osa[a, c]))
    if not out:
        return _unscored(np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int32))
    return _concat(out)


def _concat(parts: list[_Pairs]) -> _Pairs:
    """The parts' pairs end to end, column by column."""
    return (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]),
            np.concatenate([p[2] for p in parts]), np.concatenate([p[3] for p in parts]),
            np.concatenate([p[4] for p in parts]))


def _fill(strings: npt.NDArray[np.object_], i: _Ints, j: _Ints, lev: _Floats, osa: _Ints,
          mix: float) -> None:
    """The Levenshtein similarities and OSA distances no matrix gave, in place."""
    if mix:
        todo = np.flatnonzero(np.isnan(lev))
        lev[todo] = _cpdist(strings, i[todo], j[todo], Levenshtein.normalized_similarity,
                            dtype=np.float64)
    todo = np.flatnonzero(osa < 0)
    osa[todo] = _cpdist(strings, i[todo], j[todo], OSA.distance, score_cutoff=2,
                        dtype=np.int32)


def _pairs_within(groups: list[list[int]]) -> tuple[_Ints, _Ints]:
    """Every ordered pair (a, b), a != b, of members of one group, for all groups at once."""
    if not groups:
        empty = np.zeros(0, dtype=np.int32)
        return empty, empty
    sizes = np.fromiter((len(g) for g in groups), dtype=np.int64, count=len(groups))
    members = np.fromiter((v for g in groups for v in g), dtype=np.int32,
                          count=int(sizes.sum()))
    starts = np.cumsum(sizes) - sizes
    squares = sizes * sizes
    group = np.repeat(np.arange(len(groups)), squares)
    k = np.arange(int(squares.sum()), dtype=np.int64) - (np.cumsum(squares) - squares)[group]
    size = sizes[group]
    a = members[starts[group] + k // size]
    b = members[starts[group] + k % size]
    keep = a != b
    return a[keep], b[keep]


def _cpdist(strings: npt.NDArray[np.object_], i: _Ints, j: _Ints, scorer: Any,
            dtype: Any = np.float64, score_cutoff: float | None = None) -> npt.NDArray[Any]:
    """`scorer(strings[i[k]], strings[j[k]])` for every k, in one C call."""
    if not len(i):
        return np.zeros(0, dtype=dtype)
    got: npt.NDArray[Any] = process.cpdist(strings[i].tolist(), strings[j].tolist(),
                                           scorer=scorer, score_cutoff=score_cutoff,
                                           dtype=dtype)
    return got


class _Codes:
    """Per vocabulary token, small integers for what the scorer compares (equal values, equal
    codes), read off the buckets: the same keys, without recomputing them per token."""

    def __init__(self, vtok: list[str], vocab: dict[str, int],
                 buckets: dict[str, list[str]]) -> None:
        n = len(vtok)
        self.lens = np.fromiter((len(t) for t in vtok), dtype=np.int64, count=n)
        self.firsts = np.fromiter((ord(t[0]) for t in vtok), dtype=np.int64, count=n)
        self.lasts = np.fromiter((ord(t[-1]) for t in vtok), dtype=np.int64, count=n)
        self.lower = np.fromiter((t.islower() for t in vtok), dtype=bool, count=n)
        # A token no bucket gives a code keeps its own, negative one (-1 for the given-name
        # group is "none", as `given_name_group` says).
        self.skeleton = -2 - np.arange(n, dtype=np.int64)
        self.variant = -2 - np.arange(n, dtype=np.int64)
        self.group = np.full(n, -1, dtype=np.int64)
        skeletons: dict[str, int] = {}
        for code, (key, bucket) in enumerate(buckets.items()):
            kind = key[0]
            if kind == "k" or kind == "l":  # one skeleton, upper- and lower-case tokens
                target, code = self.skeleton, skeletons.setdefault(key[1:], len(skeletons))
            elif kind == "r":
                target = self.group if key[1:2] == "#" else self.variant
            else:
                continue
            target[[vocab[t] for t in bucket]] = code


def _similarities(codes: _Codes, i: _Ints, j: _Ints, jw: _Floats, lev: _Floats, osa: _Ints,
                  params: Params) -> _Floats:
    """`token_similarity(vtok[i], vtok[j])` for pairs of different upper-case tokens of two
    letters or more, vectorised: the same rules, the same arithmetic in the same order."""
    raw = jw
    if params.edit_mix:
        raw = (1.0 - params.edit_mix) * jw + params.edit_mix * lev
    la, lb = codes.lens[i], codes.lens[j]
    lo, hi = np.minimum(la, lb), np.maximum(la, lb)
    cut = np.where(lo <= 3, params.short_cutoff, params.token_cutoff)
    skel, group = codes.skeleton, codes.group
    ends = (lo >= 5) & (codes.firsts[i] == codes.firsts[j]) & (codes.lasts[i] == codes.lasts[j])
    typo = (raw < params.typo_sim) & ends & (osa == 1)
    variant = ~typo & (raw < params.variant_sim) & (
        (codes.variant[i] == codes.variant[j]) | (ends & (skel[i] == skel[j]))
        | ((group[i] == group[j]) & (group[i] != -1)))
    low = ~typo & ~variant & (raw < cut)
    weak = (lo >= 3) & (hi >= 4) & (osa <= 1) if params.weak_sim else np.zeros(len(i), bool)
    s = np.maximum(0.0, 1.0 - (1.0 - raw) * params.sharpen)
    s = np.where(low, np.where(weak, params.weak_sim, 0.0), s)
    s = np.where(variant, params.variant_sim, s)
    result: _Floats = np.where(typo, params.typo_sim, s)
    return result
