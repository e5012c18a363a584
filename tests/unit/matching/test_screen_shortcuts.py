"""The screening loop's shortcuts (speed round 2) give exactly what the plain computation gives:
candidate sets cut by birth year, token resolution, and the bounds that skip candidates."""

from __future__ import annotations

from failsafe.matching import WatchlistIndex
from failsafe.matching.blocking import query_tokens


def _big_index() -> WatchlistIndex:
    # Three tokens with posting sets well above the size at which they are cut by birth year
    # (`_SPLIT_MIN`), of different sizes, with owners over 60 years and some without a date.
    entries = []
    for i in range(900):
        given = ["VAN", "THI", "VAN THI"][i % 3] + f" X{chr(65 + i % 26)}{chr(65 + i // 26 % 26)}"
        surname = "NGUYEN" if i % 2 else "TRAN"
        dob = None if i % 7 == 0 else f"{1940 + i % 60}-0{1 + i % 9}-1{i % 10}"
        entries.append({"id": f"e{i}", "subject": {"surname": surname, "given_names": given,
                                                   "date_of_birth": dob}})
    ix = WatchlistIndex()
    ix.add_many(entries)
    return ix


def test_candidates_cut_by_birth_year_are_the_uncut_ones_in_the_window() -> None:
    ix = _big_index()
    for names in (("NGUYEN", "VAN", "THI"), ("TRAN", "THI"), ("NGUYEN", "VAN"),
                  ("TRAN", "NGUYEN", "VAN", "THI")):
        toks = query_tokens(names)
        hits = [ix._hits(t, ix._cache) for t in toks]
        assert max(len(h.multi) for h in hits) >= 300
        plain = ix._candidates(toks, hits)
        for year in (1939, 1940, 1950, 1975, 1999, 2000):
            cut = ix._candidates(toks, hits, (year,)) & ix._window(year)
            assert cut == plain & ix._window(year)
            assert cut  # the test would hold vacuously otherwise
