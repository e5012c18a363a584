"""Dates of birth as graded evidence: listed dates (several, partial or approximate) against
the traveller's one date, with a named agreement and a short human detail.

A listed date of birth is a `BirthDate`: a partial date (year, year-month or full date) or a
span of years (`{"circa": 1970}` is 1968-1972, `{"from": 1968, "to": 1972}` as given). `YYYY-01-01`
is read as year precision on both sides: lists and registers write it as a placeholder for "year
known" (`-00-00` already parses so). Every comparison says how the dates relate:

- `exact`: the same date at the precision both sides share (a year-only date against a full one
  of that year, a traveller's date inside a listed span);
- `close`: a small disagreement, the kind typing and transcription make: one part off by one
  (or the month and the day each off by one),
  a digit of the day or year typed wrong, day and month swapped, two digits of the year
  transposed (those two only when the month is known on both sides and agrees), and the same
  day and month of two full dates with the year up to 10 apart (a wrong or estimated year: a
  stranger shares the day and month one time in 365);
- `far`: anything else, with how many years apart;
- `unknown`: one side has no date (the detail says which).

Only `agreement` and `years` matter to the scorer (score.py `dob_factor`); the detail is text for
the explanation. An entry's best listed date is the one that agrees best (`best_birth_date`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from failsafe.matching.normalize import DateParts, format_partial_date, parse_partial_date

CIRCA_YEARS = 2  # {"circa": 1970} means 1968-1972
SAME_DAY_YEARS = 10  # the same day and month, the year this far apart at most: close
MAX_DATES = 10  # listed dates per entry kept (the adapter ignores the rest)
_YEAR_MIN, _YEAR_MAX = 1800, 2200

EXACT, CLOSE, FAR, UNKNOWN = "exact", "close", "far", "unknown"
_RANK = {EXACT: 3, CLOSE: 2, FAR: 1, UNKNOWN: 0}


@dataclass(frozen=True, slots=True)
class BirthDate:
    """One listed date of birth. A date has `first == last`; a span of years has no month or
    day. `text` is how the explanation shows it."""

    first: int
    last: int
    month: int | None = None
    day: int | None = None
    text: str = ""

    @property
    def is_span(self) -> bool:
        return self.first != self.last

    @property
    def years(self) -> range:
        return range(self.first, self.last + 1)


@dataclass(frozen=True, slots=True)
class DobComparison:
    """How a traveller's date of birth relates to one listed date (or to none)."""

    agreement: str  # exact | close | far | unknown
    score: float  # agreement in [0, 1] (1 = the same full date), 0 for unknown
    years: int  # whole years apart (0 for exact and for most close ones)
    precise: bool  # both sides are full dates (not year placeholders)
    note: str  # `detail` without the two dates
    candidate: BirthDate | None = None
    # Set when `detail` shows both dates: built only when read (it is read for the alerts
    # only, and a comparison is made for every candidate).
    query: DateParts | None = None

    @property
    def detail(self) -> str:
        """What was compared and how it came out, in words."""
        if self.query is None or self.candidate is None:
            return self.note
        return f"{self.note} ({_both(self.candidate, self.query)})"


UNKNOWN_DOB = DobComparison(UNKNOWN, 0.0, 0, False, "no date of birth on one side")
_NO_TRAVELLER_DOB = DobComparison(UNKNOWN, 0.0, 0, False, "the traveller gave no date of birth")
_NONE_LISTED = DobComparison(UNKNOWN, 0.0, 0, False, "no date of birth listed")


def birth_date(parts: DateParts | None) -> BirthDate | None:
    """A listed partial date as a BirthDate (None stays None)."""
    if parts is None:
        return None
    y, m, d = parts
    return BirthDate(y, y, m, d, format_partial_date(parts) or str(y))


def _year(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        year = value
    elif isinstance(value, str) and value.strip().isdigit() and len(value.strip()) == 4:
        year = int(value.strip())
    else:
        return None
    return year if _YEAR_MIN <= year <= _YEAR_MAX else None


def birth_date_from(item: object) -> BirthDate | None:
    """One item of `subject.dates_of_birth`: a partial-date string, `{"circa": YEAR}` or
    `{"from": YEAR, "to": YEAR}` (inclusive). None when unusable (the adapter is tolerant)."""
    if isinstance(item, str):
        return birth_date(parse_partial_date(item))
    if not isinstance(item, Mapping):
        return None
    if "circa" in item:
        year = _year(item.get("circa"))
        if year is None:
            return None
        return BirthDate(year - CIRCA_YEARS, year + CIRCA_YEARS, text=f"circa {year}")
    lo, hi = _year(item.get("from")), _year(item.get("to"))
    if lo is None and hi is None:
        return None
    lo = hi if lo is None else lo
    hi = lo if hi is None else hi
    assert lo is not None and hi is not None
    if lo > hi:
        lo, hi = hi, lo
    return BirthDate(lo, hi, text=f"{lo}" if lo == hi else f"{lo}-{hi}")


def birth_dates_from(single: object, many: object) -> tuple[BirthDate, ...]:
    """`subject.date_of_birth` then `subject.dates_of_birth`, usable ones only, without
    repeats, at most MAX_DATES."""
    out: list[BirthDate] = []
    items: list[object] = [single]
    if isinstance(many, list | tuple):
        items.extend(many)
    for item in items:
        bd = birth_date_from(item) if item is not None else None
        if bd is not None and bd not in out:
            out.append(bd)
        if len(out) >= MAX_DATES:
            break
    return tuple(out)


def _effective(y: int, m: int | None, d: int | None) -> DateParts:
    # YYYY-01-01 is the usual placeholder for "year known".
    if m == 1 and d == 1:
        return (y, None, None)
    return (y, m, d)


def _one_digit(a: int, b: int) -> bool:
    sa, sb = f"{a:02d}", f"{b:02d}"
    return len(sa) == len(sb) and sum(x != y for x, y in zip(sa, sb, strict=True)) == 1


def _transposed(a: int, b: int) -> bool:
    sa, sb = f"{a:04d}", f"{b:04d}"
    if sa == sb or sorted(sa) != sorted(sb):
        return False
    diff = [i for i in range(4) if sa[i] != sb[i]]
    return len(diff) == 2 and diff[1] == diff[0] + 1


def _show(parts: DateParts) -> str:
    return format_partial_date(parts) or str(parts[0])


def _both(c: BirthDate, q: DateParts) -> str:
    return f"listed {c.text}, traveller {_show(q)}"


def compare_birth_date(q: DateParts | None, c: BirthDate | None) -> DobComparison:
    """The traveller's date `q` against one listed date `c`."""
    if q is None or c is None:
        return UNKNOWN_DOB
    qy, qm, qd = _effective(*q)
    if c.first != c.last:
        if c.first <= qy <= c.last:
            return DobComparison(EXACT, 0.9, 0, False, f"within {c.text}", c)
        gap = c.first - qy if qy < c.first else qy - c.last
        if gap == 1:
            return DobComparison(CLOSE, 0.7, 1, False, f"year 1 outside {c.text}", c)
        return DobComparison(FAR, 0.0, gap, False,
                             f"year {gap} outside", c, q)
    cy, cm, cd = _effective(c.first, c.month, c.day)
    precise = qd is not None and cd is not None
    # (The detail's text is built only where it is used: this runs for every candidate.)
    same_prec = (qm is None) == (cm is None) and (qd is None) == (cd is None)
    shared_m = qm is not None and cm is not None
    shared_d = shared_m and qd is not None and cd is not None
    if qy == cy:
        if not shared_m or (qm == cm and (not shared_d or qd == cd)):
            score = 1.0 if shared_d else 0.95 if shared_m else 0.9
            detail = "same date" if same_prec else \
                f"same {'month' if shared_m else 'year'} ({_both(c, q)})"
            return DobComparison(EXACT, score, 0, precise, detail, c)
        assert qm is not None and cm is not None
        if shared_d and qm == cd and qd == cm:
            return DobComparison(CLOSE, 0.8, 0, precise, "day and month swapped", c)
        if qm == cm:
            assert qd is not None and cd is not None
            if abs(qd - cd) == 1:
                return DobComparison(CLOSE, 0.7, 0, precise, "day differs by 1", c)
            if _one_digit(qd, cd):
                return DobComparison(CLOSE, 0.6, 0, precise, "one digit of the day differs", c)
            return DobComparison(FAR, 0.2, 0, precise, "day differs", c, q)
        if qd == cm and cd is None:
            # Swapped against a listed month: the traveller's day is the listed month.
            return DobComparison(CLOSE, 0.8, 0, precise, "day and month swapped", c)
        if not shared_d or qd == cd:
            if abs(qm - cm) == 1:
                return DobComparison(CLOSE, 0.7, 0, precise, "month differs by 1", c)
            return DobComparison(FAR, 0.2, 0, precise, "month differs", c, q)
        if qd is not None and cd is not None and abs(qm - cm) == 1 and abs(qd - cd) == 1:
            return DobComparison(CLOSE, 0.5, 0, precise, "month and day each differ by 1", c)
        return DobComparison(FAR, 0.1, 0, precise, "month and day differ", c, q)
    years = abs(qy - cy)
    if (not shared_m or qm == cm) and (not shared_d or qd == cd):
        if years == 1:
            return DobComparison(CLOSE, 0.7, 1, precise, "year differs by 1", c)
        # A typed digit needs more than the year to go on: against a year-only date a third
        # of all years would share three digits with it.
        if shared_m and _transposed(qy, cy):
            return DobComparison(CLOSE, 0.6, years, precise, "year digits transposed", c)
        if shared_m and qy // 100 == cy // 100 and _one_digit(qy % 100, cy % 100):
            return DobComparison(CLOSE, 0.6, years, precise, "one digit of the year differs", c)
        if shared_d and years <= SAME_DAY_YEARS:
            # The day and month agree on two full dates: the year was mistyped or estimated
            # (a stranger shares the day and month one time in 365).
            return DobComparison(CLOSE, 0.5, years, precise,
                                 f"same day and month, year differs by {years}", c, q)
    return DobComparison(FAR, 0.0, years, precise, f"year differs by {years}", c, q)


def best_birth_date(q: DateParts | None, listed: Sequence[BirthDate]) -> DobComparison:
    """The listed date that agrees best with `q` (ties: the higher score, then the nearer)."""
    if q is None:
        return _NO_TRAVELLER_DOB if listed else UNKNOWN_DOB
    if not listed:
        return _NONE_LISTED
    best = UNKNOWN_DOB
    for c in listed:
        got = compare_birth_date(q, c)
        if best is UNKNOWN_DOB or (_RANK[got.agreement], got.score, -got.years) > (
            _RANK[best.agreement], best.score, -best.years
        ):
            best = got
    return best
