"""Country codes (ISO 3166-1 alpha-3 plus ICAO Doc 9303's specials: the one table of
`failsafe.matching.countries`), partial dates and dates of
birth, as reusable pydantic types: `CountryCode`, `PartialDate`, `BirthDate`.

`PartialDate` is the one date grammar of every entry point (events, watchlist API, import,
`failsafe screen`): `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, parts possibly unpadded, always stored padded.
`BirthDate` adds the approximate forms a notice may give (`{"circa": 1970}`, `{"from": 1968,
"to": 1972}`); a subject lists up to `MAX_DATES_OF_BIRTH` of them."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from functools import lru_cache
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    TypeAdapter,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

# The one country table lives in `failsafe.matching.countries` (the MRZ reader uses it too):
# re-exported here for the API's types.
from failsafe.matching.countries import COUNTRY_CODES as COUNTRY_CODES
from failsafe.matching.countries import ICAO_SPECIAL as ICAO_SPECIAL
from failsafe.matching.countries import ISO_ALPHA3 as ISO_ALPHA3
from failsafe.matching.countries import is_country_code as is_country_code


def _normalize_code(value: Any) -> Any:
    # Senders disagree on case and surrounding blanks; the code itself is what counts.
    return value.strip().upper() if isinstance(value, str) else value


def _check_country(value: str) -> str:
    if not is_country_code(value):
        raise ValueError("not an ISO 3166-1 alpha-3 or ICAO country code")
    return value


CountryCode = Annotated[
    str,
    BeforeValidator(_normalize_code),
    AfterValidator(_check_country),
    WithJsonSchema(
        {
            "type": "string",
            # The exact list the server accepts: a pattern would be looser than the check.
            "enum": sorted(COUNTRY_CODES),
            "description": "ISO 3166-1 alpha-3 or an ICAO Doc 9303 special code (D, XXA, UTO...)",
            "examples": ["FRA", "D", "XXA"],
        }
    ),
]
"""An ISO/ICAO alpha-3 country code, upper-cased on input."""


# One grammar for dates everywhere (events, watchlist, import, `failsafe screen`): a year, a year
# and month, or a full date, with unpadded parts accepted (`1969-7-16`, as some senders write it).
# A `00` part means "unknown": it and the parts after it are dropped (`1966-00-00` is `1966`).
# ASCII digits only ([0-9], not \d, which takes any script's digits) and the whole string (not
# `$`, which allows a trailing newline).
_PARTIAL_DATE = re.compile(r"([0-9]{4})(?:-([0-9]{1,2})(?:-([0-9]{1,2}))?)?")
# Surrounding blanks (BLANKS: exactly these, so the documented pattern and the validator agree)
# are allowed: the validator strips them.
BLANKS = " \t\r\n"
PARTIAL_DATE_PATTERN = r"^[ \t\r\n]*[0-9]{4}(-[0-9]{1,2}(-[0-9]{1,2})?)?[ \t\r\n]*$"
PARTIAL_DATE_ERROR = "expected a date YYYY, YYYY-MM or YYYY-MM-DD"


def _date_error(kind: str, message: str) -> PydanticCustomError:
    # A ValueError with an error type of its own: an event's rejection reason names the field
    # and the type only (never the value), so the type must say what was wrong.
    return PydanticCustomError(kind, message)


def parse_partial_date(value: str) -> tuple[int, int | None, int | None]:
    """`1974` → (1974, None, None), `1974-8` → (1974, 8, None), `1974-08-12` → (1974, 8, 12);
    `1974-00-00` → (1974, None, None) and `1974-08-00` → (1974, 8, None).

    Raises ValueError (of pydantic error type `date_format` or `date_value`) unless the value
    is a real calendar year, month or day in this grammar."""
    m = _PARTIAL_DATE.fullmatch(value)
    if m is None:
        raise _date_error("date_format", PARTIAL_DATE_ERROR)
    year = int(m.group(1))
    month = int(m.group(2)) if m.group(2) else None
    day = int(m.group(3)) if m.group(3) else None
    if year < 1:
        raise _date_error("date_value", "year out of range")
    if month == 0:
        month = day = None
    if day == 0:
        day = None
    if month is not None and not 1 <= month <= 12:
        raise _date_error("date_value", "month out of range")
    if day is not None:
        assert month is not None
        try:
            date(year, month, day)
        except ValueError:
            raise _date_error("date_value", "not a calendar date") from None
    return year, month, day


def format_partial_date(parts: tuple[int, int | None, int | None]) -> str:
    """The padded text of parsed parts: (1969, 7, 6) → `1969-07-06`, (1969, None, None) → `1969`."""
    year, month, day = parts
    text = f"{year:04d}"
    if month is not None:
        text += f"-{month:02d}"
        if day is not None:
            text += f"-{day:02d}"
    return text


def normalize_partial_date(value: str) -> str:
    """A partial date in its one written form (padded, `00` parts dropped); ValueError if bad."""
    return format_partial_date(parse_partial_date(value.strip(BLANKS)))


def _check_partial_date(value: Any) -> Any:
    # A non-string is left to pydantic's own `str` check, which names the type error.
    return normalize_partial_date(value) if isinstance(value, str) else value


PartialDate = Annotated[
    str,
    BeforeValidator(_check_partial_date),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": PARTIAL_DATE_PATTERN,
            "description": (
                "a date that may be partial: year, year-month or a full date; unpadded parts "
                "(1974-8-2) are accepted and a 00 part reads as unknown (1974-00-00 is 1974); "
                "stored and answered in the padded form"
            ),
            "examples": ["1974", "1974-08", "1974-08-12"],
        }
    ),
]
"""A possibly partial calendar date: `1974`, `1974-08` or `1974-08-12` (validated, normalised to
the padded form, kept as text)."""


# All zeros is how several travel systems (and MRZ-derived feeds) write "not known".
_UNKNOWN_DATE = re.compile(r"0000(?:-00(?:-00)?)?")
_OPTIONAL_DATE_PATTERN = r"^[ \t\r\n]*([0-9]{4}(-[0-9]{1,2}(-[0-9]{1,2})?)?)?[ \t\r\n]*$"


def _blank_is_none(value: Any) -> Any:
    # Senders write "" or 0000-00-00 for "not known": that is no date, not a malformed one (an
    # event must not be rejected, and so go unscreened, for it).
    if isinstance(value, str) and (
        not value.strip(BLANKS) or _UNKNOWN_DATE.fullmatch(value.strip(BLANKS))
    ):
        return None
    return value


OptionalPartialDate = Annotated[
    PartialDate | None,
    BeforeValidator(_blank_is_none),
    WithJsonSchema(
        {
            "anyOf": [
                {
                    "type": "string",
                    # What the validator takes: a date as PartialDate, or blank / all zeros
                    # for "not known".
                    "pattern": _OPTIONAL_DATE_PATTERN,
                    "description": (
                        "a date that may be partial: year, year-month or a full date; unpadded "
                        "parts (1974-8-2) are accepted and a 00 part reads as unknown (1974-00-00 "
                        "is 1974); blank or 0000-00-00 means not known; stored and answered in "
                        "the padded form"
                    ),
                    "examples": ["1974", "1974-08", "1974-08-12"],
                },
                {"type": "null"},
            ]
        }
    ),
]
"""A `PartialDate` or nothing; a blank string or an all-zero date (`0000-00-00`) reads as
nothing."""


# --- dates of birth: several per person, some approximate ------------------------------------

MAX_DATES_OF_BIRTH = 10
# Approximate birth years must be plausible for a living person's record: outside this range an
# approximate year is a typo (a list that really means "born 1066" has no use for a matcher).
MIN_BIRTH_YEAR = 1850
MAX_BIRTH_YEAR = 2100
MAX_YEAR_RANGE = 30

BirthYear = Annotated[int, Field(ge=MIN_BIRTH_YEAR, le=MAX_BIRTH_YEAR)]


class CircaYear(BaseModel):
    """About that year (a notice's "born circa 1970")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    circa: BirthYear


class YearRange(BaseModel):
    """Born in one of these years, both included (`{"from": 1968, "to": 1972}`)."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, serialize_by_alias=True
    )

    from_: BirthYear = Field(alias="from")
    to: BirthYear

    @model_validator(mode="after")
    def _ordered_and_bounded(self) -> YearRange:
        if self.from_ > self.to:
            raise ValueError("from must not be after to")
        if self.to - self.from_ > MAX_YEAR_RANGE:
            raise ValueError(f"a year range spans at most {MAX_YEAR_RANGE} years")
        return self


def _birth_date_kind(value: Any) -> str | None:
    if isinstance(value, str):
        return "date"
    if isinstance(value, CircaYear):
        return "circa"
    if isinstance(value, YearRange):
        return "range"
    if isinstance(value, dict):
        if "circa" in value:
            return "circa"
        if "from" in value or "to" in value:
            return "range"
    return None


BIRTH_DATE_ERROR = (
    'expected a date (YYYY, YYYY-MM or YYYY-MM-DD), {"circa": YYYY} or {"from": YYYY, "to": YYYY}'
)

BirthDate = Annotated[
    Annotated[PartialDate, Tag("date")]
    | Annotated[CircaYear, Tag("circa")]
    | Annotated[YearRange, Tag("range")],
    Discriminator(
        _birth_date_kind,
        custom_error_type="birth_date",
        custom_error_message=BIRTH_DATE_ERROR,
    ),
]
"""One date of birth: an exact or partial date (text), about a year, or a range of years."""


BirthDateValue = str | CircaYear | YearRange


def settle_dates_of_birth(
    first: str | None, items: Sequence[BirthDateValue]
) -> tuple[str | None, list[BirthDateValue]]:
    """The two fields of a subject made consistent: the list is the `date_of_birth` shorthand
    (when given) followed by the other items without repeats, and the shorthand is the list's
    first item written as a date (or None). Raises ValueError beyond MAX_DATES_OF_BIRTH."""
    out: list[BirthDateValue] = []
    for item in ([first] if first is not None else []) + list(items):
        if item not in out:
            out.append(item)
    if len(out) > MAX_DATES_OF_BIRTH:
        raise ValueError(f"at most {MAX_DATES_OF_BIRTH} dates of birth")
    return next((item for item in out if isinstance(item, str)), None), out


def birth_date_json(item: BirthDateValue) -> str | dict[str, int]:
    """An item in its stored JSON form: the text, `{"circa": Y}` or `{"from": A, "to": B}`."""
    return item if isinstance(item, str) else item.model_dump(mode="json")


class _SubjectDates(BaseModel):
    """The two date-of-birth fields of a subject, as the watchlist schema reads them."""

    model_config = ConfigDict(extra="ignore")

    date_of_birth: OptionalPartialDate = None
    dates_of_birth: list[BirthDate] = Field(default_factory=list, max_length=MAX_DATES_OF_BIRTH)

    @model_validator(mode="after")
    def _settle(self) -> _SubjectDates:
        self.date_of_birth, self.dates_of_birth = settle_dates_of_birth(
            self.date_of_birth, self.dates_of_birth
        )
        return self


_SUBJECT_DATES = TypeAdapter(_SubjectDates)


def subject_dates(subject: Mapping[str, Any]) -> dict[str, Any]:
    """A raw subject's `date_of_birth` and `dates_of_birth`, validated with the watchlist's
    grammar and returned in the stored JSON form (both keys; `date_of_birth` may be None).

    For readers of raw watchlist JSON that do not validate whole entries (`failsafe screen`).
    Raises pydantic's ValidationError for a bad item."""
    fast = _plain_subject_dates(subject)
    if fast is not None:
        return fast
    parsed = _SUBJECT_DATES.validate_python(
        {k: subject[k] for k in ("date_of_birth", "dates_of_birth") if subject.get(k) is not None}
    )
    return {
        "date_of_birth": parsed.date_of_birth,
        "dates_of_birth": [birth_date_json(item) for item in parsed.dates_of_birth],
    }


@lru_cache(maxsize=65536)
def _normal_date(value: str) -> str | None:
    """`normalize_partial_date(value)`, or None where it raises (cached: a list repeats dates)."""
    try:
        return normalize_partial_date(value)
    except ValueError:
        return None


def _plain_subject_dates(subject: Mapping[str, Any]) -> dict[str, Any] | None:
    """`subject_dates` by hand for the common shapes (a text date or none, a list of text
    dates or none), giving exactly the schema's answer; None for anything else, and for any
    value the schema would reject, so that the schema itself answers those (and says why).

    What the schema does with these shapes, step by step: `date_of_birth` blank or all zeros
    is None (`_blank_is_none`), else a `PartialDate`; a text item of `dates_of_birth` is a
    `PartialDate` (not blank-tolerant); then `settle_dates_of_birth`. Only exact `str` and
    `list` instances are taken (a subclass may validate differently); a hypothesis test holds
    this to `_SUBJECT_DATES` (tests/unit/kit/test_subject_dates_fast.py)."""
    first = subject.get("date_of_birth")
    many = subject.get("dates_of_birth")
    if first is not None:
        if type(first) is not str:
            return None
        stripped = first.strip(BLANKS)
        if not stripped or _UNKNOWN_DATE.fullmatch(stripped):
            first = None
        else:
            first = _normal_date(first)
            if first is None:
                return None
    out: list[str] = [] if first is None else [first]
    if many is not None:
        if type(many) is not list or len(many) > MAX_DATES_OF_BIRTH:
            return None
        for item in many:
            if type(item) is not str:
                return None
            normal = _normal_date(item)
            if normal is None:
                return None
            if normal not in out:
                out.append(normal)
        if len(out) > MAX_DATES_OF_BIRTH:
            return None
    return {"date_of_birth": out[0] if out else None, "dates_of_birth": out}
