"""Owned, named, cancellable asyncio tasks (after FeelUOwn's ``task.py`` and qasync).

STYLE.md: no fire-and-forget tasks. Every task a service starts goes through a
``TaskRegistry``: it keeps a reference (asyncio only keeps weak ones), cancels the previous
task of the same name, logs any exception and reports it through ``failed`` so the window
can say what went wrong, and cancels everything on quit.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)
T = TypeVar("T")


class TaskRegistry(QObject):
    """Keeps every running task of the app by name.

    Signals:
        failed(name: str, error: BaseException): a task ended with an exception (not a
            cancellation). The exception has been logged already.
    """

    failed = Signal(str, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tasks: dict[str, asyncio.Task[Any]] = {}

    def spawn(
        self, name: str, coro: Coroutine[Any, Any, T], *, replace: bool = True
    ) -> asyncio.Task[T]:
        """Start ``coro`` on the running loop as the task ``name``.

        Args:
            name: unique among running tasks, e.g. ``"queue.refresh"`` or
                ``"upload:<journal id>"``.
            coro: the coroutine to run.
            replace: cancel a running task of the same name first (default); with False,
                a running task of that name makes this call raise ``RuntimeError``.

        Returns:
            The task; awaiting it is optional, its failure is reported either way.
        """
        previous = self._tasks.get(name)
        if previous is not None and not previous.done():
            if not replace:
                coro.close()
                raise RuntimeError(f"task {name!r} is already running")
            previous.cancel()
        task = asyncio.get_event_loop().create_task(coro, name=name)
        self._tasks[name] = task
        task.add_done_callback(self._finished)
        return task

    def running(self, name: str) -> bool:
        """True while the task ``name`` exists and has not finished."""
        task = self._tasks.get(name)
        return task is not None and not task.done()

    def cancel(self, name: str) -> bool:
        """Cancel the task ``name``; False when no such task is running."""
        task = self._tasks.get(name)
        if task is None or task.done():
            return False
        task.cancel()
        return True

    def names(self) -> list[str]:
        """Names of the tasks still running."""
        return [name for name, task in self._tasks.items() if not task.done()]

    async def shutdown(self, timeout: float = 5.0) -> None:
        """Cancel every task and wait up to ``timeout`` seconds for them to unwind."""
        tasks = [task for task in self._tasks.values() if not task.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        name = task.get_name()
        if self._tasks.get(name) is task:
            del self._tasks[name]
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            log.error("task %s failed", name, exc_info=error)
            self.failed.emit(name, error)
