"""The ordered service list: start in order, stop in reverse (every one, even past a failure),
readiness by name, lookup by class."""

from __future__ import annotations

import asyncio

import pytest

from failsafe.kit.service import BackgroundTask, Services


class Recorder:
    def __init__(self, name: str, log: list[str], *, fail_stop: bool = False) -> None:
        self.name = name
        self.log = log
        self.ready = False
        self.fail_stop = fail_stop

    async def start(self) -> None:
        self.log.append(f"start {self.name}")
        self.ready = True

    async def stop(self) -> None:
        self.log.append(f"stop {self.name}")
        if self.fail_stop:
            raise RuntimeError("stop failed")


class Other(Recorder):
    pass


async def test_started_in_order_stopped_in_reverse_past_a_failure() -> None:
    log: list[str] = []
    services = Services()
    await services.start(Recorder("bus", log))
    await services.start(Recorder("screening", log, fail_stop=True))
    await services.start(Other("hub", log))
    assert services.readiness() == {"bus": True, "screening": True, "hub": True}
    assert services.get(Other).name == "hub"
    await services.stop_all()
    assert log == [
        "start bus",
        "start screening",
        "start hub",
        "stop hub",
        "stop screening",
        "stop bus",
    ]
    assert services.readiness() == {}
    assert services.find(Other) is None
    with pytest.raises(LookupError):
        services.get(Other)


async def test_background_task_is_cancelled_and_awaited_on_stop() -> None:
    stopped = asyncio.Event()

    async def run() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            stopped.set()

    task = BackgroundTask("forever")
    task.start(run)
    await asyncio.sleep(0)
    assert task.running
    await task.stop()
    assert stopped.is_set() and not task.running
