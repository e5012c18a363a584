"""Machine-readable zone (ICAO Doc 9303) parser and validator: TD1, TD2, TD3.

Written here rather than taken from PyPI's `mrz` (GPL, and wrong on TD1 document numbers that
overflow into the optional field). `parse_mrz` never raises on bad content: it reports what it
could read and which checks failed. `apply_mrz` fills an event's missing traveller and document
fields from its MRZ and returns data-quality flags for every disagreement.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from failsafe.matching.countries import ICAO_SPECIAL, is_country_code
from failsafe.matching.normalize import (
    name_tokens,
    normalize_country,
    normalize_document_number,
    normalize_sex,
    parse_partial_date,
)

# The one country table (ISO 3166 alpha-3 and ICAO's additions), shared with the API.
ICAO_EXTRA_CODES = ICAO_SPECIAL
is_icao_code = is_country_code


_VALUES = {**{str(d): d for d in range(10)}, **{chr(65 + i): 10 + i for i in range(26)}, "<": 0}
_WEIGHTS = (7, 3, 1)


def check_digit(field_text: str) -> int | None:
    """The 7-3-1 check digit of a field, None if it holds a character the MRZ cannot."""
    total = 0
    for i, ch in enumerate(field_text):
        v = _VALUES.get(ch)
        if v is None:
            return None
        total += v * _WEIGHTS[i % 3]
    return total % 10


def _check(field_text: str, digit: str) -> bool:
    # A field of fillers may carry '<' as its check digit (an absent optional field).
    if digit == "<":
        return set(field_text) <= {"<"}
    expected = check_digit(field_text)
    return expected is not None and digit.isdigit() and int(digit) == expected


@dataclass(slots=True)
class MRZ:
    format: str  # "TD1" | "TD2" | "TD3"
    document_type: str
    issuing_state: str
    surname: str
    given_names: str
    document_number: str
    nationality: str
    date_of_birth: str | None  # ISO date, partial when the MRZ has '<<' for unknown parts
    sex: str  # "M" | "F" | "" (X or '<' unspecified)
    expiry_date: str | None
    optional_data: str
    checks: dict[str, bool] = field(default_factory=dict)  # field name -> check digit valid
    problems: list[str] = field(default_factory=list)  # unknown country codes, bad dates...

    @property
    def valid(self) -> bool:
        return all(self.checks.values()) and not self.problems


class MRZError(ValueError):
    """The lines are not an MRZ of any known format."""


def _clean_lines(lines: Sequence[str] | str) -> list[str]:
    if isinstance(lines, str):
        lines = lines.split()
    return [ln.strip().upper().replace(" ", "") for ln in lines if ln and ln.strip()]


def _field(text: str) -> str:
    return text.replace("<", " ").strip()


def _names(text: str) -> tuple[str, str]:
    surname, _, given = text.partition("<<")
    return _field(surname), " ".join(_field(given).split())


def _date(yymmdd: str, kind: str, today: date) -> str | None:
    """Resolve a YYMMDD date. Birth dates are never in the future; expiry dates are taken in
    the window from 50 years back to 49 years ahead of today."""
    yy, mm, dd = yymmdd[0:2], yymmdd[2:4], yymmdd[4:6]
    if not yy.isdigit():
        return None
    year2 = int(yy)
    if kind == "birth":
        year = 2000 + year2
        month = int(mm) if mm.isdigit() else 1
        day = int(dd) if dd.isdigit() else 1
        if (year, month, day) > (today.year, today.month, today.day):
            year -= 100
    else:
        year = 2000 + year2
        if year > today.year + 49:
            year -= 100
    if not mm.isdigit():
        return f"{year:04d}"
    month = int(mm)
    if not 1 <= month <= 12:
        return None
    if not dd.isdigit():
        return f"{year:04d}-{month:02d}"
    day = int(dd)
    try:
        date(year, month, day)
    except ValueError:
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


def _doc_number(number: str, check: str, optional: str) -> tuple[str, str, str]:
    """Document number, its check digit and the rest of the optional field; a number longer
    than 9 characters puts '<' in the check position and continues in the optional field,
    ending with its own check digit."""
    if check == "<" and optional and optional[0] != "<":
        rest, _, tail = optional.partition("<")
        if len(rest) >= 2:
            return number + rest[:-1], rest[-1], tail
    return number.rstrip("<"), check, optional


def parse_mrz(lines: Sequence[str] | str, today: date | None = None) -> MRZ:
    """Parse TD1 (3x30), TD2 (2x36) or TD3 (2x44). Raises MRZError only for the wrong shape."""
    ls = _clean_lines(lines)
    today = today or datetime.now(UTC).date()
    shape = tuple(len(x) for x in ls)
    if shape == (30, 30, 30):
        return _td1(ls, today)
    if shape == (36, 36):
        return _td23(ls, "TD2", today)
    if shape == (44, 44):
        return _td23(ls, "TD3", today)
    raise MRZError(f"not an MRZ: {len(ls)} lines of lengths {list(shape)}")


def _td1(ls: list[str], today: date) -> MRZ:
    l1, l2, l3 = ls
    number, num_check, optional1 = _doc_number(l1[5:14], l1[14], l1[15:30])
    surname, given = _names(l3)
    m = MRZ(
        format="TD1",
        document_type=_field(l1[0:2]),
        issuing_state=_field(l1[2:5]),
        surname=surname,
        given_names=given,
        document_number=number,
        nationality=_field(l2[15:18]),
        date_of_birth=_date(l2[0:6], "birth", today),
        sex=normalize_sex(l2[7]),
        expiry_date=_date(l2[8:14], "expiry", today),
        optional_data=(_field(optional1) + " " + _field(l2[18:29])).strip(),
    )
    number_field = l1[5:14] if num_check != "<" and l1[14] != "<" else number
    m.checks["document_number"] = _check(number_field, num_check)
    m.checks["date_of_birth"] = _check(l2[0:6], l2[6])
    m.checks["expiry_date"] = _check(l2[8:14], l2[14])
    m.checks["composite"] = _check(l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29], l2[29])
    _validate(m)
    return m


def _td23(ls: list[str], fmt: str, today: date) -> MRZ:
    l1, l2 = ls
    end = 35 if fmt == "TD2" else 42
    optional = l2[28:end]
    number, num_check, optional = _doc_number(l2[0:9], l2[9], optional)
    surname, given = _names(l1[5:])
    m = MRZ(
        format=fmt,
        document_type=_field(l1[0:2]),
        issuing_state=_field(l1[2:5]),
        surname=surname,
        given_names=given,
        document_number=number,
        nationality=_field(l2[10:13]),
        date_of_birth=_date(l2[13:19], "birth", today),
        sex=normalize_sex(l2[20]),
        expiry_date=_date(l2[21:27], "expiry", today),
        optional_data=_field(optional),
    )
    m.checks["document_number"] = _check(
        l2[0:9] if l2[9] != "<" else number, num_check
    )
    m.checks["date_of_birth"] = _check(l2[13:19], l2[19])
    m.checks["expiry_date"] = _check(l2[21:27], l2[27])
    if fmt == "TD3":
        m.checks["optional_data"] = _check(l2[28:42], l2[42])
        m.checks["composite"] = _check(l2[0:10] + l2[13:20] + l2[21:43], l2[43])
    else:
        m.checks["composite"] = _check(l2[0:10] + l2[13:20] + l2[21:35], l2[35])
    _validate(m)
    return m


def _validate(m: MRZ) -> None:
    for name, code in (("issuing_state", m.issuing_state), ("nationality", m.nationality)):
        if code and not is_icao_code(code):
            m.problems.append(f"unknown_country_code:{name}")
    if m.date_of_birth is None:
        m.problems.append("bad_date:date_of_birth")
    if m.expiry_date is None:
        m.problems.append("bad_date:expiry_date")
    if not m.surname:
        m.problems.append("missing:surname")


def apply_mrz(
    event: Mapping[str, Any], today: date | None = None
) -> tuple[dict[str, Any], list[str]]:
    """Parse the event's `mrz` (if any), fill missing traveller/document fields from it, and
    return (event copy, data-quality flags). Never raises on bad MRZ content: a bad MRZ is a
    flag, not a rejection. Flags: `mrz_unreadable`, `mrz_check_digit:<field>`,
    `mrz_unknown_country_code:<field>`, `mrz_bad_date:<field>`, `mrz_mismatch:<field>`."""
    raw = event.get("mrz")
    out = dict(event)
    if not raw:
        return out, []
    readable = isinstance(raw, str) or (
        isinstance(raw, list) and all(isinstance(x, str) for x in raw)
    )
    if not readable:
        return out, ["mrz_unreadable"]
    try:
        m = parse_mrz(raw, today)
    except MRZError:
        return out, ["mrz_unreadable"]
    flags = [f"mrz_check_digit:{k}" for k, ok in m.checks.items() if not ok]
    flags += [f"mrz_{p}" for p in m.problems]

    trav_in = event.get("traveller")
    traveller = copy.copy(dict(trav_in)) if isinstance(trav_in, Mapping) else {}
    doc_in = event.get("document")
    document = copy.copy(dict(doc_in)) if isinstance(doc_in, Mapping) else {}

    def fill(target: dict[str, Any], key: str, value: str | None, same: bool | None) -> None:
        if not value:
            return
        if target.get(key) in (None, ""):
            target[key] = value
        elif same is False:
            flags.append(f"mrz_mismatch:{key}")

    have_split = traveller.get("surname") or traveller.get("given_names")
    if not have_split and traveller.get("full_name"):
        if not _names_agree(str(traveller["full_name"]), f"{m.given_names} {m.surname}"):
            flags.append("mrz_mismatch:full_name")
    else:
        fill(traveller, "surname", m.surname,
             _names_agree(str(traveller.get("surname") or ""), m.surname))
        fill(traveller, "given_names", m.given_names,
             _names_agree(str(traveller.get("given_names") or ""), m.given_names))
    fill(traveller, "date_of_birth", m.date_of_birth,
         _dates_agree(traveller.get("date_of_birth"), m.date_of_birth))
    fill(traveller, "sex", m.sex, normalize_sex(str(traveller.get("sex") or "")) == m.sex)
    fill(traveller, "nationality", m.nationality,
         normalize_country(str(traveller.get("nationality") or "")) == m.nationality)
    fill(document, "type", m.document_type,
         str(document.get("type") or "").upper()[:1] == m.document_type[:1])
    fill(document, "number", m.document_number,
         normalize_document_number(str(document.get("number") or ""))
         == normalize_document_number(m.document_number))
    fill(document, "issuing_state", m.issuing_state,
         normalize_country(str(document.get("issuing_state") or "")) == m.issuing_state)
    fill(document, "expiry_date", m.expiry_date,
         _dates_agree(document.get("expiry_date"), m.expiry_date))
    out["traveller"] = traveller
    out["document"] = document
    return out, flags


def _names_agree(given: str, from_mrz: str) -> bool:
    a, b = name_tokens(given), name_tokens(from_mrz)
    if not a or not b:
        return True
    # The MRZ truncates long names: a prefix of the full name agrees.
    ja, jb = "".join(a), "".join(b)
    return ja == jb or ja.startswith(jb) or sorted(a) == sorted(b)


def _dates_agree(given: object, from_mrz: str | None) -> bool:
    a, b = parse_partial_date(given), parse_partial_date(from_mrz)
    if a is None or b is None:
        return True
    return all(x == y for x, y in zip(a, b, strict=True) if x is not None and y is not None)
