"""POST /v1/events (for senders without Kafka) and POST /v1/screen (ad-hoc screening).

Invariants of POST /v1/events: each event is judged on its own. An invalid event, an event for
another country than the sending border principal's bureau, or one that the pipeline
dead-letters is rejected with its reason by index, and the others of the batch are accepted;
no event makes the whole request fail (only an unreadable body, 400, or an outage, 503).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import orjson
from aiokafka.errors import KafkaError
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from failsafe.actor import Actor
from failsafe.auth.deps import require_roles
from failsafe.errors import BadRequest, InvalidEvent, Unavailable
from failsafe.ingest.deps import OptionalScreeningDep, get_screening
from failsafe.ingest.events import Event, check_values, parse_event
from failsafe.ingest.pipeline import RawRecord, log_failure
from failsafe.ingest.service import ScreeningService
from failsafe.kit.limits import read_limited
from failsafe.kit.openapi import error_responses
from failsafe.kit.state import StateDep

router = APIRouter(prefix="/v1", tags=["events"])

MAX_EVENTS_PER_REQUEST = 1000
MAX_SCREEN_PER_REQUEST = 100
MAX_BODY_BYTES = 8 * 1024 * 1024

# Only border systems send events: an event routes alerts to the bureau of its country, and a
# border principal speaks for its own country only (see `_foreign_country`).
SenderDep = Annotated[Actor, Depends(require_roles("border"))]
ScreenerDep = Annotated[Actor, Depends(require_roles("border", "bureau", "analyst", "admin"))]

EXAMPLE_EVENT: dict[str, Any] = {
    "schema": "failsafe.event/v1",
    "event_id": "b3c1e7a0-0001",
    "kind": "border_crossing",
    "occurred_at": "2026-11-27T10:22:05+01:00",
    "source": "DEU-BPOL",
    "country": "DEU",
    "crossing": {"point": "DEU-FRA-T1", "mode": "air", "direction": "entry"},
    "traveller": {
        "surname": "ERIKSSON",
        "given_names": "ANNA MARIA",
        "date_of_birth": "1974-08-12",
        "sex": "F",
        "nationality": "UTO",
    },
    "document": {"type": "P", "number": "L898902C3", "issuing_state": "UTO"},
}


class Accepted(BaseModel):
    index: int
    event_id: str


class Rejected(BaseModel):
    index: int
    reason: str


class EventsResult(BaseModel):
    """What was accepted and what was rejected, and why. It never says whether anything matched:
    a sender (a border system) must not learn that a traveller is on the watchlist."""

    accepted: list[Accepted]
    rejected: list[Rejected]


class ScreenMatch(BaseModel):
    entry_id: str
    score: float
    method: str
    explanation: list[dict[str, Any]]


class ScreenResult(BaseModel):
    event_id: str | None = None
    matches: list[ScreenMatch] = Field(default_factory=list)
    error: str | None = None


async def _json_items(request: Request, limit: int) -> list[Any]:
    body = await read_limited(request, MAX_BODY_BYTES)  # 413 at once, or as soon as passed
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"body is not JSON: {exc.msg} at {exc.pos}") from None
    if not isinstance(data, list | dict):
        raise BadRequest("the body must be an event object or an array of events")
    items = data if isinstance(data, list) else [data]
    if not items:
        raise BadRequest("no events in the body")
    if len(items) > limit:
        raise BadRequest(f"at most {limit} events per request")
    return items


def _encode(item: Any, max_bytes: int) -> tuple[bytes, Event]:
    """One item of a request as the bytes sent on and the validated event (InvalidEvent)."""
    # Checked before encoding: orjson refuses to write what check_values rejects (too deep).
    check_values(item)
    raw = orjson.dumps(item)
    return raw, parse_event(raw, max_bytes)


def _foreign_country(event: Event, actor: Actor) -> str | None:
    """Why a border principal may not send this event, or None. Its bureau is the only
    country it reports for: another `country` would route the alert to another bureau."""
    if event.country is None or event.country == actor.bureau_code:
        return None
    return (
        f"forbidden: country {event.country!r} is not this principal's bureau "
        f"{actor.bureau_code!r}; a border principal sends events of its own country only"
    )


def _screening(found: ScreeningService | None, *, matcher: bool = True) -> ScreeningService:
    """The screening service (503 without one); with `matcher`, only once the watchlist is
    loaded (503 before). Checked after the body is read, as before the dependency existed."""
    service = get_screening(found)
    if matcher and not service.follower.ready:
        raise Unavailable("the matcher is not loaded yet; retry shortly")
    return service


_EVENTS_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                # A batch's items are judged one by one: one that is not an event object is
                # rejected by its index, the others still go in (so the schema allows any item).
                "schema": {"oneOf": [{"type": "object"}, {"type": "array", "minItems": 1}]},
                "examples": {"one": {"value": EXAMPLE_EVENT}, "batch": {"value": [EXAMPLE_EVENT]}},
            }
        },
    }
}


@router.post(
    "/events",
    response_model=EventsResult,
    status_code=202,
    summary="Send one event or a batch (up to 1000) into the screening stream",
    description="Role border. With Kafka configured the valid events are produced to "
    "`failsafe.events.v1` (acknowledged by the broker before this answers); in the embedded mode "
    "they are screened in process before this answers. Invalid events, and events whose "
    "`country` is not the principal's bureau, are rejected with the reason, by index; the "
    "others are accepted.",
    openapi_extra=_EVENTS_BODY,
    responses=error_responses(400, 401, 403, 413, 429, 503),
)
async def post_events(
    request: Request, state: StateDep, actor: SenderDep, screening: OptionalScreeningDep
) -> EventsResult:
    items = await _json_items(request, MAX_EVENTS_PER_REQUEST)
    # With Kafka the events only go to the topic: no need to wait for this replica's matcher.
    service = _screening(screening, matcher=state.settings.kafka.bootstrap_servers is None)
    max_bytes = state.settings.kafka.max_event_bytes
    accepted: list[Accepted] = []
    rejected: list[Rejected] = []
    raws: list[tuple[int, str, bytes]] = []  # (index in the request, event id, bytes)
    for i, item in enumerate(items):
        try:
            raw, event = _encode(item, max_bytes)
        except InvalidEvent as exc:
            rejected.append(Rejected(index=i, reason=exc.message))
            continue
        foreign = _foreign_country(event, actor)
        if foreign is not None:
            rejected.append(Rejected(index=i, reason=foreign))
            continue
        raws.append((i, event.event_id, raw))
    if raws:
        if service.producer is not None:
            try:
                producer = await service.producer.get()
                topic = state.settings.kafka.topics.events
                futures = [
                    await producer.send(topic, raw, key=eid.encode()) for _, eid, raw in raws
                ]
                for future in futures:
                    await future
            except (TimeoutError, KafkaError) as exc:
                raise Unavailable("Kafka is unavailable; nothing was accepted, retry") from exc
        else:
            # In process: an event the pipeline dead-letters (a later step failed on its data)
            # is rejected here with the same reason; the rest of the batch is recorded.
            outcome = await service.pipeline.process([RawRecord(value=raw) for _, _, raw in raws])
            for r in outcome.rejected:
                rejected.append(Rejected(index=raws[r.index][0], reason=r.reason))
        failed = {r.index for r in rejected}
        accepted = [Accepted(index=i, event_id=eid) for i, eid, _ in raws if i not in failed]
    rejected.sort(key=lambda r: r.index)
    return EventsResult(accepted=accepted, rejected=rejected)


def _visible_to(entry: Mapping[str, Any], actor: Actor) -> bool:
    if actor.role == "admin":
        return True
    bureau = actor.bureau_code
    if entry.get("owner_bureau") == bureau:
        return True
    dist = entry.get("distribution") or {}
    if bureau in (dist.get("deny") or []):
        return False
    return dist.get("mode") != "restricted" or bureau in (dist.get("allow") or [])


@router.post(
    "/screen",
    response_model=list[ScreenResult],
    summary="Screen one event or up to 100 against the live watchlist now",
    description="Roles border, bureau, analyst, admin. Answers, per event in input order, the "
    "matches at or above the threshold (`threshold`, else the service's "
    "`FAILSAFE_MATCHING__THRESHOLD`, 0.8 by default), best first, with their explanation; entries "
    "whose distribution excludes the caller's bureau are never shown. Nothing is stored and no "
    "alert is raised.",
    openapi_extra=_EVENTS_BODY,
    responses=error_responses(400, 401, 403, 413, 429, 503),
)
async def post_screen(
    request: Request,
    state: StateDep,
    actor: ScreenerDep,
    screening: OptionalScreeningDep,
    threshold: Annotated[
        float | None,
        Query(
            ge=0.0,
            le=1.0,
            description="Report matches scoring at least this (0 to 1); default: the setting.",
        ),
    ] = None,
) -> list[ScreenResult]:
    items = await _json_items(request, MAX_SCREEN_PER_REQUEST)
    service = _screening(screening)
    out: list[ScreenResult] = []
    for item in items:
        try:
            _, event = _encode(item, state.settings.kafka.max_event_bytes)
        except InvalidEvent as exc:
            out.append(ScreenResult(error=exc.message))
            continue
        try:
            matches = service.pipeline.screen(event.to_json_dict(), threshold).matches
        except Exception as exc:  # noqa: BLE001  (one event must not fail the others: no 500)
            log_failure("screening", exc, then="reported to the caller")
            reason = f"processing error: {type(exc).__name__}"
            out.append(ScreenResult(event_id=event.event_id, error=reason))
            continue
        entries = service.follower.entries
        out.append(
            ScreenResult(
                event_id=event.event_id,
                matches=[
                    ScreenMatch(
                        entry_id=m.entry_id,
                        score=round(float(m.score), 4),
                        method=m.method,
                        explanation=list(m.explanation),
                    )
                    for m in matches
                    if m.entry_id in entries and _visible_to(entries[m.entry_id], actor)
                ],
            )
        )
    return out
