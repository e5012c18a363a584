"""`/v1/alarms`: radiation alarms in (JSON or N42.42 XML), listed, read and adjudicated.

POST is for border systems (role border) and for their own country only, like events. With
Kafka configured a valid alarm is produced to `failsafe.alarms.v1` (the broker acknowledges
before this answers) and `failsafe ingest-alarms` correlates it; in the embedded mode it is
recorded and correlated before this answers. An invalid document is a 422 naming what is wrong;
nothing about linked travellers or hits is ever told to the sender.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import orjson
from aiokafka.errors import KafkaError
from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from failsafe.actor import Actor
from failsafe.alarms import review
from failsafe.alarms.deps import IntakeDep
from failsafe.alarms.schemas import (
    AdjudicationCode,
    AlarmCategory,
    InvalidAlarm,
    Secondary,
    looks_like_xml,
    parse_alarm,
)
from failsafe.auth.deps import ActorDep, require_roles
from failsafe.errors import Forbidden, Unavailable
from failsafe.ingest.deps import OptionalScreeningDep
from failsafe.ingest.pipeline import RawRecord
from failsafe.kit.limits import MAX_BODY_KEY, BodyLimitRoute, read_limited
from failsafe.kit.openapi import error_responses
from failsafe.kit.pagination import cursor_key, encode_cursor
from failsafe.kit.safe import DB_INT_MAX, Instant, Text
from failsafe.kit.state import SessionDep, StateDep

router = APIRouter(
    prefix="/v1/alarms",
    tags=["alarms"],
    route_class=BodyLimitRoute,
    responses=error_responses(401, 403, 429),
)
# The hard cap of POST /v1/alarms; `alarms.max_alarm_bytes` (default 1 MiB) is checked below it.
MAX_ALARM_BODY = 8 * 1024 * 1024

SenderDep = Annotated[Actor, Depends(require_roles("border"))]
AlarmIdPath = Annotated[str, Path(min_length=1, max_length=128)]
Short = Annotated[str, StringConstraints(min_length=1, max_length=64)]

EXAMPLE_ALARM: dict[str, Any] = {
    "schema": "failsafe.alarm/v1",
    "alarm_id": "6f0c2a1e-0001",
    "occurred_at": "2026-11-27T10:21:58+01:00",
    "source": "DEU-ZOLL-RPM",
    "country": "DEU",
    "point": "DEU-POL-A12",
    "lane": "3",
    "instrument": {"id": "RPM-0042", "kind": "portal"},
    "occupancy": {"start": "2026-11-27T10:21:51+01:00", "end": "2026-11-27T10:22:04+01:00"},
    "categories": ["gamma", "neutron"],
    "gamma": {"max_cps": 1830.0, "background_cps": 1210.0, "sigma": 7.1},
    "neutron": {"max_cps": 4.0, "background_cps": 0.8},
    "nuclides": [{"name": "Pu-239", "category": "snm", "confidence": 0.7}],
}


class AlarmAccepted(BaseModel):
    alarm_id: str


class AlarmOut(BaseModel):
    alarm_id: str
    occurred_at: datetime
    country: str
    point: str
    lane: str | None
    categories: list[str]
    alert_id: int | None
    adjudication: str | None
    received_at: datetime
    alarm: dict[str, Any] = Field(description="the alarm as received (contract JSON)")


class AlarmPage(BaseModel):
    items: list[AlarmOut]
    next_cursor: str | None = None


class LinkOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    event_id: str
    relation: str
    confidence: float
    created_at: datetime


class AdjudicationIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {"code": "medical_isotope", "secondary": "completed", "isotopes": ["I-131"]}
        },
    )

    code: AdjudicationCode
    secondary: Secondary = "none"
    isotopes: Annotated[
        list[Annotated[str, StringConstraints(min_length=1, max_length=32)]], Field(max_length=16)
    ] = []
    note: Annotated[Text, StringConstraints(max_length=2000, strip_whitespace=True)] | None = None


class AdjudicationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    secondary: str
    isotopes: list[str]
    note: str | None
    principal_id: str | None
    bureau_code: str | None
    at: datetime


class AlarmDetailOut(AlarmOut):
    alert: dict[str, Any] | None = Field(
        default=None, description="the radiation_alarm alert (not shown to border principals)"
    )
    links: list[LinkOut] = []
    adjudications: list[AdjudicationOut] = []


def _out(alarm: Any) -> dict[str, Any]:
    return {
        "alarm_id": alarm.alarm_id,
        "occurred_at": alarm.occurred_at,
        "country": alarm.country,
        "point": alarm.point,
        "lane": alarm.lane,
        "categories": alarm.categories.split(),
        "alert_id": alarm.alert_id,
        "adjudication": alarm.adjudication,
        "received_at": alarm.received_at,
        "alarm": alarm.document,
    }


# An outline of a portal's document (docs/alarms.md has the mapping); the API's example only.
EXAMPLE_N42 = (
    '<RadInstrumentData xmlns="http://physics.nist.gov/N42/2011/N42" '
    'n42DocUUID="d7b2c1e0-0000-4000-8000-000000000001">'
    '<RadInstrumentInformation id="rpm-3"><RadInstrumentManufacturerName>ACME'
    "</RadInstrumentManufacturerName><RadInstrumentModelName>RPM</RadInstrumentModelName>"
    "<RadInstrumentClassCode>Portal Monitor</RadInstrumentClassCode></RadInstrumentInformation>"
    "<!-- RadMeasurement (OccupancyIndicator, GrossCounts), AnalysisResults (RadAlarm, "
    "NuclideAnalysisResults): see docs/alarms.md -->"
    "</RadInstrumentData>"
)


_BODY = {
    MAX_BODY_KEY: MAX_ALARM_BODY,
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"type": "object"}, "example": EXAMPLE_ALARM},
            "application/xml": {
                "schema": {"type": "string"},
                "description": "an N42.42-2012 RadInstrumentData document (docs/alarms.md)",
                "example": EXAMPLE_N42,
            },
        },
    },
}


@router.post(
    "",
    response_model=AlarmAccepted,
    status_code=202,
    summary="Send one radiation alarm (failsafe.alarm/v1 JSON, or N42.42-2012 XML)",
    description="Role border, for its own country. XML is parsed safely (no DTD, no entities, "
    "bounded size) and mapped to the JSON contract; a document that cannot be read or lacks what "
    "an alarm needs is a 422 saying what.",
    openapi_extra=_BODY,
    responses=error_responses(400, 413, 422, 503),
)
async def post_alarm(
    request: Request,
    state: StateDep,
    actor: SenderDep,
    intake: IntakeDep,
    screening: OptionalScreeningDep,
) -> AlarmAccepted:
    settings = state.settings
    body = await read_limited(request, settings.alarms.max_alarm_bytes)
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    xml = (
        ctype.endswith("/xml")
        or ctype.endswith("+xml")
        or (ctype not in ("application/json",) and looks_like_xml(body))
    )
    alarm = parse_alarm(body, settings.alarms.max_alarm_bytes, xml=xml)  # 422 InvalidAlarm
    if alarm.country != actor.bureau_code:
        raise Forbidden(
            f"country {alarm.country!r} is not this principal's bureau {actor.bureau_code!r}; "
            "a border principal sends alarms of its own country only"
        )
    raw = orjson.dumps(alarm.to_json_dict())
    producer = screening.producer if screening is not None else None
    if settings.kafka.bootstrap_servers and producer is not None:
        try:
            p = await producer.get()
            future = await p.send(settings.kafka.topics.alarms, raw, key=alarm.alarm_id.encode())
            await future
        except (TimeoutError, KafkaError) as exc:
            raise Unavailable("Kafka is unavailable; the alarm was not accepted, retry") from exc
    else:
        outcome = await intake.process([RawRecord(value=raw)], xml=False)
        if outcome.rejected:
            raise InvalidAlarm(outcome.rejected[0].reason)
    return AlarmAccepted(alarm_id=alarm.alarm_id)


@router.get(
    "",
    response_model=AlarmPage,
    summary="Alarms the caller may see, newest first",
    responses=error_responses(400),
    description="Admins: all; bureau and analyst principals: their country's alarms and those "
    "whose alert was routed to their bureau; border principals: their country's.",
)
async def list_alarms(
    session: SessionDep,
    actor: ActorDep,
    point: Annotated[Short | None, Query()] = None,
    lane: Annotated[str | None, Query(min_length=1, max_length=16)] = None,
    category: Annotated[AlarmCategory | None, Query()] = None,
    adjudication: Annotated[
        AdjudicationCode | None, Query(description="a code; omit for all")
    ] = None,
    unadjudicated: Annotated[bool, Query(description="only alarms not yet adjudicated")] = False,
    occurred_after: Annotated[Instant | None, Query()] = None,
    occurred_before: Annotated[Instant | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> AlarmPage:
    before = cursor_key(cursor, "before", int)
    if before is not None and not 0 < before <= DB_INT_MAX:
        before = None
    filters = review.AlarmFilters(
        point=point,
        lane=lane,
        category=category,
        adjudication="none" if unadjudicated else adjudication,
        after=occurred_after,
        before=occurred_before,
    )
    rows = await review.list_alarms(session, actor, filters, before_id=before, limit=limit + 1)
    page = rows[:limit]
    nxt = encode_cursor({"before": page[-1][0].id}) if len(rows) > limit else None
    return AlarmPage(items=[AlarmOut.model_validate(_out(a)) for a, _ in page], next_cursor=nxt)


@router.get(
    "/{alarm_id}",
    response_model=AlarmDetailOut,
    summary="One alarm: its alert, links and adjudications",
    responses=error_responses(404),
)
async def get_alarm(session: SessionDep, actor: ActorDep, alarm_id: AlarmIdPath) -> AlarmDetailOut:
    detail = await review.get_alarm(session, actor, alarm_id)
    return AlarmDetailOut.model_validate(
        {
            **_out(detail.alarm),
            "alert": detail.alert,
            "links": [LinkOut.model_validate(x) for x in detail.links],
            "adjudications": [AdjudicationOut.model_validate(x) for x in detail.adjudications],
        }
    )


@router.post(
    "/{alarm_id}/adjudications",
    response_model=AdjudicationOut,
    status_code=201,
    summary="Adjudicate an alarm after inspection (append-only, audited)",
    description="Roles admin, bureau and border of the crossing point's country. Innocent codes "
    "close the alarm's alert; `contraband_found` confirms it; the change is pushed live.",
    responses=error_responses(404, 422),
)
async def post_adjudication(
    session: SessionDep,
    state: StateDep,
    actor: ActorDep,
    alarm_id: AlarmIdPath,
    body: AdjudicationIn,
) -> AdjudicationOut:
    row = await review.adjudicate(
        session,
        actor,
        alarm_id,
        code=body.code,
        secondary=body.secondary,
        isotopes=body.isotopes,
        note=body.note,
        bus=state.bus,
    )
    return AdjudicationOut.model_validate(row)
