"""The OpenAPI document's operation ids are unique and readable (`<domain>_<action>`, e.g.
`watchlist_create_entry`: what client generators turn into method names), and every request
body carries an example."""

from __future__ import annotations

import re
from typing import Any

from failsafe.app import create_app
from failsafe.settings import Settings

METHODS = ("get", "post", "put", "patch", "delete")


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    doc = create_app(Settings()).openapi()
    return [
        (path, method, op)
        for path, ops in doc["paths"].items()
        for method, op in ops.items()
        if method in METHODS
    ]


def test_operation_ids_are_unique_and_readable() -> None:
    ids = [op["operationId"] for _, _, op in _operations()]
    assert len(ids) == len(set(ids)), sorted(ids)
    for op_id in ids:
        assert re.fullmatch(r"[a-z]+(_[a-z]+)+", op_id), op_id
        assert "v1" not in op_id.split("_"), op_id
        assert not op_id.endswith(tuple(f"_{m}" for m in METHODS[2:])), op_id
    expected = {
        "watchlist_create_entry", "watchlist_list_entries", "watchlist_cancel_entry",
        "alerts_list", "alerts_get", "alerts_post_transition", "principals_create",
        "principals_revoke", "events_post", "events_post_screen", "health_readyz",
        "specs_asyncapi",
    }
    assert expected <= set(ids), sorted(expected - set(ids))


def _has_example(media: dict[str, Any], schemas: dict[str, Any]) -> bool:
    if "example" in media or "examples" in media:
        return True
    pending = [media.get("schema", {})]
    while pending:
        schema = pending.pop()
        if "$ref" in schema:
            schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
        if "example" in schema or "examples" in schema:
            return True
        pending += schema.get("anyOf", []) + schema.get("oneOf", [])
    return False


def test_every_request_body_has_an_example() -> None:
    schemas = create_app(Settings()).openapi()["components"]["schemas"]
    missing = [
        (method, path)
        for path, method, op in _operations()
        for media in op.get("requestBody", {}).get("content", {}).values()
        if not _has_example(media, schemas)
    ]
    assert missing == []
