"""Logging set-up: plain or JSON lines on stderr. Never log personal data (names, documents) or
secrets (tokens, tickets).

Invariants of every line `configure_logging` writes:
- credentials are redacted (`RedactionFilter`): the values of `token=`/`ticket=` in a URL or
  message, `Authorization` values, and anything shaped like one of our tokens or tickets. It sits
  on the root handler and on uvicorn's loggers, whose websocket lines quote the request's query
  string (`"WebSocket /v1/alerts/stream?ticket=..." [accepted]`) and whose access log, when
  enabled (`server.access_log`), quotes every URL;
- control characters in messages are escaped (`\\x00`, `\\n`...): a NUL or a newline from a
  request cannot cut or forge a line;
- tracebacks keep their frames and the exception's type, never its message (`RedactingFormatter`).

Redaction is defence in depth: code must not log secrets in the first place (the test suite's
log scan checks ours before any redaction, tests/conftest.py).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
from datetime import UTC, datetime
from typing import Any

from failsafe.kit.retry import RepeatFilter

REDACTED = "[redacted]"

# `token=...`/`ticket=...` in a query string or a message (also `access_token=`, `?Token=`), up to
# the next separator.
_SECRET_PARAM = re.compile(r"(?i)((?:^|[^a-z0-9])(?:[a-z_]*token|ticket)=)[^&\s\"'#;,]+")
# An Authorization header's value, as "Authorization: Bearer x", "authorization=x" or a repr'd
# header pair ('authorization', 'Bearer x').
_AUTH_VALUE = re.compile(
    r"(?i)(authorization['\"]?\s*[:=,]\s*(?:b?['\"])?)(?:(?:bearer|basic)\s+)?[^\s'\"&,;)}\]]+"
)
_BEARER = re.compile(r"(?i)(\bbearer\s+)[^\s'\"&,;)}\]]+")
# Our tokens (fs_ + 43) and tickets (fst_ + 43), wherever they appear.
_TOKEN_SHAPED = re.compile(r"\bfst?_[A-Za-z0-9_-]{16,}")
# C0 controls and DEL (tab kept); escaped as \xNN (\n and \r as such).
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_ESCAPES = {"\n": "\\n", "\r": "\\r"}


def redact(text: str) -> str:
    """`text` with credentials replaced by `[redacted]`."""
    text = _SECRET_PARAM.sub(rf"\g<1>{REDACTED}", text)
    text = _AUTH_VALUE.sub(rf"\g<1>{REDACTED}", text)
    text = _BEARER.sub(rf"\g<1>{REDACTED}", text)
    return _TOKEN_SHAPED.sub(REDACTED, text)


def escape_controls(text: str) -> str:
    return _CONTROL.sub(lambda m: _ESCAPES.get(m.group(), f"\\x{ord(m.group()):02x}"), text)


class RedactionFilter(logging.Filter):
    """Redacts credentials in a record's message and arguments, keeping their shape (uvicorn's
    own formatters unpack the access log's arguments). Never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        # A non-string message (an exception, an object) is what getMessage would str() anyway.
        record.msg = redact(record.msg if isinstance(record.msg, str) else str(record.msg))
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_arg(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _redact_arg(value) for key, value in record.args.items()}
        return True


def _redact_arg(arg: Any) -> Any:
    if isinstance(arg, int | float | bool) or arg is None:
        return arg  # numbers carry no secret, and %d needs a number
    text = arg if isinstance(arg, str) else str(arg)
    clean = redact(text)
    return arg if clean == text else clean


_FILTER = RedactionFilter()
# uvicorn.error quotes websocket request lines (with their query string); uvicorn.access every URL.
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")


def install_redaction(*handlers: logging.Handler) -> None:
    """Put the redaction filter on uvicorn's loggers and on `handlers` (idempotent). A filter on a
    logger sees only what is logged on it, not its children's records: the root handler's copy
    covers every logger that propagates (failsafe's own, aiokafka, sqlalchemy...)."""
    for target in (*(logging.getLogger(name) for name in UVICORN_LOGGERS), *handlers):
        if _FILTER not in target.filters:
            target.addFilter(_FILTER)


class RedactingFormatter(logging.Formatter):
    """Tracebacks keep their frames and the exception's type, never its message: messages quote
    data (a KeyError names the key, a driver error the value), and personal data must never
    reach the logs. This covers every logger, uvicorn's "Exception in ASGI application" too.
    Control characters in messages are escaped."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = escape_controls(record.message)
        return super().formatMessage(record)

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
            # json.dumps escapes control characters itself.
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
    install_redaction(handler)
    # aiokafka logs every failed reconnect itself; during an outage that is a line per attempt.
    handler.addFilter(RepeatFilter(("aiokafka",)))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("aiokafka").setLevel(max(logging.WARNING, root.level))
