"""`/v1/watchlist`: the analysts' API. Routers call the service; the service owns transactions.

Roles: admin and analyst write (analysts only their own bureau's entries), admin, analyst and
bureau read what they may see (see failsafe.watchlist.policy), border principals screen but
cannot read the watchlist (403 on every route here).
"""

from __future__ import annotations

import asyncio
import re
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, Depends, Header, Path, Query, Request, Response, status

from failsafe.actor import Actor
from failsafe.auth.deps import require_roles
from failsafe.contract import EntryStatus, NoticeType
from failsafe.errors import BadRequest
from failsafe.kit.codes import CountryCode
from failsafe.kit.limits import MAX_BODY_KEY, BodyLimitRoute
from failsafe.kit.openapi import error_responses
from failsafe.kit.pagination import cursor_key, encode_cursor
from failsafe.kit.state import BusDep, SessionDep
from failsafe.watchlist import bulk, history, service
from failsafe.watchlist.importer import Importer, NdjsonReader, coalesce
from failsafe.watchlist.schemas import (
    ENTRY_EXAMPLE,
    CancelRequest,
    Entry,
    EntryIn,
    EntryPage,
    EntryVersionPage,
    ImportReport,
    Timeline,
)

ReaderDep = Annotated[Actor, Depends(require_roles(*service.READ_ROLES))]
WriterDep = Annotated[Actor, Depends(require_roles(*service.WRITE_ROLES))]
EntryIdPath = Annotated[str, Path(min_length=1, max_length=64, description="the entry's id")]
IfMatch = Annotated[
    str | None,
    Header(
        description='the ETag of the version the change is based on (`"3"`); 412 when stale',
        examples=['"3"'],
    ),
]
MAX_IMPORT_BYTES = 64 * 1024 * 1024
_ETAG = re.compile(r"[0-9]{1,9}")
MAX_IMPORT_ERRORS = 1000
IMPORT_READ_BYTES = 256 * 1024  # parsed per trip to the worker thread

router = APIRouter(
    prefix="/v1/watchlist",
    tags=["watchlist"],
    route_class=BodyLimitRoute,
    responses=error_responses(401, 403, 429),
)


def _json(body: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    # Entries are stored as the contract's JSON already: serialise them as they are, fast.
    return Response(
        orjson.dumps(body), status_code=status_code, media_type="application/json", headers=headers
    )


def _entry_response(doc: dict[str, Any], status_code: int = 200) -> Response:
    headers = {"ETag": f'"{doc["version"]}"'}
    if status_code == 201:
        headers["Location"] = f"/v1/watchlist/{doc['id']}"
    return _json(doc, status_code, headers)


def parse_if_match(value: str | None) -> int | None:
    """`"3"`, `W/"3"` or `3` → 3; `*` or nothing → None (no precondition)."""
    if value is None or value.strip() == "*":
        return None
    text = value.strip().removeprefix("W/").strip('"')
    # ASCII digits only: str.isdigit() also takes "²", which int() refuses.
    if _ETAG.fullmatch(text) is None:
        raise BadRequest('If-Match must be an ETag of this API, like "3"')
    return int(text)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=Entry,
    summary="Create an entry",
    description="The id is server-assigned unless given. Analysts create entries of their own "
    "bureau (`owner_bureau` defaults to it); admins must give `owner_bureau`. 409 when the id "
    "or the notice reference exists. The answer carries `ETag` (the version) and `Location`.",
    responses=error_responses(409, 413, 422),
)
async def create_entry(body: EntryIn, actor: WriterDep, session: SessionDep) -> Response:
    return _entry_response(await service.create_entry(session, actor, body), 201)


@router.get(
    "",
    response_model=EntryPage,
    summary="List entries the caller may see",
    description="Ordered by id (creation order for server-assigned ids). Filters combine; `q` "
    "searches names (primary and aliases, any script) with the matcher's normalisation, every "
    "query token a prefix of some name token. `status=expired` finds active entries whose "
    "notice expired. No total count is given: a count would reveal restricted entries.",
    responses=error_responses(400, 422),
)
async def list_entries(
    actor: ReaderDep,
    session: SessionDep,
    status: EntryStatus | None = None,
    notice_type: NoticeType | None = None,
    owner_bureau: CountryCode | None = None,
    q: Annotated[str | None, Query(max_length=200, description="name search")] = None,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Response:
    after = cursor_key(cursor, "id", str)
    filters = service.ListFilters(
        status=status, notice_type=notice_type, owner_bureau=owner_bureau, q=q
    )
    items, more = await service.list_entries(session, actor, filters, after_id=after, limit=limit)
    next_cursor = encode_cursor({"id": items[-1]["id"]}) if more and items else None
    return _json({"items": items, "next_cursor": next_cursor})


@router.post(
    "/import",
    response_model=ImportReport,
    summary="Bulk import (NDJSON, one entry per line)",
    description="Each line is an entry as for create, with an optional `status` (`active` or "
    "`cancelled`: omitted, an existing entry keeps its status). Lines match existing entries "
    "by `id`, or by notice reference when they have no id. Bad lines are rejected with their "
    "line number and never stop the good ones; an entry equal to what is stored is "
    "`unchanged` and writes nothing, so re-importing a file changes nothing. Batches of 1000 "
    f"commit one by one. At most {MAX_IMPORT_BYTES // 2**20} MiB; the first "
    f"{MAX_IMPORT_ERRORS} rejected lines are listed.",
    responses=error_responses(413),
    openapi_extra={
        MAX_BODY_KEY: MAX_IMPORT_BYTES,
        "requestBody": {
            # An empty body is an empty file: nothing to import, an all-zero report.
            "required": False,
            "content": {
                "application/x-ndjson": {
                    "schema": {"type": "string"},
                    "example": orjson.dumps({"id": "imp-1", **ENTRY_EXAMPLE}).decode() + "\n",
                }
            },
        },
    },
)
async def import_entries(
    request: Request, actor: WriterDep, session: SessionDep, bus: BusDep
) -> ImportReport:
    importer = Importer(
        session, actor, max_errors=MAX_IMPORT_ERRORS, bus=bus
    )
    reader = NdjsonReader()
    # Parsing and validation run in a worker thread, a few hundred KiB at a time, so that a
    # large import never stalls the event loop; the size limit is enforced as the body streams
    # in (BodyLimitRoute): a 413 comes as soon as it is passed, with the batches before it kept.
    async for chunk in coalesce(request.stream(), IMPORT_READ_BYTES):
        for checked in await asyncio.to_thread(reader.feed, chunk):
            await importer.add_checked(checked)
    for checked in reader.close():
        await importer.add_checked(checked)
    report = await importer.finish()
    await bulk.record_import(session, actor, report)
    return report


@router.get(
    "/{entry_id}",
    response_model=Entry,
    summary="Read an entry",
    description="404 for an entry that does not exist or that the caller may not see. The "
    "answer carries `ETag` (the version) for a later `If-Match`.",
    responses=error_responses(404),
)
async def read_entry(entry_id: EntryIdPath, actor: ReaderDep, session: SessionDep) -> Response:
    return _entry_response(await service.read_entry(session, actor, entry_id))


@router.patch(
    "/{entry_id}",
    response_model=Entry,
    summary="Change an entry (a new version)",
    description="A JSON merge patch (RFC 7396) of the entry's fields: objects merge, `null` "
    "removes, lists and values replace. `subject.date_of_birth` is the shorthand for the first "
    "date of `subject.dates_of_birth`: patching only it replaces (null: removes) that date and "
    "keeps the others; patching only the list replaces it, shorthand included. Optimistic "
    "concurrency: `If-Match` with the ETag (412 when stale) or `version` in the body (409 "
    "when stale); without either the change applies to the current version. Status changes "
    "only through `/cancel`; changing `owner_bureau` is for admins. A patch that changes "
    "nothing creates no version. 400 for an `If-Match` that is not an ETag of this API.",
    responses=error_responses(400, 404, 409, 412, 413, 422),
)
async def update_entry(
    entry_id: EntryIdPath,
    actor: WriterDep,
    session: SessionDep,
    patch: Annotated[
        dict[str, Any],
        Body(
            openapi_examples={
                "change an alias list": {
                    "value": {
                        "version": 3,
                        "subject": {"aliases": [{"surname": "PETROFF", "given_names": "JOHN"}]},
                    }
                },
                "change the requested action": {
                    "value": {"case": {"requested_action": "locate_and_detain"}}
                },
                "replace the dates of birth": {
                    "description": "The whole list; `date_of_birth` is then its first date.",
                    "value": {
                        "subject": {
                            "dates_of_birth": ["1970-03-14", {"from": 1968, "to": 1972}]
                        }
                    },
                },
                "correct the date of birth": {
                    "description": "Replaces the first date of the list; the others stay.",
                    "value": {"subject": {"date_of_birth": "1970-03-15"}},
                },
            }
        ),
    ],
    if_match: IfMatch = None,
) -> Response:
    doc = await service.update_entry(
        session, actor, entry_id, patch, if_match=parse_if_match(if_match)
    )
    return _entry_response(doc)


@router.post(
    "/{entry_id}/cancel",
    response_model=Entry,
    summary="Cancel an entry (never deleted)",
    description="The entry stays readable with its history, becomes `cancelled` (a new "
    "version and revision) and stops matching. Cancelling a cancelled entry answers it "
    "unchanged. Preconditions as for PATCH. There is no DELETE: nothing is hard-deleted.",
    responses=error_responses(400, 404, 409, 412, 413, 422),
)
async def cancel_entry(
    entry_id: EntryIdPath,
    actor: WriterDep,
    session: SessionDep,
    bus: BusDep,
    body: Annotated[CancelRequest | None, Body()] = None,
    if_match: IfMatch = None,
) -> Response:
    body = body or CancelRequest()
    doc = await service.cancel_entry(
        session,
        actor,
        entry_id,
        reason=body.reason,
        if_match=parse_if_match(if_match),
        version=body.version,
        bus=bus,
    )
    return _entry_response(doc)


@router.get(
    "/{entry_id}/versions",
    response_model=EntryVersionPage,
    summary="The entry's version history, oldest first",
    responses=error_responses(400, 404),
)
async def entry_versions(
    entry_id: EntryIdPath,
    actor: ReaderDep,
    session: SessionDep,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Response:
    after = cursor_key(cursor, "version", int) or 0
    rows, more = await history.entry_versions(
        session, actor, entry_id, after_version=after, limit=limit
    )
    items = [
        {
            "version": v.version,
            "revision": v.revision,
            "change": v.change,
            "status": v.status,
            "changed_at": v.changed_at,
            "changed_by": v.changed_by,
            "entry": v.document,
        }
        for v in rows
    ]
    next_cursor = encode_cursor({"version": rows[-1].version}) if more and rows else None
    return _json({"items": items, "next_cursor": next_cursor})


@router.get(
    "/{entry_id}/sightings",
    response_model=Timeline,
    summary="The movement timeline: sightings of the entry in time order",
    description="Each sighting (an alert's event) with where it happened, and `countries`: the "
    "path they trace (route countries of bookings, the country of crossings), consecutive "
    "repeats collapsed. The owner bureau and admins see every sighting; other bureaus the "
    "ones whose alerts were routed to them. At most 1000 sightings.",
    responses=error_responses(404),
)
async def entry_sightings(entry_id: EntryIdPath, actor: ReaderDep, session: SessionDep) -> Response:
    result = await history.entry_sightings(session, actor, entry_id)
    sightings = [
        {
            "alert_id": alert.id,
            "event_id": s.event_id,
            "occurred_at": s.occurred_at,
            "kind": s.kind,
            "country": s.country,
            "place": s.place,
            "direction": s.direction,
            "route_countries": s.route_countries or [],
            "score": alert.score,
            "method": alert.method,
            "alert_status": alert.status,
        }
        for alert, s in result.rows
    ]
    return _json({"entry_id": entry_id, "countries": result.countries, "sightings": sightings})
