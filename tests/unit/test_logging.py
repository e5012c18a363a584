"""Logs never carry exception messages (they may quote personal data), but keep the frames."""

from __future__ import annotations

import json
import logging

from failsafe.logging import JsonFormatter, RedactingFormatter


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
