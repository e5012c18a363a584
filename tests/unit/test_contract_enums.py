"""The database's allowed values are derived from the contract's enumerations, not restated."""

from __future__ import annotations

from typing import get_args

from failsafe import contract
from failsafe.alerts import routing, schemas
from failsafe.db import models


def test_database_enumerations_are_the_contracts() -> None:
    # The same objects, not equal copies: a value added to the contract reaches the database.
    assert models.ALERT_STATUSES is contract.ALERT_STATUSES
    assert models.ENTRY_STATUSES is contract.ENTRY_STATUSES
    assert models.ROLES is contract.ROLES
    assert routing.SEVERITIES is contract.SEVERITIES


def test_schemas_use_the_contract_literals() -> None:
    assert schemas.AlertOut.model_fields["status"].annotation is contract.AlertStatus
    assert schemas.AlertOut.model_fields["severity"].annotation is contract.Severity
    assert get_args(contract.AlertStatus) == contract.ALERT_STATUSES
