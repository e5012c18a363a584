"""The screening pipeline shared by every event source (Kafka worker, POST /v1/events).

validate -> (invalid: dead-letter) -> MRZ -> screen -> record sighting + alerts -> publish.
`process` returns only when all of that is durable, so a source may commit its position after it.

One event never stops the stream: validation rejects what later steps cannot hold, and an event
that a later step still fails on is dead-lettered with the reason while its neighbours go on.
When recording a group of hits fails on the data (`is_data_error`), the hits are recorded again
event by event, each in its own transaction, and only the events that fail alone are
dead-lettered. An outage (a lost connection, a timeout) is not the data's fault: it propagates,
and the source retries the whole batch later; nothing is dead-lettered for it.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

from aiokafka.errors import KafkaError
from sqlalchemy.exc import DataError, DBAPIError, SQLAlchemyError, StatementError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from failsafe.alerts.recorder import Hit, record_hits
from failsafe.contract import AlertView, EventDoc
from failsafe.errors import InvalidEvent
from failsafe.ingest import metrics
from failsafe.ingest.events import parse_event
from failsafe.ingest.follower import WatchlistFollower
from failsafe.ingest.screener import Screened, screen_event
from failsafe.kit import metrics as kit_metrics
from failsafe.kit.bus import AlertBus
from failsafe.matching import DEFAULT_THRESHOLD

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RawRecord:
    """One message as received: raw bytes and, from Kafka, where it came from."""

    value: bytes | None
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    key: bytes | None = None
    # When the event arrived (epoch ms: Kafka's record timestamp, else now), for the
    # event-to-alert latency (failsafe.kit.metrics).
    arrived_ms: int | None = field(default_factory=lambda: time.time_ns() // 1_000_000)


@dataclass(frozen=True)
class Rejection:
    index: int
    reason: str
    record: RawRecord


@dataclass
class BatchOutcome:
    accepted: list[str] = field(default_factory=list)  # event ids, input order
    rejected: list[Rejection] = field(default_factory=list)
    hits: int = 0
    created: int = 0  # alerts newly created (the rest of `alerts` existed: a replay)
    alerts: list[AlertView] = field(default_factory=list)


def is_data_error(exc: BaseException) -> bool:
    """True when `exc` is the fault of the data written, so that retrying cannot help; False for
    an outage or a fault of the deployment (lost connection, timeout, missing table, a conflict
    with a concurrent writer), which the caller retries."""
    if isinstance(exc, DataError):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return False
        sqlstate = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
        if sqlstate:
            # Class 22 is "data exception" (e.g. 22021: a NUL in text, 22P05: in jsonb).
            return str(sqlstate).startswith("22")
        # No SQLSTATE: the driver refused a parameter before sending it (a value error), or
        # the connection failed (OSError and the like).
        cause = exc.orig.__cause__ if exc.orig is not None else None
        return isinstance(cause, ValueError | TypeError | ArithmeticError)
    if isinstance(exc, StatementError):
        # A bind parameter could not be converted (our JSON serializer refused a value): the
        # statement never reached the database.
        return isinstance(exc.orig, ValueError | TypeError | ArithmeticError | RecursionError)
    if isinstance(exc, SQLAlchemyError | OSError | TimeoutError | KafkaError):
        return False
    # Any other error of our own code on this data (OverflowError converting a timestamp, ...).
    return isinstance(exc, Exception)


def log_failure(what: str, exc: BaseException, then: str = "event dead-lettered") -> None:
    """Log a step failing on one event: only the error's type and place, never its message
    (it may quote personal data)."""
    tb = traceback.extract_tb(exc.__traceback__)
    frame = tb[-1] if tb else None
    log.error(
        "%s failed (%s at %s:%s); %s",
        what,
        type(exc).__name__,
        frame.filename if frame else "?",
        frame.lineno if frame else "?",
        then,
    )


class DeadLetterSink(Protocol):
    async def send(self, rejections: Sequence[Rejection]) -> None: ...


class LaneObserver(Protocol):
    """Issue 12: told, after a batch's hits are recorded, of its border crossings with a lane
    (failsafe.alarms.service.CrossingObserver records them and links them to radiation alarms)."""

    async def observe(self, events: Sequence[dict[str, Any]], hit_event_ids: set[str]) -> None: ...


class Pipeline:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        follower: WatchlistFollower,
        bus: AlertBus,
        dead_letters: DeadLetterSink | None = None,
        threshold: float | None = None,
        max_event_bytes: int = 256 * 1024,
        alert_within: float = 0.1,
        lanes: LaneObserver | None = None,
    ) -> None:
        self.lanes = lanes  # issue 12
        self.sessions = sessions
        self.follower = follower
        self.bus = bus
        self.dead_letters = dead_letters
        self.threshold = DEFAULT_THRESHOLD if threshold is None else threshold
        self.max_event_bytes = max_event_bytes
        # Seconds a hit may wait for the rest of its batch before it is recorded (see `process`).
        self.alert_within = alert_within

    def screen(self, event: dict[str, Any], threshold: float | None = None) -> Screened:
        """MRZ applied, then the matches at or above the threshold (the pipeline's unless one
        is given), best first."""
        threshold = self.threshold if threshold is None else threshold
        return screen_event(self.follower.screener, event, threshold)

    async def process(self, records: Sequence[RawRecord]) -> BatchOutcome:
        started = time.perf_counter()
        outcome = BatchOutcome()
        hits: list[Hit] = []
        hits_since = 0.0  # when the oldest hit not yet recorded was found
        lane_events: list[dict[str, Any]] = []
        # Where each event came from, to dead-letter it if recording its hits fails on its data.
        origins: dict[str, list[tuple[int, RawRecord]]] = {}
        for i, record in enumerate(records):
            try:
                if record.value is None:
                    raise InvalidEvent("empty message (tombstone)")
                event = parse_event(record.value, self.max_event_bytes).to_json_dict()
            except InvalidEvent as exc:
                outcome.rejected.append(Rejection(i, exc.message, record))
                metrics.EVENTS_INVALID.labels(exc.message.split(":", 1)[0]).inc()
                continue
            except Exception as exc:  # noqa: BLE001  (one event must not stop the stream)
                # Validation should have refused what the serializer cannot hold: a bug, but
                # the stream goes on.
                log_failure("validation", exc)
                self._reject(outcome, i, f"processing error: {type(exc).__name__}", record)
                continue
            try:
                screened = self.screen(event)
            except Exception as exc:  # noqa: BLE001  (one event must not stop the stream)
                # A valid event the engine cannot handle is a bug, but the stream goes on: the
                # event is dead-lettered with the error's type.
                log_failure("screening", exc)
                self._reject(outcome, i, f"processing error: {type(exc).__name__}", record)
                continue
            event, flags = screened.event, screened.quality_flags
            outcome.accepted.append(event["event_id"])
            origins.setdefault(event["event_id"], []).append((i, record))
            if (event.get("crossing") or {}).get("lane"):
                lane_events.append(event)  # issue 12
            if screened.matches and not hits:
                hits_since = time.perf_counter()
            # The validated Event's JSON (failsafe.ingest.events), MRZ applied: the recorder's
            # typed input. A view, not a copy.
            hit_event = cast(EventDoc, event)
            for match in screened.matches:
                entry = self.follower.entries.get(match.entry_id)
                if entry is None:  # removed between screening and now
                    continue
                hits.append(
                    Hit(
                        event=hit_event,
                        entry=entry,
                        score=float(match.score),
                        method=match.method,
                        explanation=list(match.explanation),
                        quality_flags=flags,
                    )
                )
            if hits and time.perf_counter() - hits_since >= self.alert_within:
                # An alert should not wait long for the rest of a large batch to be screened:
                # record and publish what has hit so far (nothing is committed upstream before
                # the whole batch is durable, so this changes latency, not guarantees). Not after
                # every hit: each recording is a transaction, and under load they add up.
                await self._alert(hits, outcome, origins)
                hits = []
        await self._alert(hits, outcome, origins)
        if self.lanes is not None and lane_events:
            await self._observe_lanes(lane_events, outcome)
        metrics.EVENTS_CONSUMED.inc(len(records))
        outcome.rejected.sort(key=lambda r: r.index)
        if outcome.rejected and self.dead_letters is not None:
            await self.dead_letters.send(outcome.rejected)
        # By id, once each (an event repeated within the batch meets its own alert again).
        outcome.alerts = sorted(
            {a["id"]: a for a in outcome.alerts}.values(), key=lambda a: a["id"]
        )
        metrics.BATCH_SECONDS.observe(time.perf_counter() - started)
        return outcome

    async def _observe_lanes(self, events: list[dict[str, Any]], outcome: BatchOutcome) -> None:
        """Issue 12: after the hits (so an alarm alert finds them), the lane crossings. A data
        error is retried event by event; an event that still fails is logged and left out of
        correlation (it was screened: it is not dead-lettered). An outage propagates."""
        assert self.lanes is not None
        accepted = set(outcome.accepted)
        events = [e for e in events if e["event_id"] in accepted]
        hit_ids = {str((a.get("event") or {}).get("event_id")) for a in outcome.alerts}
        try:
            await self.lanes.observe(events, hit_ids)
        except Exception as exc:
            if not is_data_error(exc):
                raise
            for event in events:
                try:
                    await self.lanes.observe([event], hit_ids)
                except Exception as one:
                    if not is_data_error(one):
                        raise
                    log_failure("lane correlation", one, then="crossing left uncorrelated")

    @staticmethod
    def _reject(outcome: BatchOutcome, index: int, reason: str, record: RawRecord) -> None:
        outcome.rejected.append(Rejection(index, reason, record))
        metrics.EVENTS_INVALID.labels(reason.split(":", 1)[0]).inc()

    async def _alert(
        self,
        hits: list[Hit],
        outcome: BatchOutcome,
        origins: dict[str, list[tuple[int, RawRecord]]],
    ) -> None:
        if not hits:
            return
        try:
            alerts, created = await record_hits(self.sessions, hits)
        except Exception as exc:
            if not is_data_error(exc):
                raise  # an outage: the source retries the batch
            alerts, created = await self._alert_one_by_one(hits, outcome, origins)
        metrics.HITS.inc(len(hits))
        outcome.hits += len(hits)
        outcome.created += created
        metrics.ALERTS_CREATED.inc(created)
        await self.bus.publish(alerts)
        metrics.ALERTS_PUBLISHED.inc(len(alerts))
        kit_metrics.observe_event_to_alert(  # ops: one observation per hit, from its record
            rec.arrived_ms for h in hits for _, rec in origins.get(h.event["event_id"], [])[:1]
        )
        outcome.alerts.extend(alerts)

    async def _alert_one_by_one(
        self,
        hits: list[Hit],
        outcome: BatchOutcome,
        origins: dict[str, list[tuple[int, RawRecord]]],
    ) -> tuple[list[AlertView], int]:
        """Record the hits of each event in a transaction of its own; dead-letter the events
        whose own hits still fail on their data. An outage propagates (the batch is retried)."""
        by_event: dict[str, list[Hit]] = {}
        for hit in hits:
            by_event.setdefault(hit.event["event_id"], []).append(hit)
        alerts: list[AlertView] = []
        created = 0
        for event_id, group in by_event.items():
            try:
                recorded, new = await record_hits(self.sessions, group)
            except Exception as exc:
                if not is_data_error(exc):
                    raise
                log_failure("recording", exc)
                reason = f"storage error: {type(exc).__name__}"
                sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
                if sqlstate:
                    reason += f" (SQLSTATE {sqlstate})"
                for index, record in origins.get(event_id, []):
                    self._reject(outcome, index, reason, record)
                outcome.accepted = [e for e in outcome.accepted if e != event_id]
                continue
            alerts.extend(recorded)
            created += new
        return alerts, created
