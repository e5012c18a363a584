"""The watchlist entry contract (docs/contracts.md "Watchlist entry") as pydantic models, with the
limits that keep one request from exhausting memory. Input models forbid unknown fields (a typo
must not be silently dropped from a notice); every failure is a field-level 422."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from failsafe.contract import DistributionMode, EntryStatus, NoticeType, RequestedAction
from failsafe.kit.codes import (
    MAX_DATES_OF_BIRTH,
    BirthDate,
    CountryCode,
    OptionalPartialDate,
    PartialDate,
    settle_dates_of_birth,
)
from failsafe.kit.safe import Instant, Text

# Limits. A full entry at every maximum stays under ~120 KiB of JSON.
MAX_NAME_LEN = 200
MAX_ORIGINAL_NAME_LEN = 400
MAX_ALIASES = 50
MAX_DOCUMENTS = 20
MAX_NATIONALITIES = 10
MAX_SUMMARY_LEN = 4000
MAX_DISTRIBUTION_CODES = 250
MAX_REASON_LEN = 1000

NameText = Annotated[Text, StringConstraints(min_length=1, max_length=MAX_NAME_LEN)]
EntryId = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"),
    Field(description="letters, digits and . _ : - (1 to 64 characters)"),
]
NoticeReference = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9/._:-]*$"),
]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PersonName(_Input):
    """A name as the MRZ splits it (surname + given names), or whole when the split is unknown."""

    surname: NameText | None = None
    given_names: NameText | None = None
    full_name: NameText | None = None

    @model_validator(mode="after")
    def _has_a_name(self) -> PersonName:
        if not (self.surname or self.given_names or self.full_name):
            raise ValueError("a name needs surname, given_names or full_name")
        return self


class Alias(PersonName):
    pass


class TravelDocument(_Input):
    type: Annotated[
        str,
        StringConstraints(pattern=r"^[A-Z][A-Z0-9]?$", to_upper=True),
        Field(description="ICAO document type code: P, I, ID, V, AC...", examples=["P"]),
    ]
    number: Annotated[
        str,
        StringConstraints(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9 <./-]*$"),
    ]
    issuing_state: CountryCode
    expiry_date: PartialDate | None = None


class Subject(PersonName):
    name_original: Annotated[Text, StringConstraints(max_length=MAX_ORIGINAL_NAME_LEN)] | None = (
        Field(default=None, description="the name in its original script")
    )
    aliases: list[Alias] = Field(default_factory=list, max_length=MAX_ALIASES)
    date_of_birth: OptionalPartialDate = Field(
        default=None,
        description=(
            "shorthand for the first date of `dates_of_birth`: on input it is put first in the "
            "list; answered as the list's first item written as a date (null if none is)"
        ),
    )
    dates_of_birth: list[BirthDate] = Field(
        default_factory=list,
        max_length=MAX_DATES_OF_BIRTH,
        description=(
            "every date of birth the notice gives, the best agreeing one counts: a date "
            '(`YYYY`, `YYYY-MM`, `YYYY-MM-DD`), about a year (`{"circa": 1970}`), or a range '
            'of years, both included (`{"from": 1968, "to": 1972}`, at most 30 years)'
        ),
    )
    sex: Literal["M", "F", "X"] | None = None
    nationalities: list[CountryCode] = Field(default_factory=list, max_length=MAX_NATIONALITIES)
    documents: list[TravelDocument] = Field(default_factory=list, max_length=MAX_DOCUMENTS)

    @field_validator("nationalities")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _settle_dates_of_birth(self) -> Subject:
        # One list, the shorthand first: stored and answered with both fields consistent.
        self.date_of_birth, self.dates_of_birth = settle_dates_of_birth(
            self.date_of_birth, self.dates_of_birth
        )
        return self


class Notice(_Input):
    type: NoticeType
    reference: NoticeReference
    issued_at: Instant | None = None
    expires_at: Instant | None = Field(
        default=None,
        description="after this instant the entry reads as `expired` and stops matching",
    )

    @model_validator(mode="after")
    def _expires_after_issue(self) -> Notice:
        if self.issued_at and self.expires_at and self.expires_at <= self.issued_at:
            raise ValueError("expires_at must be after issued_at")
        return self


class Case(_Input):
    category: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")] | None = Field(
        default=None, examples=["nuclear_smuggling"]
    )
    summary: Annotated[Text, StringConstraints(max_length=MAX_SUMMARY_LEN)] | None = None
    requested_action: RequestedAction


class Distribution(_Input):
    """`restricted`: only the owner and `allow` may see the entry or receive its alerts; `deny`
    never may, whatever the mode."""

    mode: DistributionMode = "all"
    allow: list[CountryCode] = Field(default_factory=list, max_length=MAX_DISTRIBUTION_CODES)
    deny: list[CountryCode] = Field(default_factory=list, max_length=MAX_DISTRIBUTION_CODES)

    @field_validator("allow", "deny")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _disjoint(self) -> Distribution:
        if set(self.allow) & set(self.deny):
            raise ValueError("a bureau cannot be both allowed and denied")
        return self


ENTRY_EXAMPLE: dict[str, Any] = {
    "notice": {
        "type": "green",
        "reference": "2026/12345-G",
        "issued_at": "2026-11-01T09:00:00+00:00",
        "expires_at": "2031-11-01T09:00:00+00:00",
    },
    "owner_bureau": "FRA",
    "subject": {
        "surname": "PETROV",
        "given_names": "IVAN",
        "name_original": "Иван Петров",
        "aliases": [{"surname": "PETROFF", "given_names": "JOHN"}, {"full_name": "VANYA PETROV"}],
        "date_of_birth": "1970-03",
        "dates_of_birth": ["1970-03", {"circa": 1971}, {"from": 1968, "to": 1972}],
        "sex": "M",
        "nationalities": ["RUS"],
        "documents": [{"type": "P", "number": "753123456", "issuing_state": "RUS"}],
    },
    "case": {
        "category": "nuclear_smuggling",
        "summary": "Suspected courier of radioactive material.",
        "requested_action": "discreet_check",
    },
    "distribution": {"mode": "all", "allow": [], "deny": []},
}


class EntryIn(_Input):
    """A new entry, or a whole entry on import. `status` is for imports that mirror another
    system: omitted, an existing entry keeps its status and a new one is active."""

    model_config = ConfigDict(json_schema_extra={"examples": [ENTRY_EXAMPLE]})

    id: EntryId | None = Field(default=None, description="server-assigned when omitted")
    notice: Notice
    owner_bureau: CountryCode | None = Field(
        default=None, description="defaults to the caller's bureau; admins must give it"
    )
    subject: Subject
    case: Case
    distribution: Distribution = Field(default_factory=Distribution)
    status: Literal["active", "cancelled"] | None = None

    @model_validator(mode="after")
    def _owner_not_denied(self) -> EntryIn:
        if self.owner_bureau and self.owner_bureau in self.distribution.deny:
            raise ValueError("the owner bureau cannot be denied its own entry")
        return self

    def contract_fields(self) -> dict[str, Any]:
        """The caller-controlled part of the stored document, in canonical form: two inputs
        meaning the same entry give equal dicts (this is what makes re-imports idempotent).

        `subject.date_of_birth` is always present (null when no item is a date), so that clients
        reading only the shorthand see "no date" rather than a missing field."""
        out = self.model_dump(mode="json", exclude_none=True, exclude={"id", "status"})
        out["subject"]["date_of_birth"] = self.subject.date_of_birth
        return out


# The document keys an input controls; the rest (id, status, version...) the server does.
CONTRACT_KEYS = ("notice", "owner_bureau", "subject", "case", "distribution")
# Keys a client may send back in a PATCH (read-modify-write) that the server ignores.
READ_ONLY_KEYS = frozenset(
    {"created_at", "updated_at", "created_by", "updated_by", "revision", "cancellation"}
)


class Cancellation(BaseModel):
    at: datetime
    by: str | None = None
    reason: str | None = None


class Entry(BaseModel):
    """An entry as the API answers it (the contract's JSON)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0193a1f2c3d4e5f6a7b8c9d0e1f2a3b4",
                    **ENTRY_EXAMPLE,
                    "status": "active",
                    "version": 3,
                    "revision": 1812,
                    "created_at": "2026-11-27T10:00:00Z",
                    "updated_at": "2026-11-28T08:30:00Z",
                    "created_by": "p_1a2b3c4d5e6f7a8b",
                    "updated_by": "p_1a2b3c4d5e6f7a8b",
                }
            ]
        }
    )

    id: str
    notice: Notice
    owner_bureau: str
    subject: Subject
    case: Case
    distribution: Distribution
    status: EntryStatus = Field(description="`expired` once notice.expires_at has passed")
    version: int
    revision: int = Field(description="the global watchlist revision of this version")
    created_at: datetime
    updated_at: datetime
    created_by: str | None = None
    updated_by: str | None = None
    cancellation: Cancellation | None = None


class EntryPage(BaseModel):
    items: list[Entry]
    next_cursor: str | None = Field(default=None, description="pass as `cursor` for the next page")


class EntryVersionOut(BaseModel):
    version: int
    revision: int
    change: Literal["create", "update", "cancel", "expire"]
    status: str
    changed_at: datetime
    changed_by: str | None
    entry: Entry


class EntryVersionPage(BaseModel):
    items: list[EntryVersionOut]
    next_cursor: str | None = None


class CancelRequest(_Input):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "notice withdrawn by issuer", "version": 3}]}
    )

    reason: Annotated[Text, StringConstraints(max_length=MAX_REASON_LEN)] | None = None
    version: int | None = Field(default=None, ge=1, description="expected current version")


class SightingOut(BaseModel):
    alert_id: int
    event_id: str
    occurred_at: datetime
    kind: str
    country: str | None
    place: str | None
    direction: str | None
    route_countries: list[str]
    score: float
    method: str
    alert_status: str


class Timeline(BaseModel):
    entry_id: str
    countries: list[str] = Field(description="countries visited, in order of first appearance")
    sightings: list[SightingOut]


class RejectedLine(BaseModel):
    line: int
    id: str | None = None
    reason: str
    details: list[dict[str, Any]] | None = None


class ImportReport(BaseModel):
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[RejectedLine] = Field(
        default_factory=list, description="the rejected lines (the first 1000 through the API)"
    )
