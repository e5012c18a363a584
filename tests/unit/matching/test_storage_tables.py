"""The index's tables after a load, held to their definition (storage.py's docstring): a name
record per distinct sorted token tuple (repeats kept), its owners, its owners' birth years,
postings of multi-token names per token, one-token names (and names of one token besides
clan words) in the solo table, names per birth year, documents. Checked for a bulk load, for
entries added one by one, and after replacements and removals, on generated lists."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from failsafe.matching import WatchlistIndex, entry_from_dict
from failsafe.matching.blocking import with_repeats
from failsafe.matching.normalize import WEAK_TOKENS
from failsafe.matching.types import EntryRecord

_WORDS = ["IVAN", "PETROV", "KHAN", "BEG", "LASZLO", "MOZAFFARI-NIA", "ANNA", "MARIA", "O'BRIEN",
          "Müller", "Владимир", "محمد", "金正恩", "SERGEY", "AL", "Mr", " ", ""]
_TEXT = st.lists(st.sampled_from(_WORDS), max_size=4).map(" ".join)
_NAME = st.one_of(
    st.fixed_dictionaries({}, optional={"surname": _TEXT | st.sampled_from([5, None]),
                                        "given_names": _TEXT, "full_name": _TEXT}),
    _TEXT,
)
_DOB = st.sampled_from([None, "1970", "1970-03", "1970-03-14", "1971-01-01", "1985"])
_DOBS = st.lists(st.sampled_from(["1970", "1972-05", {"circa": 1980}, {"from": 1960, "to": 1963}]),
                 max_size=3)


@st.composite
def _entries(draw: st.DrawFn) -> list[dict[str, Any]]:
    out = []
    for i in range(draw(st.integers(1, 12))):
        subject: dict[str, Any] = draw(_NAME) if draw(st.booleans()) else {}
        if not isinstance(subject, dict):
            subject = {"full_name": subject}
        subject = dict(subject)
        subject["date_of_birth"] = draw(_DOB)
        subject["dates_of_birth"] = draw(_DOBS)
        subject["aliases"] = draw(st.lists(_NAME, max_size=3))
        subject["name_original"] = draw(st.sampled_from([None, "金正恩", "Иван Петров", "IVAN"]))
        subject["nationalities"] = draw(st.sampled_from([[], ["KOR"], ["FRA"]]))
        subject["documents"] = draw(st.sampled_from(
            [[], [{"number": "AB123", "issuing_state": "FRA"}], [{"number": "X-1"}]]))
        # Few ids: some entries replace earlier ones.
        out.append({"id": f"e{draw(st.integers(0, max(i, 1)))}", "subject": subject})
    return out


def _expected(records: list[EntryRecord]) -> dict[str, Any]:
    """The tables as defined, built the plain way from the live entries (in load order)."""
    ids: dict[tuple[str, ...], int] = {}
    owners: dict[int, list[tuple[str, int]]] = defaultdict(list)
    years: dict[int, set[int]] = defaultdict(set)
    vocab: dict[str, int] = {}
    postings: dict[int, set[int]] = defaultdict(set)
    solo: dict[int, set[int]] = defaultdict(set)
    by_year: dict[int, set[int]] = defaultdict(set)
    docs: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for rec in records:
        for no, variant in enumerate(rec.names):
            key = tuple(sorted(with_repeats(variant)))
            for t in key:
                vocab.setdefault(t, len(vocab))
            nid = ids.setdefault(key, len(ids))
            owners[nid].append((rec.id, no))
            # Every year of every listed date, or 0 for an entry without one.
            years[nid] |= {y for bd in rec.dobs for y in bd.years} or {0}
        for doc in rec.documents:
            docs[doc.number].append((doc.issuing_state, rec.id))
    for key, nid in ids.items():
        distinct = set(key)
        strong = {t for t in key if t not in WEAK_TOKENS}
        for t in distinct:
            (postings if len(distinct) > 1 else solo)[vocab[t]].add(nid)
        if len(distinct) > 1 and len(strong) == 1:
            solo[vocab[strong.pop()]].add(nid)
        for y in years[nid]:
            by_year[y].add(nid)
    return {
        "names": {key: (tuple(owners[nid]), frozenset(years[nid])) for key, nid in ids.items()},
        "postings": {t: {_key_of(ids, n) for n in postings[v]} for t, v in vocab.items()
                     if postings[v]},
        "solo": {t: {_key_of(ids, n) for n in solo[v]} for t, v in vocab.items() if solo[v]},
        "by_year": {y: {_key_of(ids, n) for n in ns} for y, ns in by_year.items()},
        "docs": {k: tuple(v) for k, v in docs.items()},
    }


def _key_of(ids: dict[tuple[str, ...], int], nid: int) -> tuple[str, ...]:
    return next(k for k, v in ids.items() if v == nid)


def _actual(ix: WatchlistIndex) -> dict[str, Any]:
    """The index's tables with name ids replaced by their keys (ids are an implementation
    detail: a removed name's id is not reused), every set frozen."""
    key = {nid: rec.tokens for nid, rec in ix._names.items()}
    tok = ix._vtok
    for table in (ix._postings, ix._solo, ix._by_year):
        assert all(isinstance(v, frozenset) for v in table.values())
    return {
        "names": {rec.tokens: (ix._owners[nid], ix._years[nid]) for nid, rec in ix._names.items()},
        "postings": {tok[v]: {key[n] for n in ns} for v, ns in ix._postings.items() if ns},
        "solo": {tok[v]: {key[n] for n in ns} for v, ns in ix._solo.items() if ns},
        "by_year": {y: {key[n] for n in ns} for y, ns in ix._by_year.items() if ns},
        "docs": dict(ix._docs),
    }


def _live(entries: list[dict[str, Any]]) -> list[EntryRecord]:
    # The last version of each id, in the order the ids were (re)added.
    last: dict[str, EntryRecord | None] = {}
    for d in entries:
        last.pop(d["id"], None)
        last[d["id"]] = entry_from_dict(d)
    return [r for r in last.values() if r is not None]


@settings(max_examples=150, deadline=None)
@given(_entries())
def test_tables_match_their_definition_bulk_and_one_by_one(entries: list[dict[str, Any]]) -> None:
    expected = _expected(_live(entries))
    bulk = WatchlistIndex()
    bulk.add_many(entries)
    assert _actual(bulk) == expected
    single = WatchlistIndex()
    for d in entries:
        single.upsert(d)
    assert _actual(single) == expected
    # A second bulk load over the first thaws and refreezes its sets.
    bulk.add_many(entries[::-1])
    assert _actual(bulk) == _expected(_live(entries + entries[::-1]))


@settings(max_examples=150, deadline=None)
@given(_entries(), st.data())
def test_tables_after_removals(entries: list[dict[str, Any]], data: st.DataObject) -> None:
    ix = WatchlistIndex()
    ix.add_many(entries)
    live = {r.id: r for r in _live(entries)}
    for eid in data.draw(st.lists(st.sampled_from(sorted(live) or ["none"]), max_size=4)):
        ix.remove(eid)
        live.pop(eid, None)
    # Removing rebuilds a name's years from its remaining owners; the order of owners is
    # the load order of the survivors.
    assert _actual(ix) == _expected(list(live.values()))
