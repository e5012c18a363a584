"""The enumerations stated twice (typed Literals in schemas, tuples for the database) agree."""

from __future__ import annotations

from typing import get_args

from failsafe.alerts.routing import SEVERITIES
from failsafe.alerts.schemas import AlertStatus, Severity
from failsafe.db.models import ALERT_STATUSES


def test_alert_statuses_agree() -> None:
    assert get_args(AlertStatus) == ALERT_STATUSES


def test_severities_agree() -> None:
    assert get_args(Severity) == SEVERITIES
