"""What a match rests on (the named candidate types the screening loop keeps per entry) and
the explanation built from it: one `{"feature", "score", "query", "candidate"}` line per
feature, as DESIGN.md's Match contract gives them.

Built only for the matches returned (at most `limit` per query), never per candidate scored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from failsafe.matching.dob import UNKNOWN, best_birth_date
from failsafe.matching.normalize import format_partial_date
from failsafe.matching.score import NameScore
from failsafe.matching.types import DocumentKey, EntryRecord, NameVariant, Query


@dataclass(frozen=True, slots=True)
class NameEvidence:
    """The best name pairing of a query name with one of an entry's names."""

    query_name: NameVariant
    query_tokens: tuple[str, ...]  # as scored (repeated tokens kept)
    variant_no: int  # which of the entry's names
    candidate_tokens: tuple[str, ...]
    score: NameScore
    # How common the name is (0 rare .. 1 common), when it weighed in the score: the date of
    # birth was not an exact agreement (`WatchlistIndex._adjust`).
    commonness: float | None = None


@dataclass(frozen=True, slots=True)
class DocumentEvidence:
    """An exact document number (and state, when both sides give one), with the name evidence
    found for the same entry, if any."""

    name: NameEvidence | None
    document: DocumentKey
    state: str


@dataclass(frozen=True, slots=True)
class Candidate:
    """An entry's best score for a query so far, its method and what it rests on."""

    score: float
    method: str
    evidence: NameEvidence | DocumentEvidence


def explain(query: Query, entry: EntryRecord, candidate: Candidate) -> list[dict[str, Any]]:
    """The explanation lines of a match: document, name, name tokens, date of birth (always),
    sex and nationality (when both sides give them)."""
    out: list[dict[str, Any]] = []
    evidence = candidate.evidence
    name: NameEvidence | None
    if isinstance(evidence, DocumentEvidence):
        doc, state = evidence.document, evidence.state
        cand = next((x for x in entry.documents if x.number == doc.number), None)
        out.append({
            "feature": "document_number", "score": 1.0 if state and doc.issuing_state else 0.9,
            "query": f"{doc.display} ({doc.issuing_state or '?'})",
            "candidate": f"{cand.display if cand else doc.number} ({state or '?'})",
        })
        name = evidence.name
    else:
        name = evidence
    if name is not None:
        cv = entry.names[name.variant_no]
        line: dict[str, Any] = {"feature": "name", "score": round(name.score.score, 4),
                                "query": name.query_name.display, "candidate": cv.display}
        if name.commonness is not None:
            line["commonness"] = round(name.commonness, 2)
            line["detail"] = commonness_detail(name.commonness)
        out.append(line)
        out.extend(token_features(name.query_tokens, name.candidate_tokens, name.score))
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


def commonness_detail(commonness: float) -> str:
    """The name line's `detail`: how common the name is, in words (see `name_commonness`).
    An estimate from the list's own names and the population table (`_population_names`,
    US-heavy): a name common elsewhere can read as rare."""
    basis = "by the list's own names and the population table"
    if commonness <= 0.0:
        return f"a rare name {basis}: few namesakes expected"
    if commonness >= 1.0:
        return (f"a common name {basis}: many namesakes expected, so without an agreeing date "
                "of birth it counts for less")
    return (f"a fairly common name ({commonness:.2f} from rare 0 to common 1, {basis}): "
            "without an agreeing date of birth it counts for less")


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


