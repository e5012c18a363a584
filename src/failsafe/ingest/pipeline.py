"""The screening pipeline shared by every event source (Kafka worker, POST /v1/events).

validate -> (invalid: dead-letter) -> MRZ -> screen -> record sighting + alerts -> publish.
`process` returns only when all of that is durable, so a source may commit its position after it.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from failsafe.alerts.recorder import Hit, record_hits
from failsafe.errors import InvalidEvent
from failsafe.hub.bus import AlertBus
from failsafe.ingest import metrics
from failsafe.ingest.events import parse_event
from failsafe.ingest.follower import WatchlistFollower
from failsafe.matching.mrz import apply_mrz
from failsafe.matching.score import DEFAULT_THRESHOLD

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RawRecord:
    """One message as received: raw bytes and, from Kafka, where it came from."""

    value: bytes | None
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    key: bytes | None = None


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
    alerts: list[dict[str, Any]] = field(default_factory=list)


class DeadLetterSink(Protocol):
    async def send(self, rejections: Sequence[Rejection]) -> None: ...


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
    ) -> None:
        self.sessions = sessions
        self.follower = follower
        self.bus = bus
        self.dead_letters = dead_letters
        self.threshold = DEFAULT_THRESHOLD if threshold is None else threshold
        self.max_event_bytes = max_event_bytes
        # Seconds a hit may wait for the rest of its batch before it is recorded (see `process`).
        self.alert_within = alert_within

    def screen(self, event: dict[str, Any]) -> tuple[dict[str, Any], list[str], list[Any]]:
        """MRZ applied, then the matches at or above the threshold, best first."""
        event, flags = apply_mrz(event)
        matches = self.follower.screener.screen(event, threshold=self.threshold, limit=None)
        return event, flags, [m for m in matches if m.score >= self.threshold]

    async def process(self, records: Sequence[RawRecord]) -> BatchOutcome:
        started = time.perf_counter()
        outcome = BatchOutcome()
        hits: list[Hit] = []
        hits_since = 0.0  # when the oldest hit not yet recorded was found
        for i, record in enumerate(records):
            try:
                if record.value is None:
                    raise InvalidEvent("empty message (tombstone)")
                event = parse_event(record.value, self.max_event_bytes).to_json_dict()
            except InvalidEvent as exc:
                outcome.rejected.append(Rejection(i, exc.message, record))
                metrics.EVENTS_INVALID.labels(exc.message.split(":", 1)[0]).inc()
                continue
            try:
                event, flags, matches = self.screen(event)
            except Exception as exc:  # noqa: BLE001  (one event must not stop the stream)
                # A valid event the engine cannot handle is a bug, but the stream goes on: the
                # event is dead-lettered with the error's type. Only the type and the place are
                # logged, never the message (it may quote personal data).
                frame = traceback.extract_tb(exc.__traceback__)[-1]
                log.error(
                    "screening failed (%s at %s:%s); event dead-lettered",
                    type(exc).__name__,
                    frame.filename,
                    frame.lineno,
                )
                reason = f"processing error: {type(exc).__name__}"
                outcome.rejected.append(Rejection(i, reason, record))
                metrics.EVENTS_INVALID.labels("processing error").inc()
                continue
            outcome.accepted.append(event["event_id"])
            if matches and not hits:
                hits_since = time.perf_counter()
            for match in matches:
                entry = self.follower.entries.get(match.entry_id)
                if entry is None:  # removed between screening and now
                    continue
                hits.append(
                    Hit(
                        event=event,
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
                await self._alert(hits, outcome)
                hits = []
        await self._alert(hits, outcome)
        metrics.EVENTS_CONSUMED.inc(len(records))
        if outcome.rejected and self.dead_letters is not None:
            await self.dead_letters.send(outcome.rejected)
        # By id, once each (an event repeated within the batch meets its own alert again).
        outcome.alerts = sorted(
            {int(a["id"]): a for a in outcome.alerts}.values(), key=lambda a: int(a["id"])
        )
        metrics.BATCH_SECONDS.observe(time.perf_counter() - started)
        return outcome

    async def _alert(self, hits: list[Hit], outcome: BatchOutcome) -> None:
        if not hits:
            return
        metrics.HITS.inc(len(hits))
        outcome.hits += len(hits)
        alerts, created = await record_hits(self.sessions, hits)
        outcome.created += created
        metrics.ALERTS_CREATED.inc(created)
        await self.bus.publish(alerts)
        metrics.ALERTS_PUBLISHED.inc(len(alerts))
        outcome.alerts.extend(alerts)
