"""The alert API's request and response models (docs/contracts.md "Alert")."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from failsafe.alerts.places import Stop
from failsafe.contract import AlertStatus, Severity, TargetStatus
from failsafe.kit.safe import Text

MAX_NOTE_LEN = 2000
Note = Annotated[Text, StringConstraints(max_length=MAX_NOTE_LEN, strip_whitespace=True)]


class AlertOut(BaseModel):
    """The alert contract. Extra fields of stored alerts (e.g. quality_flags) pass through."""

    model_config = ConfigDict(extra="allow")

    id: int = Field(description="increases monotonically; the websocket resume cursor")
    created_at: datetime
    updated_at: datetime | None = None
    status: AlertStatus
    severity: Severity
    score: float
    method: str
    recipients: list[str]
    entry: dict[str, Any]
    event: dict[str, Any]
    explanation: list[dict[str, Any]]


class AlertPage(BaseModel):
    items: list[AlertOut]
    next_cursor: str | None = Field(
        default=None, description="pass as `cursor` for the next (older) page; null at the end"
    )


class TransitionIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"status": "acknowledged", "note": "seen", "expected_status": "new"}]
        },
    )

    status: TargetStatus
    note: Note | None = None
    expected_status: AlertStatus | None = Field(
        default=None, description="refuse with 409 unless the alert is in this status now"
    )


class TransitionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    from_status: str | None
    to_status: str
    principal_id: str | None
    principal_name: str | None = Field(
        default=None, description="the display name of who made the change (the officer's own)"
    )
    bureau_code: str | None
    note: str | None
    at: datetime


class AlertDetail(AlertOut):
    transitions: list[TransitionOut] = Field(default_factory=list)
    acked_at: datetime | None = Field(
        default=None, description="when the caller acknowledged receipt (websocket `ack`)"
    )


class TimelinePointOut(BaseModel):
    alert_id: int
    sighting_id: int
    occurred_at: datetime
    kind: str
    country: str | None
    place: str | None
    direction: str | None
    route_countries: list[str]
    status: str
    score: float
    stops: list[Stop] = Field(
        default_factory=list,
        description="issue 14: the places written out and placed (lat/lon null when unknown): a "
        "booking's origin, transits and destination, or the crossing point",
    )


class Timeline(BaseModel):
    entry_id: str
    subject_name: str | None = None
    points: list[TimelinePointOut] = Field(description="sightings in the order they happened")
