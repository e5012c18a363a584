"""Scoring: name evidence from token pairing, then date of birth, sex and nationality.

The name score pairs tokens one-to-one (greedy on similarity, order-insensitive), weighs each
token by length and rarity, and divides the matched weight by the matched weight plus penalties
for the tokens left over: a token on both sides that found no partner is a contradiction
(a different middle name), a token on one side only is an omission (a dropped middle name) and
costs less. A single short or common token is never enough evidence for an alert. Date of birth,
sex and nationality then multiply the name score by factors <= 1: they can lower it, never raise
it above the name evidence. A date of birth is graded (dob.py): agreement keeps the name's score
and adds evidence, a small disagreement or a missing date leaves what the name alone earns (less
for a common name without a date), a large one lowers it by distance and precision and, for a
common name (a namesake), below any threshold.

Why one module of ~460 lines: these rules are one policy (pairing, weights, penalties and the
factors that follow them are tuned together and read together); the date grammar and graded
date agreement live apart (dob.py), as do blocking and storage (blocking.py, storage.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz.distance import OSA, JaroWinkler, Levenshtein

from failsafe.matching._population_names import SHARES
from failsafe.matching.dob import (
    CLOSE,
    EXACT,
    UNKNOWN,
    DobComparison,
    birth_date,
    compare_birth_date,
)
from failsafe.matching.japanese import japanese_readings
from failsafe.matching.normalize import (
    PARTICLES,
    WEAK_TOKENS,
    DateParts,
    given_name_group,
    korean_reading,
    name_tokens,
    skeleton,
    unfolded_tokens,
    variant_key,
    vowel_variant,
)

_POPULATION = SHARES
_jw = JaroWinkler.normalized_similarity
_lev = Levenshtein.normalized_similarity
_osa = OSA.distance


@dataclass(frozen=True, slots=True)
class Params:
    """The knobs of the scorer. Defaults were tuned on cases.csv (see docs/matching.md)."""

    token_cutoff: float = 0.80  # JW below this is no match at all
    short_cutoff: float = 0.90  # ... for tokens of <= 3 letters
    sharpen: float = 1.0  # s = 1 - (1 - JW) * sharpen: spreads the 0.8-1.0 band of JW
    edit_mix: float = 0.3  # share of normalised Levenshtein similarity mixed into JW
    initial_sim: float = 0.85  # "V" against "VLADIMIR"
    variant_sim: float = 0.9  # romanisation variants: FEHER / PHEHER, GWON / GVON
    weak_sim: float = 0.75  # one edit on a token under the cutoff (RADU / RAU): score, no evidence
    # One letter typed wrong, doubled, dropped or swapped inside a long token, first and last
    # letters kept (SORENSEN / SOORENSEN): the commonest slip of data entry, scored as such.
    typo_sim: float = 0.96
    conflict_penalty: float = 1.5  # weight of leftover tokens present on both sides
    extra_penalty: float = 0.2  # weight of leftover tokens on one side only
    particle_weight: float = 0.25  # AL, BIN, DE, VAN...
    min_evidence: float = 1.5  # strong token matches needed for an alert-worthy name score
    evidence_cap: float = 0.55  # name score ceiling when evidence is insufficient
    dob_unknown: float = 0.93  # no date on one side, or a small disagreement: the name alone
    dob_unknown_common: float = 0.82  # no date on one side, common name: exact names only
    dob_far: float = 0.88  # dates a year apart (not close): only a near-exact name alerts
    dob_far_step: float = 0.008  # less per further year, a year-only or month date on one side
    dob_far_step_precise: float = 0.0085  # ... two full dates (0.8035 at ten years)
    dob_far_common: float = 0.6  # far apart, common name: a namesake, not the person
    dob_far_years: int = 10  # further apart than this: a different person
    dob_floor: float = 0.45  # beyond dob_far_years; exact agreement is 0.45 + 0.55 x score
    dob_evidence: float = 1.0  # evidence a confirmed date of birth adds to the name's
    sex_mismatch: float = 0.85
    nationality_mismatch: float = 0.93


DEFAULT_PARAMS = Params()


def token_similarity(a: str, b: str, params: Params = DEFAULT_PARAMS) -> float:
    """Similarity of two comparison tokens in [0, 1], 0 below the cutoff."""
    if a == b:
        return 1.0
    la, lb = len(a), len(b)
    if la == 1 or lb == 1:
        return params.initial_sim if a[0].upper() == b[0].upper() else 0.0
    if a.islower() or b.islower():
        # One side came from a vowel-less script: compare consonant skeletons.
        sa, sb = skeleton(a), skeleton(b)
        if not sa or not sb:
            return 0.0
        if sa == sb:
            return 0.95
        raw = _jw(sa, sb)
        cut = params.short_cutoff if min(len(sa), len(sb)) <= 2 else params.token_cutoff
    else:
        raw = _jw(a, b)
        if params.edit_mix:
            # JW rewards a shared prefix a lot (ALBANO/ALBANESE 0.93); the edit distance
            # tempers that without hurting one-letter typos much.
            raw = (1.0 - params.edit_mix) * raw + params.edit_mix * _lev(a, b)
        cut = params.short_cutoff if min(la, lb) <= 3 else params.token_cutoff
        if (raw < params.typo_sim and la >= 5 and lb >= 5 and a[0] == b[0] and a[-1] == b[-1]
                and _osa(a, b) == 1):
            return params.typo_sim
        if raw < params.variant_sim and (
            variant_key(a) == variant_key(b) or vowel_variant(a, b)
            or given_name_group(a) == given_name_group(b) != -1
        ):
            # One name in two spellings: a romanisation variant, Arabic/Persian vowels, or
            # the same given name in another language (ULADZIMIR / VLADIMIR).
            return params.variant_sim
        if raw < cut:
            # One typed letter wrong, missing, extra or swapped: it adds to the score of a
            # name other tokens confirm, never to the evidence (see `score_token_lists`).
            # Not between two three-letter tokens: TAN, VAN, LAN are different names.
            if params.weak_sim and min(la, lb) >= 3 and max(la, lb) >= 4 and _osa(a, b) <= 1:
                return params.weak_sim
            return 0.0
    if raw < cut:
        return 0.0
    return max(0.0, 1.0 - (1.0 - raw) * params.sharpen)


def length_weight(token: str) -> float:
    n = len(token)
    return math.sqrt(n if n < 10 else 10)


@dataclass(frozen=True, slots=True)
class NameScore:
    score: float  # in [0, 1], after the evidence cap
    raw: float  # before the evidence cap
    evidence: float
    pairs: tuple[tuple[int, int, float], ...]  # (query token, candidate token, similarity)
    single_ok: bool = False  # one long, uncommon token on each side: enough on its own


_BELOW_FLOOR = NameScore(0.0, 0.0, 0.0, (), False)


# A result below `floor` by more than this is `_BELOW_FLOOR` (a raw score of 0): the margin keeps
# the caller's own test (raw x ceiling < threshold, where floor = threshold / ceiling) true
# whatever the rounding of that division.
_FLOOR_MARGIN = 1e-9


def score_token_lists(
    q: Sequence[str],
    c: Sequence[str],
    cands: list[tuple[float, int, int]],
    wq: Sequence[float],
    wc: Sequence[float],
    common_q: Sequence[bool] | None = None,
    params: Params = DEFAULT_PARAMS,
    floor: float = 0.0,
    merge: bool = True,
    q_surname: str = "",
) -> NameScore:
    """Pair `q` and `c` one-to-one and score the pairing. `cands` lists (similarity, i, j) for
    every token pair with a non-zero similarity. Below `floor` the result is only a bound:
    the (costly) search for joined tokens is skipped when it could not lift the score there,
    and a score that ends below it is `_BELOW_FLOOR` (raw 0, no pairs). `q_surname`: the
    surname field of the name `q` comes from, when the sender gave the fields apart."""
    nq, nc = len(q), len(c)
    if nq == 0 or nc == 0:
        return NameScore(0.0, 0.0, 0.0, (), False)
    cands.sort(reverse=True)
    used_q = [False] * nq
    used_c = [False] * nc
    pairs: list[tuple[int, int, float]] = []
    matched_w = 0.0
    matched_ws = 0.0
    for s, i, j in cands:
        if not used_q[i] and not used_c[j]:
            used_q[i] = used_c[j] = True
            pairs.append((i, j, s))
            w = (wq[i] + wc[j]) * 0.5
            matched_w += w
            matched_ws += w * s
    if q_surname and len(pairs) == nq < nc:
        # A surname paired only with an initial of the listed name, which leaves a full token
        # over (traveller ANTHONY GONZALEZ, listed ANTHONY G BROWN): the listed surname is
        # unaccounted for and nothing shows that GONZALEZ is G. Unpaired, the leftovers
        # contradict each other. (A given name may stand for an initial: EDWARD RIGELL is
        # E SCOTT RIGELL with the middle name dropped.) With a traveller's token left over
        # too, the names already contradict each other: nothing to undo.
        surname: tuple[str, ...] | None = None
        for k in range(len(pairs) - 1, -1, -1):
            i, j, s = pairs[k]
            if len(c[j]) != 1 or len(q[i]) == 1 or not _full_left(c, used_c):
                continue
            if surname is None:
                # In both readings: a query is also compared with its letters as typed.
                surname = name_tokens(q_surname) + (unfolded_tokens(q_surname) or ())
            if q[i] in surname:
                used_q[i] = used_c[j] = False
                del pairs[k]
                w = (wq[i] + wc[j]) * 0.5
                matched_w -= w
                matched_ws -= w * s
    # The evidence counts the pairs as first made (a join below may raise a similarity): it
    # is counted last, once the score is known to reach `floor`.
    first_pairs = pairs
    evidence = 0.0
    weak_free_q = WEAK_TOKENS.isdisjoint(q)
    weak_free_c = WEAK_TOKENS.isdisjoint(c)
    left_q = _left(q, used_q, wq, weak_free_q)
    left_c = _left(c, used_c, wc, weak_free_c)
    if (left_q > 0.0) != (left_c > 0.0):
        # Leftovers on one side only: a paired token may be two of the other side's written
        # as one (MOZAFFARINIA / MOZAFFARI NIA).
        first_pairs = pairs[:]
        got = _join_split(q, c, used_q, used_c, wq, wc, pairs, params) if left_c > 0.0 else \
            _join_split(c, q, used_c, used_q, wc, wq, pairs, params, flip=True)
        if got is not None:
            mw_delta, mws_delta = got
            matched_w += mw_delta
            matched_ws += mws_delta
            left_q = _left(q, used_q, wq, weak_free_q)
            left_c = _left(c, used_c, wc, weak_free_c)
    units = len(pairs)
    if merge and left_q > 0.0 and left_c > 0.0 and _could_reach(
        matched_w, matched_ws, left_q, left_c, params, floor
    ):
        # Leftovers on both sides may be one name written joined on one side
        # ("MOHAMMADHASNI" / "MOHAMMAD HASNI"): try adjacent pairs before penalising.
        extra = _merge_leftovers(q, c, used_q, used_c, wq, wc, params)
        if extra is not None:
            mw, mws, ev, merged = extra
            units += merged
            matched_w += mw
            matched_ws += mws
            evidence += ev
            left_q = _left(q, used_q, wq, weak_free_q)
            left_c = _left(c, used_c, wc, weak_free_c)
    # A clan word left over still contradicts another leftover (AISVRYA KHAN / AISVRYA VERMA);
    # only its omission is free.
    full_q = left_q if left_c == 0.0 or weak_free_q else _left(q, used_q, wq, True)
    full_c = left_c if left_q == 0.0 or weak_free_c else _left(c, used_c, wc, True)
    conflict = min(full_q, full_c)
    extra_w = max(0.0, max(left_q, left_c) - conflict)
    # A repeated token ("LASZLO LASZLO") left over beside its paired copy holds a slot that
    # contradicts a different leftover on the other side (LASZLO DEAK), but omitting it costs
    # nothing: a mononym written in both name fields is still the one name.
    rep_q = _repeat_weight(q, used_q, wq) if left_q > 0.0 else 0.0
    rep_c = _repeat_weight(c, used_c, wc) if left_c > 0.0 else 0.0
    if rep_q or rep_c:
        extra_w = max(0.0, extra_w - (rep_q if left_q > left_c else rep_c))
    denom = matched_w + params.conflict_penalty * conflict + params.extra_penalty * extra_w
    raw = matched_ws / denom if denom > 0 else 0.0
    if raw < floor - _FLOOR_MARGIN:
        # Most candidates a screening scores end here (the evidence cap below only ever
        # lowers a score).
        return _BELOW_FLOOR
    for i, j, s in first_pairs:
        tq, tc = q[i], c[j]
        if tq in PARTICLES or tc in PARTICLES:
            continue
        if len(tq) == 1 or len(tc) == 1:
            evidence += 0.5
        elif len(tq) <= 2 or len(tc) <= 2:
            evidence += 0.5 if s >= 0.95 else 0.0
        elif s >= params.token_cutoff:
            evidence += 0.5 if common_q is not None and common_q[i] else 1.0
    # One token is enough only between two one-token names of a long, uncommon token.
    # (Clan words and honorifics left over do not count: HAJI IBRAHIM KHAN / IBRAHIM.)
    i0, j0 = (pairs[0][0], pairs[0][1]) if pairs else (0, 0)
    single_ok = (
        units == 1
        and left_q <= rep_q
        and left_c <= rep_c
        and evidence >= 1.0
        and max(len(q[i0]), len(c[j0])) >= 5
        and not (common_q is not None and common_q[i0])
    )
    score = cap_by_evidence(raw, evidence, single_ok, params)
    return NameScore(score, raw, evidence, tuple(pairs), single_ok)


def _full_left(t: Sequence[str], used: list[bool]) -> bool:
    """Whether `t` leaves a token of two letters or more over, particles and clan words aside."""
    return any(
        not u and len(t[i]) > 1 and t[i] not in PARTICLES and t[i] not in WEAK_TOKENS
        for i, u in enumerate(used)
    )


def _left(t: Sequence[str], used: list[bool], w: Sequence[float], weak: bool = False) -> float:
    """Weight of the unpaired tokens of `t`; clan words (KHAN, BEG...) left over weigh
    nothing unless `weak`: a list or a sender may leave them out."""
    if weak:
        return sum([w[i] for i, u in enumerate(used) if not u])
    return sum([w[i] for i, u in enumerate(used) if not u and t[i] not in WEAK_TOKENS])


def _join_split(
    a: Sequence[str],
    b: Sequence[str],
    used_a: list[bool],
    used_b: list[bool],
    wa: Sequence[float],
    wb: Sequence[float],
    pairs: list[tuple[int, int, float]],
    params: Params,
    flip: bool = False,
) -> tuple[float, float] | None:
    """`b` has tokens left over: if a token of `a` paired below 1 is better matched by its
    partner joined with a leftover of `b` (either order: the index's tokens are sorted),
    pair it with both. Mutates `used_b` and `pairs`; returns the change of the matched weight
    and of the weighted similarity, or None."""
    changed = False
    dw = dws = 0.0
    for k, pair in enumerate(pairs):
        ia, jb = (pair[1], pair[0]) if flip else (pair[0], pair[1])
        s = pair[2]
        ta = a[ia]
        if s >= 1.0 or len(ta) < 6:
            continue
        for x in range(len(b)):
            if used_b[x] or len(b[x]) < 2:
                continue
            if not abs(len(ta) - len(b[jb]) - len(b[x])) <= 2:
                continue
            joined = max(token_similarity(ta, b[jb] + b[x], params),
                         token_similarity(ta, b[x] + b[jb], params))
            if joined > s:
                used_b[x] = True
                old_w = (wa[ia] + wb[jb]) * 0.5
                new_w = (wa[ia] + wb[jb] + wb[x]) * 0.5
                dw += new_w - old_w
                dws += new_w * joined - old_w * s
                pairs[k] = (pair[0], pair[1], joined)
                changed = True
                break
    return (dw, dws) if changed else None


def _repeat_weight(t: Sequence[str], used: list[bool], w: Sequence[float]) -> float:
    """Weight of the unpaired tokens of `t` that repeat a paired token of `t`."""
    out = 0.0
    if len(set(t)) == len(t):
        return out  # nothing repeats (most names): skip the per-token counting
    for i, tok in enumerate(t):
        if not used[i] and t.count(tok) > 1 and any(
            used[k] for k in range(len(t)) if t[k] == tok
        ):
            out += w[i]
    return out


def _could_reach(
    mw: float, mws: float, left_q: float, left_c: float, params: Params, floor: float
) -> bool:
    if floor <= 0.0:
        return True
    # Best case: the smaller leftover side merges perfectly with part of the other.
    best = min(left_q, left_c)
    rest = max(left_q, left_c) - best
    return (mws + best) / (mw + best + params.extra_penalty * rest) >= floor


def cap_by_evidence(raw: float, evidence: float, single_ok: bool, params: Params) -> float:
    """A single short or common token is never enough: without enough evidence the score
    stays below any sensible threshold."""
    if evidence >= params.min_evidence or single_ok:
        return raw
    return min(raw, params.evidence_cap)


def _merge_leftovers(
    q: Sequence[str],
    c: Sequence[str],
    used_q: list[bool],
    used_c: list[bool],
    wq: Sequence[float],
    wc: Sequence[float],
    params: Params,
) -> tuple[float, float, float, int] | None:
    mw = mws = ev = 0.0
    merged = 0
    for a, b, ua, ub, wa, wb in ((q, c, used_q, used_c, wq, wc), (c, q, used_c, used_q, wc, wq)):
        for i in range(len(a)):
            if ua[i]:
                continue
            la = len(a[i])
            for j in range(len(b) - 1):
                if ub[j] or ub[j + 1]:
                    continue
                lb = len(b[j]) + len(b[j + 1])
                if not 0.75 * lb <= la <= 1.25 * lb and not (a[i].islower() or b[j].islower()):
                    continue  # lengths too different (skeletons of vowel-less scripts aside)
                s = token_similarity(a[i], b[j] + b[j + 1], params)
                if s >= 0.7:
                    ua[i] = ub[j] = ub[j + 1] = True
                    w = (wa[i] + wb[j] + wb[j + 1]) * 0.5
                    mw += w
                    mws += w * s
                    ev += 2.0 if len(b[j]) > 2 and len(b[j + 1]) > 2 else 1.0
                    merged += 1
                    break
    return (mw, mws, ev, merged) if mw > 0 else None


def token_weights(tokens: Sequence[str], params: Params = DEFAULT_PARAMS) -> list[float]:
    return [
        length_weight(t) * (params.particle_weight if t in PARTICLES else 1.0) for t in tokens
    ]


def compare_names(a: str, b: str, params: Params = DEFAULT_PARAMS) -> float:
    """Name score of two raw names, with no index statistics (no rarity). A name written in
    Han characters or kana is also read the Korean and the Japanese way (no nationality is
    known here): the best of the readings counts."""
    score = compare_tokens(name_tokens(a), name_tokens(b), params).score
    ra, rb = _readings(a), _readings(b)
    for x in ra:
        for y in rb:
            if (x, y) != (a, b):
                score = max(score, compare_tokens(name_tokens(x), name_tokens(y),
                                                  params).score)
    return score


def _readings(name: str) -> tuple[str, ...]:
    """The name and its Korean and Japanese readings (`compare_names`)."""
    korean = korean_reading(name)
    return (name, *((korean,) if korean else ()), *japanese_readings(name))


def compare_tokens(
    q: Sequence[str], c: Sequence[str], params: Params = DEFAULT_PARAMS
) -> NameScore:
    cands = [
        (s, i, j)
        for i, a in enumerate(q)
        for j, b in enumerate(c)
        if (s := token_similarity(a, b, params)) > 0.0
    ]
    return score_token_lists(
        q,
        c,
        cands,
        token_weights(q, params),
        token_weights(c, params),
        None,
        params,
    )


def compare_dob(q: DateParts | None, c: DateParts | None) -> float | None:
    """Date-of-birth agreement of two partial dates in [0, 1]; None when either is unknown
    (see `dob.compare_birth_date` for the graded comparison this summarises)."""
    if q is None or c is None:
        return None
    return compare_birth_date(q, birth_date(c)).score


def population_share(token: str) -> float:
    """Share of people carrying the name token, from the population table (0 when it is
    not among the common ones listed there)."""
    return _POPULATION.get(token, 0.0)


def name_commonness(expected_namesakes: float) -> float:
    """0 for a rare name (two bearers in the reference population or fewer), 1 for a common
    one (two hundred or more), log-linear between."""
    if expected_namesakes <= 2.0:
        return 0.0
    return min(1.0, math.log10(expected_namesakes / 2.0) / 2.0)


def dob_factor(
    dob: DobComparison, commonness: float = 0.0, params: Params = DEFAULT_PARAMS
) -> float:
    """What the date of birth does to the name score. Agreement keeps it whole. A small
    disagreement (close) leaves what the name alone earns, as does a missing date for a rare
    name (a common one needs the date: `dob_unknown_common`). A large disagreement lowers it
    below what any name but an exact one can carry, by how far apart and how precise the two
    dates are, and a common name far below the threshold (a namesake, not the person);
    beyond `dob_far_years`, below any threshold."""
    agreement = dob.agreement
    if agreement == EXACT:
        # The same full date is the most a date can say; the same year alone (a person in
        # sixty-odd shares it) says less.
        return params.dob_floor + (1.0 - params.dob_floor) * dob.score
    if agreement in (CLOSE, UNKNOWN):
        return params.dob_unknown * (1.0 - commonness) + params.dob_unknown_common * commonness
    years = max(1, dob.years)
    if years > params.dob_far_years:
        return params.dob_floor
    step = params.dob_far_step_precise if dob.precise else params.dob_far_step
    rare = params.dob_far - step * (years - 1)
    return rare * (1.0 - commonness) + params.dob_far_common * commonness


def max_far_expected(threshold: float, params: Params = DEFAULT_PARAMS) -> float:
    """The most expected namesakes (see `name_commonness`) a name can have for a date a year
    or more off (`far`) to leave it able to reach `threshold`; 0 when none can."""
    if params.dob_far < threshold:
        return 0.0
    c = (params.dob_far - threshold) / (params.dob_far - params.dob_far_common)
    return 2.0 * math.pow(10.0, 2.0 * min(1.0, c))


def dob_evidence(dob: DobComparison, params: Params = DEFAULT_PARAMS) -> float:
    """Evidence a date of birth adds to the name's (see `cap_by_evidence`)."""
    if dob.agreement == EXACT:
        return params.dob_evidence
    if dob.agreement == CLOSE:
        return params.dob_evidence * 0.5
    return 0.0


DEFAULT_THRESHOLD = 0.80
"""Scores at or above this become matches (and alerts). See docs/matching.md for how it was set."""
