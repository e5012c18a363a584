"""Guard: the index's fast token path (C prefilter and the scorer's mix computed in place,
`WatchlistIndex._hits`) gives every retrieved token exactly the similarity `token_similarity`
gives it, and finds the partners the scorer's own rules promise (one edit, romanisation
variants, vowel variants, given-name equivalents)."""

from __future__ import annotations

import random

import pytest
from rapidfuzz.distance import OSA

from failsafe.matching import WatchlistIndex
from failsafe.matching.normalize import name_tokens
from failsafe.matching.score import DEFAULT_PARAMS, Params, token_similarity

SURNAMES = [
    "PETROV", "SORENSEN", "WILLIAMS", "MOZAFFARINIA", "BARAKAT", "MAWAFI", "KAZEMABAD", "FEHER",
    "RADU", "KAUL", "SAHA", "LUTTRELL", "HOUCHIN", "NGUYEN", "KOWALSKA", "ALBANESE", "SCHMIDT",
    "PHILLIPS", "TSCHUDI", "KHALIL", "MOHAMMED", "GARCIA", "RODRIGUEZ", "MEADOWS", "EMANUEL",
    "TAN", "VAN", "LEE", "O", "CHOE", "ELISEEVA", "YAKOVLEV", "DUDKOWIAK", "HANABUSA", "CURBELO",
]
GIVEN = ["IVAN", "VLADIMIR", "ULADZIMIR", "VIKTOR", "VICTOR", "ANNA", "MARIA", "MARIO", "JOHN",
         "YUSUF", "JOSEPH", "ERIC", "MORGAN", "DAVID", "E", "J"]


def _mutations(token: str, rng: random.Random) -> list[str]:
    out = [token]
    if len(token) >= 3:
        i = rng.randrange(1, len(token) - 1)
        out += [token[:i] + token[i + 1:], token[:i] + token[i] + token[i:],
                token[:i] + "X" + token[i + 1:],
                token[:i] + token[i + 1] + token[i] + token[i + 2:]]
    return out


@pytest.mark.parametrize("params", [DEFAULT_PARAMS, Params(typo_sim=0.97, weak_sim=0.0)])
def test_fast_token_path_agrees_with_token_similarity(params: Params) -> None:
    rng = random.Random(7)
    vocabulary = sorted({m for t in SURNAMES + GIVEN for m in _mutations(t, rng)})
    index = WatchlistIndex(params)
    index.add_many(
        {"id": f"e{k}", "subject": {"surname": tok, "given_names": GIVEN[k % len(GIVEN)]}}
        for k, tok in enumerate(vocabulary)
    )
    queries = sorted({tok for t in SURNAMES + GIVEN for m in _mutations(t, random.Random(11))
                      for tok in name_tokens(m)})
    checked = 0
    for q in queries:
        hits = index._hits(q, {})
        for vid, s in hits.sims.items():
            tok = index._vtok[vid]
            assert s == pytest.approx(token_similarity(q, tok, params), abs=1e-12), (q, tok)
            checked += 1
        # The partners blocking promises are retrieved whatever the prefilter does: one edit
        # away, and the scorer's "same name, other spelling" rules (variant_sim).
        for tok in index._vtok:
            s = token_similarity(q, tok, params)
            if s > 0.0 and (OSA.distance(q, tok) <= 1 or s == params.variant_sim):
                assert index._vocab[tok] in hits.sims, (q, tok, s)
    assert checked > 500
