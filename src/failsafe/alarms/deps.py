"""FastAPI dependencies of the alarms domain: the alarm intake, typed.

Routers take `IntakeDep` (503 while this process runs no alarm intake) instead of looking the
service up in `AppState.services`; the screening service (whose Kafka producer sends alarms on)
comes from failsafe.ingest.deps.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from failsafe.alarms.service import AlarmIntake
from failsafe.errors import Unavailable
from failsafe.kit.state import StateDep


def get_intake(state: StateDep) -> AlarmIntake:
    """The alarm intake; 503 when this process does not run one."""
    intake = state.services.find(AlarmIntake)
    if intake is None:
        raise Unavailable("the alarm service is not running")
    return intake


IntakeDep = Annotated[AlarmIntake, Depends(get_intake)]
