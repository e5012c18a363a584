"""Severity carries the date-of-birth agreement the match's explanation states: a far date is one
step lower on every alert; close, unknown or no statement change nothing. Explanations are
written by hand here, in the shape the matcher gives (`feature`, `agreement`, `detail`)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from failsafe.alerts import routing
from failsafe.alerts.routing import SEVERITIES, dob_agreement, severity

NAME = {"feature": "name", "score": 0.97, "query": "IVAN PETROV", "candidate": "IVAN PETROV"}


def dob(agreement: str, detail: str = "") -> dict[str, Any]:
    return {
        "feature": "date_of_birth",
        "score": 0.5,
        "query": "1985",
        "candidate": "1960",
        "agreement": agreement,
        "detail": detail or f"{agreement} (hand-written)",
    }


@pytest.mark.parametrize(
    ("explanation", "agreement"),
    [
        ([NAME, dob("exact")], "exact"),
        ([NAME, dob("close")], "close"),
        ([NAME, dob("far")], "far"),
        ([NAME, dob("unknown")], "unknown"),
        ([NAME], None),  # no date on the match: nothing stated
        # An explanation from before agreements existed: nothing stated.
        (
            [
                NAME,
                {"feature": "date_of_birth", "score": 1.0, "query": "1970", "candidate": "1970"},
            ],
            None,
        ),
        ([NAME, dob("sort of")], None),  # not a known agreement: ignored, never a guess
        # Several dates of birth on the entry: the best agreeing one counts.
        ([NAME, dob("far"), dob("close")], "close"),
        ([NAME, dob("far"), dob("unknown")], "unknown"),
        ([NAME, dob("far"), dob("far")], "far"),
        ([], None),
    ],
)
def test_the_agreement_is_read_off_the_explanation(
    explanation: list[dict[str, Any]], agreement: str | None
) -> None:
    assert dob_agreement(explanation) == agreement


CASES = list(
    itertools.product(
        ["red", "green", "blue", "orange", None],
        ["locate_and_detain", "specific_check", "discreet_check", "inform_only", None],
        [0.99, 0.85, 0.84, 0.7],
    )
)


@pytest.mark.parametrize(("notice", "action", "score"), CASES)
def test_a_far_date_is_one_step_lower_on_every_alert(
    notice: str | None, action: str | None, score: float
) -> None:
    agreeing = SEVERITIES.index(severity(notice, action, score, "exact"))
    far = SEVERITIES.index(severity(notice, action, score, "far"))
    assert far == max(0, agreeing - 1)
    # Still an alert: the floor is `low`, never nothing.
    assert severity(notice, action, score, "far") in SEVERITIES


@pytest.mark.parametrize(("notice", "action", "score"), CASES)
def test_close_unknown_or_unstated_dates_do_not_change_severity(
    notice: str | None, action: str | None, score: float
) -> None:
    base = severity(notice, action, score)
    assert severity(notice, action, score, "exact") == base
    assert severity(notice, action, score, "close") == base
    assert severity(notice, action, score, "unknown") == base
    assert severity(notice, action, score, None) == base


def test_examples() -> None:
    # The top notice stays critical on a weak score, but a far date shows.
    assert severity("red", "locate_and_detain", 0.99, "exact") == "critical"
    assert severity("red", "locate_and_detain", 0.80, "exact") == "critical"
    assert severity("red", "locate_and_detain", 0.99, "far") == "high"
    assert severity("green", "discreet_check", 0.95, "far") == "medium"
    assert severity("green", "discreet_check", 0.75, "far") == "low"
    assert severity("blue", "inform_only", 0.95, "far") == "low"
    assert routing.severity("green", "discreet_check", 0.95) == "high"  # unchanged signature
