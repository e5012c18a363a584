"""`/asyncapi.json` (AsyncAPI 3) describes what failsafe really sends and accepts: its schemas are
the pydantic models' own, its topic addresses the configured ones, every reference resolves, and
the frames a real websocket session carries (subscribed, alert, alert_update, acked, pong,
error) and the example event validate against it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx2
import jsonschema_rs
import orjson
import pytest

from failsafe.alerts.schemas import AlertOut
from failsafe.asyncapi import REF, SERVER_MESSAGES
from failsafe.ingest.events import Event
from failsafe.settings import DatabaseSettings, KafkaSettings, Settings, TopicSettings
from tests.fixtures.app import RunningApp, in_process, make_token
from tests.fixtures.factories import emit, make_entry, make_hit
from tests.fixtures.sockets import open_stream, recv_json

pytestmark = pytest.mark.integration
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "$ref" and isinstance(v, str)] + [
            r for v in node.values() for r in _refs(v)
        ]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def _validator(doc: dict[str, Any], name: str) -> Any:
    """A validator for components.schemas[name], with the document's other schemas in reach."""
    return jsonschema_rs.validator_for(
        {"$ref": REF.format(model=name), "components": {"schemas": doc["components"]["schemas"]}}
    )


async def test_the_document_is_built_from_the_models_and_the_settings(tmp_path: Path) -> None:
    topics = TopicSettings(events="in.v1", events_dlq="in.dlq.v1", alerts="out.v1")
    settings = Settings(
        database=DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'a.db'}"),
        kafka=KafkaSettings(topics=topics),
    )
    async with in_process(settings) as api:
        r = await api.client.get("/asyncapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["asyncapi"] == "3.0.0"
    channels = doc["channels"]
    assert {name: c["address"] for name, c in channels.items()} == {
        "events": "in.v1", "eventsDlq": "in.dlq.v1", "alerts": "out.v1",
        "alertStream": "/v1/alerts/stream",
    }
    for ref in _refs(doc):
        assert ref.startswith("#/") and _resolve(doc, ref) is not None, ref
    for operation in doc["operations"].values():
        assert operation["action"] in ("send", "receive")
    # The schemas are the models' own (no hand-written copy to drift).
    schemas = doc["components"]["schemas"]
    for model, mode in ((Event, "validation"), (AlertOut, "serialization")):
        own = model.model_json_schema(ref_template=REF, mode=mode)
        own.pop("$defs", None)
        assert schemas[model.__name__] == own
    event = json.loads((EXAMPLES / "event.json").read_text())
    assert _validator(doc, "Event").is_valid(event)
    assert not _validator(doc, "Event").is_valid({**event, "kind": "teleport"})


async def test_real_stream_frames_validate_against_the_document(app: RunningApp) -> None:
    async with httpx2.AsyncClient(base_url=app.http, timeout=10) as http:
        doc = (await http.get("/asyncapi.json")).json()
        entry = await make_entry(app.sessions, owner="FRA")
        desk = await make_token(app.sessions, "bureau", "FRA")
        ws = await open_stream(app.ws_url(), desk, since=0)
        frames = [await recv_json(ws)]
        (alert,) = await emit(app.sessions, app.bus, [make_hit(entry, country="DEU")])
        frames.append(await recv_json(ws))
        r = await http.post(
            f"/v1/alerts/{alert['id']}/transitions",
            json={"status": "acknowledged"},
            headers={"Authorization": f"Bearer {desk}"},
        )
        assert r.status_code == 200, r.text
        frames.append(await recv_json(ws))
        for message in ({"type": "ack", "id": alert["id"]}, {"type": "ping"}, {"type": "nope"}):
            await ws.send(orjson.dumps(message).decode())
            frames.append(await recv_json(ws))
        await ws.close()
    kinds = [f["type"] for f in frames]
    assert kinds == ["subscribed", "alert", "alert_update", "acked", "pong", "error"]
    for frame in frames:
        model = SERVER_MESSAGES[frame["type"]]
        errors = [str(e) for e in _validator(doc, model.__name__).iter_errors(frame)]
        assert errors == [], (frame["type"], errors)
        # ... and the channel lists the message.
        assert f"server_{frame['type']}" in doc["channels"]["alertStream"]["messages"]
    # An alert on the stream is the alert on the topic and in the API: one schema.
    assert _validator(doc, "AlertOut").is_valid(frames[1]["alert"])
