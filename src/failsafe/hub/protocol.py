"""The alert stream's wire protocol (docs/contracts.md "Websocket"): close codes, client messages,
server frames, subscription filters, and the typed item the hub fans out. A leaf of the hub: it
imports nothing of the hub, so the hub, the connection state machine and the socket session all
speak it without importing each other.

Client -> server: `subscribe {since, filters}`, `ack {id}`, `pong`, and `ping` (answered with
`pong`). Server -> client: `alert`, `alert_update`, `subscribed {replayed, last_id}` (sent when the
replay from the database is done: everything after it is live), `acked {id}`, `ping`, `pong`,
`error {code, message}`. Close codes: see the `CLOSE_*` constants.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Protocol, cast

import orjson
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from failsafe.contract import AlertView, NoticeType, Severity
from failsafe.kit.validation import first_error

# Close codes (RFC 6455 and one private-use code).
CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001  # the server is shutting down
CLOSE_POLICY = 1008  # authentication or policy: bad token, revoked, too many invalid messages
CLOSE_TOO_BIG = 1009  # a client message over MAX_MESSAGE_BYTES
CLOSE_INTERNAL = 1011  # the replay failed: resume with `since`
CLOSE_TRY_LATER = 1013  # not ready, a dependency is away, or too slow: resume with `since`
CLOSE_TOO_SLOW = CLOSE_TRY_LATER
CLOSE_HEARTBEAT = 4408  # no pong within the heartbeat timeout

MAX_MESSAGE_BYTES = 64 * 1024
MAX_INVALID_MESSAGES = 20

EntryId = Annotated[str, Field(max_length=64)]


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    """What one connection may hold and how long it may take; a value the hub hands to each."""

    max_queue: int = 1000  # frames queued for the socket
    replay_buffer: int = 10_000  # live items held back during a replay
    replay_page: int = 500  # alerts read from the database per replay query
    ping_interval: float = 20.0
    ping_timeout: float = 20.0
    send_timeout: float = 10.0


@dataclass(frozen=True, slots=True)
class Delivered:
    """One alert as the hub fans it out: the fields filters read, and its frame serialized once
    for every socket (100 sockets must not mean 100 serializations)."""

    id: int
    recipients: frozenset[str]
    score: float
    severity: str
    notice_type: str
    entry_id: str
    status: str
    updated_at: str
    frame: str

    @classmethod
    def of(cls, alert: AlertView) -> Delivered:
        # A radiation alarm's alert has no entry (`{}`): it has no notice type nor entry id.
        entry = cast(dict[str, Any], alert["entry"])
        return cls(
            id=alert["id"],
            recipients=frozenset(alert["recipients"]),
            score=alert["score"],
            severity=alert["severity"],
            # A notice is a free-form object in an entry summary: its type may be absent.
            notice_type=str((entry.get("notice") or {}).get("type") or ""),
            entry_id=str(entry.get("id") or ""),
            status=alert["status"],
            updated_at=alert.get("updated_at") or alert["created_at"],
            frame=frame({"type": "alert", "alert": alert}),
        )

    def update_frame(self, alert: AlertView | None = None) -> str:
        message: dict[str, Any] = {
            "type": "alert_update",
            "id": self.id,
            "status": self.status,
            "updated_at": self.updated_at,
        }
        if alert is not None:
            # Additive (issue 12): the severity and the whole alert as it is now, since an update
            # may carry more than a status (a radiation alarm linked; a bureau newly routed).
            message["severity"] = self.severity
            message["alert"] = alert
        return frame(message)


@dataclass(frozen=True, slots=True)
class Update:
    """A status change of an alert the stream already carried."""

    alert: Delivered
    frame: str


ConnectionState = Literal["idle", "replaying", "live", "closed"]


class Subscriber(Protocol):
    """What the hub's fan-out needs of a connection (failsafe.hub.connection.Connection)."""

    @property
    def principal_id(self) -> str: ...
    @property
    def bureau(self) -> str | None:
        """None: an admin, every alert."""

    @property
    def state(self) -> ConnectionState: ...
    def offer(self, item: Delivered) -> None: ...
    def offer_update(self, update: Update) -> None: ...
    def kill(self, code: int, reason: str) -> None: ...


class Filters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_score: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    notice_types: Annotated[list[NoticeType], Field(max_length=16)] | None = None
    severities: Annotated[list[Severity], Field(max_length=8)] | None = None
    entry_ids: Annotated[list[EntryId], Field(max_length=100)] | None = None

    def match(self, item: Delivered) -> bool:
        if self.min_score is not None and item.score < self.min_score:
            return False
        if self.notice_types is not None and item.notice_type not in self.notice_types:
            return False
        if self.severities is not None and item.severity not in self.severities:
            return False
        return self.entry_ids is None or item.entry_id in self.entry_ids


class Subscribe(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: Literal["subscribe"]
    since: Annotated[int, Field(ge=0)] | None = None
    filters: Filters = Filters()


class Ack(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: Literal["ack"]
    id: Annotated[int, Field(ge=1)]


class Pong(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: Literal["pong"]


class Ping(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: Literal["ping"]


ClientMessage = Annotated[Subscribe | Ack | Pong | Ping, Field(discriminator="type")]
_client_message: TypeAdapter[Subscribe | Ack | Pong | Ping] = TypeAdapter(ClientMessage)


class InvalidMessage(ValueError):
    """A client message that is not JSON or not one of the protocol's; the text is safe to send
    back (field locations and messages, never the input)."""


def parse_client_message(text: str) -> Subscribe | Ack | Pong | Ping:
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise InvalidMessage("not JSON") from None
    try:
        return _client_message.validate_python(data)
    except ValidationError as exc:
        where, what = first_error(exc)
        raise InvalidMessage(f"invalid message at {where or 'root'}: {what}") from None


def frame(message: Mapping[str, Any]) -> str:
    return orjson.dumps(message).decode()


PING_FRAME = frame({"type": "ping"})
PONG_FRAME = frame({"type": "pong"})


def subscribed_frame(replayed: int, last_id: int) -> str:
    return frame({"type": "subscribed", "replayed": replayed, "last_id": last_id})


def acked_frame(alert_id: int) -> str:
    return frame({"type": "acked", "id": alert_id})


def error_frame(code: str, message: str) -> str:
    return frame({"type": "error", "code": code, "message": message})
