"""The AsyncAPI 3 document of failsafe's message contracts, served at `/asyncapi.json`: the Kafka
topics failsafe.events.v1 (in), failsafe.events.dlq.v1 and failsafe.alerts.v1 (out), and the
websocket protocol of /v1/alerts/stream.

Invariants:
- Payload schemas are generated from the pydantic models the code validates with (the event
  schema v1, the alert contract, the websocket client messages) or, for the frames the hub writes
  as plain dicts, from the models below; tests/integration/test_asyncapi.py checks real frames
  and real topic records against this document, so it cannot drift from what is sent.
- Topic addresses are the configured ones (`FAILSAFE_KAFKA__TOPICS__*`), defaults shown when the
  app runs without Kafka.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import models_json_schema

from failsafe import __version__
from failsafe.alerts.schemas import AlertOut
from failsafe.contract import AlertStatus, Severity
from failsafe.hub.protocol import Ack, Filters, Ping, Pong, Subscribe
from failsafe.ingest.events import Event
from failsafe.kit.state import StateDep
from failsafe.settings import Settings

router = APIRouter(tags=["specs"])
REF = "#/components/schemas/{model}"


# -- frames the server writes (the hub builds them as dicts; these models describe them) --------


class _Frame(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Subscribed(_Frame):
    """The answer to `subscribe`: the replay is done, live alerts follow."""

    type: Literal["subscribed"]
    replayed: int = Field(ge=0, description="alerts replayed after `since`")
    last_id: int = Field(ge=0, description="the highest alert id covered so far")


class AlertFrame(_Frame):
    """One alert routed to the caller's bureau, in increasing id order."""

    type: Literal["alert"]
    alert: AlertOut


class AlertUpdate(_Frame):
    """A change of an alert the stream carried: its status, or (a radiation alarm linked, a
    bureau newly routed) its evidence; `severity` and `alert` are the alert as it is now."""

    type: Literal["alert_update"]
    id: int
    status: AlertStatus
    updated_at: str
    severity: Severity | None = None
    alert: AlertOut | None = None


class Acked(_Frame):
    """The answer to `ack`."""

    type: Literal["acked"]
    id: int


class ServerPing(_Frame):
    """Heartbeat: answer with `pong` (a client that does not is closed with 4408)."""

    type: Literal["ping"]


class ServerPong(_Frame):
    """The answer to a client's `ping`."""

    type: Literal["pong"]


class StreamError(_Frame):
    """A message the hub could not act on; the stream goes on (too many close it)."""

    type: Literal["error"]
    code: Literal["bad_request", "conflict", "unavailable", "not_found"]
    message: str


class PrincipalRevoked(_Frame):
    """A control record on the alerts topic: every hub closes that principal's sockets."""

    control: Literal["principal_revoked"]
    principal_id: str


class DeadLetterHeaders(BaseModel):
    """Headers of a dead-lettered event (the value is the original bytes, maybe truncated)."""

    model_config = ConfigDict(populate_by_name=True)

    error: Annotated[str, Field(alias="failsafe.error", description="why it was rejected")]
    source_topic: Annotated[str, Field(alias="failsafe.source.topic")]
    source_partition: Annotated[str, Field(alias="failsafe.source.partition")]
    source_offset: Annotated[str, Field(alias="failsafe.source.offset")]
    truncated: Annotated[
        str | None,
        Field(
            alias="failsafe.truncated",
            description="the original size, when only the first max_event_bytes are kept",
        ),
    ] = None


CLIENT_MESSAGES: dict[str, type[BaseModel]] = {
    "subscribe": Subscribe,
    "ack": Ack,
    "pong": Pong,
    "ping": Ping,
}
SERVER_MESSAGES: dict[str, type[BaseModel]] = {
    "subscribed": Subscribed,
    "alert": AlertFrame,
    "alert_update": AlertUpdate,
    "acked": Acked,
    "ping": ServerPing,
    "pong": ServerPong,
    "error": StreamError,
}


def _schemas() -> tuple[dict[tuple[Any, str], Any], dict[str, Any]]:
    models: list[tuple[type[BaseModel], Literal["validation", "serialization"]]] = [
        (Event, "validation"),
        (AlertOut, "serialization"),
        (PrincipalRevoked, "serialization"),
        (DeadLetterHeaders, "serialization"),
        (Filters, "validation"),
        *((m, "validation") for m in CLIENT_MESSAGES.values()),
        *((m, "serialization") for m in SERVER_MESSAGES.values()),
    ]
    refs, defs = models_json_schema(models, ref_template=REF)
    by_model: dict[tuple[Any, str], Any] = {key: ref for key, ref in refs.items()}
    return by_model, defs.get("$defs", {})


def _message(name: str, title: str, payload: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": name, "title": title, "contentType": "application/json", "payload": payload,
            **extra}


def build(settings: Settings) -> dict[str, Any]:
    """The AsyncAPI 3.0 document for these settings' topics."""
    refs, schemas = _schemas()
    topics = settings.kafka.topics

    def ref(model: type[BaseModel], mode: str = "serialization") -> dict[str, Any]:
        return dict(refs[(model, mode)])

    messages: dict[str, Any] = {
        "event": _message(
            "event", "A traveller event (schema failsafe.event/v1)", ref(Event, "validation"),
            summary="Unknown fields are kept and ignored; invalid events go to the DLQ.",
            bindings={"kafka": {"key": {"type": "string", "description": "event_id (any key)"}}},
        ),
        "deadLetter": {
            "name": "dead_letter",
            "title": "An invalid event, as it arrived",
            "contentType": "application/octet-stream",
            "payload": {"type": "string", "format": "binary"},
            "headers": ref(DeadLetterHeaders),
        },
        "alert": _message(
            "alert", "An alert (the contract of GET /v1/alerts/{id})", ref(AlertOut),
            bindings={"kafka": {"key": {"type": "string", "const": "alerts"}}},
        ),
        "principalRevoked": _message(
            "principal_revoked", "Control: close a revoked principal's sockets",
            ref(PrincipalRevoked),
        ),
    }
    for kind, model in CLIENT_MESSAGES.items():
        messages[f"client_{kind}"] = _message(kind, model.__doc__ or kind, ref(model, "validation"))
    for kind, model in SERVER_MESSAGES.items():
        messages[f"server_{kind}"] = _message(kind, model.__doc__ or kind, ref(model))

    def msgs(*names: str) -> dict[str, Any]:
        return {n: {"$ref": f"#/components/messages/{n}"} for n in names}

    def chan_msgs(channel: str, names: list[str]) -> list[dict[str, Any]]:
        return [{"$ref": f"#/channels/{channel}/messages/{n}"} for n in names]

    client = [f"client_{k}" for k in CLIENT_MESSAGES]
    server = [f"server_{k}" for k in SERVER_MESSAGES]
    kafka_server = [{"$ref": "#/servers/kafka"}]
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "failsafe messages",
            "version": __version__,
            "description": "Events in, dead letters and alerts out on Kafka, and the bureaus' "
            "live alert stream. Kafka security (TLS, SASL) is the deployment's "
            "(FAILSAFE_KAFKA__SECURITY_PROTOCOL); the websocket takes a bearer token (header) or "
            "a one-time `ticket` (POST /v1/alerts/stream/ticket).",
        },
        "defaultContentType": "application/json",
        "servers": {
            "kafka": {
                "host": settings.kafka.bootstrap_servers or "kafka:9092",
                "protocol": "kafka",
                "description": "the deployment's brokers",
            },
            "api": {
                "host": f"{settings.server.host}:{settings.server.port}",
                "protocol": "ws",
                "description": "any `failsafe serve` replica",
            },
        },
        "channels": {
            "events": {
                "address": topics.events,
                "servers": kafka_server,
                "messages": msgs("event"),
            },
            "eventsDlq": {
                "address": topics.events_dlq,
                "servers": kafka_server,
                "messages": msgs("deadLetter"),
            },
            "alerts": {
                "address": topics.alerts,
                "servers": kafka_server,
                "description": "one key, one order; publication is at-least-once: "
                "de-duplicate by alert id",
                "messages": msgs("alert", "principalRevoked"),
            },
            "alertStream": {
                "address": "/v1/alerts/stream",
                "servers": [{"$ref": "#/servers/api"}],
                "description": "Subscribe with `since` (the last alert id seen, null for live "
                "only): every alert routed to the bureau after it, in order, then live. Close "
                "codes: 1008 bad or revoked token, 1009 message too big, 1013 too slow or a "
                "dependency away (reconnect with `since`), 4408 no pong.",
                "messages": msgs(*client, *server),
                "bindings": {
                    "ws": {
                        "query": {
                            "type": "object",
                            "properties": {
                                "ticket": {"type": "string", "description": "one-time ticket"},
                                "token": {"type": "string", "description": "bearer token"},
                            },
                        }
                    }
                },
            },
        },
        "operations": {
            "receiveEvents": {
                "action": "receive",
                "channel": {"$ref": "#/channels/events"},
                "summary": "failsafe ingest consumes events (consumer group)",
                "messages": chan_msgs("events", ["event"]),
            },
            "sendDeadLetters": {
                "action": "send",
                "channel": {"$ref": "#/channels/eventsDlq"},
                "messages": chan_msgs("eventsDlq", ["deadLetter"]),
            },
            "sendAlerts": {
                "action": "send",
                "channel": {"$ref": "#/channels/alerts"},
                "messages": chan_msgs("alerts", ["alert", "principalRevoked"]),
            },
            "receiveStreamMessages": {
                "action": "receive",
                "channel": {"$ref": "#/channels/alertStream"},
                "messages": chan_msgs("alertStream", client),
            },
            "sendStreamMessages": {
                "action": "send",
                "channel": {"$ref": "#/channels/alertStream"},
                "messages": chan_msgs("alertStream", server),
            },
        },
        "components": {"schemas": schemas, "messages": messages},
    }


@router.get(
    "/asyncapi.json",
    summary="The AsyncAPI 3 document: Kafka topics and the alert stream",
    include_in_schema=True,
)
async def asyncapi(state: StateDep) -> dict[str, Any]:
    return build(state.settings)
