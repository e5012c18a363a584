"""The enumerations of failsafe's public contract, stated once (docs/contracts.md).

API schemas type their fields with these `Literal`s; the database's tuples of allowed values
(failsafe.db.models) are derived from them with `get_args`, so the two cannot disagree. This
module imports nothing of failsafe: every layer may use it.
"""

from __future__ import annotations

from typing import Literal, get_args

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

NOTICE_TYPES: tuple[NoticeType, ...] = get_args(NoticeType)
REQUESTED_ACTIONS: tuple[RequestedAction, ...] = get_args(RequestedAction)
ENTRY_STATUSES: tuple[EntryStatus, ...] = get_args(EntryStatus)
ALERT_STATUSES: tuple[AlertStatus, ...] = get_args(AlertStatus)
SEVERITIES: tuple[Severity, ...] = get_args(Severity)
ROLES: tuple[Role, ...] = get_args(Role)
