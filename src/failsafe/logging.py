"""Logging set-up: plain or JSON lines on stderr. Never log personal data (names, documents)."""

from __future__ import annotations

import json
import logging
import sys
import traceback
from datetime import UTC, datetime
from typing import Any

from failsafe.kit.retry import RepeatFilter


class RedactingFormatter(logging.Formatter):
    """Tracebacks keep their frames and the exception's type, never its message: messages quote
    data (a KeyError names the key, a driver error the value), and personal data must never
    reach the logs. This covers every logger, uvicorn's "Exception in ASGI application" too."""

    def formatException(self, ei: Any) -> str:
        etype, _value, tb = ei
        frames = "".join(traceback.format_list(traceback.extract_tb(tb)))
        name = getattr(etype, "__name__", "Exception")
        return f"Traceback (most recent call last):\n{frames}{name}: <message withheld>"


class JsonFormatter(RedactingFormatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line)


def configure_logging(level: str = "INFO", json_lines: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if json_lines:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    # aiokafka logs every failed reconnect itself; during an outage that is a line per attempt.
    handler.addFilter(RepeatFilter(("aiokafka",)))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # The access log would record `?token=` on websocket URLs; uvicorn's is replaced by ours.
    logging.getLogger("uvicorn.access").disabled = True
    logging.getLogger("aiokafka").setLevel(max(logging.WARNING, root.level))
