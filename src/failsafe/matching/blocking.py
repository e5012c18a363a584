"""Blocking: which list tokens a query token may match, found without scanning the vocabulary.

Every distinct list token sits in a few buckets (`bucket_keys`: first three letters, last
three, metaphone, consonant skeleton, first-two-plus-last letter, sorted letters, the
romanisation-variant key, its given-name group, and for tokens of 3-5 letters their one-letter
deletions), so any single edit, romanisation variant or given-name equivalent shares a key.
`similar_tokens` resolves a query token to its similar list tokens with their similarity.

Invariant (guarded by tests/unit/matching/test_token_path.py): every similarity it returns is
exactly `score.token_similarity`'s. Most of the work is C calls: the Jaro-Winkler prefilter
(rapidfuzz, cutoff 0.78) returns the JW scores and one Levenshtein call completes the scorer's
mix; only variant-key, one-edit and skeleton partners go through the Python scorer.
"""

from __future__ import annotations

import jellyfish
from rapidfuzz import process
from rapidfuzz.distance import OSA, JaroWinkler, Levenshtein

from failsafe.matching.normalize import (
    given_name_group,
    name_tokens_with_repeats,
    skeleton,
    variant_key,
)
from failsafe.matching.score import Params, token_similarity
from failsafe.matching.types import NameVariant

MAX_QUERY_TOKENS = 8
_EMPTY: frozenset[int] = frozenset()
_jw = JaroWinkler.normalized_similarity
_lev = Levenshtein.normalized_similarity
_osa = OSA.distance


class TokenHits:
    """What one query token string resolves to (cached per token string)."""

    __slots__ = ("by_year", "df", "multi", "share", "sims", "solo", "weight")

    def __init__(self, sims: dict[int, float], multi: frozenset[int], solo: frozenset[int],
                 df: int) -> None:
        self.sims = sims  # vocabulary id -> similarity to the query token
        self.multi = multi  # multi-token name records holding a similar token
        self.solo = solo  # one-token name records holding a similar token
        self.df = df  # name records holding the token itself
        self.share: tuple[float, float] | None = None  # `_token_share`, built on first use
        self.weight: float | None = None  # as a query token (`_query_weight`), on first use
        # Big `multi` sets cut to a query year's window (the year +-1, or no date of birth),
        # by query year, built on first use.
        self.by_year: dict[int, frozenset[int]] | None = None


def similar_tokens(
    token: str, vocab: dict[str, int], buckets: dict[str, list[str]], params: Params
) -> dict[int, float]:
    """Vocabulary id -> similarity to `token` (as `token_similarity` scores it), for the list
    tokens that share a bucket with it (and the token itself, and its initial)."""
    sims: dict[int, float] = {}
    exact = vocab.get(token)
    if exact is not None:
        sims[exact] = 1.0
    if len(token) == 1:
        # An initial: every token starting with the letter is a weak partner.
        for tok in list(buckets.get("f" + token.upper(), ())):
            vid = vocab[tok]
            sims.setdefault(vid, params.initial_sim)
    else:
        initial = vocab.get(token[0].upper())
        if initial is not None:
            sims[initial] = params.initial_sim
        buckets = buckets
        pool: set[str] = set()
        direct: set[str] = set()  # romanisation variants: no prefilter
        edits: set[str] = set()  # one-edit neighbours of short tokens
        for key in bucket_keys(token):
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
            found = process.extract(token, list(pool), scorer=_jw, score_cutoff=0.78,
                                    limit=None)
            # The Levenshtein part of the mix for every survivor in one C call (in the
            # survivors' order, so `sims` is filled in the same order as one call each).
            levs = [0.0] * len(found)
            if mix and found:
                for _t, lev, k in process.extract(token, [t for t, _s, _k in found],
                                                  scorer=_lev, limit=None):
                    levs[k] = lev
            # `vowel_variant(token, tok)` for a pool token with the first and last letters
            # and lengths it checks: the same consonant skeleton, i.e. the skeleton bucket.
            same_skeleton = set(buckets.get("k" + skeleton(token), ()))
            # The survivors one edit away (OSA distance 1; the token itself is not in the
            # pool), in one C call: only they can take the one-edit and typo rules.
            near = {t for t, _d, _k in process.extract(
                token, [t for t, _s, _k in found], scorer=_osa, score_cutoff=1, limit=None)}
            first, last = token[0], token[-1]
            for (tok, jw, _i), lev in zip(found, levs, strict=True):
                raw = (1.0 - mix) * jw + mix * lev if mix else jw
                m = len(tok)
                if raw >= (params.short_cutoff if n <= 3 or m <= 3 else params.token_cutoff):
                    s = 1.0 - (1.0 - raw) * sharpen
                elif tok not in near:
                    if tok not in same_skeleton:
                        continue  # below the cutoff, no rule below applies: 0
                    s = 0.0
                elif weak and -1 <= n - m <= 1 and min(n, m) >= 3 and max(n, m) >= 4:
                    s = weak
                else:
                    s = 0.0
                if (s < typo and n >= 5 and m >= 5 and tok[0] == first
                        and tok[-1] == last and tok in near):
                    s = typo
                elif (s < variant and m >= 5 and n >= 5 and tok[0] == first
                        and tok[-1] == last and tok in same_skeleton):
                    s = variant
                if s > 0.0:
                    sims[vocab[tok]] = s
    return sims


def with_repeats(v: NameVariant) -> tuple[str, ...]:
    """The variant's tokens with repeated ones kept (`name_tokens_with_repeats`), or its own
    tokens (the same object) when nothing repeats or they come from another reading."""
    full = name_tokens_with_repeats(v.display)
    if len(full) > len(v.tokens) and tuple(dict.fromkeys(full)) == v.tokens:
        return full
    return v.tokens


def query_tokens(tokens: tuple[str, ...]) -> tuple[str, ...]:
    # Very long names: keep the longest tokens (the most identifying), in their order.
    uniq = tuple(dict.fromkeys(tokens))
    if len(uniq) <= MAX_QUERY_TOKENS:
        return uniq
    keep = set(sorted(uniq, key=len, reverse=True)[:MAX_QUERY_TOKENS])
    return tuple(t for t in uniq if t in keep)


def bucket_keys(token: str) -> tuple[str, ...]:
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
