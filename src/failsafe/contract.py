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
