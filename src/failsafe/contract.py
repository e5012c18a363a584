"""The enumerations of failsafe's public contract, stated once (docs/contracts.md).

API schemas type their fields with these `Literal`s; the database's tuples of allowed values
(failsafe.db.models) are derived from them with `get_args`, so the two cannot disagree. The
alert's shape (`AlertView`) is here too: the recorder builds it, the API returns it, the bus
carries it and the hub sends it. This module imports nothing of failsafe: every layer may use it.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, final, get_args

from pydantic import ConfigDict, with_config

# typing_extensions': pydantic validates TypedDicts from it on Python < 3.12.
from typing_extensions import TypedDict

# An INTERPOL-style notice colour (docs/contracts.md "Watchlist entry").
NoticeType = Literal[
    "red", "green", "blue", "yellow", "orange", "purple", "black", "un_special", "diffusion"
]
RequestedAction = Literal["inform_only", "discreet_check", "specific_check", "locate_and_detain"]
EntryStatus = Literal["active", "cancelled", "expired"]
DistributionMode = Literal["all", "restricted"]

# An alert's lifecycle (docs/contracts.md "Alert"); `withdrawn` is set when the entry
# is cancelled, never asked for.
AlertStatus = Literal[
    "new",
    "acknowledged",
    "in_review",
    "confirmed",
    "false_positive",
    "action_reported",
    "closed",
    "withdrawn",
]
# What a transition may ask for.
TargetStatus = Literal[
    "acknowledged", "in_review", "confirmed", "false_positive", "action_reported", "closed"
]
# In increasing order: failsafe.alerts.routing indexes it by level.
Severity = Literal["low", "medium", "high", "critical"]

Role = Literal["admin", "analyst", "bureau", "border"]
# Who holds a principal: a shared desk or system token (`token`), one named officer of a bureau
# with a token of their own (`officer`), or a person signed in through the identity provider
# (`sso`: no token of ours, created at their first sign-in; failsafe.auth.oidc).
PrincipalKind = Literal["token", "officer", "sso"]

NOTICE_TYPES: tuple[NoticeType, ...] = get_args(NoticeType)
REQUESTED_ACTIONS: tuple[RequestedAction, ...] = get_args(RequestedAction)
ENTRY_STATUSES: tuple[EntryStatus, ...] = get_args(EntryStatus)
ALERT_STATUSES: tuple[AlertStatus, ...] = get_args(AlertStatus)
SEVERITIES: tuple[Severity, ...] = get_args(Severity)
ROLES: tuple[Role, ...] = get_args(Role)
PRINCIPAL_KINDS: tuple[PrincipalKind, ...] = get_args(PrincipalKind)


@with_config(ConfigDict(extra="allow"))
class EntrySummary(TypedDict):
    """The entry as an alert carries it (docs/contracts.md "Alert": `entry`)."""

    id: str
    version: int
    notice: dict[str, Any]
    owner_bureau: str
    requested_action: RequestedAction | None
    subject_name: str


class NoEntry(TypedDict):
    """The `entry` of an alert no watchlist entry caused (a radiation alarm's)."""


AlertKind = Literal["watchlist_hit", "radiation_alarm"]


# Unknown fields pass through (a newer replica's alert read by an older one loses nothing).
@final  # closed for type narrowing: `"control" in message` tells the two bus messages apart
@with_config(ConfigDict(extra="allow"))
class AlertView(TypedDict):
    """An alert as the contract shows it (docs/contracts.md "Alert"), with its current status."""

    id: int  # increases monotonically, gap-free in commit order: the resume cursor
    created_at: str
    updated_at: NotRequired[str]
    status: AlertStatus
    severity: Severity
    score: float
    method: str
    recipients: list[str]
    # A radiation alarm's alert (kind `radiation_alarm`) has no entry: `{}`.
    entry: EntrySummary | NoEntry
    event: dict[str, Any]
    explanation: list[dict[str, Any]]
    quality_flags: NotRequired[list[str]]
    kind: NotRequired[AlertKind]  # watchlist_hit (the default) or radiation_alarm


@final
class ControlMessage(TypedDict):
    """A message every replica's hub acts on, carried with the alerts (failsafe.kit.bus)."""

    control: str
    principal_id: str


# What the alert bus carries.
BusMessage = AlertView | ControlMessage


# What the alert recorder reads of a screened event and of the entry it hit (the recorder's
# inputs, failsafe.alerts.recorder.Hit). Both are contract JSON (docs/contracts.md "Event" and
# "Watchlist entry"), validated where they enter (failsafe.ingest.events.Event; the watchlist's
# EntryIn on write): these types name the fields failsafe reads, and every other field of the
# document travels with it unchanged.
# Required keys in a total base, the others in a total=False subclass: `Required[...]` inside
# this module's postponed (string) annotations is not seen at runtime.
class _EventKeys(TypedDict):
    event_id: str
    kind: Literal["border_crossing", "travel_booking"]
    occurred_at: str  # ISO 8601 with offset
    traveller: dict[str, Any]


class EventDoc(_EventKeys, total=False):
    """A validated event as JSON (schema v1), with its MRZ applied."""

    source: str
    country: str
    crossing: dict[str, Any]
    flight: dict[str, Any]
    document: dict[str, Any]


class _EntryKeys(TypedDict):
    id: str
    owner_bureau: str


class EntryDoc(_EntryKeys, total=False):
    """A watchlist entry as JSON, as the matcher knew it when it screened."""

    version: int
    status: EntryStatus
    notice: dict[str, Any]
    subject: dict[str, Any]
    case: dict[str, Any]
    distribution: dict[str, Any]
