"""The task registry owns, names, replaces, reports and cancels tasks."""

from __future__ import annotations

import asyncio

import pytest

from chamelaion_desktop.services.tasks import TaskRegistry
from tests.conftest import AsyncRunner


def test_same_name_replaces_the_running_task(arun: AsyncRunner) -> None:
    registry = TaskRegistry()

    async def scenario() -> None:
        first = registry.spawn("refresh", asyncio.sleep(10))
        second = registry.spawn("refresh", asyncio.sleep(0.01, "done"))
        assert await second == "done"
        assert first.cancelled()
        assert registry.names() == []

    arun(scenario())


def test_replace_false_refuses_a_second_task(arun: AsyncRunner) -> None:
    registry = TaskRegistry()

    async def scenario() -> None:
        registry.spawn("upload:1", asyncio.sleep(10))
        with pytest.raises(RuntimeError, match="already running"):
            registry.spawn("upload:1", asyncio.sleep(0), replace=False)
        assert registry.running("upload:1")
        assert registry.cancel("upload:1")
        await asyncio.sleep(0)
        assert not registry.running("upload:1")

    arun(scenario())


def test_failures_are_reported_and_logged(
    arun: AsyncRunner, caplog: pytest.LogCaptureFixture
) -> None:
    registry = TaskRegistry()
    reported: list[tuple[str, BaseException]] = []
    registry.failed.connect(lambda name, error: reported.append((name, error)))

    async def boom() -> None:
        raise ValueError("no such file")

    async def scenario() -> None:
        task = registry.spawn("probe", boom())
        await asyncio.wait([task])

    arun(scenario())
    assert [(name, str(error)) for name, error in reported] == [("probe", "no such file")]
    assert "task probe failed" in caplog.text


def test_shutdown_cancels_everything(arun: AsyncRunner) -> None:
    registry = TaskRegistry()

    async def scenario() -> None:
        tasks = [registry.spawn(f"t{i}", asyncio.sleep(10)) for i in range(3)]
        await registry.shutdown()
        assert all(task.cancelled() for task in tasks)
        assert registry.names() == []

    arun(scenario())
