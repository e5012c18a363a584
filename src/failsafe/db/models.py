"""The data model, in one place because it was designed as one: every domain imports from here.

Tables: bureau, principal (+ stream_ticket), counter, watchlist_entry (+ watchlist_entry_version),
sighting, alert (+ alert_recipient, alert_transition, alert_ack), audit_log; Project Stone
(issue 12): alarm, lane_crossing, alarm_link, alarm_adjudication. Personal data lives
only in the JSON documents of entries, entry versions, sightings and alerts, never in audit
details.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from failsafe import contract
from failsafe.db.base import Base, BigIntPK, JSONType, UTCDateTime, utcnow

# Enumerations are stored as short strings (checked in the schemas, not by database enums, so that
# adding a value never needs a migration that locks a table); their values are failsafe.contract's.
ROLES = contract.ROLES
ENTRY_STATUSES = contract.ENTRY_STATUSES
ALERT_STATUSES = contract.ALERT_STATUSES


class Bureau(Base):
    """A national central bureau, keyed by its country's alpha-3 code."""

    __tablename__ = "bureau"

    code: Mapped[str] = mapped_column(String(3), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Principal(Base):
    """Who calls the API: an opaque bearer token (stored as SHA-256 only), a role and a bureau."""

    __tablename__ = "principal"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    # failsafe.contract.PrincipalKind: a desk token, a named officer, or a signed-in person.
    kind: Mapped[str] = mapped_column(String(16), default="token", server_default="token")
    bureau_code: Mapped[str | None] = mapped_column(ForeignKey("bureau.code"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the token, to tell tokens apart in listings without revealing them.
    token_prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(32))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StreamTicket(Base):
    """A one-time websocket ticket (`POST /v1/alerts/stream/ticket`): a browser cannot put its
    bearer token in a websocket's headers, and a URL's query string is what logs record. Stored
    as SHA-256 only, valid for seconds, consumed at most once by one atomic UPDATE (whichever
    `serve` replica the socket reaches)."""

    __tablename__ = "stream_ticket"

    ticket_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    principal_id: Mapped[str] = mapped_column(
        ForeignKey("principal.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Indexed: issuing a ticket also deletes the long-expired ones.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Counter(Base):
    """One-row counters giving gap-free, commit-ordered numbers (see failsafe.db.counters)."""

    __tablename__ = "counter"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class WatchlistEntry(Base):
    """The current version of a watchlist entry. `document` is the entry contract's JSON.

    Subject fields that nothing filters on in SQL (names' originals, dates of birth with
    `subject.dates_of_birth` and its `date_of_birth` shorthand, documents...) live in `document`
    only, here and in each version's snapshot: the matcher and the API read them from there, so
    a column would be a second copy to keep in step."""

    __tablename__ = "watchlist_entry"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    notice_type: Mapped[str] = mapped_column(String(16), index=True)
    notice_reference: Mapped[str | None] = mapped_column(String(64), unique=True)
    owner_bureau: Mapped[str] = mapped_column(String(3), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    # "all" or "restricted"; restricted entries are visible to owner_bureau and `allow` only.
    distribution_mode: Mapped[str] = mapped_column(String(16), default="all")
    # document["distribution"]["allow"/"deny"] as " DEU ITA " (spaces at both ends), so that "may
    # bureau X see this entry" is `LIKE '% X %'` on PostgreSQL and SQLite alike.
    distribution_allow: Mapped[str] = mapped_column(Text, default="", server_default="")
    distribution_deny: Mapped[str] = mapped_column(Text, default="", server_default="")
    version: Mapped[int] = mapped_column(Integer)
    # The global watchlist revision of the latest change; matchers follow `revision > last_seen`.
    revision: Mapped[int] = mapped_column(BigInteger, index=True)
    # Normalised name tokens (primary names and aliases) for the list's name search.
    search_text: Mapped[str] = mapped_column(Text, default="")
    document: Mapped[dict[str, Any]] = mapped_column(JSONType)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(32))
    updated_by: Mapped[str | None] = mapped_column(String(32))


class WatchlistEntryVersion(Base):
    """Every version an entry has had, never deleted: the entry's history."""

    __tablename__ = "watchlist_entry_version"

    entry_id: Mapped[str] = mapped_column(ForeignKey("watchlist_entry.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(BigInteger, unique=True)
    change: Mapped[str] = mapped_column(String(16))  # create | update | cancel | expire
    status: Mapped[str] = mapped_column(String(16))
    document: Mapped[dict[str, Any]] = mapped_column(JSONType)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    changed_by: Mapped[str | None] = mapped_column(String(32))


class Sighting(Base):
    """A traveller as observed at one event that hit the watchlist (non-hits are not stored)."""

    __tablename__ = "sighting"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    source: Mapped[str | None] = mapped_column(String(64))
    country: Mapped[str | None] = mapped_column(String(3))
    direction: Mapped[str | None] = mapped_column(String(16))
    place: Mapped[str | None] = mapped_column(String(64))
    # Countries of the route in travel order (origin, transits, destination) for timelines/routing.
    route_countries: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # The event as received (traveller, document, crossing/flight), minus nothing: it is evidence.
    event: Mapped[dict[str, Any]] = mapped_column(JSONType)
    quality_flags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Alert(Base):
    """One hit: an (event, watchlist entry) pair. `id` comes from the commit-ordered counter.

    Issue 12: `kind` is `watchlist_hit` (the above) or `radiation_alarm` (one per alarm; then
    `event_id` is `alarm:<alarm_id>`, unique among radiation alerts, and there is no entry and no
    sighting: entry_id and sighting_id are NULL)."""

    __tablename__ = "alert"
    __table_args__ = (
        UniqueConstraint("event_id", "entry_id"),
        Index("ix_alert_entry_traveller", "entry_id", "traveller_key"),
        # Exactly one alert per alarm (issue 12), whichever worker gets there first.
        Index(
            "ux_alert_radiation_event",
            "event_id",
            unique=True,
            postgresql_where=text("kind = 'radiation_alarm'"),
            sqlite_where=text("kind = 'radiation_alarm'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(  # issue 12
        String(24), default="watchlist_hit", server_default="watchlist_hit"
    )
    event_id: Mapped[str] = mapped_column(String(128))
    entry_id: Mapped[str | None] = mapped_column(ForeignKey("watchlist_entry.id"), index=True)
    entry_version: Mapped[int] = mapped_column(Integer)
    sighting_id: Mapped[int | None] = mapped_column(ForeignKey("sighting.id"), index=True)
    status: Mapped[str] = mapped_column(String(24), index=True)
    severity: Mapped[str] = mapped_column(String(16), index=True)
    score: Mapped[float] = mapped_column(Float)
    method: Mapped[str] = mapped_column(String(16))
    notice_type: Mapped[str] = mapped_column(String(16), index=True)
    owner_bureau: Mapped[str] = mapped_column(String(3))
    recipients: Mapped[list[str]] = mapped_column(JSONType)
    # A stable hash of the traveller's identity (document or name + birth date): a false positive
    # dismissed for (entry, traveller) does not alert again.
    traveller_key: Mapped[str] = mapped_column(String(64))
    # The alert contract's JSON as published (entry, event, explanation), status excluded.
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AlertRecipient(Base):
    """Which bureaus an alert was routed to: the index behind replay (`bureau, id > since`)."""

    __tablename__ = "alert_recipient"

    bureau_code: Mapped[str] = mapped_column(String(3), primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id"), primary_key=True)


class AlertTransition(Base):
    """Every status change of an alert, with who, when and a note."""

    __tablename__ = "alert_transition"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str] = mapped_column(String(24))
    principal_id: Mapped[str | None] = mapped_column(String(32))
    bureau_code: Mapped[str | None] = mapped_column(String(3))
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AlertAck(Base):
    """A principal's acknowledgement of having seen an alert (websocket `ack`)."""

    __tablename__ = "alert_ack"

    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id"), primary_key=True)
    principal_id: Mapped[str] = mapped_column(ForeignKey("principal.id"), primary_key=True)
    acked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditLog(Base):
    """Who did or read what, when. `detail` holds ids and field names, never personal data."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    principal_id: Mapped[str | None] = mapped_column(String(32), index=True)
    role: Mapped[str | None] = mapped_column(String(16))
    bureau_code: Mapped[str | None] = mapped_column(String(3))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(128), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


# -- Project Stone (issue 12): radiation alarms linked to crossings ------------------------------


class Alarm(Base):
    """A radiation alarm (contract `failsafe.alarm/v1`), once per `alarm_id`. Not personal data:
    kept. `window_start`/`window_end` are the occupancy widened by the tolerance in force when it
    arrived (the correlation's meeting condition, indexed with the point)."""

    __tablename__ = "alarm"
    __table_args__ = (Index("ix_alarm_point_window", "point", "window_start", "window_end"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    alarm_id: Mapped[str] = mapped_column(String(128), unique=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    country: Mapped[str] = mapped_column(String(3))
    point: Mapped[str] = mapped_column(String(64))
    lane: Mapped[str | None] = mapped_column(String(16))
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    # " gamma neutron " (spaces at both ends): `LIKE '% neutron %'` on both backends.
    categories: Mapped[str] = mapped_column(String(64), default="")
    document: Mapped[dict[str, Any]] = mapped_column(JSONType)
    alert_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    # The latest adjudication code (None: not adjudicated), for the list's filter.
    adjudication: Mapped[str | None] = mapped_column(String(32), index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LaneCrossing(Base):
    """A border crossing with a point and a lane, kept to meet alarms. Data minimisation: one
    that is neither a hit nor linked is deleted once `purge_after` has passed."""

    __tablename__ = "lane_crossing"
    __table_args__ = (Index("ix_lane_crossing_point_time", "point", "occurred_at"),)

    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    point: Mapped[str] = mapped_column(String(64))
    lane: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    country: Mapped[str | None] = mapped_column(String(3))
    hit: Mapped[bool] = mapped_column(default=False)
    # The event as received (traveller, document, crossing with vehicle): evidence once linked.
    event: Mapped[dict[str, Any]] = mapped_column(JSONType)
    purge_after: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AlarmLink(Base):
    """An alarm met a crossing: once per pair (the primary key), whoever saw it first."""

    __tablename__ = "alarm_link"

    alarm_pk: Mapped[int] = mapped_column(ForeignKey("alarm.id"), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(128), primary_key=True, index=True)
    relation: Mapped[str] = mapped_column(String(16))  # same_lane | adjacent_lane
    confidence: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AlarmAdjudication(Base):
    """The outcome of an alarm's inspection, append-only (DESIGN.md "Radiation alarm")."""

    __tablename__ = "alarm_adjudication"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    alarm_pk: Mapped[int] = mapped_column(ForeignKey("alarm.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    secondary: Mapped[str] = mapped_column(String(16))
    isotopes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    note: Mapped[str | None] = mapped_column(Text)
    principal_id: Mapped[str | None] = mapped_column(String(32))
    bureau_code: Mapped[str | None] = mapped_column(String(3))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
