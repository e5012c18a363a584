"""Engine records and the adapters from the JSON contracts (plain dicts) to them.

Records are immutable: the index shares them with concurrent readers and replaces them whole.
The adapters are tolerant: unknown fields are ignored and missing optional fields are fine, so
the ingest worker and the API can pass `model_dump()` output or raw JSON straight in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, TypeGuard

from failsafe.matching.dob import BirthDate, birth_dates_from
from failsafe.matching.japanese import JAPANESE_NATIONALITIES, japanese_readings
from failsafe.matching.normalize import (
    KOREAN_NATIONALITIES,
    DateParts,
    korean_reading,
    name_tokens,
    normalize_country,
    normalize_document_number,
    normalize_sex,
    parse_partial_date,
    unfolded_tokens,
)


@dataclass(frozen=True, slots=True)
class NameVariant:
    display: str
    tokens: tuple[str, ...]
    # The surname field as given, when a traveller gave both a surname and given names (empty
    # otherwise): a surname is not shown by a listed initial (see `score_token_lists`).
    surname: str = ""


@dataclass(frozen=True, slots=True)
class DocumentKey:
    number: str  # normalised: no separators, O→0, I→1
    issuing_state: str  # "" when unknown
    display: str


@dataclass(frozen=True, slots=True)
class EntryRecord:
    id: str
    names: tuple[NameVariant, ...]
    # Every usable listed date of birth: `subject.date_of_birth` first, then
    # `subject.dates_of_birth` (partial dates, circa years, year ranges); see dob.py.
    dobs: tuple[BirthDate, ...] = ()
    sex: str = ""
    nationalities: frozenset[str] = frozenset()
    documents: tuple[DocumentKey, ...] = ()


@dataclass(slots=True)
class Query:
    """One traveller as screened. Built once per event and never changed after; not frozen
    because a frozen dataclass's constructor costs ~1.4 us more, on the per-event path."""
    event_id: str | None
    names: tuple[NameVariant, ...]
    dob: DateParts | None = None
    sex: str = ""
    nationality: str = ""
    documents: tuple[DocumentKey, ...] = ()


@dataclass(frozen=True, slots=True)
class Match:
    entry_id: str
    score: float
    method: str  # "document" | "name_dob" | "name"
    explanation: list[dict[str, Any]] = field(default_factory=list, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "entry_id": self.entry_id,
            "score": self.score,
            "method": self.method,
            "explanation": self.explanation,
        }


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _is_map(value: object) -> TypeGuard[Mapping[str, Any]]:
    return type(value) is dict or isinstance(value, Mapping)  # the ABC check is slow


def _name_from(part: object, surname_field: bool = False) -> NameVariant | None:
    """The name of a string or a name mapping; with `surname_field`, a mapping's surname is
    kept when it comes with given names (`NameVariant.surname`: a traveller's)."""
    if part is None:
        return None
    surname = ""
    if isinstance(part, str):
        display = part.strip()
    elif _is_map(part):
        display = _display_of(part)
        if surname_field:
            surname = _surname_field(part.get("surname"), part.get("given_names"))
    else:
        return None
    tokens = name_tokens(display)
    return NameVariant(display, tokens, surname) if tokens else None


def _surname_field(surname: object, given: object) -> str:
    """The surname as a field apart, or "" when there are no given names beside it to tell it
    from (a lone surname field may hold the whole name)."""
    if isinstance(surname, str) and isinstance(given, str) and given.strip():
        return surname
    return ""


def _display_of(part: Mapping[str, Any]) -> str:
    """`display_name` of a name mapping's text fields (others read as absent), inlined: the
    index builds one per listed name. As there, a given surname or given names, even blank,
    win over `full_name`."""
    surname = part.get("surname")
    given = part.get("given_names")
    if not isinstance(surname, str):
        surname = ""
    if not isinstance(given, str):
        given = ""
    if surname or given:
        return _given_then_surname(given, surname)
    full = part.get("full_name")
    return full.strip() if isinstance(full, str) else ""


def _given_then_surname(given: str, surname: str) -> str:
    given, surname = given.strip(), surname.strip()
    return f"{given} {surname}" if given and surname else given or surname


def _add_name(out: list[NameVariant], seen: set[tuple[str, ...]], v: NameVariant | None) -> None:
    if v is not None:
        key = v.tokens if len(v.tokens) == 1 else tuple(sorted(v.tokens))
        if key not in seen:
            seen.add(key)
            out.append(v)
        if "-" in v.display and v.display.isascii():
            # A hyphenated name is also written joined (MOZAFFARI-NIA / MOZAFFARINIA).
            joined = name_tokens(v.display.replace("-", ""))
            key = joined if len(joined) == 1 else tuple(sorted(joined))
            if joined and key not in seen:
                seen.add(key)
                out.append(NameVariant(v.display, joined))


def _add_readings(out: list[NameVariant], seen: set[tuple[str, ...]], original: object,
                  nationalities: frozenset[str] | set[str]) -> None:
    """An original name in Han characters or kana also gets its readings as name variants,
    for the nationalities that read it so, or when no nationality is given: a Korean's hanja
    read the Korean way (金正恩: Kim Jong Un beside Jin Zheng En), a Japanese name in kanji and
    kana as the passport spells it (山田太郎: YAMADA TARO)."""
    if not isinstance(original, str):
        return
    readings: list[str] = []
    if not nationalities or nationalities & KOREAN_NATIONALITIES:
        hangul = korean_reading(original)
        if hangul:
            readings.append(hangul)
    if not nationalities or nationalities & JAPANESE_NATIONALITIES:
        readings.extend(japanese_readings(original))
    for reading in readings:
        tokens = name_tokens(reading)
        if tokens:
            _add_name(out, seen, NameVariant(original.strip(), tokens))


def _document(d: object) -> DocumentKey | None:
    if d is None or not _is_map(d):
        return None
    raw = d.get("number")
    number = normalize_document_number(str(raw) if isinstance(raw, str | int) else None)
    if not number:
        return None
    return DocumentKey(number, normalize_country(_str(d.get("issuing_state"))), str(raw))


def _parse_ts(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        ts = datetime.fromisoformat(value)
    except ValueError:
        return None
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def is_indexable(d: Mapping[str, Any], now: datetime | None = None) -> bool:
    """Active (or no status given) and its notice not expired."""
    status = d.get("status")
    if status not in (None, "active"):
        return False
    notice = d.get("notice")
    raw = notice.get("expires_at") if _is_map(notice) else None
    expires = _parse_ts(raw) if raw else None
    if expires is None:
        raw = d.get("expires_at")
        expires = _parse_ts(raw) if raw else None
    return expires is None or expires > (now or datetime.now(UTC))


def entry_from_dict(d: Mapping[str, Any], now: datetime | None = None) -> EntryRecord | None:
    """A watchlist entry (DESIGN.md shape) as an index record; None when it must not match
    (cancelled, expired, no id, or no usable name and no document). Dates of birth: the union
    of `subject.date_of_birth` and `subject.dates_of_birth` (partial dates, `{"circa": Y}`,
    `{"from": Y1, "to": Y2}`; unusable items ignored, see dob.py)."""
    entry_id = d.get("id")
    if entry_id is None or not is_indexable(d, now):
        return None
    subject = d.get("subject")
    if not _is_map(subject):
        subject = {}
    names: list[NameVariant] = []
    seen: set[tuple[str, ...]] = set()
    _add_name(names, seen, _name_from(subject))
    _add_name(names, seen, _name_from(subject.get("name_original")))
    aliases = subject.get("aliases")
    if aliases and isinstance(aliases, list):
        for alias in aliases:
            _add_name(names, seen, _name_from(alias))
    nationalities = _nationalities(subject.get("nationalities"))
    original = subject.get("name_original")
    if isinstance(original, str) and not original.isascii():  # else no reading
        _add_readings(names, seen, original, nationalities)
    docs_raw = subject.get("documents")
    documents: tuple[DocumentKey, ...] = ()
    if docs_raw and isinstance(docs_raw, list):
        documents = tuple(
            doc for doc in (_document(x) for x in docs_raw) if doc is not None
        )
    if not names and not documents:
        return None
    return EntryRecord(
        id=str(entry_id),
        names=tuple(names),
        dobs=_birth_dates(subject.get("date_of_birth"), subject.get("dates_of_birth")),
        sex=normalize_sex(_str(subject.get("sex"))),
        nationalities=nationalities,
        documents=documents,
    )


def _nationalities(nats: object) -> frozenset[str]:
    """The normalised codes of `subject.nationalities` (a list, or one code as text)."""
    if isinstance(nats, str):
        nats = [nats]
    if not isinstance(nats, list) or not nats:
        return frozenset()
    if all(type(n) is str for n in nats):
        return _text_nationalities(tuple(nats))
    return frozenset(normalize_country(n) for n in nats if n)


@lru_cache(maxsize=4096)
def _text_nationalities(nats: tuple[str, ...]) -> frozenset[str]:
    # Shared between entries (few distinct lists, and the sets are immutable).
    return frozenset(normalize_country(n) for n in nats if n)


def _birth_dates(single: object, many: object) -> tuple[BirthDate, ...]:
    """`birth_dates_from`, shared between entries listing the same text dates (most do: a
    list repeats dates, and the records are immutable)."""
    if (single is None or type(single) is str) and (many is None or (
            type(many) is list and all(type(x) is str for x in many))):
        return _text_birth_dates(single, tuple(many) if many else ())
    return birth_dates_from(single, many)


@lru_cache(maxsize=65536)
def _text_birth_dates(single: str | None, many: tuple[str, ...]) -> tuple[BirthDate, ...]:
    return birth_dates_from(single, many)


def query_from_event(d: Mapping[str, Any]) -> Query:
    """A screening query from an event (DESIGN.md shape) or from a bare traveller dict.

    Call `apply_mrz` first when the event carries an MRZ, so its fields fill the gaps."""
    traveller = d.get("traveller")
    if traveller is None or not _is_map(traveller):
        traveller = d if "event_id" not in d else {}
    # The hot path of screening (once per event): the fields are read once, plain strings
    # (what the event schema gives) without the general adapters' conversions.
    get = traveller.get
    names: list[NameVariant] = []
    seen: set[tuple[str, ...]] = set()
    surname, given, full = get("surname"), get("given_names"), get("full_name")
    if type(surname) is str and type(given) is str and full is None:
        display = _given_then_surname(given, surname)  # `_display_of`, fields read once
        tokens = name_tokens(display)
        main = NameVariant(display, tokens, _surname_field(surname, given)) if tokens else None
    else:
        main = _name_from(traveller, surname_field=True)
    unfolded = unfolded_tokens(main.display) if main is not None else None
    original = get("name_original")
    if main is not None and unfolded is None and not original and "-" not in main.display:
        names.append(main)  # the usual traveller: one reading, nothing to deduplicate
    else:
        _add_name(names, seen, main)
        if unfolded and main is not None:
            # The letters as typed too, beside the Doc 9303 folds (see `unfolded_tokens`).
            _add_name(names, seen, NameVariant(main.display, unfolded, main.surname))
    nationality = get("nationality")
    nationality = normalize_country(nationality if type(nationality) is str else "")
    if original:
        _add_name(names, seen, _name_from(original))
        _add_readings(names, seen, original, {nationality} if nationality else set())
    doc = _document(d.get("document"))
    event_id = d.get("event_id")
    sex = get("sex")
    return Query(
        event_id=None if event_id is None else str(event_id),
        names=tuple(names),
        dob=parse_partial_date(get("date_of_birth")),
        sex=sex if sex == "M" or sex == "F" else normalize_sex(_str(sex)),
        nationality=nationality,
        documents=(doc,) if doc is not None else (),
    )
