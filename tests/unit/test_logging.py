"""Logs never carry exception messages (they may quote personal data), but keep the frames; nor
credentials or raw control characters; and the suite-wide log scan (tests/conftest.py) catches
a planted leak of each kind."""

from __future__ import annotations

import io
import json
import logging

from failsafe.auth.tokens import new_ticket, new_token
from failsafe.logging import (
    JsonFormatter,
    RedactingFormatter,
    configure_logging,
    install_redaction,
)
from tests.conftest import find_leaks


def _record() -> logging.LogRecord:
    name = "ERIKSSON ANNA"  # data, as a traveller's name would be
    try:
        {"a": 1}[name]
    except KeyError:
        import sys

        return logging.LogRecord("t", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    raise AssertionError("unreachable")


def test_plain_logs_keep_frames_and_type_but_not_the_message() -> None:
    text = RedactingFormatter("%(message)s").format(_record())
    assert "test_logging.py" in text
    assert "KeyError: <message withheld>" in text
    assert "ERIKSSON" not in text


def test_json_logs_too() -> None:
    line = json.loads(JsonFormatter().format(_record()))
    assert "KeyError" in line["exc"]
    assert "ERIKSSON" not in line["exc"]


def test_uvicorn_websocket_and_access_lines_are_redacted() -> None:
    token, ticket = new_token(), new_ticket()
    install_redaction()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter("%(name)s: %(message)s"))
    error, access = logging.getLogger("uvicorn.error"), logging.getLogger("uvicorn.access")
    for logger in (error, access):
        logger.addHandler(handler)
    old = error.level, access.level
    error.setLevel(logging.INFO)
    access.setLevel(logging.INFO)
    try:
        # As uvicorn logs them (websockets_sansio_impl.py, h11_impl.py).
        error.info('%s - "WebSocket %s" [accepted]', "127.0.0.1:5000",
                   f"/v1/alerts/stream?token={token}")
        error.info(
            '%s - "WebSocket %s" 403', "127.0.0.1:5000", f"/v1/alerts/stream?ticket={ticket}"
        )
        access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET",
                    f"/dashboard/?x=1&token={token}&y=2", "1.1", 200)
        error.info("headers %s", [(b"authorization", f"Bearer {token}".encode())])
    finally:
        for logger in (error, access):
            logger.removeHandler(handler)
        error.setLevel(old[0])
        access.setLevel(old[1])
    out = stream.getvalue()
    assert token not in out and ticket not in out
    assert token[:12] not in out and ticket[:12] not in out
    assert out.count("[redacted]") == 4
    assert "?x=1&token=[redacted]&y=2 HTTP/1.1\" 200" in out  # the rest of the line is kept


def test_control_characters_are_escaped() -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure_logging("INFO")
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    try:
        logging.getLogger("failsafe.test").warning(
            "bad path %r / %s", "a\x00b", "c\nFORGED line\x1b[2J"
        )
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    out = stream.getvalue()
    assert "\x00" not in out and "\x1b" not in out
    assert out.count("\n") == 1  # one record, one line: no forged second line
    assert "c\\nFORGED line\\x1b[2J" in out


def test_log_scan_catches_each_kind_of_leak() -> None:
    token, ticket = new_token(), new_ticket()
    mrz = "P<RUSPETROV<<IVAN<<<<<<<<<<<<<<<<<<<<<<<<<<<"
    planted = [
        ("a", f"authenticated with {token}"),
        ("b", f'"WebSocket /v1/alerts/stream?ticket={ticket[4:]}" [accepted]'),
        ("c", "GET /x?token=abcdef HTTP/1.1"),
        ("d", f"document line {mrz}"),
        ("e", "matched traveller Jovanović at the border"),
        ("f", "document 753123456 refused"),
    ]
    clean = [
        ("g", "hub started at alert id 7"),
        ("h", '"WebSocket /v1/alerts/stream?ticket=[redacted]" [accepted]'),
        ("i", "database failsafe_test_0123456789abcdef created"),
        ("j", "TOPIC_FAILSAFE_EVENTS_V1_PARTITION_0_OFFSET_12345"),
    ]
    leaks = find_leaks(planted + clean, {"Jovanović", "753123456"})
    assert [leak.split(":")[0] for leak in leaks] == ["a", "b", "c", "d", "e", "f"]
    assert "MRZ" in leaks[3] and "personal data" in leaks[4]
